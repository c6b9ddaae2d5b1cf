package provider_test

import (
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// sameAsResource checks that a data source shows what the resource holds,
// attribute by attribute.
func sameAsResource(dataAddr, resourceAddr string, attrs ...string) []statecheck.StateCheck {
	checks := make([]statecheck.StateCheck, 0, len(attrs))
	for _, a := range attrs {
		checks = append(checks, statecheck.CompareValuePairs(resourceAddr, tfjsonpath.New(a), dataAddr, tfjsonpath.New(a), compare.ValuesSame()))
	}
	return checks
}

var sharedAttributes = []string{
	"account_id", "id", "name", "ca", "issuer", "serial_number", "signature", "expires_on", "uploaded_on", "type",
	"fingerprint_sha256", "subject", "not_before", "not_after", "certificate_count",
}

func TestAccDataSourceCertificate_byIDAndName(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("data source root")
	leaf := root.Issue("data-source.example.com")
	prefix := acctest.UniqueName(t)
	config := certificatesConfig(env, prefix+"-ca", prefix+"-leaf", testcerts.Bundle(root, testcerts.NewCA("data source second")), leaf) + `
data "mtls_certificate" "by_id" {
  id = mtls_certificate.ca.id
}

data "mtls_certificate" "by_name" {
  name = mtls_certificate.leaf.name
}
`
	checks := append(sameAsResource("data.mtls_certificate.by_id", "mtls_certificate.ca", sharedAttributes...),
		sameAsResource("data.mtls_certificate.by_name", "mtls_certificate.leaf", sharedAttributes...)...)
	checks = append(checks,
		statecheck.ExpectKnownValue("data.mtls_certificate.by_id", tfjsonpath.New("certificate_count"), knownvalue.Int64Exact(2)),
		statecheck.ExpectKnownValue("data.mtls_certificate.by_id", tfjsonpath.New("associations"), knownvalue.ListExact(nil)),
	)
	steps := []resource.TestStep{{Config: config, ConfigStateChecks: checks}}
	if env.Emulator != nil {
		steps = append(steps, resource.TestStep{
			// Associations appear once a service uses the certificate.
			PreConfig: func() {
				for _, c := range env.Emulator.Certificates(env.AccountID) {
					if c.Name == prefix+"-leaf" {
						env.Emulator.SetAssociations(env.AccountID, c.ID, []emulator.Association{
							{Service: "gateway", Status: "pending_deployment"},
							{Service: "access", Status: "active"},
						})
					}
				}
			},
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.mtls_certificate.by_name", tfjsonpath.New("associations"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{"service": knownvalue.StringExact("gateway"), "status": knownvalue.StringExact("pending_deployment")}),
					knownvalue.ObjectExact(map[string]knownvalue.Check{"service": knownvalue.StringExact("access"), "status": knownvalue.StringExact("active")}),
				})),
			},
		}, resource.TestStep{
			PreConfig: env.Emulator.ClearAssociations,
			Config:    config,
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, prefix),
		Steps:                    steps,
	})
}

// TestAccDataSourceCertificate_lookupErrors: names are not unique in
// Cloudflare, so a lookup by name says what it found instead of picking one.
func TestAccDataSourceCertificate_lookupErrors(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	prefix := acctest.UniqueName(t)
	var twins []string
	for i := range 2 {
		twins = append(twins, uploadByHand(t, env, cfapi.UploadRequest{Name: prefix + "-twin", CA: true, Certificates: testcerts.NewCA(fmt.Sprintf("twin %d", i)).PEM}))
	}
	t.Cleanup(func() { env.DeleteNamed(t, prefix+"-twin") })
	lookup := func(args string) string {
		return env.ProviderConfig() + fmt.Sprintf("\ndata \"mtls_certificate\" \"x\" {\n%s\n}\n", args)
	}
	cases := map[string]struct {
		args string
		want []string
	}{
		"two with the name":  {fmt.Sprintf("  name = %q", prefix+"-twin"), []string{"Several mTLS Certificates Have This Name", "2 mTLS certificates", twins[0], twins[1], "Look the certificate up by id instead"}},
		"none with the name": {fmt.Sprintf("  name = %q", prefix+"-nobody"), []string{"mTLS Certificate Not Found", "is named", prefix + "-nobody"}},
		"no such id":         {`  id = "00000000-0000-4000-8000-000000000000"`, []string{"mTLS Certificate Not Found", "no mTLS certificate with id"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				Steps:                    []resource.TestStep{{Config: lookup(tc.args), ExpectError: acctest.ExpectErrorFragments(tc.want...)}},
			})
		})
	}
}

// TestAccDataSourceCertificate_configErrors are found before any request.
func TestAccDataSourceCertificate_configErrors(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cases := map[string]struct {
		config string
		want   []string
	}{
		"id and name":       {"data \"mtls_certificate\" \"x\" {\n  id   = \"0123\"\n  name = \"a\"\n}", []string{"Invalid Attribute Combination", "Exactly one of these attributes"}},
		"neither":           {"data \"mtls_certificate\" \"x\" {}", []string{"Missing Attribute Configuration", "Exactly one of these attributes"}},
		"bad id":            {"data \"mtls_certificate\" \"x\" {\n  id = \"not an id\"\n}", []string{"must be a Cloudflare certificate identifier"}},
		"bad regex":         {"data \"mtls_certificates\" \"x\" {\n  name_regex = \"(\"\n}", []string{"Invalid Regular Expression", "missing closing )"}},
		"days":              {"data \"mtls_certificates\" \"x\" {\n  expires_within = \"30d\"\n}", []string{"Invalid Duration", "no day unit", "720h"}},
		"unknown type":      {"data \"mtls_certificates\" \"x\" {\n  type = [\"bogus\"]\n}", []string{"value must be one of"}},
		"bad account":       {"data \"mtls_certificates\" \"x\" {\n  account_id = \"ABC\"\n}", []string{"32 lowercase hexadecimal"}},
		"associations, bad": {"data \"mtls_certificate_associations\" \"x\" {\n  mtls_certificate_id = \"x y\"\n}", []string{"must be a Cloudflare certificate identifier"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				Steps:                    []resource.TestStep{{Config: env.ProviderConfig() + tc.config, ExpectError: acctest.ExpectErrorFragments(tc.want...)}},
			})
		})
	}
	if env.Emulator != nil {
		if n := len(env.Emulator.RequestCounts()); n != 0 {
			t.Errorf("the emulator saw requests %v; configuration errors must stop before any", env.Emulator.RequestCounts())
		}
	}
}

// seed stores n certificates named prefix-NNN straight in the emulator and
// returns their ids in upload order.
func seed(t *testing.T, env *acctest.Env, prefix string, n int, typ string, ca bool) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		c, err := env.Emulator.AddCertificate(env.AccountID, fmt.Sprintf("%s-%03d", prefix, i), ca,
			testcerts.NewCA(fmt.Sprintf("%s %d", prefix, i)).PEM, typ)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

func exactIDs(ids []string) knownvalue.Check {
	checks := make([]knownvalue.Check, 0, len(ids))
	for _, id := range ids {
		checks = append(checks, knownvalue.StringExact(id))
	}
	return knownvalue.ListExact(checks)
}

// TestAccDataSourceCertificates_everyPage: 120 certificates at 50 per page
// are all listed once, in order. Servers whose paging cannot be trusted
// are in listing_incomplete_test.go.
func TestAccDataSourceCertificates_everyPage(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ids := seed(t, env, "bulk", 120, "", true)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{{
			Config: env.ProviderConfig() + "\ndata \"mtls_certificates\" \"all\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.mtls_certificates.all", tfjsonpath.New("ids"), exactIDs(ids)),
				statecheck.ExpectKnownValue("data.mtls_certificates.all", tfjsonpath.New("certificates").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact(ids[0])),
				statecheck.ExpectKnownValue("data.mtls_certificates.all", tfjsonpath.New("certificates").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("bulk-000")),
			},
		}},
	})
}

func TestAccDataSourceCertificates_filters(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	root := testcerts.NewCA("filters root")
	cas := seed(t, env, "team-a-ca", 2, "", true)
	leafCert, err := env.Emulator.AddCertificate(env.AccountID, "team-b-leaf", false, root.Issue("leaf.example.com").PEM, "")
	if err != nil {
		t.Fatal(err)
	}
	gateway := seed(t, env, "gateway", 1, "gateway_managed", true)
	soon, err := env.Emulator.AddCertificate(env.AccountID, "team-a-soon", true, testcerts.New(testcerts.Options{
		Subject: pkix.Name{CommonName: "soon"}, IsCA: true, NotAfter: time.Now().Add(10 * 24 * time.Hour),
	}).PEM, "")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := env.Emulator.AddCertificate(env.AccountID, "", true, testcerts.ExpiredCA("expired", time.Hour).PEM, "")
	if err != nil {
		t.Fatal(err)
	}
	config := env.ProviderConfig() + `
data "mtls_certificates" "gateway" {
  type = ["gateway_managed"]
}
data "mtls_certificates" "custom_leaves" {
  type = ["custom"]
  ca   = false
}
data "mtls_certificates" "team_a" {
  name_regex = "^team-a-"
}
data "mtls_certificates" "expiring" {
  expires_within = "720h"
}
data "mtls_certificates" "team_a_expiring" {
  name_regex     = "^team-a-"
  expires_within = "720h"
}
`
	ds := func(name string) string { return "data.mtls_certificates." + name }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds("gateway"), tfjsonpath.New("ids"), exactIDs(gateway)),
				statecheck.ExpectKnownValue(ds("gateway"), tfjsonpath.New("certificates").AtSliceIndex(0).AtMapKey("type"), knownvalue.StringExact("gateway_managed")),
				statecheck.ExpectKnownValue(ds("custom_leaves"), tfjsonpath.New("ids"), exactIDs([]string{leafCert.ID})),
				statecheck.ExpectKnownValue(ds("team_a"), tfjsonpath.New("ids"), exactIDs(append(append([]string{}, cas...), soon.ID))),
				statecheck.ExpectKnownValue(ds("expiring"), tfjsonpath.New("ids"), exactIDs([]string{soon.ID, expired.ID})),
				statecheck.ExpectKnownValue(ds("team_a_expiring"), tfjsonpath.New("ids"), exactIDs([]string{soon.ID})),
				statecheck.ExpectKnownValue(ds("expiring"), tfjsonpath.New("certificates").AtSliceIndex(1).AtMapKey("name"), knownvalue.Null()),
			},
		}},
	})
}

func TestAccDataSourceCertificateAssociations_everyPage(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ids := seed(t, env, "assoc", 1, "", true)
	var want []emulator.Association
	var checks []knownvalue.Check
	for i := range 45 {
		a := emulator.Association{Service: fmt.Sprintf("service-%02d", i), Status: "active"}
		want = append(want, a)
		checks = append(checks, knownvalue.ObjectExact(map[string]knownvalue.Check{
			"service": knownvalue.StringExact(a.Service), "status": knownvalue.StringExact("active"),
		}))
	}
	env.Emulator.SetAssociations(env.AccountID, ids[0], want)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{
			{
				Config: env.ProviderConfig() + fmt.Sprintf("\ndata \"mtls_certificate_associations\" \"x\" {\n  mtls_certificate_id = %q\n}\n", ids[0]),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.mtls_certificate_associations.x", tfjsonpath.New("associations"), knownvalue.ListExact(checks)),
					statecheck.ExpectKnownValue("data.mtls_certificate_associations.x", tfjsonpath.New("account_id"), knownvalue.StringExact(env.AccountID)),
				},
			},
			{
				Config:      env.ProviderConfig() + "\ndata \"mtls_certificate_associations\" \"x\" {\n  mtls_certificate_id = \"00000000-0000-4000-8000-000000000000\"\n}\n",
				ExpectError: acctest.ExpectErrorFragments("mTLS Certificate Not Found"),
			},
		},
	})
}

// TestAccCertificate_adoptWithImportBlocks: the migration path from another
// tool or the official provider: import blocks generated from the list data
// source adopt every certificate without a new upload, and the next plan is
// empty.
func TestAccCertificate_adoptWithImportBlocks(t *testing.T) {
	t.Parallel()
	acctest.RequireCLI(t, acctest.ImportForEach)
	env := acctest.New(t)
	prefix := acctest.UniqueName(t)
	for i := range 3 {
		uploadByHand(t, env, cfapi.UploadRequest{Name: fmt.Sprintf("%s-legacy-%d", prefix, i), CA: true, Certificates: testcerts.NewCA(fmt.Sprintf("legacy %d", i)).PEM})
	}
	config := env.ProviderConfig() + strings.ReplaceAll(`
data "mtls_certificates" "legacy" {
  name_regex = "^PREFIX-legacy-"
}

locals {
  legacy = { for c in data.mtls_certificates.legacy.certificates : c.name => c }
}

import {
  for_each = local.legacy
  to       = mtls_certificate.adopted[each.key]
  id       = "${each.value.account_id}/${each.value.id}"
}

resource "mtls_certificate" "adopted" {
  for_each     = local.legacy
  name         = each.value.name
  ca           = each.value.ca
  certificates = each.value.certificates
}
`, "PREFIX", prefix)
	// plugin-testing cannot read state with string instance keys, so this
	// test drives the CLI itself.
	ws := acctest.NewWorkspace(t)
	ws.SetConfig(config)
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	apply := ws.MustRun("apply", "-auto-approve", "-input=false", "-json")
	if errs := apply.Errors(); len(errs) > 0 {
		t.Fatalf("apply reported errors: %+v", errs)
	}
	state := ws.State().Values
	for i := range 3 {
		addr := fmt.Sprintf("mtls_certificate.adopted[%q]", fmt.Sprintf("%s-legacy-%d", prefix, i))
		if values, ok := acctest.ResourceValues(state, addr); !ok || values["id"] == "" {
			t.Errorf("%s is not in state after the import apply", addr)
		}
	}
	expectUploads(t, env, 3)()
	// -detailed-exitcode: 0 is an empty plan, 2 a plan with changes.
	if plan := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); plan.ExitCode != 0 {
		t.Fatalf("the plan after adopting is not empty (exit %d):\n%s%s", plan.ExitCode, plan.Stdout, plan.Stderr)
	}
	ws.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
	if left := env.CertificatesNamed(t, prefix); len(left) != 0 {
		t.Errorf("%d adopted certificates left after destroy", len(left))
	}
}
