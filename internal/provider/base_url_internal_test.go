package provider

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// A proxy's credentials written into base_url.
const (
	proxyUser     = "proxyuser2b8e"
	proxyPassword = "pw61fa0d"
)

// hideProxyUserinfo keeps them out of the tests' own failure messages.
var hideProxyUserinfo = strings.NewReplacer(proxyUser, "<user>", proxyPassword, "<password>").Replace

// providerConfig is a provider block with the given attributes and every
// other one null.
func providerConfig(t *testing.T, set map[string]tftypes.Value) tfsdk.Config {
	t.Helper()
	var resp provider.SchemaResponse
	(&mtlsProvider{}).Schema(context.Background(), provider.SchemaRequest{}, &resp)
	typ := resp.Schema.Type().TerraformType(context.Background())
	return tfsdk.Config{Schema: resp.Schema, Raw: objectWith(t, typ, set)}
}

// checkNoUserinfo fails unless every diagnostic names host and none holds
// the proxy's user name or password.
func checkNoUserinfo(t *testing.T, diags diag.Diagnostics, host string) {
	t.Helper()
	if !diags.HasError() {
		t.Fatal("no error")
	}
	for _, d := range diags {
		text := d.Summary() + "\n" + d.Detail()
		if strings.Contains(text, proxyPassword) || strings.Contains(text, proxyUser) || !strings.Contains(text, host) {
			t.Errorf("%q: %q; want %s named and no userinfo", d.Summary(), hideProxyUserinfo(d.Detail()), host)
		}
	}
}

func TestBaseURLValidatorHidesUserinfo(t *testing.T) {
	for _, raw := range []string{
		fmt.Sprintf("http://%s:%s@api.example.com/client/v4", proxyUser, proxyPassword),
		fmt.Sprintf("gopher://%s:%s@api.example.com/client/v4", proxyUser, proxyPassword),
	} {
		var resp validator.StringResponse
		baseURLValidator{}.ValidateString(context.Background(), validator.StringRequest{
			Path: path.Root("base_url"), ConfigValue: types.StringValue(raw),
		}, &resp)
		checkNoUserinfo(t, resp.Diagnostics, "api.example.com")
	}
}

func TestResolveSettingsHidesBaseURLUserinfo(t *testing.T) {
	raw := fmt.Sprintf("http://%s:%s@api.example.com/client/v4", proxyUser, proxyPassword)
	for name, tc := range map[string]struct {
		cfg providerModel
		env map[string]string
	}{
		"from base_url":        {cfg: providerModel{APIToken: types.StringValue("t"), BaseURL: types.StringValue(raw)}},
		"from the environment": {cfg: providerModel{APIToken: types.StringValue("t")}, env: map[string]string{EnvBaseURL: raw}},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := resolveSettings(tc.cfg, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			checkNoUserinfo(t, diags, "api.example.com")
		})
	}
}

// TestConfigureLogHidesBaseURLUserinfo: the debug line that records the
// provider's settings shows the base URL's host, not its userinfo.
func TestConfigureLogHidesBaseURLUserinfo(t *testing.T) {
	var logs bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &logs)
	cfg := providerConfig(t, map[string]tftypes.Value{
		"base_url":  tftypes.NewValue(tftypes.String, fmt.Sprintf("https://%s:%s@api.example.com/client/v4", proxyUser, proxyPassword)),
		"api_token": tftypes.NewValue(tftypes.String, "t"),
	})
	var resp provider.ConfigureResponse
	(&mtlsProvider{}).Configure(ctx, provider.ConfigureRequest{Config: cfg}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	text := logs.String()
	if !strings.Contains(text, "Configured the mtls provider") || !strings.Contains(text, `"base_url":"https://xxxxx@api.example.com/client/v4"`) {
		t.Errorf("no log line with the base URL's host and its userinfo replaced:\n%s", hideProxyUserinfo(text))
	}
	if strings.Contains(text, proxyPassword) || strings.Contains(text, proxyUser) {
		t.Errorf("the log holds the base URL's user name or password:\n%s", hideProxyUserinfo(text))
	}
}
