package provider_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// malformedRead is an answer to a refresh's GET that no working API sends.
type malformedRead struct {
	name string
	// fault is the injected answer; body gets the certificate's id.
	fault func(id string) emulator.Fault
	// status is the HTTP status the error names.
	status string
	// want is what the error says was wrong with the answer.
	want string
}

var malformedReads = []malformedRead{
	{
		name: "truncated JSON",
		fault: func(id string) emulator.Fault {
			return emulator.Fault{Body: []byte(`{"success":true,"errors":[],"messages":[],"result":{"id":"` + id + `","ca":true,"certificates":"-----BEGIN CERTIFICATE-----\nMIIB`)}
		},
		status: "200 OK",
		want:   "the body is not valid JSON",
	},
	{
		name: "success with a null result",
		fault: func(string) emulator.Fault {
			return emulator.Fault{Body: []byte(`{"success":true,"errors":[],"messages":[],"result":null}`)}
		},
		status: "200 OK",
		want:   `"result" is null although "success" is true`,
	},
	{
		name: "result as a string",
		fault: func(id string) emulator.Fault {
			return emulator.Fault{Body: []byte(`{"success":true,"errors":[],"messages":[],"result":"` + id + `"}`)}
		},
		status: "200 OK",
		want:   `"result" is a string, not a certificate`,
	},
	{
		name: "ca as a string",
		fault: func(id string) emulator.Fault {
			return emulator.Fault{Body: []byte(`{"success":true,"errors":[],"messages":[],"result":{"id":"` + id + `","ca":"false","type":"custom"}}`)}
		},
		status: "200 OK",
		want:   `"result.ca" is a string, not true or false`,
	},
	{
		name: "HTML 502 page",
		fault: func(string) emulator.Fault {
			return emulator.Fault{Status: http.StatusBadGateway, ContentType: "text/html",
				Body: []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>")}
		},
		status: "502 Bad Gateway",
		want:   "the response is text/html, not JSON",
	},
}

// TestAccMalformedResponse_read: a refresh that gets an answer it cannot
// understand fails with an error naming the operation, the certificate and
// what was wrong, and leaves state as it was: once the API answers properly
// again, the certificate is the same one and the plan is empty.
func TestAccMalformedResponse_read(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("malformed read root")
	name := acctest.UniqueName(t)
	// Without retries each injected answer is the one the refresh sees; a
	// 502 would otherwise be retried past, which is right but not tested here.
	// Each refresh reads its certificate with a GET, where the faults are.
	providerBlock := env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n  max_retries = 0\n  batch_refresh = false", env.Token, env.AccountID))
	config := caConfig(providerBlock, name, ca.PEM)
	storedID := func() string {
		stored := env.Emulator.Certificates(env.AccountID)
		if len(stored) != 1 {
			t.Fatalf("emulator holds %d certificates, want 1", len(stored))
		}
		return stored[0].ID
	}

	// Every attribute the API reports must stay the same across all steps.
	attributes := []string{"id", "name", "ca", "certificates", "issuer", "serial_number", "signature", "expires_on", "uploaded_on", "type"}
	type valueTracker interface {
		AddStateValue(resourceAddress string, attributePath tfjsonpath.Path) statecheck.StateCheck
	}
	unchanged := make(map[string]valueTracker, len(attributes))
	for _, a := range attributes {
		unchanged[a] = statecheck.CompareValue(compare.ValuesSame())
	}
	sameAsCreated := func() []statecheck.StateCheck {
		checks := make([]statecheck.StateCheck, 0, len(attributes))
		for _, a := range attributes {
			checks = append(checks, unchanged[a].AddStateValue("mtls_certificate.ca", tfjsonpath.New(a)))
		}
		return checks
	}

	steps := []resource.TestStep{{Config: config, ConfigStateChecks: sameAsCreated()}}
	for _, m := range malformedReads {
		var getsBefore int
		steps = append(steps,
			resource.TestStep{
				// A plan-only step refreshes once: its first plan does not
				// refresh, and the refresh plan stops at the error.
				PreConfig: func() {
					f := m.fault(storedID())
					f.Route, f.Times = emulator.RouteGet, 1
					env.Emulator.InjectFault(f)
					getsBefore = env.Emulator.RequestCount(emulator.RouteGet)
				},
				Config:      config,
				PlanOnly:    true,
				ExpectError: expectUnreadableRead(m.status, m.want),
			},
			resource.TestStep{
				PreConfig: func() {
					if n := env.Emulator.RequestCount(emulator.RouteGet) - getsBefore; n != 1 {
						t.Errorf("%s: the failed refresh sent %d GET requests, want 1", m.name, n)
					}
					env.Emulator.ClearFaults()
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: sameAsCreated(),
			},
		)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps:                    steps,
	})
}

// expectUnreadableRead matches the error of a refresh whose answer could
// not be understood. The certificate's id is not known when the steps are
// built, so any id matches where the two mentions of it go.
func expectUnreadableRead(status, reason string) *regexp.Regexp {
	const id = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	lead := acctest.ExpectErrorFragments("Unable to Read mTLS Certificate", "Could not read certificate").String()
	api := acctest.ExpectErrorFragments("Cloudflare API: read failed with HTTP " + status + ": the API's answer for certificate").String()
	rest := acctest.ExpectErrorFragments("could not be understood: " + reason).String()
	return regexp.MustCompile(lead + `\s+` + id + `.*` + api + `\s+` + id + `\s+` + rest)
}

// TestAccMalformedResponse_upload: an upload whose answer cannot be
// understood may have stored the certificate; the provider looks for it and
// records the one it stored, instead of failing and leaving it outside
// state (where the next apply would meet "already exists").
func TestAccMalformedResponse_upload(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("malformed upload root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				// Stored a little after it arrived, so that Cloudflare's clock,
				// read to the second, places it after the upload was sent.
				env.Emulator.InjectFault(emulator.Fault{
					Route: emulator.RouteUpload, Delay: slowCommit, CommitThenBody: true,
					Body: []byte(`{"success":true,"errors":[],"messages":[],"result":null}`),
				})
			},
			Config: config,
			Check:  recordedTheOneStored(env, 1),
		}},
	})
}

// TestAccSparseAnswer_absentIsNull: an answer without the fields Cloudflare
// may leave out (issuer, serial_number, signature, expires_on, uploaded_on,
// type) leaves them null in state and in the data source, never "", and the
// plan stays empty.
func TestAccSparseAnswer_absentIsNull(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("sparse root")
	name := acctest.UniqueName(t)
	// The refresh reads the certificate with a GET, which gets the sparse answer.
	config := caConfig(env.ProviderConfigPerCertificateRefresh(), name, ca.PEM)
	withData := config + "\ndata \"mtls_certificate\" \"ca\" {\n  id = mtls_certificate.ca.id\n}\n"
	sparse := []string{"issuer", "serial_number", "signature", "expires_on", "uploaded_on", "type"}
	nullChecks := func(address string) []statecheck.StateCheck {
		var checks []statecheck.StateCheck
		for _, attr := range sparse {
			checks = append(checks, statecheck.ExpectKnownValue(address, tfjsonpath.New(attr), knownvalue.Null()))
		}
		return append(checks, statecheck.ExpectKnownValue(address, tfjsonpath.New("name"), knownvalue.StringExact(name)))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					stored := env.Emulator.Certificates(env.AccountID)[0]
					body, err := json.Marshal(map[string]any{
						"success": true, "errors": []any{}, "messages": []any{},
						"result": map[string]any{"id": stored.ID, "name": name, "ca": true, "certificates": stored.Certificates},
					})
					if err != nil {
						t.Fatal(err)
					}
					env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteGet, Body: body, Times: 1000})
				},
				Config: withData,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: append(nullChecks("mtls_certificate.ca"), nullChecks("data.mtls_certificate.ca")...),
			},
			{PreConfig: env.Emulator.ClearFaults, Config: config},
		},
	})
}
