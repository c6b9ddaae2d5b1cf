package provider_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// manyCertificates writes a configuration of n CA certificates, one
// resource instance each, named <prefix>-<i>, into ws. The certificates are
// in terraform.tfvars.json, so main.tf stays small.
func manyCertificates(t *testing.T, ws *acctest.Workspace, providerBlock, prefix string, n int) {
	t.Helper()
	certificates := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		certificates[name] = testcerts.NewCA(name).PEM
	}
	vars, err := json.Marshal(map[string]any{"certificates": certificates})
	if err != nil {
		t.Fatal(err)
	}
	ws.WriteFile("terraform.tfvars.json", string(vars))
	ws.SetConfig(providerBlock + `
variable "certificates" {
  type = map(string)
}

resource "mtls_certificate" "many" {
  for_each     = var.certificates
  name         = each.key
  ca           = true
  certificates = each.value
}
`)
}

// stateIDs returns the ids of the mtls_certificate instances in ws's state.
func stateIDs(t *testing.T, ws *acctest.Workspace) []string {
	t.Helper()
	var ids []string
	if values := ws.State().Values; values != nil && values.RootModule != nil {
		for _, res := range values.RootModule.Resources {
			if res.Type != "mtls_certificate" {
				continue
			}
			id, _ := res.AttributeValues["id"].(string)
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkExactlyOnce checks that the emulator holds want certificates, one
// per name, and that the state holds exactly those.
func checkExactlyOnce(t *testing.T, env *acctest.Env, ws *acctest.Workspace, want int) {
	t.Helper()
	stored := env.Emulator.Certificates(env.AccountID)
	names := map[string]int{}
	var ids []string
	for _, c := range stored {
		names[c.Name]++
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if len(stored) != want || len(names) != want {
		t.Errorf("the emulator holds %d certificates under %d names, want %d of each", len(stored), len(names), want)
	}
	if state := stateIDs(t, ws); !slices.Equal(state, ids) {
		t.Errorf("state holds %d certificates, the emulator %d; they differ:\nstate:    %v\nemulator: %v", len(state), len(ids), state, ids)
	}
}

// planIsEmpty runs plan -detailed-exitcode, which exits 0 only when there
// is nothing to do.
func planIsEmpty(t *testing.T, ws *acctest.Workspace) {
	t.Helper()
	if r := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); r.ExitCode != 0 {
		t.Errorf("plan -detailed-exitcode exited %d, want 0 (no changes)\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
}

// importedUnplaced reads an apply's machine-readable output for the
// errors "mTLS Certificate May Predate This Upload" (an upload whose answer
// was lost, stored within the second it was sent), each naming a
// certificate and its import. It returns import blocks that adopt them, as
// the errors tell the user to, and how many there are. With onlyThese, any
// other error fails the test.
func importedUnplaced(t *testing.T, r acctest.Result, onlyThese bool) (string, int) {
	t.Helper()
	importID := regexp.MustCompile(`terraform import <resource address> ([0-9a-f]{32}/[0-9a-f-]{36})`)
	var b strings.Builder
	named := 0
	errs := r.Errors()
	for _, d := range errs {
		m := importID.FindStringSubmatch(d.Detail)
		switch {
		case d.Summary == "mTLS Certificate May Predate This Upload" && m != nil && d.Address != "":
			fmt.Fprintf(&b, "\nimport {\n  to = %s\n  id = %q\n}\n", d.Address, m[1])
			named++
		case onlyThese:
			t.Fatalf("apply failed with %q on %q, want only errors that name a certificate to import:\n%s", d.Summary, d.Address, d.Detail)
		}
	}
	if onlyThese && len(errs) == 0 && r.ExitCode != 0 {
		t.Fatalf("apply exited %d without an error diagnostic\n%s", r.ExitCode, r.Stderr)
	}
	return b.String(), named
}

// TestAccCertificate_parallelApplyUnderFaults applies 200 certificates at
// -parallelism=30 against an emulator that enforces Cloudflare's rate limit
// and fails 7% of requests at random: 5% with a 5XX, 1% with a reset, and
// 1% with a reset after the operation was done. No certificate may be
// uploaded twice or left unnamed: each is in state, or named by the error
// of an upload whose answer was lost, with the import that adopts it.
// After those imports, the account and the state hold the 200, once each,
// and the plan is empty.
func TestAccCertificate_parallelApplyUnderFaults(t *testing.T) {
	t.Parallel()
	const count = 200
	seed := uint64(time.Now().UnixNano())
	t.Logf("random fault seed %d", seed)
	env := acctest.NewWithOptions(t, emulator.Options{
		RateLimit:    &emulator.CloudflareRateLimit,
		RandomFaults: &emulator.RandomFaults{Seed: seed, ServerError: 0.05, Reset: 0.01, ResetAfterCommit: 0.01},
	})
	env.RequireEmulator(t)
	ws := acctest.NewWorkspace(t)
	// Seven retries: at a 7% failure rate, eight failures of one request in
	// a row are too rare to make this test flaky.
	providerBlock := env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n  max_retries = 7", env.Token, env.AccountID))
	manyCertificates(t, ws, providerBlock, acctest.UniqueName(t), count)
	ws.Init()
	// On top of the random faults, the first three uploads are stored and
	// then lose their answers: two slowly, which Cloudflare's clock places
	// after they were sent, so they are recorded from the listing; one at
	// once, which the clock usually cannot place, so it is usually named for
	// import. Under 200 parallel uploads the Date headers of the answers
	// around it can narrow the clock enough to place it after all; it is
	// then recorded. Either is sure: what this test asserts is that every
	// stored certificate ends in state or named, once. Naming itself is
	// TestAccCertificate_lostAnswerWithinTheSecond's.
	env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: slowCommit, CommitThenDrop: true, Times: 2})
	env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteUpload, CommitThenDrop: true})

	start := time.Now()
	first := ws.Run("apply", "-json", "-auto-approve", "-input=false", "-parallelism=30")
	applied := time.Since(start)
	counts := env.Emulator.RequestCounts()
	faults := env.Emulator.RandomFaultCounts()
	imports, named := importedUnplaced(t, first, true)
	if stored, inState := env.Emulator.CertificateCount(env.AccountID), len(stateIDs(t, ws)); stored != inState+named {
		t.Fatalf("after the apply the emulator holds %d certificates, state %d, and %d were named for import", stored, inState, named)
	}
	ws.WriteFile("imports.tf", imports)
	ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30")
	checkExactlyOnce(t, env, ws, count)
	start = time.Now()
	planIsEmpty(t, ws)
	t.Logf("apply of %d certificates: %s, %d uploads, %d listings; 3 uploads stored then dropped on purpose; random faults: "+
		"%d 5XX, %d resets, %d resets after commit (%d of them after an upload was stored); %d requests refused by the rate "+
		"limit; %d certificates named for import; plan after: %s",
		count, applied.Round(time.Millisecond), counts[emulator.RouteUpload], counts[emulator.RouteList],
		faults.ServerErrors, faults.Resets, faults.ResetsAfterCommit, faults.UploadsCommittedThenReset,
		env.Emulator.RateLimitedCount(), named, time.Since(start).Round(time.Millisecond))
}

// TestAccCertificate_interruptedApply interrupts an apply of 50
// certificates (SIGINT, as Ctrl-C does) while uploads are in flight, then
// applies again, importing any certificate the first apply named: the
// account and the state end with the same 50.
func TestAccCertificate_interruptedApply(t *testing.T) {
	t.Parallel()
	const count = 50
	env := acctest.NewWithOptions(t, emulator.Options{Latency: 300 * time.Millisecond})
	env.RequireEmulator(t)
	ws := acctest.NewWorkspace(t)
	manyCertificates(t, ws, env.ProviderConfig(), acctest.UniqueName(t), count)
	ws.Init()

	apply := ws.Start("apply", "-json", "-auto-approve", "-input=false", "-parallelism=10")
	deadline := time.Now().Add(2 * time.Minute)
	for env.Emulator.CertificateCount(env.AccountID) < 10 {
		if time.Now().After(deadline) {
			stdout, stderr := apply.Output()
			t.Fatalf("fewer than 10 certificates stored after 2 minutes\n%s\n%s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := apply.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	first := apply.Wait()
	stored := env.Emulator.CertificateCount(env.AccountID)
	inState := len(stateIDs(t, ws))
	imports, named := importedUnplaced(t, first, false)
	t.Logf("interrupted apply: exit code %d, %d certificates stored, %d in state, %d recorded despite the interruption, %d named for import",
		first.ExitCode, stored, inState, strings.Count(first.Stdout, "Recorded After a Lost Answer"), named)
	if stored != inState+named {
		t.Errorf("after the interruption the emulator holds %d certificates, state %d, and %d were named for import: "+
			"one was left outside state unnamed\n%s\n%s", stored, inState, named, first.Stdout, first.Stderr)
	}

	ws.WriteFile("imports.tf", imports)
	ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
	checkExactlyOnce(t, env, ws, count)
	planIsEmpty(t, ws)
}
