package provider_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// The hostname association tests need the emulator: a live run would need
// a zone of its own, which the suite does not have.

const hostnameAddress = "mtls_hostname_association.api"

// newZone is a random zone id, so that no two tests share a zone.
func newZone(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// hostnameEnv is a test's emulator with two CA certificates, a and b, in
// the configurations of hostnameConfig.
type hostnameEnv struct {
	env        *acctest.Env
	zone, name string
	a, b       *testcerts.Certificate
}

func newHostnameEnv(t *testing.T) *hostnameEnv {
	t.Helper()
	env := acctest.New(t)
	env.RequireEmulator(t)
	return &hostnameEnv{env: env, zone: newZone(t), name: acctest.UniqueName(t), a: testcerts.NewCA("hostnames a"), b: testcerts.NewCA("hostnames b")}
}

// config is certificates a and b, and, unless cert is "", the association
// of hostnames in the zone with mtls_certificate.<cert>.
func (h *hostnameEnv) config(cert string, hostnames ...string) string {
	out := h.env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "a" {
  name         = "%[1]s-a"
  ca           = true
  certificates = %[2]q
}

resource "mtls_certificate" "b" {
  name         = "%[1]s-b"
  ca           = true
  certificates = %[3]q
}
`, h.name, strings.TrimSpace(h.a.PEM), strings.TrimSpace(h.b.PEM))
	if cert != "" {
		out += associationBlock(h.zone, "mtls_certificate."+cert+".id", hostnames...)
	}
	return out
}

// associationBlock is mtls_hostname_association.api; certExpr is HCL.
func associationBlock(zone, certExpr string, hostnames ...string) string {
	list, _ := json.Marshal(hostnames)
	return fmt.Sprintf(`
resource "mtls_hostname_association" "api" {
  zone_id             = %q
  mtls_certificate_id = %s
  hostnames           = %s
}
`, zone, certExpr, list)
}

// hostnamesOf asks the emulator, through the API, for a certificate's
// hostnames in a zone.
func hostnamesOf(t *testing.T, env *acctest.Env, zone, certID string) ([]string, error) {
	t.Helper()
	return env.Client(t).HostnameAssociations(context.Background(), zone, certID)
}

// expectHostnames checks that the certificate at certAddress in state has
// exactly want (sorted) in the zone, as Cloudflare reports it.
func (h *hostnameEnv) expectHostnames(t *testing.T, certAddress string, want ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[certAddress]
		if !ok {
			return fmt.Errorf("%s is not in state", certAddress)
		}
		got, err := hostnamesOf(t, h.env, h.zone, rs.Primary.ID)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s has hostnames %q in the zone, want %q", certAddress, got, want)
		}
		return nil
	}
}

// expectAssociationID checks that the association's id is the zone and
// the id of the certificate at certAddress.
func (h *hostnameEnv) expectAssociationID(certAddress string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		cert, assoc := s.RootModule().Resources[certAddress], s.RootModule().Resources[hostnameAddress]
		if cert == nil || assoc == nil {
			return fmt.Errorf("%s or %s is not in state", certAddress, hostnameAddress)
		}
		if want := h.zone + "/" + cert.Primary.ID; assoc.Primary.ID != want || assoc.Primary.Attributes["mtls_certificate_id"] != cert.Primary.ID {
			return fmt.Errorf("association id %q, mtls_certificate_id %q; want %q", assoc.Primary.ID, assoc.Primary.Attributes["mtls_certificate_id"], want)
		}
		return nil
	}
}

// expectAlwaysCovered checks, from the emulator's audit, that each
// hostname has had at least one CA at every moment since it got its first.
func (h *hostnameEnv) expectAlwaysCovered(hostnames ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		coverage := h.env.Emulator.Coverage()
		for _, name := range hostnames {
			if n, seen := coverage[h.zone+"/"+name]; !seen || n < 1 {
				return fmt.Errorf("%s was left without a CA at some point (fewest CAs %d, audited %t)", name, n, seen)
			}
		}
		return nil
	}
}

// TestAccHostnameAssociation_lifecycle: create, change the hostnames in
// place, move them to another certificate in place (never leaving a
// hostname without a CA), import, and remove them.
func TestAccHostnameAssociation_lifecycle(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	hostnames := statecheck.ExpectKnownValue(hostnameAddress, tfjsonpath.New("hostnames"),
		knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("api.example.com"), knownvalue.StringExact("*.app.example.com")}))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{
				Config: h.config("a", "api.example.com", "www.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(
					h.expectHostnames(t, "mtls_certificate.a", "api.example.com", "www.example.com"),
					h.expectAssociationID("mtls_certificate.a"),
				),
			},
			{
				Config: h.config("a", "api.example.com", "*.app.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{hostnames},
				Check:             h.expectHostnames(t, "mtls_certificate.a", "*.app.example.com", "api.example.com"),
			},
			{
				Config: h.config("b", "api.example.com", "*.app.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(hostnameAddress, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile("^"+h.zone+"/"))),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{hostnames},
				Check: resource.ComposeTestCheckFunc(
					h.expectHostnames(t, "mtls_certificate.b", "*.app.example.com", "api.example.com"),
					h.expectHostnames(t, "mtls_certificate.a"),
					h.expectAssociationID("mtls_certificate.b"),
					h.expectAlwaysCovered("api.example.com", "*.app.example.com"),
				),
			},
			{
				ResourceName:      hostnameAddress,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Out of the configuration: the destroy removes them all.
				Config: h.config(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionDestroy)},
				},
				Check: h.expectHostnames(t, "mtls_certificate.b"),
			},
		},
	})
}

// TestAccHostnameAssociation_identity: the identity is {zone_id,
// mtls_certificate_id}, follows a change of certificate, and imports the
// association with no change.
func TestAccHostnameAssociation_identity(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	identity := []statecheck.StateCheck{
		statecheck.ExpectIdentity(hostnameAddress, map[string]knownvalue.Check{
			"zone_id":             knownvalue.StringExact(h.zone),
			"mtls_certificate_id": knownvalue.NotNull(),
		}),
		statecheck.ExpectIdentityValueMatchesState(hostnameAddress, tfjsonpath.New("zone_id")),
		statecheck.ExpectIdentityValueMatchesState(hostnameAddress, tfjsonpath.New("mtls_certificate_id")),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ResourceIdentity)},
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{Config: h.config("a", "api.example.com"), ConfigStateChecks: identity},
			{
				Config: h.config("b", "api.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: identity,
				Check:             h.expectAssociationID("mtls_certificate.b"),
			},
			{
				ResourceName:    hostnameAddress,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// handSetHostnames stores a CA in the emulator and gives it hostnames in
// the zone, as someone working by hand would; it returns the CA's id.
func (h *hostnameEnv) handSetHostnames(t *testing.T, hostnames ...string) string {
	t.Helper()
	stored, err := h.env.Emulator.AddCertificate(h.env.AccountID, h.name+"-by-hand", true, h.a.PEM, emulator.TypeCustom)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.env.Client(t).ReplaceHostnameAssociations(context.Background(), h.zone, stored.ID, hostnames); err != nil {
		t.Fatal(err)
	}
	h.env.Emulator.ResetCounts()
	return stored.ID
}

// TestAccHostnameAssociation_refusesExistingHostnames: a certificate that
// already has hostnames in the zone is not taken over: the create fails
// before any replace, naming them and the import that adopts them, and
// that import then works.
func TestAccHostnameAssociation_refusesExistingHostnames(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	certID := h.handSetHostnames(t, "api.example.com", "old.example.com")
	config := h.env.ProviderConfig() + associationBlock(h.zone, fmt.Sprintf("%q", certID), "api.example.com")
	importID := h.zone + "/" + certID
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ImportBlocks)},
		Steps: []resource.TestStep{
			{
				Config: config,
				ExpectError: acctest.ExpectErrorFragments("mTLS Hostname Association Already Exists",
					"Certificate "+certID+" already verifies client certificates for these hostnames in zone "+h.zone,
					"- api.example.com", "- old.example.com", "nothing was changed",
					"terraform import mtls_hostname_association.NAME "+importID,
					"import {", "to = mtls_hostname_association.NAME", fmt.Sprintf("id = %q", importID)),
			},
			{
				PreConfig: func() {
					if n := h.env.Emulator.RequestCount(emulator.RouteHostnameAssociationsPut); n != 0 {
						t.Errorf("the refused create sent %d hostname replaces, want 0", n)
					}
					if got, _ := hostnamesOf(t, h.env, h.zone, certID); !slices.Equal(got, []string{"api.example.com", "old.example.com"}) {
						t.Errorf("after the refused create the hostnames are %q", got)
					}
				},
				Config: config + fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", hostnameAddress, importID),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					got, err := hostnamesOf(t, h.env, h.zone, certID)
					if err == nil && !slices.Equal(got, []string{"api.example.com"}) {
						err = fmt.Errorf("after the import and apply the hostnames are %q, want the configured one", got)
					}
					return err
				},
			},
		},
	})
}

// TestAccHostnameAssociation_importByIdentity: hostnames set by hand are
// adopted with `import { identity = {...} }` and an identical
// configuration plans no change; an invalid identity is refused naming
// the part at fault.
func TestAccHostnameAssociation_importByIdentity(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	certID := h.handSetHostnames(t, "api.example.com")
	config := h.env.ProviderConfig() + associationBlock(h.zone, fmt.Sprintf("%q", certID), "api.example.com")
	importBlock := func(zone, cert string) string {
		return fmt.Sprintf("\nimport {\n  to       = %s\n  identity = { zone_id = %q, mtls_certificate_id = %q }\n}\n", hostnameAddress, zone, cert)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ResourceIdentity)},
		Steps: []resource.TestStep{
			{
				Config:      config + importBlock("NOPE", certID),
				ExpectError: acctest.ExpectErrorFragments("Invalid Import Identity", `the zone ID "NOPE" is not 32 lowercase hexadecimal characters`),
			},
			{
				Config:      config + importBlock(h.zone, ""),
				ExpectError: acctest.ExpectErrorFragments("Invalid Import Identity", "The import identity has no mtls_certificate_id"),
			},
			{
				Config: config + importBlock(h.zone, certID),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(hostnameAddress, tfjsonpath.New("id"), knownvalue.StringExact(h.zone+"/"+certID)),
				},
			},
		},
	})
	if n := h.env.Emulator.RequestCount(emulator.RouteHostnameAssociationsPut); n != 1 {
		t.Errorf("%d hostname replaces, want 1: the destroy's alone", n)
	}
}

// TestAccHostnameAssociation_importByInvalidID: an import ID is checked
// part by part before any request.
func TestAccHostnameAssociation_importByInvalidID(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	config := h.env.ProviderConfig() + associationBlock(h.zone, `"2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"`, "api.example.com")
	var steps []resource.TestStep
	for id, want := range map[string]string{
		h.zone: `the import ID "` + h.zone + `" is not two parts separated by "/"`,
		"ZONE/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10": `the zone ID "ZONE" is not 32 lowercase hexadecimal characters`,
		h.zone + "/not a certificate":               `the certificate ID "not a certificate" is not a Cloudflare certificate identifier`,
	} {
		steps = append(steps, resource.TestStep{
			Config:        config,
			ResourceName:  hostnameAddress,
			ImportState:   true,
			ImportStateId: id,
			ExpectError:   acctest.ExpectErrorFragments("Invalid Import ID", want, "expected <zone_id>/<mtls_certificate_id>"),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.Factories(), Steps: steps})
	if counts := h.env.Emulator.RequestCounts(); counts[emulator.RouteHostnameAssociationsGet]+counts[emulator.RouteHostnameAssociationsPut] != 0 {
		t.Errorf("invalid import IDs sent hostname requests: %v", counts)
	}
}

// TestAccHostnameAssociation_drift: hostnames removed outside Terraform
// take the association out of state, and so does a certificate deleted
// outside Terraform (Cloudflare's "Certificate not found"); each time the
// next plan creates it again.
func TestAccHostnameAssociation_drift(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	config := h.config("a", "api.example.com")
	handClear := func() string {
		for _, c := range h.env.Emulator.Certificates(h.env.AccountID) {
			if c.Name == h.name+"-a" {
				if _, err := h.env.Client(t).ReplaceHostnameAssociations(context.Background(), h.zone, c.ID, nil); err != nil {
					t.Fatal(err)
				}
				return c.Name
			}
		}
		t.Fatal("certificate a is not in the emulator")
		return ""
	}
	recreated := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionCreate)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig:        func() { handClear() },
				Config:           config,
				ConfigPlanChecks: recreated,
				Check:            h.expectHostnames(t, "mtls_certificate.a", "api.example.com"),
			},
			{
				PreConfig:        func() { h.env.DeleteNamed(t, handClear()) },
				Config:           config,
				ConfigPlanChecks: recreated,
				Check:            h.expectHostnames(t, "mtls_certificate.a", "api.example.com"),
			},
		},
	})
}

// TestAccHostnameAssociation_unsureReadKeepsState: a 404 that is not
// Cloudflare's "Certificate not found", an unreadable answer and a server
// error each fail the refresh and keep the association in state; with
// the API back, the plan is empty.
func TestAccHostnameAssociation_unsureReadKeepsState(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	config := h.config("a", "api.example.com")
	fault := func(f emulator.Fault) func() {
		return func() {
			h.env.Emulator.ClearFaults()
			f.Route, f.Times = emulator.RouteHostnameAssociationsGet, 20
			h.env.Emulator.InjectFault(f)
		}
	}
	const kept = "The association is kept in state unchanged"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: fault(emulator.Fault{Status: 404, Code: 7000, Message: "No route for that URI"}),
				Config:    config,
				PlanOnly:  true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Read mTLS Hostname Association", kept,
					`is not Cloudflare's "Certificate not found" (code 1472)`, "code 7000: No route for that URI"),
			},
			{
				PreConfig:   fault(proxyNotFound(0)),
				Config:      config,
				PlanOnly:    true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Read mTLS Hostname Association", kept, "could not be understood"),
			},
			{
				PreConfig:   fault(emulator.Fault{Status: 200, Body: []byte(`{"success":true,"errors":[],"messages":[],"result":{"hostnames":[7]}}`)}),
				Config:      config,
				PlanOnly:    true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Read mTLS Hostname Association", kept, `"result.hostnames[0]" is a number, not a hostname`),
			},
			{
				PreConfig:   fault(emulator.Fault{Status: 503}),
				Config:      h.env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n  max_retries = 1", h.env.Token, h.env.AccountID)) + strings.TrimPrefix(config, h.env.ProviderConfig()),
				PlanOnly:    true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Read mTLS Hostname Association", kept, "HTTP 503"),
			},
			{
				PreConfig: h.env.Emulator.ClearFaults,
				Config:    config,
				PlanOnly:  true,
			},
		},
	})
}

// TestAccHostnameAssociation_invalidArguments: each bad argument fails the
// plan alone, on its attribute, naming the value and the rule, before any
// request.
func TestAccHostnameAssociation_invalidArguments(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	const certID = `"2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"`
	valid := map[string]string{"zone_id": fmt.Sprintf("%q", h.zone), "mtls_certificate_id": certID, "hostnames": `["api.example.com"]`}
	for _, tc := range []struct {
		attr, value, summary string
		detail               []string
	}{
		{"zone_id", `"0123456789ABCDEF0123456789ABCDEF"`, "Invalid Attribute Value Match",
			[]string{"must be a Cloudflare zone ID: 32 lowercase hexadecimal characters, got: 0123456789ABCDEF0123456789ABCDEF"}},
		{"zone_id", `""`, "Invalid Attribute Value Match", []string{"must be a Cloudflare zone ID"}},
		{"mtls_certificate_id", `""`, "Invalid Attribute Value Match", []string{"must be the id of an mTLS certificate"}},
		{"mtls_certificate_id", `"client-ca"`, "Invalid Attribute Value Match", []string{"must be the id of an mTLS certificate", "got: client-ca"}},
		{"hostnames", `[]`, "Invalid Attribute Value", []string{"set must contain at least 1 elements"}},
		{"hostnames", `["https://api.example.com"]`, "Invalid Hostname", []string{`"https://api.example.com" is not a hostname`, "has a scheme (https://)"}},
		{"hostnames", `["api.example.com/v1"]`, "Invalid Hostname", []string{`"api.example.com/v1"`, "has a path"}},
		{"hostnames", `["api.example.com:8443"]`, "Invalid Hostname", []string{`"api.example.com:8443"`, "has a port"}},
		{"hostnames", `["api.example.com", "API.Example.com"]`, "Invalid Hostname", []string{`"API.Example.com"`, `has uppercase letters (write "api.example.com")`}},
		{"hostnames", `["api .example.com"]`, "Invalid Hostname", []string{`"api .example.com"`, "contains spaces"}},
		{"hostnames", `[""]`, "Invalid Hostname", []string{`"" is not a hostname`, "is empty"}},
		{"hostnames", `["localhost"]`, "Invalid Hostname", []string{`"localhost"`, "has a single label"}},
		{"hostnames", `["api..example.com"]`, "Invalid Hostname", []string{"has an empty label"}},
		{"hostnames", `["api.*.example.com"]`, "Invalid Hostname", []string{`has a "*" that is not the whole first label`}},
		{"hostnames", `["-api.example.com"]`, "Invalid Hostname", []string{`starts or ends with a hyphen ("-api")`}},
		{"hostnames", `["api_v2.example.com"]`, "Invalid Hostname", []string{`has a character other than a-z, 0-9`, `(in "api_v2")`}},
	} {
		t.Run(tc.attr+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			ws := acctest.NewWorkspace(t)
			args := maps.Clone(valid)
			args[tc.attr] = tc.value
			ws.SetConfig(h.env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_hostname_association" "api" {
  zone_id             = %s
  mtls_certificate_id = %s
  hostnames           = %s
}
`, args["zone_id"], args["mtls_certificate_id"], args["hostnames"]))
			ws.Init()
			r := ws.Run("plan", "-json", "-input=false", "-no-color")
			errs := r.Errors()
			if r.ExitCode == 0 || len(errs) != 1 {
				t.Fatalf("plan exit %d with %d errors, want 1: %+v", r.ExitCode, len(errs), errs)
			}
			if errs[0].Summary != tc.summary || !strings.Contains(errs[0].Code, tc.attr) || errs[0].Address != hostnameAddress {
				t.Errorf("error %q at %q (%q), want %q on %s", errs[0].Summary, errs[0].Address, errs[0].Code, tc.summary, tc.attr)
			}
			for _, want := range tc.detail {
				if !strings.Contains(errs[0].Detail, want) {
					t.Errorf("detail %q\ndoes not hold %q", errs[0].Detail, want)
				}
			}
		})
	}
	t.Cleanup(func() {
		if counts := h.env.Emulator.RequestCounts(); len(counts) != 0 {
			t.Errorf("invalid arguments sent requests: %v", counts)
		}
	})
}

// TestAccHostnameAssociation_invalidAtApply: a value known only at apply
// is checked then, before any request.
func TestAccHostnameAssociation_invalidAtApply(t *testing.T) {
	t.Parallel()
	acctest.RequireCLI(t, acctest.TerraformData)
	h := newHostnameEnv(t)
	for name, tc := range map[string]struct{ input, certExpr, hostnames, want string }{
		"hostname":    {`"HTTPS://api.example.com"`, `"2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"`, `[terraform_data.later.output]`, `"HTTPS://api.example.com" is not a hostname`},
		"certificate": {`""`, `terraform_data.later.output`, `["api.example.com"]`, "must be the id of an mTLS certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ws := acctest.NewWorkspace(t)
			ws.SetConfig(h.env.ProviderConfig() + fmt.Sprintf(`
resource "terraform_data" "later" {
  input = %s
}

resource "mtls_hostname_association" "api" {
  zone_id             = %q
  mtls_certificate_id = %s
  hostnames           = %s
}
`, tc.input, h.zone, tc.certExpr, tc.hostnames))
			ws.Init()
			ws.MustRun("plan", "-input=false", "-no-color")
			r := ws.Run("apply", "-auto-approve", "-input=false", "-no-color")
			out := strings.Join(strings.Fields(r.Stdout+r.Stderr), " ")
			if r.ExitCode == 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("apply exit %d, want an error holding %q:\n%s", r.ExitCode, tc.want, out)
			}
		})
	}
	t.Cleanup(func() {
		counts := h.env.Emulator.RequestCounts()
		if n := counts[emulator.RouteHostnameAssociationsGet] + counts[emulator.RouteHostnameAssociationsPut]; n != 0 {
			t.Errorf("values invalid at apply sent %d hostname requests: %v", n, counts)
		}
	})
}

// TestAccHostnameAssociation_oldCertificateNotCleared: when the hostnames
// reached the new certificate but removing them from the old one failed,
// the error says so and how to finish, and state names the new one: the
// next plan is empty.
func TestAccHostnameAssociation_oldCertificateNotCleared(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{Config: h.config("a", "api.example.com")},
			{
				PreConfig: func() {
					// The first replace (the new certificate's) goes through;
					// the second (clearing the old one) is refused.
					h.env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteHostnameAssociationsPut, Delay: time.Millisecond})
					h.env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteHostnameAssociationsPut, Status: 400, Code: 1000, Message: "Bad request"})
				},
				Config: h.config("b", "api.example.com"),
				ExpectError: acctest.ExpectErrorFragments("Unable to Update mTLS Hostname Association",
					"The hostnames are now associated with certificate", "and the state records that",
					"Removing them from the old certificate", "No hostname was left without a CA",
					"curl -X PUT", `"hostnames":[]`, "code 1000: Bad request"),
			},
			{
				Config: h.config("b", "api.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(
					h.expectHostnames(t, "mtls_certificate.b", "api.example.com"),
					h.expectHostnames(t, "mtls_certificate.a", "api.example.com"),
				),
			},
			{
				// Cleared by hand, as the error says; then a clean destroy.
				PreConfig: func() {
					for _, c := range h.env.Emulator.Certificates(h.env.AccountID) {
						if c.Name == h.name+"-a" {
							if _, err := h.env.Client(t).ReplaceHostnameAssociations(context.Background(), h.zone, c.ID, nil); err != nil {
								t.Fatal(err)
							}
						}
					}
				},
				Config:   h.config("b", "api.example.com"),
				PlanOnly: true,
			},
		},
	})
}

// TestAccHostnameAssociation_createOutcomeUnknown: a create whose replace
// got no readable answer records the association as tainted, and the next
// apply replaces it and ends with the configured hostnames.
func TestAccHostnameAssociation_createOutcomeUnknown(t *testing.T) {
	t.Parallel()
	h := newHostnameEnv(t)
	provider := h.env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n  max_retries = 0", h.env.Token, h.env.AccountID))
	config := provider + strings.TrimPrefix(h.config("a", "api.example.com"), h.env.ProviderConfig())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, h.env, h.name),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					h.env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteHostnameAssociationsPut, CommitThenBody: true, Status: 502,
						ContentType: "text/html", Body: []byte("<html>502 Bad Gateway</html>")})
				},
				Config: config,
				ExpectError: acctest.ExpectErrorFragments("Unable to Create mTLS Hostname Association", "may or may not have happened",
					"recorded in state as tainted"),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(hostnameAddress, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: h.expectHostnames(t, "mtls_certificate.a", "api.example.com"),
			},
		},
	})
}
