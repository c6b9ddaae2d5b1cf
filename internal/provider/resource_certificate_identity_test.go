package provider_test

import (
	"fmt"
	"testing"

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

// Resource identity needs Terraform 1.12 or OpenTofu 1.12; older CLIs
// ignore the identity schema, which the rest of the suite shows is harmless.
var identityVersions = []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ResourceIdentity)}

// expectCertificateIdentity checks the identity of a certificate against
// the state's own account_id and id.
func expectCertificateIdentity(address, accountID string) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
			"account_id": knownvalue.StringExact(accountID),
			"id":         knownvalue.NotNull(),
		}),
		statecheck.ExpectIdentityValueMatchesState(address, tfjsonpath.New("account_id")),
		statecheck.ExpectIdentityValueMatchesState(address, tfjsonpath.New("id")),
	}
}

// TestAccCertificate_identity: a created certificate has the identity
// {account_id, id}, and an import block with that identity imports it with
// no change.
func TestAccCertificate_identity(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("identity root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   identityVersions,
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: expectCertificateIdentity("mtls_certificate.ca", env.AccountID),
			},
			{
				ResourceName:    "mtls_certificate.ca",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// TestAccCertificate_importByIdentity: a certificate uploaded by hand is
// adopted with `import { identity = {...} }`; the next plan is empty.
func TestAccCertificate_importByIdentity(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("identity import root")
	name := acctest.UniqueName(t)
	id := uploadByHand(t, env, cfapi.UploadRequest{Name: name, CA: true, Certificates: crlf(ca.PEM)})
	config := caConfig(env.ProviderConfig(), name, ca.PEM) + fmt.Sprintf(`
import {
  to = mtls_certificate.ca
  identity = {
    account_id = %q
    id         = %q
  }
}
`, env.AccountID, id)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   identityVersions,
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("mtls_certificate.ca", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: append(expectCertificateIdentity("mtls_certificate.ca", env.AccountID),
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("id"), knownvalue.StringExact(id))),
			},
			{
				PreConfig: expectUploads(t, env, 1),
				Config:    config,
				PlanOnly:  true,
			},
		},
	})
}

// TestAccCertificate_importByInvalidIdentity: identity values are checked
// like an import ID's parts, and the error says which one is wrong.
func TestAccCertificate_importByInvalidIdentity(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("identity invalid root")
	name := acctest.UniqueName(t)
	cases := []struct{ accountID, id, want string }{
		{"NOT-AN-ACCOUNT", "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10", `the account ID "NOT-AN-ACCOUNT" is not 32 lowercase hexadecimal characters`},
		{env.AccountID, "has spaces", `the certificate ID "has spaces" is not a Cloudflare certificate identifier`},
		{env.AccountID, "", "The import identity has no id"},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config: caConfig(env.ProviderConfig(), name, ca.PEM) + fmt.Sprintf(`
import {
  to       = mtls_certificate.ca
  identity = { account_id = %q, id = %q }
}
`, tc.accountID, tc.id),
			ExpectError: acctest.ExpectErrorFragments("Invalid Import Identity", tc.want),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   identityVersions,
		Steps:                    steps,
	})
	if n := uploadCount(env); n > 0 {
		t.Errorf("emulator saw %d upload(s); an invalid identity must stop the plan", n)
	}
}

// TestAccCertificate_identityAfterMove: a certificate moved from
// cloudflare_mtls_certificate, whose state has no identity of ours, has
// one after the move's apply.
func TestAccCertificate_identityAfterMove(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("identity move root")
	name := acctest.UniqueName(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factoriesWithOfficial(t, env, officialV5),
		TerraformVersionChecks:   identityVersions,
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: officialConfig(env, name, true, ca.PEM, "")},
			{
				Config:            movedConfig(env, name, true, ca.PEM, ""),
				ConfigStateChecks: expectCertificateIdentity(movedTo, env.AccountID),
			},
		},
	})
}
