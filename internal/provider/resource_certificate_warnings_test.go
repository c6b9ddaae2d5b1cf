package provider_test

import (
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// Warnings do not fail a run, and plugin-testing cannot see them, so these
// tests drive the CLI directly and read its machine-readable diagnostics.

// wantWarning is a warning expected on mtls_certificate.this, matched by
// summary and fragments of its detail.
type wantWarning struct {
	summary   string
	fragments []string
}

// planApplyDestroy plans config with -json, checks that the plan has no
// error and exactly the wanted warnings, applies the saved plan, and
// destroys. It returns the plan's warnings.
func planApplyDestroy(t *testing.T, env *acctest.Env, config string, want []wantWarning) {
	t.Helper()
	ws := acctest.NewWorkspace(t)
	ws.SetConfig(config)
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })

	plan := ws.Run("plan", "-json", "-input=false", "-out=tfplan")
	if plan.ExitCode != 0 || len(plan.Errors()) > 0 {
		t.Fatalf("plan failed (exit %d): %+v\n%s", plan.ExitCode, plan.Errors(), plan.Stderr)
	}
	checkWarnings(t, plan.Warnings(), want)
	// A warning never stops the apply.
	ws.MustRun("apply", "-json", "-input=false", "tfplan")
	if _, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.this"); !ok {
		t.Fatal("mtls_certificate.this is not in state after apply")
	}
	ws.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
	if env.Emulator != nil {
		if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
			t.Errorf("emulator holds %d certificates after destroy", n)
		}
	}
}

// planWarnings plans in ws with -json into tfplan, fails the test on any
// error, and returns the plan's warnings.
func planWarnings(t *testing.T, ws *acctest.Workspace, args ...string) []acctest.Diagnostic {
	t.Helper()
	plan := ws.Run(append([]string{"plan", "-json", "-input=false", "-out=tfplan"}, args...)...)
	if plan.ExitCode != 0 || len(plan.Errors()) > 0 {
		t.Fatalf("plan failed (exit %d): %+v\n%s", plan.ExitCode, plan.Errors(), plan.Stderr)
	}
	return plan.Warnings()
}

// checkWarnings checks that got are exactly the wanted warnings on
// mtls_certificate.this, in order.
func checkWarnings(t *testing.T, got []acctest.Diagnostic, want []wantWarning) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("plan gave %d warning(s), want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Summary != w.summary || g.Address != "mtls_certificate.this" {
			t.Errorf("warning %d = %q on %q, want %q on mtls_certificate.this", i, g.Summary, g.Address, w.summary)
		}
		detail := strings.Join(strings.Fields(g.Detail), " ")
		for _, f := range w.fragments {
			if !strings.Contains(detail, f) {
				t.Errorf("warning %q: detail %q does not contain %q", g.Summary, detail, f)
			}
		}
	}
}

func providerWith(env *acctest.Env, extra string) string {
	return env.ProviderConfigWith(fmt.Sprintf("  api_token  = %q\n  account_id = %q\n%s", env.Token, env.AccountID, extra))
}

func certificateThis(ca bool, pemText, extra string) string {
	return fmt.Sprintf(`
resource "mtls_certificate" "this" {
  name         = "%s"
  ca           = %t
  certificates = %q
}
%s`, acctest.NamePrefix+"warnings", ca, pemText, extra)
}

func TestAccCertificate_planWarnings(t *testing.T) {
	t.Parallel()
	root := testcerts.NewCA("warnings root")
	leaf := root.Issue("not-a-ca.example.com")
	now := time.Now().UTC().Truncate(time.Second)
	soon := testcerts.New(testcerts.Options{
		Subject: pkix.Name{CommonName: "expiring soon"}, IsCA: true,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10*24*time.Hour + time.Hour),
	})
	soonDate := soon.X509.NotAfter.UTC().Format(time.RFC3339)
	expiredRoot := testcerts.ExpiredCA("expired old root", 5*24*time.Hour+time.Hour)
	// Issued with a clock 3 days ahead, as a misconfigured CA host does.
	notYet := testcerts.New(testcerts.Options{
		Subject: pkix.Name{CommonName: "not valid yet"}, IsCA: true,
		NotBefore: now.Add(3*24*time.Hour + time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
	})

	cases := map[string]struct {
		providerExtra string
		ca            bool
		pem           string
		want          []wantWarning
	}{
		"healthy CA": {ca: true, pem: root.PEM},
		"leaf uploaded as CA": {ca: true, pem: leaf.PEM, want: []wantWarning{{
			"Certificate Is Not a CA", []string{`subject "CN=not-a-ca.example.com"`, "set ca = false"},
		}}},
		"leaf uploaded as leaf": {ca: false, pem: leaf.PEM},
		"expires within the default 30 days": {ca: true, pem: soon.PEM, want: []wantWarning{{
			"Certificate Expires Soon", []string{`Certificate 1 of 1 (subject "CN=expiring soon")`, "expires on " + soonDate, "in 10 days", "expiry_warning_days is 30"},
		}}},
		"expires after a 5-day threshold": {providerExtra: "  expiry_warning_days = 5\n", ca: true, pem: soon.PEM},
		"warning turned off":              {providerExtra: "  expiry_warning_days = 0\n", ca: true, pem: soon.PEM},
		"old root kept in a rotated bundle has expired": {ca: true, pem: root.PEM + expiredRoot.PEM, want: []wantWarning{{
			"Certificate in Bundle Expired", []string{`Certificate 2 of 2 (subject "CN=expired old root")`,
				"expired on " + expiredRoot.X509.NotAfter.UTC().Format(time.RFC3339), "(5 days ago)", "Remove it from the bundle once the rotation is done"},
		}}},
		"not valid yet": {ca: true, pem: notYet.PEM, want: []wantWarning{{
			"Certificate Not Yet Valid", []string{`Certificate 1 of 1 (subject "CN=not valid yet")`,
				"is not valid before " + notYet.X509.NotBefore.UTC().Format(time.RFC3339), "in 3 days"},
		}}},
		"second of the bundle expires soon, threshold 20 days": {providerExtra: "  expiry_warning_days = 20\n", ca: true, pem: root.PEM + soon.PEM, want: []wantWarning{{
			"Certificate Expires Soon", []string{`Certificate 2 of 2 (subject "CN=expiring soon")`, "expiry_warning_days is 20"},
		}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			planApplyDestroy(t, env, providerWith(env, tc.providerExtra)+certificateThis(tc.ca, tc.pem, ""), tc.want)
		})
	}
}

// TestAccCertificate_expiredInCloudflareWarns: an expired certificate that
// is already in Cloudflare (here: uploaded by hand, then imported) is a
// warning, so plans of an unchanged configuration keep working.
func TestAccCertificate_expiredInCloudflareWarns(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	expired := testcerts.ExpiredCA("expired in cloudflare", 3*24*time.Hour+time.Hour)
	id := uploadByHand(t, env, cfapi.UploadRequest{Name: acctest.NamePrefix + "warnings", CA: true, Certificates: expired.PEM})
	importBlock := fmt.Sprintf("\nimport {\n  to = mtls_certificate.this\n  id = %q\n}\n", env.AccountID+"/"+id)
	planApplyDestroy(t, env, providerWith(env, "")+certificateThis(true, expired.PEM, importBlock), []wantWarning{{
		"Certificate Expired", []string{
			`Certificate 1 of 1 (subject "CN=expired in cloudflare") in Cloudflare expired on ` + expired.X509.NotAfter.UTC().Format(time.RFC3339),
			"(3 days ago)", "Rotate it",
		},
	}})
}

// TestAccCertificate_keyAddedLaterChecksTheNewUpload: adding a key to a
// certificate created without one replaces it, so the checks for an upload
// run again; only an imported certificate records its first key in place.
func TestAccCertificate_keyAddedLaterChecksTheNewUpload(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	leaf := testcerts.NewCA("key later root").Issue("key-later.example.com")
	ws := acctest.NewWorkspace(t)
	config := func(key string) string {
		return providerWith(env, "") + fmt.Sprintf(`
resource "mtls_certificate" "this" {
  name         = "%swarnings"
  ca           = true
  certificates = %q
  private_key  = %s
}
`, acctest.NamePrefix, leaf.PEM, key)
	}
	ws.SetConfig(config("null"))
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")

	ws.SetConfig(config(fmt.Sprintf("%q", leaf.KeyPEM)))
	plan := ws.MustRun("plan", "-json", "-input=false", "-out=tfplan")
	if actions := plannedActions(t, ws, "tfplan")["mtls_certificate.this"]; actions != "[delete create]" {
		t.Fatalf("adding a key planned %s, want [delete create]", actions)
	}
	warnings := plan.Warnings()
	if len(warnings) != 1 || warnings[0].Summary != "Certificate Is Not a CA" {
		t.Errorf("the replacement upload got warnings %+v, want the one \"Certificate Is Not a CA\"", warnings)
	}
}
