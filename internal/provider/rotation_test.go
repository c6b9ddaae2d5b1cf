package provider_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// rotationLag is how long the emulator keeps reporting a CA in use after
// its hostnames were moved away, as Cloudflare may (for how long is
// unknown): the old CA's delete must wait it out.
const rotationLag = 3 * time.Second

// rotation is a CA that two hostnames of a zone use, in a workspace.
type rotation struct {
	*hostnameEnv
	ws *acctest.Workspace
}

var rotationHostnames = []string{"api.example.com", "www.example.com"}

func newRotation(t *testing.T, lag time.Duration) *rotation {
	t.Helper()
	env := acctest.NewWithOptions(t, emulator.Options{HostnameLag: lag})
	env.RequireEmulator(t)
	r := &rotation{
		hostnameEnv: &hostnameEnv{env: env, zone: newZone(t), name: acctest.UniqueName(t),
			a: testcerts.NewCA("rotation a"), b: testcerts.NewCA("rotation b")},
		ws: acctest.NewWorkspace(t),
	}
	t.Cleanup(func() { r.ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	return r
}

// configure writes the CA (with create_before_destroy or not) and the
// association of the rotation's hostnames with it.
func (r *rotation) configure(ca *testcerts.Certificate, createBeforeDestroy bool) {
	r.ws.SetConfig(r.env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = "%s-ca"
  ca           = true
  certificates = %q
  lifecycle {
    create_before_destroy = %t
  }
  timeouts {
    delete = "10s"
  }
}
`, r.name, strings.TrimSpace(ca.PEM), createBeforeDestroy) + associationBlock(r.zone, "mtls_certificate.ca.id", rotationHostnames...))
}

// onlyCertificate is the one certificate the account holds.
func (r *rotation) onlyCertificate(t *testing.T) emulator.Certificate {
	t.Helper()
	certs := r.env.Emulator.Certificates(r.env.AccountID)
	if len(certs) != 1 {
		t.Fatalf("the account holds %d certificates, want 1", len(certs))
	}
	return certs[0]
}

// expectCoveredBy checks that the rotation's hostnames are the
// certificate's, and that the emulator's audit never saw one of them
// without a CA.
func (r *rotation) expectCoveredBy(t *testing.T, certID string) {
	t.Helper()
	got, err := hostnamesOf(t, r.env, r.zone, certID)
	if err != nil || !slices.Equal(got, rotationHostnames) {
		t.Fatalf("certificate %s has hostnames %q (%v), want %q", certID, got, err, rotationHostnames)
	}
	if err := r.expectAlwaysCovered(rotationHostnames...)(nil); err != nil {
		t.Fatal(err)
	}
}

func (r *rotation) expectEmptyPlan(t *testing.T) {
	t.Helper()
	if res := r.ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); res.ExitCode != 0 {
		t.Fatalf("the plan after the rotation is not empty (exit %d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

// TestAccRotation_createBeforeDestroy is the rotation recipe of
// docs/guides/rotate-a-ca.md: a CA with create_before_destroy, an
// association that refers to its id, and a new CA in `certificates`. One
// apply uploads the new CA once, moves the hostnames in place, and deletes
// the old CA once Cloudflare stops reporting it in use; no hostname is ever
// without a CA, and the next plan is empty.
func TestAccRotation_createBeforeDestroy(t *testing.T) {
	t.Parallel()
	r := newRotation(t, rotationLag)
	r.configure(r.a, true)
	r.ws.Init()
	r.ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	old := r.onlyCertificate(t)
	r.expectCoveredBy(t, old.ID)

	r.configure(r.b, true)
	r.env.Emulator.ResetCounts()
	plan := r.ws.MustRun("plan", "-input=false", "-no-color", "-out=rotate.tfplan")
	for _, want := range []string{
		"mtls_certificate.ca must be replaced",
		"+/- resource \"mtls_certificate\" \"ca\"", // create_before_destroy: create, then destroy
		"mtls_hostname_association.api will be updated in-place",
		"Replaced mTLS Certificate Is in Use", // the old CA's hostnames, named at plan time
		"Plan: 1 to add, 1 to change, 1 to destroy.",
	} {
		if !strings.Contains(plan.Stdout+plan.Stderr, want) {
			t.Errorf("the rotation's plan does not say %q:\n%s%s", want, plan.Stdout, plan.Stderr)
		}
	}
	t.Logf("requests of the rotation's plan, by route: %v", r.env.Emulator.RequestCounts())

	r.env.Emulator.ResetCounts()
	start := time.Now()
	r.ws.MustRun("apply", "-input=false", "-no-color", "rotate.tfplan")
	took := time.Since(start)
	counts := r.env.Emulator.RequestCounts()
	t.Logf("requests of the rotation's apply (%s), by route: %v", took.Round(100*time.Millisecond), counts)

	rotated := r.onlyCertificate(t)
	if rotated.ID == old.ID {
		t.Fatalf("certificate %s is still the only one: the CA was not replaced", old.ID)
	}
	r.expectCoveredBy(t, rotated.ID)
	for route, want := range map[string]int{
		emulator.RouteUpload:                  1, // the new CA, once
		emulator.RouteHostnameAssociationsGet: 1, // the new CA's hostnames, before it gets any
		emulator.RouteHostnameAssociationsPut: 2, // set on the new CA, then cleared from the old
	} {
		if got := counts[route]; got != want {
			t.Errorf("%d %s requests, want %d", got, route, want)
		}
	}
	// The old CA's first delete comes right after its hostnames were
	// cleared, while Cloudflare still reports them: it is refused, the
	// provider waits for the associations to drain, and deletes it.
	if counts[emulator.RouteDelete] < 2 || counts[emulator.RouteAssociations] < 1 || took < rotationLag {
		t.Errorf("the old CA was deleted without waiting for Cloudflare to release it: %d deletes, %d association reads, %s",
			counts[emulator.RouteDelete], counts[emulator.RouteAssociations], took)
	}
	r.expectEmptyPlan(t)
}

// TestAccRotation_withoutCreateBeforeDestroy: without
// create_before_destroy, Terraform deletes the old CA before uploading the
// new one, while its hostnames still use it. Cloudflare refuses; the
// provider waits for the delete timeout and fails, deleting nothing,
// uploading nothing, and leaving every hostname its CA. Adding
// create_before_destroy then rotates as the recipe does.
func TestAccRotation_withoutCreateBeforeDestroy(t *testing.T) {
	t.Parallel()
	r := newRotation(t, 0)
	r.configure(r.a, false)
	r.ws.Init()
	r.ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	old := r.onlyCertificate(t)

	r.configure(r.b, false)
	r.env.Emulator.ResetCounts()
	res := r.ws.Run("apply", "-auto-approve", "-input=false", "-no-color")
	if res.ExitCode == 0 {
		t.Fatalf("the rotation without create_before_destroy succeeded:\n%s", res.Stdout)
	}
	for _, want := range []string{"Unable to Delete mTLS Certificate", old.ID, `service "` + emulator.DefaultHostnameService + `"`} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("the failed apply does not say %q:\n%s", want, res.Stderr)
		}
	}
	if got := r.env.Emulator.RequestCount(emulator.RouteUpload); got != 0 {
		t.Errorf("%d uploads, want none: the delete comes first and failed", got)
	}
	if still := r.onlyCertificate(t); still.ID != old.ID {
		t.Fatalf("the account holds %s, want the old CA %s", still.ID, old.ID)
	}
	r.expectCoveredBy(t, old.ID)

	r.configure(r.b, true)
	r.ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	rotated := r.onlyCertificate(t)
	if rotated.ID == old.ID {
		t.Fatal("the apply with create_before_destroy did not replace the CA")
	}
	r.expectCoveredBy(t, rotated.ID)
	r.expectEmptyPlan(t)
}
