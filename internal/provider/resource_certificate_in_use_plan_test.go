package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func flatDetail(d acctest.Diagnostic) string { return strings.Join(strings.Fields(d.Detail), " ") }

// TestAccCertificate_replaceInUseWarnsAtPlan: a plan that replaces a
// certificate that Cloudflare services use warns, naming each service and
// its status, from one associations request; plans that replace nothing
// (no change, an in-place change, create, destroy) make none. The provider
// cannot see lifecycle blocks, so the warning reads the same with and
// without create_before_destroy and explains both. A failed associations
// request is a warning, and the plan goes on.
func TestAccCertificate_replaceInUseWarnsAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	name := acctest.UniqueName(t)
	first, second := testcerts.NewCA("in use at plan first"), testcerts.NewCA("in use at plan second")
	config := func(pemText, lifecycle, timeouts string) string {
		return providerWith(env, "") + fmt.Sprintf(`
resource "mtls_certificate" "this" {
  name         = %q
  ca           = true
  certificates = %q
%s%s}
`, name, pemText, lifecycle, timeouts)
	}
	const cbd = "  lifecycle {\n    create_before_destroy = true\n  }\n"
	associationRequests := func() int { return env.Emulator.RequestCount(emulator.RouteAssociations) }
	ws := acctest.NewWorkspace(t)
	t.Cleanup(func() {
		env.Emulator.ClearAssociations()
		ws.Run("destroy", "-auto-approve", "-input=false", "-no-color")
	})

	ws.SetConfig(config(first.PEM, "", ""))
	ws.Init()
	if w := planWarnings(t, ws); len(w) != 0 {
		t.Fatalf("the create plan warned: %+v", w)
	}
	ws.MustRun("apply", "-input=false", "-no-color", "tfplan")
	stored := env.Emulator.Certificates(env.AccountID)
	if len(stored) != 1 {
		t.Fatalf("the emulator holds %d certificates, want 1", len(stored))
	}
	id := stored[0].ID
	env.Emulator.SetAssociations(env.AccountID, id, []emulator.Association{
		{Service: "gateway", Status: "active"},
		{Service: "access", Status: "pending_deployment"},
	})
	if n := associationRequests(); n != 0 {
		t.Errorf("plan and apply of a create made %d associations requests, want 0", n)
	}

	// Plans that replace nothing ask nothing, in use or not.
	if w := planWarnings(t, ws); len(w) != 0 {
		t.Errorf("an unchanged plan warned: %+v", w)
	}
	ws.SetConfig(config(first.PEM, "", "  timeouts {\n    delete = \"5m\"\n  }\n"))
	planWarnings(t, ws)
	if actions := plannedActions(t, ws, "tfplan")["mtls_certificate.this"]; actions != "[update]" {
		t.Fatalf("a new timeout planned %s, want [update]", actions)
	}
	planWarnings(t, ws, "-destroy")
	if n := associationRequests(); n != 0 {
		t.Errorf("plans that replace nothing made %d associations requests, want 0", n)
	}

	// A new CA replaces it: one request per plan, and a warning.
	details := map[string]string{}
	for _, lc := range []struct{ name, block, actions string }{
		{"without create_before_destroy", "", "[delete create]"},
		{"with create_before_destroy", cbd, "[create delete]"},
	} {
		before := associationRequests()
		ws.SetConfig(config(second.PEM, lc.block, ""))
		warnings := planWarnings(t, ws)
		if actions := plannedActions(t, ws, "tfplan")["mtls_certificate.this"]; actions != lc.actions {
			t.Fatalf("%s: planned %s, want %s", lc.name, actions, lc.actions)
		}
		if n := associationRequests() - before; n != 1 {
			t.Errorf("%s: the plan made %d associations requests, want 1", lc.name, n)
		}
		if len(warnings) != 1 || warnings[0].Summary != "Replaced mTLS Certificate Is in Use" || warnings[0].Address != "mtls_certificate.this" {
			t.Fatalf("%s: warnings %+v, want one \"Replaced mTLS Certificate Is in Use\" on mtls_certificate.this", lc.name, warnings)
		}
		detail := flatDetail(warnings[0])
		for _, want := range []string{
			fmt.Sprintf("This plan replaces certificate %s in account %s (changed: certificates), and Cloudflare reports that 2 Cloudflare services use it:", id, env.AccountID),
			`- service "gateway" (status "active")`,
			`- service "access" (status "pending_deployment")`,
			"Without lifecycle { create_before_destroy = true } on this resource, the old certificate is deleted first, so the delete will be refused until these services let go of it",
			"up to the delete timeout (2m0s), and fails, deleting nothing, once they have not changed for 30s",
			"With create_before_destroy, the new certificate is uploaded first",
		} {
			if !strings.Contains(detail, want) {
				t.Errorf("%s: the warning does not say %q:\n%s", lc.name, want, detail)
			}
		}
		details[lc.name] = detail
	}
	if details["without create_before_destroy"] != details["with create_before_destroy"] {
		t.Errorf("the warning differs with create_before_destroy, which the provider cannot see:\n%s\n%s",
			details["without create_before_destroy"], details["with create_before_destroy"])
	}

	// Not in use: no warning, still one request.
	env.Emulator.ClearAssociations()
	before := associationRequests()
	ws.SetConfig(config(second.PEM, "", ""))
	if w := planWarnings(t, ws); len(w) != 0 {
		t.Errorf("replacing a certificate no service uses warned: %+v", w)
	}
	if n := associationRequests() - before; n != 1 {
		t.Errorf("the plan made %d associations requests, want 1", n)
	}

	// The check fails: a warning, and the plan stands.
	env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteAssociations, Status: http.StatusBadRequest, Code: 1402, Message: "associations refused"})
	warnings := planWarnings(t, ws)
	if actions := plannedActions(t, ws, "tfplan")["mtls_certificate.this"]; actions != "[delete create]" {
		t.Fatalf("planned %s, want [delete create]", actions)
	}
	if len(warnings) != 1 || warnings[0].Summary != "Could Not Check Whether the Replaced mTLS Certificate Is in Use" {
		t.Fatalf("warnings %+v, want one about the failed check", warnings)
	}
	for _, want := range []string{
		fmt.Sprintf("This plan replaces certificate %s in account %s (changed: certificates), and asking Cloudflare which services use it failed", id, env.AccountID),
		"Cloudflare API: list associations failed with HTTP 400 Bad Request: code 1402: associations refused",
	} {
		if detail := flatDetail(warnings[0]); !strings.Contains(detail, want) {
			t.Errorf("the warning does not say %q:\n%s", want, detail)
		}
	}
	// The saved plan applies: the replacement goes ahead, and the apply
	// (which plans the new certificate again, with no prior state) asks
	// nothing more, as no service uses the old one any more.
	before = associationRequests()
	ws.MustRun("apply", "-input=false", "-no-color", "tfplan")
	if n := associationRequests() - before; n != 0 {
		t.Errorf("applying the replacement made %d associations requests, want 0", n)
	}
	if stored := env.Emulator.Certificates(env.AccountID); len(stored) != 1 || stored[0].ID == id {
		t.Errorf("after the replacement the emulator holds %+v, want one new certificate", stored)
	}
}
