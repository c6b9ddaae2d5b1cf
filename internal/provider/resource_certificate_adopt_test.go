package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// Adoption never replaces: after an import command, an import block or a
// moved block, a configuration with private_key_wo and its version records
// the version in place. (private_key is covered by the import and move
// tests.)

const adoptedLeaf = "mtls_certificate.leaf"

func writeOnlyLeafConfig(env *acctest.Env, name string, leaf *testcerts.Certificate) string {
	return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name                   = %q
  ca                     = false
  certificates           = %q
  private_key_wo         = %q
  private_key_wo_version = 1
}
`, name, leaf.PEM, leaf.KeyPEM)
}

// adoptedInPlace is the step that must record the adoption in place: an
// update, not a replacement, with no upload and an empty plan after.
func adoptedInPlace(t *testing.T, env *acctest.Env, config, id string, uploads int) []resource.TestStep {
	return []resource.TestStep{
		{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(adoptedLeaf, plancheck.ResourceActionUpdate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(adoptedLeaf, tfjsonpath.New("id"), knownvalue.StringExact(id)),
				statecheck.ExpectKnownValue(adoptedLeaf, tfjsonpath.New("private_key_wo_version"), knownvalue.Int64Exact(1)),
				statecheck.ExpectKnownValue(adoptedLeaf, tfjsonpath.New("private_key_wo"), knownvalue.Null()),
			},
		},
		{PreConfig: expectUploads(t, env, uploads), Config: config, PlanOnly: true},
	}
}

func TestAccCertificate_importWithWriteOnlyKeyInPlace(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"import block", "import command"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			leaf := testcerts.NewCA("adopt wo root").Issue("adopt-wo.example.com")
			name := acctest.UniqueName(t)
			id := uploadByHand(t, env, cfapi.UploadRequest{Name: name, Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM})
			config := writeOnlyLeafConfig(env, name, leaf)
			importID := env.AccountID + "/" + id
			var steps []resource.TestStep
			if kind == "import block" {
				steps = adoptedInPlace(t, env, config+fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", adoptedLeaf, importID), id, 1)
			} else {
				steps = append([]resource.TestStep{{
					Config:             config,
					ResourceName:       adoptedLeaf,
					ImportState:        true,
					ImportStateId:      importID,
					ImportStatePersist: true,
				}}, adoptedInPlace(t, env, config, id, 1)...)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.WriteOnlyAttributes)},
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps:                    steps,
			})
		})
	}
}

// TestAccCertificate_moveWithWriteOnlyKeyInPlace: a leaf managed by the
// official provider, with its key in state there, moves to a configuration
// that holds the key write-only.
func TestAccCertificate_moveWithWriteOnlyKeyInPlace(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	leaf := testcerts.NewCA("move wo root").Issue("move-wo.example.com")
	name := acctest.UniqueName(t)
	moved := fmt.Sprintf("\nmoved {\n  from = %s\n  to   = %s\n}\n", "cloudflare_mtls_certificate.ca", adoptedLeaf)
	ids := statecheck.CompareValue(compare.ValuesSame())
	steps := []resource.TestStep{{
		Config:            officialConfig(env, name, false, leaf.PEM, leaf.KeyPEM),
		ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue("cloudflare_mtls_certificate.ca", tfjsonpath.New("id"))},
	}}
	inPlace := adoptedInPlace(t, env, writeOnlyLeafConfig(env, name, leaf)+moved, "", 1)
	inPlace[0].ConfigStateChecks = append(inPlace[0].ConfigStateChecks[1:], ids.AddStateValue(adoptedLeaf, tfjsonpath.New("id")))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factoriesWithOfficial(t, env, officialV5),
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{
			acctest.SkipWithout(acctest.WriteOnlyAttributes), acctest.SkipWithout(acctest.MovedFromProvider),
		},
		CheckDestroy: checkAllDeleted(t, env, name),
		Steps:        append(steps, inPlace...),
	})
}
