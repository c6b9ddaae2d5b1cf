package provider_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// heredoc indents PEM text for a `<<-EOT` heredoc, as a configuration
// written by hand would hold it.
func heredoc(text string) string {
	var b strings.Builder
	b.WriteString("<<-EOT\n")
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("  EOT")
	return b.String()
}

// TestAccCertificate_pemVariantsPlanEmpty: every way users write PEM text
// in a configuration applies cleanly and then plans empty, against an API
// that stores its own rendering of the text (CRLF, or re-wrapped lines with
// no final newline), and a change of text alone never re-uploads.
func TestAccCertificate_pemVariantsPlanEmpty(t *testing.T) {
	t.Parallel()
	for _, style := range []emulator.PEMStyle{emulator.PEMCRLF, emulator.PEMRewrapped} {
		t.Run(style.String(), func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{PEMStyle: style})
			a := testcerts.NewCA("variants a " + style.String())
			b := testcerts.NewCA("variants b " + style.String())
			crlfFile := filepath.Join(t.TempDir(), "bundle.pem")
			crlf := strings.ReplaceAll(a.PEM+"\n"+b.PEM, "\n", "\r\n")
			if err := os.WriteFile(crlfFile, []byte(crlf), 0o600); err != nil {
				t.Fatal(err)
			}
			bundle := testcerts.Bundle(a, b)
			variants := []struct{ name, expr string }{
				{"join of trimspace", fmt.Sprintf("join(\"\\n\", [trimspace(%q), trimspace(%q)])", a.PEM, b.PEM)},
				{"indented heredoc", heredoc(a.PEM + "\n" + b.PEM)},
				{"file with CRLF", fmt.Sprintf("file(%q)", crlfFile)},
				{"trailing newline added", fmt.Sprintf("%q", bundle+"\n")},
				{"trailing newline removed", fmt.Sprintf("%q", bundle)},
				{"blank lines between blocks", fmt.Sprintf("%q", "\n"+strings.TrimSpace(a.PEM)+"\n\n\n"+strings.TrimSpace(b.PEM)+"\n\n")},
			}
			name := acctest.UniqueName(t)
			config := func(expr string) string {
				return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "bundle" {
  name         = %q
  ca           = true
  certificates = %s
}
`, name, expr)
			}
			sameID := statecheck.CompareValue(compare.ValuesSame())
			// The first variant is applied; each next one is a change of
			// text alone and must plan nothing, keep the id, and apply
			// cleanly (plugin-testing also plans again after each apply and
			// fails on any difference).
			steps := make([]resource.TestStep, 0, len(variants))
			for i, v := range variants {
				step := resource.TestStep{
					Config:            config(v.expr),
					ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue("mtls_certificate.bundle", tfjsonpath.New("id"))},
				}
				if i > 0 {
					step.ConfigPlanChecks.PreApply = []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
				}
				steps = append(steps, step)
			}
			steps = append(steps, resource.TestStep{
				// A real change of certificates still replaces.
				Config: config(fmt.Sprintf("%q", testcerts.Bundle(b, a))),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("mtls_certificate.bundle", plancheck.ResourceActionDestroyBeforeCreate),
				}},
			})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps:                    steps,
			})
			if env.Emulator != nil {
				if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 2 {
					t.Errorf("emulator saw %d uploads, want 2 (the first apply and the real change)", n)
				}
			}
		})
	}
}

// TestAccCertificate_privateKeyComparedAsKey: the same key re-encoded
// (CRLF, a trailing newline) is no change.
func TestAccCertificate_privateKeyComparedAsKey(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	leaf := testcerts.NewCA("key compare root").Issue("key-compare.example.com")
	name := acctest.UniqueName(t)
	config := func(key string) string {
		return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name         = %q
  ca           = false
  certificates = %q
  private_key  = %q
}
`, name, leaf.PEM, key)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config(leaf.KeyPEM)},
			{
				Config:           config(strings.ReplaceAll(strings.TrimSpace(leaf.KeyPEM), "\n", "\r\n") + "\r\n\r\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccCertificate_detailsKnownAtPlan: the details read from the PEM are
// in the plan itself, so preconditions and outputs can use them before
// anything is uploaded.
func TestAccCertificate_detailsKnownAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("details root")
	second := testcerts.NewCA("details second")
	name := acctest.UniqueName(t)
	sum := sha256.Sum256(root.X509.Raw)
	fingerprint := hex.EncodeToString(sum[:])
	notAfter := root.X509.NotAfter.UTC().Format(time.RFC3339)
	config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %q
}

resource "terraform_data" "gate" {
  input = mtls_certificate.ca.fingerprint_sha256
  lifecycle {
    precondition {
      condition     = timecmp(mtls_certificate.ca.not_after, timeadd(plantimestamp(), "720h")) > 0
      error_message = "The CA expires within 30 days."
    }
  }
}

output "fingerprint" {
  value = mtls_certificate.ca.fingerprint_sha256
}
`, name, testcerts.Bundle(root, second))
	details := map[string]knownvalue.Check{
		"fingerprint_sha256": knownvalue.StringExact(fingerprint),
		"subject":            knownvalue.StringExact("CN=details root,O=tf-mtls tests"),
		"not_before":         knownvalue.StringExact(root.X509.NotBefore.UTC().Format(time.RFC3339)),
		"not_after":          knownvalue.StringExact(notAfter),
		"certificate_count":  knownvalue.Int64Exact(2),
	}
	var planChecks []plancheck.PlanCheck
	var stateChecks []statecheck.StateCheck
	for attr, check := range details {
		planChecks = append(planChecks, plancheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New(attr), check))
		stateChecks = append(stateChecks, statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New(attr), check))
	}
	planChecks = append(planChecks,
		plancheck.ExpectKnownOutputValue("fingerprint", knownvalue.StringExact(fingerprint)),
		plancheck.ExpectKnownValue("terraform_data.gate", tfjsonpath.New("input"), knownvalue.StringExact(fingerprint)),
		plancheck.ExpectUnknownValue("mtls_certificate.ca", tfjsonpath.New("id")),
	)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: planChecks},
				ConfigStateChecks: stateChecks,
			},
			{
				// Import reads the same details from the API's PEM.
				ResourceName:      "mtls_certificate.ca",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: importID("mtls_certificate.ca", true),
			},
		},
	})
}

// TestAccCertificate_textAroundBlocksAccepted: files as openssl writes
// them with a human-readable description (`openssl x509 -text`, and the
// subject= and issuer= lines of `openssl pkcs7 -print_certs`) upload as
// they are. Cloudflare is sent the PEM blocks alone, the state keeps the
// file's text, and the next plan is empty.
func TestAccCertificate_textAroundBlocksAccepted(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"ca-cert-text.pem", "ca-bundle-print-certs.pem"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			name := acctest.UniqueName(t)
			text := fixtures.Read(file)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps: []resource.TestStep{{
					Config: caConfig(env.ProviderConfig(), name, text),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("certificates"), knownvalue.StringExact(strings.TrimSpace(text))),
						statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("certificate_count"),
							knownvalue.Int64Exact(int64(strings.Count(text, "-----BEGIN CERTIFICATE-----")))),
					},
					Check: func(*terraform.State) error {
						if env.Emulator == nil {
							return nil
						}
						stored := env.Emulator.Certificates(env.AccountID)
						if len(stored) != 1 || strings.Contains(stored[0].Certificates, "Certificate:") || strings.Contains(stored[0].Certificates, "subject=") {
							return fmt.Errorf("Cloudflare was sent text outside the PEM blocks: %+v", stored)
						}
						return nil
					},
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
				}},
			})
		})
	}
}
