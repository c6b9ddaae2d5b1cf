package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// uploadByHand stores a certificate the way a user did before adopting
// Terraform: through the API, with text formatted differently from the
// configuration that will import it.
func uploadByHand(t *testing.T, env *acctest.Env, req cfapi.UploadRequest) string {
	t.Helper()
	req.AccountID = env.AccountID
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := env.Client(t).Upload(ctx, req)
	if err != nil {
		t.Fatalf("uploading by hand: %v", err)
	}
	return got.ID
}

func crlf(text string) string { return strings.ReplaceAll(text, "\n", "\r\n") }

// uploadCount counts the emulator's uploads, or returns -1 against the live
// API, where only state checks apply.
func uploadCount(env *acctest.Env) int {
	if env.Emulator == nil {
		return -1
	}
	return env.Emulator.RequestCount(emulator.RouteUpload)
}

func expectUploads(t *testing.T, env *acctest.Env, want int) func() {
	return func() {
		if got := uploadCount(env); got >= 0 && got != want {
			t.Errorf("emulator saw %d uploads, want %d: import must not upload again", got, want)
		}
	}
}

// TestAccCertificate_importThenEmptyPlan: a bundle uploaded by hand, with
// other line endings and an expired certificate in it, is imported with
// `terraform import`; the next plan of a configuration holding the same
// certificates is empty.
func TestAccCertificate_importThenEmptyPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("import root")
	old := testcerts.ExpiredCA("import expired intermediate", 24*time.Hour)
	name := acctest.UniqueName(t)
	id := uploadByHand(t, env, cfapi.UploadRequest{Name: name, CA: true, Certificates: crlf(root.PEM + old.PEM)})
	config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %s
}
`, name, heredoc(root.PEM+"\n"+old.PEM))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:             config,
				ResourceName:       "mtls_certificate.ca",
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateId:      env.AccountID + "/" + id,
			},
			{
				// PlanOnly fails on any planned change. The expired
				// certificate already in Cloudflare is a warning, not an
				// error, so the plan succeeds.
				PreConfig: expectUploads(t, env, 1),
				Config:    config,
				PlanOnly:  true,
			},
		},
	})
}

// TestAccCertificate_importWithPrivateKey: the API never returns a key, so
// after import a configured private_key is recorded in place (after it is
// checked against the certificate) instead of replacing the certificate.
func TestAccCertificate_importWithPrivateKey(t *testing.T) {
	t.Parallel()
	root := testcerts.NewCA("import key root")

	t.Run("import command", func(t *testing.T) {
		t.Parallel()
		env := acctest.New(t)
		leaf := root.Issue("import-command.example.com")
		name := acctest.UniqueName(t)
		id := uploadByHand(t, env, cfapi.UploadRequest{Name: name, Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM})
		config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name         = %q
  ca           = false
  certificates = %q
  private_key  = %q
}
`, name, crlf(leaf.PEM), crlf(leaf.KeyPEM))
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(),
			CheckDestroy:             checkAllDeleted(t, env, name),
			Steps: []resource.TestStep{
				{
					Config:             config,
					ResourceName:       "mtls_certificate.leaf",
					ImportState:        true,
					ImportStatePersist: true,
					ImportStateId:      id,
				},
				{
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.leaf", plancheck.ResourceActionUpdate),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("id"), knownvalue.StringExact(id)),
						statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("private_key"), knownvalue.StringExact(crlf(leaf.KeyPEM))),
					},
				},
				{
					PreConfig: expectUploads(t, env, 1),
					Config:    config,
					PlanOnly:  true,
				},
			},
		})
	})

	t.Run("import block", func(t *testing.T) {
		t.Parallel()
		env := acctest.New(t)
		leaf := root.Issue("import-block.example.com")
		name := acctest.UniqueName(t)
		id := uploadByHand(t, env, cfapi.UploadRequest{Name: name, Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM})
		config := env.ProviderConfig() + fmt.Sprintf(`
import {
  to = mtls_certificate.leaf
  id = "%s/%s"
}

resource "mtls_certificate" "leaf" {
  name         = %q
  ca           = false
  certificates = %q
  private_key  = %q
}
`, env.AccountID, id, name, leaf.PEM+"\n", leaf.KeyPEM)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(),
			TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ImportBlocks)},
			CheckDestroy:             checkAllDeleted(t, env, name),
			Steps: []resource.TestStep{
				{
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("mtls_certificate.leaf", plancheck.ResourceActionUpdate),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("id"), knownvalue.StringExact(id)),
						statecheck.ExpectKnownValue("mtls_certificate.leaf", tfjsonpath.New("private_key"), knownvalue.StringExact(leaf.KeyPEM)),
					},
				},
				{
					PreConfig: expectUploads(t, env, 1),
					Config:    config,
					PlanOnly:  true,
				},
			},
		})
	})
}
