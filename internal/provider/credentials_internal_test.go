package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// secretCredential stands for a token, key or email; the checks must never
// quote it.
const secretCredential = "cred5e0a9d1b77"

func TestCredentialFlaw(t *testing.T) {
	for name, tc := range map[string]struct {
		value, want string
	}{
		"plain":                    {secretCredential, ""},
		"an email":                 {"ops@example.com", ""},
		"an inner space":           {"cred 5e0a", ""}, // a header carries it; Cloudflare refuses it at once
		"non-ASCII letters":        {"crédit", ""},
		"empty":                    {"", flawEmpty},
		"a final newline":          {secretCredential + "\n", "ends with a line break"},
		"a final CRLF":             {secretCredential + "\r\n", "ends with a line break"},
		"a final space":            {secretCredential + " ", "ends with a space"},
		"a final tab":              {secretCredential + "\t", "ends with a tab"},
		"a final no-break space":   {secretCredential + "\u00a0", "ends with whitespace"},
		"a leading space":          {" " + secretCredential, "starts with a space"},
		"a leading newline":        {"\n" + secretCredential, "starts with a line break"},
		"a leading tab":            {"\t" + secretCredential, "starts with a tab"},
		"an inner tab":             {"cred\t5e0a", "contains a control character (U+0009)"},
		"an inner newline":         {"cred\n5e0a", "contains a control character (U+000A)"},
		"an inner CR":              {"cred\r5e0a", "contains a control character (U+000D)"},
		"NUL":                      {"cred\x005e0a", "contains a control character (U+0000)"},
		"a final NUL":              {secretCredential + "\x00", "contains a control character (U+0000)"},
		"DEL":                      {"cred\x7f5e0a", "contains a control character (U+007F)"},
		"ESC":                      {"cred\x1b[0m", "contains a control character (U+001B)"},
		"a C1 control (NEL)":       {"cred\u00855e0a", "contains a control character (U+0085)"},
		"a final NEL (whitespace)": {secretCredential + "\u0085", "ends with whitespace"},
	} {
		if got := credentialFlaw(tc.value); got != tc.want {
			t.Errorf("%s: credentialFlaw = %q, want %q", name, got, tc.want)
		}
	}
}

// checkCredentialErrors fails unless diags is one error on attribute whose
// text names want and trimspace, and never quotes the credential.
func checkCredentialErrors(t *testing.T, diags diag.Diagnostics, attribute string, want ...string) {
	t.Helper()
	if len(diags) != 1 || !diags.HasError() {
		t.Fatalf("want one error on %s, got %d diagnostics: %v", attribute, len(diags), summaries(diags))
	}
	d := diags[0]
	withPath, ok := d.(diag.DiagnosticWithPath)
	if !ok || !withPath.Path().Equal(path.Root(attribute)) {
		t.Errorf("%q is not on %s", d.Summary(), attribute)
	}
	text := d.Summary() + "\n" + d.Detail()
	if strings.Contains(text, "5e0a") {
		t.Errorf("%q quotes the credential", d.Summary())
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%q does not say %q:\n%s", d.Summary(), w, strings.ReplaceAll(d.Detail(), "5e0a", "<cred>"))
		}
	}
}

func summaries(diags diag.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary())
	}
	return out
}

// TestResolveSettingsRefusesFlawedCredentials: Configure, before any client
// exists, refuses a credential from the environment or from a value that
// was unknown at validation, on its attribute, naming the variable it came
// from.
func TestResolveSettingsRefusesFlawedCredentials(t *testing.T) {
	str := types.StringValue
	for name, tc := range map[string]struct {
		cfg       providerModel
		env       map[string]string
		attribute string
		want      []string
	}{
		"token from the environment, final newline": {
			env: map[string]string{EnvAPIToken: secretCredential + "\n"}, attribute: "api_token",
			want: []string{"Invalid Cloudflare API Token", "The " + EnvAPIToken + " environment variable ends with a line break", "trimspace("},
		},
		"key from the environment, CRLF": {
			env: map[string]string{EnvAPIKey: secretCredential + "\r\n", EnvAPIEmail: "ops@example.com"}, attribute: "api_key",
			want: []string{"Invalid Cloudflare API Key", EnvAPIKey + " environment variable ends with a line break", "trimspace("},
		},
		"email from the environment, leading space": {
			env: map[string]string{EnvAPIKey: "k", EnvAPIEmail: " ops5e0a@example.com"}, attribute: "api_email",
			want: []string{"Invalid Cloudflare Account Email", EnvAPIEmail + " environment variable starts with a space"},
		},
		"token in the block, NUL": {
			cfg: providerModel{APIToken: str("cred\x005e0a")}, attribute: "api_token",
			want: []string{"api_token contains a control character (U+0000)", "trimspace("},
		},
		"empty token in the block does not fall back": {
			cfg: providerModel{APIToken: str("")}, env: map[string]string{EnvAPIToken: secretCredential}, attribute: "api_token",
			want: []string{"api_token is set to an empty string", "Remove the argument", EnvAPIToken},
		},
		"empty email in the block": {
			cfg: providerModel{APIKey: str("k"), APIEmail: str("")}, attribute: "api_email",
			want: []string{"api_email is set to an empty string", EnvAPIEmail},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := resolveSettings(tc.cfg, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			checkCredentialErrors(t, diags, tc.attribute, tc.want...)
		})
	}
	// The environment is not read when the block sets credentials, and an
	// empty variable counts as unset.
	_, diags := resolveSettings(providerModel{APIToken: str("t")}, func(k string) (string, bool) {
		return map[string]string{EnvAPIToken: "\n", EnvAPIKey: "", EnvAPIEmail: " "}[k], true
	})
	if diags.HasError() {
		t.Errorf("with api_token in the block, the environment's flaws were refused: %v", summaries(diags))
	}
	_, diags = resolveSettings(providerModel{}, func(k string) (string, bool) {
		return map[string]string{EnvAPIToken: "t", EnvAPIKey: "", EnvAPIEmail: ""}[k], true
	})
	if diags.HasError() {
		t.Errorf("empty CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL were refused: %v", summaries(diags))
	}
}

// TestValidateConfigRefusesFlawedCredentials: at plan, a known credential
// of the provider block that is empty or flawed is an error on it.
func TestValidateConfigRefusesFlawedCredentials(t *testing.T) {
	for name, tc := range map[string]struct {
		set       map[string]string
		attribute string
		want      []string
	}{
		"token read by file()": {map[string]string{"api_token": secretCredential + "\n"}, "api_token",
			[]string{"Invalid Cloudflare API Token", "api_token ends with a line break", `api_token = trimspace(file("token.txt"))`}},
		"key with a tab": {map[string]string{"api_key": "cred\t5e0a", "api_email": "ops@example.com"}, "api_key",
			[]string{"Invalid Cloudflare API Key", "api_key contains a control character (U+0009)", "remove a control character inside"}},
		"email with DEL": {map[string]string{"api_key": "k", "api_email": "ops5e0a@example.com\x7f"}, "api_email",
			[]string{"Invalid Cloudflare Account Email", "control character (U+007F)"}},
		"empty token": {map[string]string{"api_token": ""}, "api_token",
			[]string{"api_token is set to an empty string", EnvAPIToken}},
		"empty key": {map[string]string{"api_key": "", "api_email": "ops@example.com"}, "api_key",
			[]string{"api_key is set to an empty string", EnvAPIKey}},
	} {
		t.Run(name, func(t *testing.T) {
			set := map[string]tftypes.Value{}
			for k, v := range tc.set {
				set[k] = tftypes.NewValue(tftypes.String, v)
			}
			var resp provider.ValidateConfigResponse
			(&mtlsProvider{}).ValidateConfig(context.Background(), provider.ValidateConfigRequest{Config: providerConfig(t, set)}, &resp)
			checkCredentialErrors(t, resp.Diagnostics, tc.attribute, tc.want...)
		})
	}
	// Unknown values wait for Configure.
	var resp provider.ValidateConfigResponse
	(&mtlsProvider{}).ValidateConfig(context.Background(), provider.ValidateConfigRequest{Config: providerConfig(t, map[string]tftypes.Value{
		"api_token": tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
	})}, &resp)
	if resp.Diagnostics.HasError() {
		t.Errorf("an unknown api_token was refused: %v", summaries(resp.Diagnostics))
	}
}
