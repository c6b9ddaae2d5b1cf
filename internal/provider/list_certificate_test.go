package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// seedForQuery uploads by hand what `terraform query` is to find: two CA
// bundles and a leaf with names, one unnamed CA, and a certificate that
// Cloudflare manages for Gateway, which the list leaves out by default.
func seedForQuery(t *testing.T, env *acctest.Env) (ids map[string]string) {
	t.Helper()
	ids = map[string]string{}
	for _, c := range []struct {
		name string
		ca   bool
		typ  string
	}{
		{"query-ca-one", true, emulator.TypeCustom},
		{"query-ca-two", true, emulator.TypeCustom},
		{"query-leaf", false, emulator.TypeCustom},
		{"", true, emulator.TypeCustom},
		{"gateway", true, emulator.TypeGatewayManaged},
	} {
		cn := "query " + c.name
		if c.name == "" {
			cn = "query unnamed"
		}
		pemText := testcerts.NewCA(cn).PEM
		if !c.ca {
			pemText = testcerts.NewCA("query root").Issue("query-leaf.example.com").PEM
		}
		stored, err := env.Emulator.AddCertificate(env.AccountID, c.name, c.ca, pemText, c.typ)
		if err != nil {
			t.Fatal(err)
		}
		ids[c.name] = stored.ID
	}
	return ids
}

// TestAccList_query: `terraform query` lists the account's uploaded
// certificates with their identity and display name (the name, or the
// subject of an unnamed one); the filters narrow them; include_resource
// gives the certificate as a read stores it.
func TestAccList_query(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ids := seedForQuery(t, env)
	identity := func(name string) map[string]knownvalue.Check {
		return map[string]knownvalue.Check{"account_id": knownvalue.StringExact(env.AccountID), "id": knownvalue.StringExact(ids[name])}
	}
	query := `
list "mtls_certificate" "uploaded" {
  provider = mtls
  config {}
}

list "mtls_certificate" "cas_named_query" {
  provider = mtls
  config {
    ca         = true
    name_regex = "^query-"
  }
}

list "mtls_certificate" "everything" {
  provider         = mtls
  include_resource = true
  config {
    type = ["custom", "gateway_managed", "access_managed"]
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ListResources)},
		Steps: []resource.TestStep{
			{Config: env.ProviderConfig()},
			{
				Query:  true,
				Config: query,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("mtls_certificate.uploaded", 4),
					querycheck.ExpectIdentity("mtls_certificate.uploaded", identity("query-ca-one")),
					querycheck.ExpectIdentity("mtls_certificate.uploaded", identity("")),
					querycheck.ExpectNoIdentity("mtls_certificate.uploaded", identity("gateway")),
					querycheck.ExpectResourceDisplayName("mtls_certificate.uploaded",
						queryfilter.ByResourceIdentity(identity("query-leaf")), knownvalue.StringExact("query-leaf")),
					querycheck.ExpectResourceDisplayName("mtls_certificate.uploaded",
						queryfilter.ByResourceIdentity(identity("")), knownvalue.StringRegexp(regexp.MustCompile(`^CN=query unnamed,`))),
					querycheck.ExpectLength("mtls_certificate.cas_named_query", 2),
					querycheck.ExpectNoIdentity("mtls_certificate.cas_named_query", identity("query-leaf")),
					querycheck.ExpectLength("mtls_certificate.everything", 5),
					querycheck.ExpectIdentity("mtls_certificate.everything", identity("gateway")),
					querycheck.ExpectResourceKnownValues("mtls_certificate.everything", queryfilter.ByResourceIdentity(identity("query-leaf")),
						[]querycheck.KnownValueCheck{
							{Path: tfjsonpath.New("name"), KnownValue: knownvalue.StringExact("query-leaf")},
							{Path: tfjsonpath.New("ca"), KnownValue: knownvalue.Bool(false)},
							{Path: tfjsonpath.New("type"), KnownValue: knownvalue.StringExact("custom")},
							{Path: tfjsonpath.New("subject"), KnownValue: knownvalue.StringExact("CN=query-leaf.example.com")},
							{Path: tfjsonpath.New("certificates"), KnownValue: knownvalue.StringRegexp(regexp.MustCompile(`^-----BEGIN CERTIFICATE-----`))},
							{Path: tfjsonpath.New("private_key"), KnownValue: knownvalue.Null()},
						}),
				},
			},
		},
	})
}

// TestAccList_generateConfigAdoptsEverything: `terraform query
// -generate-config-out` writes import blocks and configuration for every
// listed certificate; applying them adopts all of them with no upload, and
// the next plan is empty.
func TestAccList_generateConfigAdoptsEverything(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{PEMStyle: emulator.PEMRewrapped})
	env.RequireEmulator(t)
	ids := seedForQuery(t, env)
	ws := acctest.NewWorkspace(t)
	acctest.RequireCLI(t, acctest.ListResources)
	ws.SetConfig(env.ProviderConfig())
	// The query uses the provider block of main.tf, which the apply needs too.
	ws.WriteFile("adopt.tfquery.hcl", `
list "mtls_certificate" "all" {
  provider = mtls
  config {}
}
`)
	ws.Init()
	env.Emulator.ResetCounts()
	ws.MustRun("query", "-generate-config-out=generated.tf", "-no-color")
	generated, err := os.ReadFile(filepath.Join(ws.Dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		if name == "gateway" {
			if strings.Contains(string(generated), id) {
				t.Errorf("the generated configuration adopts the gateway_managed certificate %s", id)
			}
			continue
		}
		if !strings.Contains(string(generated), id) {
			t.Errorf("the generated configuration has no import of certificate %s (%q):\n%s", id, name, generated)
		}
	}
	if strings.Contains(string(generated), "PRIVATE KEY") {
		t.Errorf("the generated configuration holds a private key:\n%s", generated)
	}
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 0 {
		t.Errorf("adopting the listed certificates uploaded %d times", n)
	}
	if r := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); r.ExitCode != 0 {
		t.Fatalf("plan after adopting: exit code %d, want 0 (no changes)\n%s%s\ngenerated:\n%s", r.ExitCode, r.Stdout, r.Stderr, generated)
	}
	state := ws.MustRun("show", "-json", "-no-color").Stdout
	for name, id := range ids {
		if name == "gateway" {
			continue
		}
		if !strings.Contains(state, id) {
			t.Errorf("certificate %s (%q) is not in state after the apply", id, name)
		}
	}
}

// TestAccList_queryEveryPage: a query over 120 certificates reads every
// page of the listing (50 per page: 3 requests) and returns each once.
func TestAccList_queryEveryPage(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	const n = 120
	root := testcerts.NewCA("paged query root")
	var ids []string
	for i := range n {
		c, err := env.Emulator.AddCertificate(env.AccountID, fmt.Sprintf("paged-%03d", i), false,
			root.Issue(fmt.Sprintf("paged-%03d.example.com", i)).PEM, emulator.TypeCustom)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	identity := func(id string) map[string]knownvalue.Check {
		return map[string]knownvalue.Check{"account_id": knownvalue.StringExact(env.AccountID), "id": knownvalue.StringExact(id)}
	}
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ListResources)},
		Steps: []resource.TestStep{
			{Config: env.ProviderConfig()},
			{
				PreConfig: func() {
					env.Emulator.ResetCounts()
					started = time.Now()
				},
				Query: true,
				// Terraform asks for 100 results unless the block sets a limit.
				Config: "list \"mtls_certificate\" \"all\" {\n  provider = mtls\n  limit    = 500\n  config {}\n}\n",
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("mtls_certificate.all", n),
					querycheck.ExpectIdentity("mtls_certificate.all", identity(ids[0])),
					querycheck.ExpectIdentity("mtls_certificate.all", identity(ids[n/2])),
					querycheck.ExpectResourceDisplayName("mtls_certificate.all", queryfilter.ByResourceIdentity(identity(ids[n-1])),
						knownvalue.StringExact(fmt.Sprintf("paged-%03d", n-1))),
				},
			},
		},
	})
	if got := env.Emulator.RequestCount(emulator.RouteList); got != 3 {
		t.Errorf("the query made %d list requests, want 3 (120 certificates at 50 per page)", got)
	}
	t.Logf("terraform query of %d certificates: %d list requests, %d GETs, %s", n,
		env.Emulator.RequestCount(emulator.RouteList), env.Emulator.RequestCount(emulator.RouteGet), time.Since(started).Round(time.Millisecond))
}
