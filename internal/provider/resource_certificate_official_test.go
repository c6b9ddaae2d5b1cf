package provider_test

import (
	"embed"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

//go:embed testdata/official/*.tf
var officialTestdata embed.FS

// officialTestConfig is one of the official provider's own test
// configurations (testdata/official), for this provider: its resource type
// renamed, everything else as the official tests run it.
func officialTestConfig(t *testing.T, file, accountID, label string) string {
	t.Helper()
	raw, err := officialTestdata.ReadFile("testdata/official/" + file)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(string(raw), accountID, label)
	return strings.Replace(config, `resource "cloudflare_mtls_certificate"`, `resource "mtls_certificate"`, 1)
}

// officialPEM returns the quoted value of attr in an official configuration.
func officialPEM(t *testing.T, config, attr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(config, attr)
	if !ok {
		t.Fatalf("no %s in the official configuration", attr)
	}
	_, rest, _ = strings.Cut(rest, `"`)
	value, _, _ := strings.Cut(rest, `"`)
	return strings.ReplaceAll(value, `\n`, "\n")
}

// TestAccCertificate_officialEmptyName: the official provider's own test
// configuration uploads with name = "". It is accepted as it is; state
// holds "" while "" is configured and null once the name is left out, the
// plan after each apply is empty, and nothing is uploaded again. Whether
// Cloudflare answers an unnamed certificate's name as "", null or no field
// is not documented, so each is tried.
func TestAccCertificate_officialEmptyName(t *testing.T) {
	t.Parallel()
	for name, unnamed := range map[string]emulator.UnnamedStyle{
		`answered ""`:      emulator.UnnamedEmpty,
		"answered null":    emulator.UnnamedNull,
		"answered omitted": emulator.UnnamedOmitted,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{Unnamed: unnamed})
			env.RequireEmulator(t) // unnamed: the live sweeper could not find it
			withName := env.ProviderConfig() + officialTestConfig(t, "mtlscertificateconfig.tf", env.AccountID, "official")
			withoutName := strings.Replace(withName, "\t  name         = \"\"\n", "", 1)
			if withoutName == withName {
				t.Fatal("the official configuration has no name = \"\" line to remove")
			}
			const address = "mtls_certificate.official"
			ids := statecheck.CompareValue(compare.ValuesSame())
			step := func(config string, action plancheck.ResourceActionType, wantName knownvalue.Check) resource.TestStep {
				return resource.TestStep{
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, action)},
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					ConfigStateChecks: []statecheck.StateCheck{
						ids.AddStateValue(address, tfjsonpath.New("id")),
						statecheck.ExpectKnownValue(address, tfjsonpath.New("name"), wantName),
						statecheck.ExpectKnownValue(address, tfjsonpath.New("ca"), knownvalue.Bool(true)),
						statecheck.ExpectKnownValue(address, tfjsonpath.New("issuer"), knownvalue.StringExact("O=Example Inc.,L=California,ST=San Francisco,C=US")),
						statecheck.ExpectKnownValue(address, tfjsonpath.New("expires_on"), knownvalue.StringExact("2122-10-29T16:59:47Z")),
					},
				}
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy: func(*terraform.State) error {
					if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
						return fmt.Errorf("the emulator holds %d certificates after destroy", n)
					}
					return nil
				},
				Steps: []resource.TestStep{
					step(withName, plancheck.ResourceActionCreate, knownvalue.StringExact("")),
					step(withoutName, plancheck.ResourceActionUpdate, knownvalue.Null()),
					step(withName, plancheck.ResourceActionUpdate, knownvalue.StringExact("")),
					{PreConfig: expectUploads(t, env, 1), Config: withName, PlanOnly: true},
				},
			})
		})
	}
}

// TestAccCertificate_officialConfigImportsInPlace: a certificate uploaded by
// hand without a name is adopted by the official configuration (name = "",
// and its private key) with an import block: the name and the key are
// recorded in place, nothing is uploaded, and the next plan is empty.
func TestAccCertificate_officialConfigImportsInPlace(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	const address = "mtls_certificate.official"
	config := env.ProviderConfig() + officialTestConfig(t, "mtlscertificateconfig.tf", env.AccountID, "official")
	id := uploadByHand(t, env, cfapi.UploadRequest{CA: true, Certificates: officialPEM(t, config, "certificates =")})
	importBlock := fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", address, env.AccountID+"/"+id)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{
			{
				Config: config + importBlock,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("name"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("private_key"), knownvalue.NotNull()),
				},
			},
			{PreConfig: expectUploads(t, env, 1), Config: config, PlanOnly: true},
		},
	})
}

// TestAccCertificate_officialChainForms: the official provider's v5 tests
// also upload a chain made of the same certificate twice (cert + cert),
// with and without a trailing newline, as quoted strings and as heredocs.
// Each plans empty after apply, and the newline alone changes nothing.
func TestAccCertificate_officialChainForms(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	leaf := testcerts.NewCA("official chain root").Issue("official-chain.example.com")
	name := acctest.UniqueName(t)
	chain := strings.TrimSpace(leaf.PEM) + "\n" + strings.TrimSpace(leaf.PEM)
	key := strings.TrimSpace(leaf.KeyPEM)
	quoted := func(certificates, privateKey string) string {
		return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "chain" {
  account_id   = %q
  name         = %q
  certificates = %q
  private_key  = %q
  ca           = false
}
`, env.AccountID, name, certificates, privateKey)
	}
	heredocs := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "chain" {
  account_id   = %q
  name         = %q
  certificates = <<EOT
%s
EOT
  private_key  = <<EOT
%s
EOT
  ca           = false
}
`, env.AccountID, name, chain, key)
	ids := statecheck.CompareValue(compare.ValuesSame())
	step := func(config string, action plancheck.ResourceActionType) resource.TestStep {
		return resource.TestStep{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("mtls_certificate.chain", action)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				ids.AddStateValue("mtls_certificate.chain", tfjsonpath.New("id")),
				statecheck.ExpectKnownValue("mtls_certificate.chain", tfjsonpath.New("certificate_count"), knownvalue.Int64Exact(2)),
			},
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			step(quoted(chain, key), plancheck.ResourceActionCreate),
			step(quoted(chain+"\n", key+"\n"), plancheck.ResourceActionNoop),
			step(heredocs, plancheck.ResourceActionNoop),
			{PreConfig: expectUploads(t, env, 1), Config: heredocs, PlanOnly: true},
		},
	})
}
