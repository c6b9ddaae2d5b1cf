package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// certificatesConfig is a CA bundle and a leaf with its key, in one account.
func certificatesConfig(env *acctest.Env, caName, leafName, bundle string, leaf *testcerts.Certificate) string {
	return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %q
}

resource "mtls_certificate" "leaf" {
  name         = %q
  ca           = false
  certificates = %q
  private_key  = %q
}
`, caName, bundle, leafName, strings.TrimSpace(leaf.PEM), leaf.KeyPEM)
}

func checkAllDeleted(t *testing.T, env *acctest.Env, prefix string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if left := env.CertificatesNamed(t, prefix); len(left) > 0 {
			return fmt.Errorf("%d certificate(s) named %s* are still in the account after destroy", len(left), prefix)
		}
		if env.Emulator != nil {
			if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
				return fmt.Errorf("the emulator still holds %d certificate(s) after destroy", n)
			}
		}
		return nil
	}
}

func TestAccCertificate_lifecycle(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("lifecycle root")
	second := testcerts.NewCA("lifecycle second root")
	leaf := root.Issue("client.example.com")
	prefix := acctest.UniqueName(t)
	bundle := testcerts.Bundle(root, second)
	ids := statecheck.CompareValue(compare.ValuesDiffer())

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, prefix),
		Steps: []resource.TestStep{
			{
				Config: certificatesConfig(env, prefix+"-ca", prefix+"-leaf", bundle, leaf),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("account_id"), knownvalue.StringExact(env.AccountID)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					ids.AddStateValue("mtls_certificate.ca", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{32,36}$`))),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("ca"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("type"), knownvalue.StringExact("custom")),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("issuer"), knownvalue.StringRegexp(regexp.MustCompile(`CN=lifecycle root`))),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("serial_number"), knownvalue.StringExact(root.X509.SerialNumber.String())),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("signature"), knownvalue.StringExact("ECDSAWithSHA256")),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("expires_on"), knownvalue.StringExact(root.X509.NotAfter.UTC().Format("2006-01-02T15:04:05Z07:00"))),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("uploaded_on"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("certificates"), knownvalue.StringExact(bundle)),
					statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("ca"), knownvalue.Bool(false)),
					statecheck.ExpectSensitiveValue("mtls_certificate.leaf", tfjsonpath.New("private_key")),
					statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("private_key"), knownvalue.StringExact(leaf.KeyPEM)),
				},
			},
			{
				// Import by <account_id>/<certificate_id>.
				ResourceName:      "mtls_certificate.ca",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: importID("mtls_certificate.ca", true),
			},
			{
				// Import by <certificate_id> alone, using the provider's account.
				// The key is never returned by the API, so it cannot be verified.
				ResourceName:            "mtls_certificate.leaf",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateIdFunc:       importID("mtls_certificate.leaf", false),
				ImportStateVerifyIgnore: []string{"private_key"},
			},
			{
				Config: certificatesConfig(env, prefix+"-ca-renamed", prefix+"-leaf", bundle, leaf),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectResourceAction("mtls_certificate.leaf", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					ids.AddStateValue("mtls_certificate.ca", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("name"), knownvalue.StringExact(prefix+"-ca-renamed")),
				},
			},
			{
				// Deleted behind Terraform's back: the next plan creates it again.
				PreConfig: func() { env.DeleteNamed(t, prefix+"-leaf") },
				Config:    certificatesConfig(env, prefix+"-ca-renamed", prefix+"-leaf", bundle, leaf),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.leaf", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionNoop),
					},
				},
			},
		},
	})
}

// importID returns the import ID of a resource in state, with or without
// its account prefix.
func importID(name string, withAccount bool) resource.ImportStateIdFunc {
	return func(s *terraform.State) (string, error) {
		rs, ok := s.RootModule().Resources[name]
		if !ok {
			return "", fmt.Errorf("%s not in state", name)
		}
		if withAccount {
			return rs.Primary.Attributes["account_id"] + "/" + rs.Primary.ID, nil
		}
		return rs.Primary.ID, nil
	}
}

func TestAccCertificate_importBlock(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("import block root")
	name := acctest.UniqueName(t)
	config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %q
}
`, name, strings.TrimSpace(ca.PEM))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ImportBlocks)},
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				ResourceName:      "mtls_certificate.ca",
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID("mtls_certificate.ca", true),
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionNoop),
					},
				},
			},
		},
	})
}
