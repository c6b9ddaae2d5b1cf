package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// The account: 61 certificates behind a server that answers every
// page with the first 50. Whatever reads the listing must fail and say so,
// never answer from the 50.

// TestAccDataSources_refuseAnIncompleteListing: both data sources fail,
// naming the account and what was read against what was reported.
func TestAccDataSources_refuseAnIncompleteListing(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mode   emulator.PagingMode
		config string
		want   []string
	}{
		"mtls_certificates, page ignored": {emulator.PagingIgnored, `data "mtls_certificates" "all" {}`,
			[]string{"Unable to List mTLS Certificates", "after page 2 with 50 certificates, but the API reported 61"}},
		// bulk-060 is the 61st, beyond what the server serves.
		"mtls_certificate by name, page ignored": {emulator.PagingIgnored, "data \"mtls_certificate\" \"last\" {\n  name = \"bulk-060\"\n}",
			[]string{"Unable to Read mTLS Certificate", "after page 2 with 50 certificates, but the API reported 61"}},
		// Every certificate is served, but total_count claims 200.
		"mtls_certificates, inconsistent totals": {emulator.PagingInconsistentTotals, `data "mtls_certificates" "all" {}`,
			[]string{"Unable to List mTLS Certificates", "after page 3 with 61 certificates, but the API reported 200"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.NewWithOptions(t, emulator.Options{Paging: tc.mode})
			env.RequireEmulator(t)
			seed(t, env, "bulk", 61, "", true)
			want := append(tc.want[:1:1], "Could not list the certificates of account "+env.AccountID)
			want = append(want, tc.want[1:]...)
			want = append(want, "a server that ignores the `page` parameter")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				Steps: []resource.TestStep{{
					Config:      env.ProviderConfig() + "\n" + tc.config + "\n",
					ExpectError: acctest.ExpectErrorFragments(want...),
				}},
			})
		})
	}
}

// TestAccCertificate_alreadyExistsBeyondAnIncompleteListing: an upload
// refused as already existing looks for the certificate that holds it; when
// that one is beyond what the listing serves, the apply says the listing
// was incomplete, not that no certificate holds it.
func TestAccCertificate_alreadyExistsBeyondAnIncompleteListing(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{Paging: emulator.PagingIgnored})
	env.RequireEmulator(t)
	seed(t, env, "bulk", 60, "", true)
	held := testcerts.NewCA("held beyond the first page")
	if _, err := env.Emulator.AddCertificate(env.AccountID, "bulk-060", true, held.PEM, ""); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		// Not checkAllDeleted: its own listing would be incomplete too.
		CheckDestroy: func(*terraform.State) error {
			if n := env.Emulator.CertificateCount(env.AccountID); n != 61 {
				return fmt.Errorf("the emulator holds %d certificates, want the 61 seeded", n)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: caConfig(env.ProviderConfig(), acctest.UniqueName(t), held.PEM),
			ExpectError: acctest.ExpectErrorFragments("Unable to Create mTLS Certificate",
				"Cloudflare says account "+env.AccountID+" already holds these certificates, and listing its certificates to find which one failed",
				"after page 2 with 50 certificates, but the API reported 61", "code 1471"),
		}},
	})
}

// TestAccDataSourceCertificateAssociations_refuseAnIncompleteListing: 45
// associations served 20 at a time as page 1 are no answer either.
func TestAccDataSourceCertificateAssociations_refuseAnIncompleteListing(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{Paging: emulator.PagingIgnored})
	env.RequireEmulator(t)
	id := seed(t, env, "assoc", 1, "", true)[0]
	var assoc []emulator.Association
	for i := range 45 {
		assoc = append(assoc, emulator.Association{Service: fmt.Sprintf("service-%02d", i), Status: "active"})
	}
	env.Emulator.SetAssociations(env.AccountID, id, assoc)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{{
			Config: env.ProviderConfig() + fmt.Sprintf("\ndata \"mtls_certificate_associations\" \"a\" {\n  mtls_certificate_id = %q\n}\n", id),
			ExpectError: acctest.ExpectErrorFragments(id, env.AccountID,
				"after page 2 with 20 associations, but the API reported 45", "a server that ignores the `page` parameter"),
		}},
	})
}
