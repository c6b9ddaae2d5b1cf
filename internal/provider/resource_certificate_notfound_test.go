package provider_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// A 404 means "gone" only when Cloudflare says so (code 1472). These tests
// give the provider 404s of other origins: a base_url with a wrong prefix
// (the emulator answers Cloudflare's own "No route for that URI", 7000), and
// a proxy's HTML page.

func twoCertificatesConfig(env *acctest.Env, baseURL, settings, name string, ca, other *testcerts.Certificate) string {
	return fmt.Sprintf(`
provider "mtls" {
  base_url   = %q
  api_token  = %q
  account_id = %q
%s
}

resource "mtls_certificate" "ca" {
  name         = "%s-ca"
  ca           = true
  certificates = %q
}

resource "mtls_certificate" "other" {
  name         = "%s-other"
  ca           = true
  certificates = %q
}
`, baseURL, env.Token, env.AccountID, settings, name, ca.PEM, name, other.PEM)
}

// TestAccCertificate_wrongBaseURLKeepsEverything: with base_url pointing at
// a wrong prefix of the same server, refresh and destroy fail and change
// nothing; with the right URL again, the plan is empty.
func TestAccCertificate_wrongBaseURLKeepsEverything(t *testing.T) {
	t.Parallel()
	for name, settings := range map[string]string{
		"per-certificate refresh":     "  batch_refresh = false",
		"batch refresh (the default)": "",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.RequireEmulator(t)
			ca, other := testcerts.NewCA("wrong url root"), testcerts.NewCA("wrong url other")
			prefix := acctest.UniqueName(t)
			right := env.Emulator.URL()
			wrong := strings.TrimSuffix(right, emulator.PathPrefix) + "/v4"

			ws := acctest.NewWorkspace(t)
			ws.SetConfig(twoCertificatesConfig(env, right, settings, prefix, ca, other))
			ws.Init()
			t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
			ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
			stateFile := filepath.Join(ws.Dir, "terraform.tfstate")
			before := readFile(t, stateFile)

			ws.SetConfig(twoCertificatesConfig(env, wrong, settings, prefix, ca, other))
			env.Emulator.ResetCounts()
			for _, args := range [][]string{
				{"plan", "-input=false", "-no-color"},
				{"apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"},
				{"destroy", "-auto-approve", "-input=false", "-no-color"},
			} {
				r := ws.Run(args...)
				out := strings.Join(strings.Fields(r.Stdout+r.Stderr), " ")
				if r.ExitCode == 0 {
					t.Fatalf("%s with a wrong base_url succeeded:\n%s", args[0], out)
				}
				for _, want := range []string{"GET " + wrong + "/accounts/" + env.AccountID + "/mtls_certificates",
					"code 7000: No route for that URI", `not Cloudflare's "Certificate not found"`} {
					if !strings.Contains(out, want) {
						t.Errorf("%s %s: output does not say %q:\n%s", args[0], args[1], want, out)
					}
				}
				if got := readFile(t, stateFile); got != before {
					t.Fatalf("%s %s with a wrong base_url changed the state:\nbefore:\n%s\nafter:\n%s", args[0], args[1], before, got)
				}
			}
			if n := env.Emulator.CertificateCount(env.AccountID); n != 2 {
				t.Fatalf("emulator holds %d certificates after the failed destroy, want 2", n)
			}
			if n := env.Emulator.RequestCount(emulator.RouteDelete); n != 0 {
				t.Errorf("%d deletes reached the API through the wrong URL", n)
			}

			ws.SetConfig(twoCertificatesConfig(env, right, settings, prefix, ca, other))
			if r := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); r.ExitCode != 0 {
				t.Fatalf("plan with the right base_url again: exit code %d, want 0 (no changes)\n%s%s", r.ExitCode, r.Stdout, r.Stderr)
			}
			ws.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
			if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
				t.Fatalf("emulator holds %d certificates after destroy with the right URL", n)
			}
		})
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name) //nolint:gosec // G304: the state file of the test's own workspace.
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// proxyNotFound is a gateway's own 404 page for any GET of a certificate.
func proxyNotFound(times int) emulator.Fault {
	return emulator.Fault{Route: emulator.RouteGet, Status: http.StatusNotFound, ContentType: "text/html",
		Body: []byte("<html><body><h1>404 Not Found</h1>nginx</body></html>"), Times: times}
}

// TestAccCertificate_proxyNotFound: a gateway answers 404 for a certificate
// that exists. The refresh fails and keeps it; after the certificate really
// is deleted outside Terraform, the same 404 is confirmed by the listing and
// the plan creates it again.
func TestAccCertificate_proxyNotFound(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("proxy root")
	name := acctest.UniqueName(t)
	// The gateway is in front of GETs; the refresh must send one.
	config := caConfig(env.ProviderConfigPerCertificateRefresh(), name, ca.PEM)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig:   func() { env.Emulator.InjectFault(proxyNotFound(10)) },
				Config:      config,
				PlanOnly:    true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Read mTLS Certificate", "could not be understood", "still lists it", "kept in state unchanged"),
			},
			{
				PreConfig: func() {
					env.Emulator.ClearFaults()
					env.DeleteNamed(t, name)
					env.Emulator.InjectFault(proxyNotFound(1))
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// TestAccDataSources_wrongBaseURL: the data sources never call a
// certificate "not found" on a 404 that did not say so.
func TestAccDataSources_wrongBaseURL(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	stored, err := env.Emulator.AddCertificate(env.AccountID, "by hand", true, testcerts.NewCA("ds wrong url").PEM, emulator.TypeCustom)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.TrimSuffix(env.Emulator.URL(), emulator.PathPrefix) + "/v4"
	provider := fmt.Sprintf("provider \"mtls\" {\n  base_url = %q\n  api_token = %q\n  account_id = %q\n}\n", wrong, env.Token, env.AccountID)
	for _, ds := range []string{
		fmt.Sprintf("data \"mtls_certificate\" \"x\" {\n  id = %q\n}\n", stored.ID),
		fmt.Sprintf("data \"mtls_certificate_associations\" \"x\" {\n  mtls_certificate_id = %q\n}\n", stored.ID),
	} {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(),
			Steps: []resource.TestStep{{
				Config:      provider + ds,
				ExpectError: acctest.ExpectErrorFragments("Could not tell whether certificate "+stored.ID, "code 7000: No route for that URI", "Nothing was read"),
			}},
		})
	}
}
