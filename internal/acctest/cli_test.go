package acctest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// certificateConfig is env's provider block and one CA certificate.
func certificateConfig(env *acctest.Env, name, certificates string) string {
	return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %q
}
`, name, certificates)
}

// TestWorkspace_lifecycle drives a saved plan through apply and destroy,
// reading the machine-readable output the way CLI-only tests will.
func TestWorkspace_lifecycle(t *testing.T) {
	t.Parallel()
	ws := acctest.NewWorkspace(t)
	env := acctest.New(t)
	ca := testcerts.NewCA("workspace root")
	ws.SetConfig(certificateConfig(env, acctest.UniqueName(t), strings.TrimSpace(ca.PEM)))
	ws.Init()

	plan := ws.MustRun("plan", "-json", "-input=false", "-out=tfplan")
	if errs := plan.Errors(); len(errs) > 0 {
		t.Fatalf("plan reported errors: %+v", errs)
	}
	planned, ok := acctest.ResourceValues(ws.SavedPlan("tfplan").PlannedValues, "mtls_certificate.ca")
	if !ok || planned["ca"] != true {
		t.Errorf("the saved plan does not create mtls_certificate.ca with ca = true: %v", planned)
	}

	apply := ws.MustRun("apply", "-json", "-input=false", "tfplan")
	if errs := apply.Errors(); len(errs) > 0 {
		t.Fatalf("apply reported errors: %+v", errs)
	}
	state, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.ca")
	if !ok {
		t.Fatal("mtls_certificate.ca is not in the state after apply")
	}
	id, _ := state["id"].(string)
	if !regexp.MustCompile(`^[0-9a-f-]{32,36}$`).MatchString(id) {
		t.Errorf("id in state = %q, want a certificate id", id)
	}
	if env.Emulator != nil {
		if n := env.Emulator.CertificateCount(env.AccountID); n != 1 {
			t.Errorf("the emulator holds %d certificates after apply, want 1", n)
		}
	}

	ws.MustRun("destroy", "-json", "-input=false", "-auto-approve")
	if _, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.ca"); ok {
		t.Error("mtls_certificate.ca is still in the state after destroy")
	}
	if env.Emulator != nil {
		if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
			t.Errorf("the emulator holds %d certificates after destroy, want 0", n)
		}
	}
}

// TestWorkspace_validationError reads a plan-time error the way the CLI
// reports it to automation, rather than matching its wrapped text.
func TestWorkspace_validationError(t *testing.T) {
	t.Parallel()
	ws := acctest.NewWorkspace(t)
	env := acctest.New(t)
	ws.SetConfig(certificateConfig(env, acctest.UniqueName(t), "not pem"))
	ws.Init()

	plan := ws.Run("plan", "-json", "-input=false")
	if plan.ExitCode == 0 {
		t.Fatal("plan succeeded with certificates = \"not pem\"")
	}
	errs := plan.Errors()
	if len(errs) != 1 || errs[0].Summary != "Invalid Certificate PEM" || errs[0].Address != "mtls_certificate.ca" {
		t.Fatalf("want one error \"Invalid Certificate PEM\" on mtls_certificate.ca, got %+v\nstdout:\n%s\nstderr:\n%s",
			errs, plan.Stdout, plan.Stderr)
	}
	if env.Emulator != nil {
		if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 0 {
			t.Errorf("%d upload(s) reached the API for a configuration that failed validation", n)
		}
	}
}

// TestWorkspace_interruptDuringCreate interrupts an apply while the upload
// is in flight: the CLI must stop with an error and nothing may be left in
// the account or in the state.
func TestWorkspace_interruptDuringCreate(t *testing.T) {
	t.Parallel()
	ws := acctest.NewWorkspace(t)
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("interrupted root")
	ws.SetConfig(certificateConfig(env, acctest.UniqueName(t), strings.TrimSpace(ca.PEM)))
	ws.Init()

	// Long enough that only the interrupt can end the upload within the test.
	env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: time.Minute})
	apply := ws.Start("apply", "-json", "-input=false", "-auto-approve")
	deadline := time.Now().Add(30 * time.Second)
	for env.Emulator.RequestCount(emulator.RouteUpload) == 0 {
		if time.Now().After(deadline) {
			stdout, stderr := apply.Output()
			t.Fatalf("no upload reached the emulator within 30s\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := apply.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupting the CLI: %v", err)
	}
	r := apply.Wait()

	if r.ExitCode == 0 {
		t.Errorf("apply exited with 0 after an interrupt\nstdout:\n%s", r.Stdout)
	}
	if len(r.Errors()) == 0 {
		t.Errorf("apply reported no error diagnostic after an interrupt\nstdout:\n%s", r.Stdout)
	}
	if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
		t.Errorf("the emulator holds %d certificate(s) after an interrupted upload, want 0", n)
	}
	if _, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.ca"); ok {
		t.Error("mtls_certificate.ca is in the state after an interrupted upload")
	}
}

// TestResultDiagnostics needs no CLI: it feeds the parser lines shaped like
// the machine-readable UI, mixed with lines it must skip.
func TestResultDiagnostics(t *testing.T) {
	r := acctest.Result{Stdout: strings.Join([]string{
		`{"@level":"info","@message":"OpenTofu 1.12.6","@module":"tofu.ui","type":"version","tofu":"1.12.6","ui":"1.2"}`,
		`Initializing the backend...`,
		`{"@level":"warn","@message":"Warning: Certificate Expires Soon","type":"diagnostic",` +
			`"diagnostic":{"severity":"warning","summary":"Certificate Expires Soon","detail":"in 3 days","address":"mtls_certificate.ca",` +
			`"range":{"filename":"main.tf","start":{"line":4,"column":18,"byte":60},"end":{"line":4,"column":22,"byte":64}},` +
			`"snippet":{"context":"resource \"mtls_certificate\" \"ca\"","code":"  ca = true","start_line":4,"values":[]}}}`,
		``,
		`{"@level":"error","@message":"Error: execution halted","type":"diagnostic","diagnostic":{"severity":"error","summary":"execution halted","detail":""}}`,
		`{"type":"log","diagnostic":{"severity":"error","summary":"not a diagnostic message"}}`,
		`{"truncated":`,
	}, "\n")}

	want := []acctest.Diagnostic{
		{Severity: "warning", Summary: "Certificate Expires Soon", Detail: "in 3 days", Address: "mtls_certificate.ca", Code: "  ca = true"},
		{Severity: "error", Summary: "execution halted"},
	}
	if got := r.Diagnostics(); !slices.Equal(got, want) {
		t.Errorf("Diagnostics() =\n%+v\nwant\n%+v", got, want)
	}
	if got := r.Warnings(); !slices.Equal(got, want[:1]) {
		t.Errorf("Warnings() = %+v", got)
	}
	if got := r.Errors(); !slices.Equal(got, want[1:]) {
		t.Errorf("Errors() = %+v", got)
	}
	if got := (acctest.Result{Stdout: "Error: Invalid Certificate PEM\n"}).Diagnostics(); got != nil {
		t.Errorf("text output yielded diagnostics: %+v", got)
	}
}

func TestResourceValues(t *testing.T) {
	const resources = `{"root_module":{"resources":[` +
		`{"address":"mtls_certificate.other","values":{"id":"1"}},` +
		`{"address":"mtls_certificate.ca","values":{"id":"2"}}]}}`
	var state tfjson.State
	var plan tfjson.Plan
	for doc, into := range map[string]json.Unmarshaler{
		`{"format_version":"1.0","values":` + resources + `}`:         &state,
		`{"format_version":"1.2","planned_values":` + resources + `}`: &plan,
	} {
		if err := into.UnmarshalJSON([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	for key, values := range map[string]*tfjson.StateValues{"values": state.Values, "planned_values": plan.PlannedValues} {
		got, ok := acctest.ResourceValues(values, "mtls_certificate.ca")
		if !ok || got["id"] != "2" {
			t.Errorf("%s: ResourceValues = %v, %v", key, got, ok)
		}
	}
	var empty tfjson.State
	if err := empty.UnmarshalJSON([]byte(`{"format_version":"1.0"}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := acctest.ResourceValues(empty.Values, "mtls_certificate.ca"); ok {
		t.Error("found a resource in an empty state")
	}
}
