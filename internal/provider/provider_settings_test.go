package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

func TestResolveSettings(t *testing.T) {
	const account = "0123456789abcdef0123456789abcdef"
	str := types.StringValue
	null := types.StringNull()
	cases := []struct {
		name      string
		cfg       providerModel
		env       map[string]string
		wantError string
		wantToken string
		wantKey   string
		account   string
	}{
		{name: "token from config", cfg: providerModel{APIToken: str("t"), APIKey: null, APIEmail: null}, wantToken: "t"},
		{name: "token from env", env: map[string]string{EnvAPIToken: "envtok", EnvAccountID: account}, wantToken: "envtok", account: account},
		{name: "key from env", env: map[string]string{EnvAPIKey: "k", EnvAPIEmail: "e@example.com"}, wantKey: "k"},
		{name: "config replaces env credentials", cfg: providerModel{APIToken: str("t")}, env: map[string]string{EnvAPIKey: "k", EnvAPIEmail: "e"}, wantToken: "t"},
		{name: "config account wins", cfg: providerModel{APIToken: str("t"), AccountID: str(account)}, env: map[string]string{EnvAccountID: "ffffffffffffffffffffffffffffffff"}, wantToken: "t", account: account},
		{name: "none", wantError: "Missing Cloudflare Credentials"},
		{name: "both in env", env: map[string]string{EnvAPIToken: "t", EnvAPIKey: "k", EnvAPIEmail: "e"}, wantError: "Conflicting Cloudflare Credentials"},
		{name: "key without email", cfg: providerModel{APIKey: str("k")}, wantError: "Incomplete Cloudflare Credentials"},
		{name: "email without key", env: map[string]string{EnvAPIEmail: "e"}, wantError: "Incomplete Cloudflare Credentials"},
		{name: "bad env account", env: map[string]string{EnvAPIToken: "t", EnvAccountID: "nope"}, wantError: "Invalid Cloudflare Account ID"},
		{name: "http remote base url from env", env: map[string]string{EnvAPIToken: "t", EnvBaseURL: "http://10.0.0.1/client/v4"}, wantError: "Invalid Cloudflare API Base URL"},
		{name: "http loopback ok", env: map[string]string{EnvAPIToken: "t", EnvBaseURL: "http://127.0.0.1:8787/client/v4"}, wantToken: "t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, diags := resolveSettings(tc.cfg, lookup)
			if tc.wantError != "" {
				if !diags.HasError() || !strings.Contains(diags.Errors()[0].Summary(), tc.wantError) {
					t.Fatalf("diagnostics = %v, want error %q", diags, tc.wantError)
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if got.apiToken != tc.wantToken || got.apiKey != tc.wantKey || got.accountID != tc.account {
				t.Fatalf("got token=%q key=%q account=%q, want token=%q key=%q account=%q",
					got.apiToken, got.apiKey, got.accountID, tc.wantToken, tc.wantKey, tc.account)
			}
			if got.maxRetries != defaultMaxRetries {
				t.Fatalf("max retries %d, want default %d", got.maxRetries, defaultMaxRetries)
			}
			if got.requestsPerSecond != cfapi.DefaultRequestsPerSecond {
				t.Fatalf("requests per second %g, want default %g", got.requestsPerSecond, cfapi.DefaultRequestsPerSecond)
			}
		})
	}
}

func TestResolveSettingsRequestsPerSecond(t *testing.T) {
	for _, v := range []types.Float64{types.Float64Value(0.5), types.Float64Value(250)} {
		got, diags := resolveSettings(providerModel{APIToken: types.StringValue("t"), RequestsPerSecond: v}, func(string) (string, bool) { return "", false })
		if diags.HasError() || got.requestsPerSecond != v.ValueFloat64() {
			t.Errorf("requests_per_second = %v: got %g, %v", v, got.requestsPerSecond, diags)
		}
	}
	// Unknown at configure time: the default holds until it is known.
	got, _ := resolveSettings(providerModel{APIToken: types.StringValue("t"), RequestsPerSecond: types.Float64Unknown()}, func(string) (string, bool) { return "", false })
	if got.requestsPerSecond != cfapi.DefaultRequestsPerSecond {
		t.Errorf("unknown requests_per_second: got %g, want the default", got.requestsPerSecond)
	}
}

func TestParseImportID(t *testing.T) {
	const account = "0123456789abcdef0123456789abcdef"
	const id = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
	cases := []struct {
		raw, defaultAccount string
		wantAccount, wantID string
		wantErr             string
	}{
		{raw: account + "/" + id, wantAccount: account, wantID: id},
		{raw: id, defaultAccount: account, wantAccount: account, wantID: id},
		{raw: "023e105f4ecef8ad9ca31a8372d0c353", defaultAccount: account, wantAccount: account, wantID: "023e105f4ecef8ad9ca31a8372d0c353"},
		{raw: id, wantErr: "provider sets no account_id"},
		{raw: "a/b/c", wantErr: "too many parts"},
		{raw: "ACCOUNT/" + id, wantErr: "is not 32 lowercase hexadecimal"},
		{raw: account + "/", wantErr: "is not a Cloudflare certificate identifier"},
		{raw: account + "/" + strings.Repeat("a", 37), wantErr: "is not a Cloudflare certificate identifier"},
	}
	for _, tc := range cases {
		gotAccount, gotID, err := parseImportID(tc.raw, tc.defaultAccount)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "<account_id>/<certificate_id>") {
				t.Errorf("parseImportID(%q) error = %v, want %q and the expected format", tc.raw, err, tc.wantErr)
			}
			continue
		}
		if err != nil || gotAccount != tc.wantAccount || gotID != tc.wantID {
			t.Errorf("parseImportID(%q) = %q, %q, %v", tc.raw, gotAccount, gotID, err)
		}
	}
}
