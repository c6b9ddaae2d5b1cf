package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestAccLogging_secretsNeverLogged runs a full create, import and destroy
// cycle at TRACE level with each authentication scheme and greps every log
// the CLI and the provider wrote for the credentials and the private key.
// It cannot run in parallel: the log settings are process environment.
func TestAccLogging_secretsNeverLogged(t *testing.T) {
	cli := acctest.CLIUnderTest(t)
	env := acctest.New(t)
	env.RequireEmulator(t)
	// Credentials come from the environment and the key from a file, as in
	// a CI pipeline: secrets written into the test's HCL would be echoed by
	// the test harness's own config logging, which is not what is tested.
	schemes := map[string]struct {
		env     map[string]string
		secrets []string
	}{
		"api_token": {map[string]string{"CLOUDFLARE_API_TOKEN": env.Token}, []string{env.Token}},
		"api_key":   {map[string]string{"CLOUDFLARE_API_KEY": env.Key, "CLOUDFLARE_EMAIL": env.Email}, []string{env.Key}},
	}
	for scheme, tc := range schemes {
		t.Run(scheme, func(t *testing.T) {
			logDir := t.TempDir()
			t.Setenv("TF_LOG", "TRACE")
			t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			root := testcerts.NewCA("logging root " + scheme)
			leaf := root.Issue("logging.example.com")
			keyFile := filepath.Join(t.TempDir(), "leaf-key.pem")
			if err := os.WriteFile(keyFile, []byte(leaf.KeyPEM), 0o600); err != nil {
				t.Fatal(err)
			}
			// A second leaf whose key is write-only.
			woLeaf := root.Issue("logging-wo.example.com")
			woKeyFile := filepath.Join(t.TempDir(), "wo-key.pem")
			if err := os.WriteFile(woKeyFile, []byte(woLeaf.KeyPEM), 0o600); err != nil {
				t.Fatal(err)
			}
			name := acctest.UniqueName(t)
			config := env.ProviderConfigWith(fmt.Sprintf("  account_id = %q", env.AccountID)) + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name         = %q
  ca           = false
  certificates = %q
  private_key  = file(%q)
}
`, name, strings.TrimSpace(leaf.PEM), keyFile)
			// A CLI without write-only attributes refuses the second leaf
			// at validate; the rest of the test still holds there.
			if cli.Has(acctest.WriteOnlyAttributes) {
				config += fmt.Sprintf(`
resource "mtls_certificate" "wo" {
  name                   = "%s-wo"
  ca                     = false
  certificates           = %q
  private_key_wo         = file(%q)
  private_key_wo_version = 1
}
`, name, strings.TrimSpace(woLeaf.PEM), woKeyFile)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps: []resource.TestStep{
					{Config: config},
					{
						ResourceName:            "mtls_certificate.leaf",
						ImportState:             true,
						ImportStateVerify:       true,
						ImportStateIdFunc:       importID("mtls_certificate.leaf", true),
						ImportStateVerifyIgnore: []string{"private_key"},
					},
				},
			})

			logs := readLogs(t, logDir)
			// The check must be able to fail: the logs have to hold the
			// provider's own request records.
			for _, want := range []string{"Sending Cloudflare API request", "http_method=POST", "[REDACTED]"} {
				if !strings.Contains(logs, want) {
					t.Fatalf("logs in %s do not contain %q; the log capture is not working:\n%s", logDir, want, firstLine(logs, "Sending Cloudflare"))
				}
			}
			keyBody, woKeyBody := pemBody(leaf.KeyPEM), pemBody(woLeaf.KeyPEM)
			for _, secret := range append(tc.secrets, keyBody, keyBody[:40], woKeyBody, woKeyBody[:40]) {
				if strings.Contains(logs, secret) {
					t.Errorf("a secret (%d characters, starting %q) appears in the TRACE logs: %.300s", len(secret), secret[:4], firstLine(logs, secret))
				}
			}
		})
	}
}

func readLogs(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name())) //nolint:gosec // G304: the test reads the log folder it created.
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	if b.Len() == 0 {
		t.Fatalf("no logs were written to %s", dir)
	}
	return b.String()
}

// pemBody is the base64 text of a PEM block on one line, as it would look
// in a JSON-escaped log with the line breaks removed.
func pemBody(p string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return lines[0]
}

func firstLine(text, containing string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, containing) {
			return l
		}
	}
	return ""
}
