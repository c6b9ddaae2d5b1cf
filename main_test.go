package main

import (
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

func TestUnreadLogs(t *testing.T) {
	for name, tc := range map[string]struct {
		environ []string
		off     bool
	}{
		"no log settings":          {[]string{"PATH=/bin", "HOME=/root", "TF_IN_AUTOMATION=1"}, true},
		"empty environment":        {nil, true},
		"TF_LOG":                   {[]string{"TF_LOG=TRACE"}, false},
		"TF_LOG_PATH alone":        {[]string{"TF_LOG_PATH=/tmp/x.log"}, false},
		"TF_LOG_PROVIDER":          {[]string{"TF_LOG_PROVIDER=DEBUG"}, false},
		"TF_LOG_SDK_FRAMEWORK":     {[]string{"PATH=/bin", "TF_LOG_SDK_FRAMEWORK=TRACE"}, false},
		"TF_LOG_PROVIDER_MTLS":     {[]string{"TF_LOG_PROVIDER_MTLS=INFO"}, false},
		"TF_LOG_CORE":              {[]string{"TF_LOG_CORE=TRACE"}, false},
		"a name that only ends so": {[]string{"MY_TF_LOG=TRACE"}, true},
	} {
		got := unreadLogs(tc.environ)
		if tc.off && !slices.Equal(got, logLevelVariables) || !tc.off && got != nil {
			t.Errorf("%s: unreadLogs = %v, want off %t", name, got, tc.off)
		}
	}
}

// The tests below run the provider binary as the CLI starts it (not
// reattached), as users run it, to see what it writes.

// cliSetup builds the provider, writes a CLI configuration whose
// dev_overrides point at dir (where the provider, or a wrapper of it, must
// be), and returns the environment for the CLI and the working directory
// with a configuration planning one certificate against an emulator.
func cliSetup(t *testing.T, overrideDir string, opts emulator.Options) (cli string, env []string, work string, em *emulator.Running) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" || os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Skip("set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (scripts/with-cli.sh does) to run tests that drive the CLI")
	}
	cli = os.Getenv("TF_ACC_TERRAFORM_PATH")
	opts.APIToken = "logs-token"
	em, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)

	rc := filepath.Join(t.TempDir(), "cli.rc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		"registry.terraform.io/tf-mtls/mtls", overrideDir, "registry.opentofu.org/tf-mtls/mtls", overrideDir)
	writeFile(t, rc, overrides)
	work = t.TempDir()
	writeFile(t, filepath.Join(work, "main.tf"), fmt.Sprintf(`
terraform {
  required_providers {
    mtls = { source = "tf-mtls/mtls" }
  }
}

provider "mtls" {
  base_url   = %q
  api_token  = "logs-token"
  account_id = "0123456789abcdef0123456789abcdef"
}

output "info" {
  value = "planned"
}

resource "mtls_certificate" "ca" {
  ca           = true
  certificates = %q
}
`, em.URL(), fixtures.Read("ca-cert.pem")))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return cli, env, work, em
}

func buildProvider(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "terraform-provider-mtls")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil { //nolint:gosec // G204: builds this package into the test's directory.
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runCLI(t *testing.T, cli string, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(cli, args...) //nolint:gosec // G204: the CLI the test suite was pointed at.
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAccLogs_silentWithoutReader: with no TF_LOG* variable, the provider
// writes nothing to stderr during a plan, an apply, an empty plan and a
// destroy. A wrapper in place of the provider keeps its stderr in a file.
func TestAccLogs_silentWithoutReader(t *testing.T) {
	binary := buildProvider(t, t.TempDir())
	wrapperDir := t.TempDir()
	stderrFile := filepath.Join(t.TempDir(), "provider-stderr")
	writeFile(t, stderrFile, "")
	wrapper := filepath.Join(wrapperDir, "terraform-provider-mtls")
	writeFile(t, wrapper, fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" 2>>%q\n", binary, stderrFile))
	if err := os.Chmod(wrapper, 0o700); err != nil { //nolint:gosec // G302: the test's own wrapper script must be executable.
		t.Fatal(err)
	}
	cli, env, work, _ := cliSetup(t, wrapperDir, emulator.Options{})
	out := runCLI(t, cli, env, work, "plan", "-input=false", "-no-color")
	if !strings.Contains(out, "mtls_certificate.ca will be created") {
		t.Fatalf("the plan did not run the provider:\n%s", out)
	}
	// The whole cycle works so, with the loggers hidden from the framework.
	runCLI(t, cli, env, work, "apply", "-auto-approve", "-input=false", "-no-color")
	runCLI(t, cli, env, work, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	runCLI(t, cli, env, work, "destroy", "-auto-approve", "-input=false", "-no-color")
	if got := readFile(t, stderrFile); got != "" {
		t.Fatalf("the provider wrote %d bytes to stderr without any TF_LOG variable set:\n%.2000s", len(got), got)
	}

	// The same wrapper with TF_LOG set: the provider does write, so the
	// empty file above is not an artifact of the wrapper.
	runCLI(t, cli, append(env, "TF_LOG=TRACE", "TF_LOG_PATH="+filepath.Join(t.TempDir(), "cli.log")), work, "plan", "-input=false", "-no-color")
	if got := readFile(t, stderrFile); !strings.Contains(got, "sdk.framework") {
		t.Fatalf("with TF_LOG=TRACE the provider's stderr holds no framework line; the capture is not working:\n%.2000s", got)
	}
}

// TestAccLogs_traceKeepsEveryLogger: with TF_LOG=TRACE the CLI's log holds
// the framework's, the protocol's and the provider's own lines.
func TestAccLogs_traceKeepsEveryLogger(t *testing.T) {
	binDir := t.TempDir()
	buildProvider(t, binDir)
	cli, env, work, _ := cliSetup(t, binDir, emulator.Options{})
	logFile := filepath.Join(t.TempDir(), "cli.log")
	runCLI(t, cli, append(env, "TF_LOG=TRACE", "TF_LOG_PATH="+logFile), work, "plan", "-input=false", "-no-color")
	logs := readFile(t, logFile)
	for _, want := range []string{"@module=sdk.framework", "@module=sdk.proto", "Configured the mtls provider"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the CLI's TRACE log has no %q", want)
		}
	}
}

// TestAccLogs_sameOutcomeWhateverTheLogs: log settings change what is
// logged, never what runs. A required argument set from an unset variable
// (ca = var.is_ca, as a module passes it) fails the plan the same way, on
// the argument and before any request, with no TF_LOG* variable and with
// each kind of log setting.
func TestAccLogs_sameOutcomeWhateverTheLogs(t *testing.T) {
	binDir := t.TempDir()
	buildProvider(t, binDir)
	cli, env, work, em := cliSetup(t, binDir, emulator.Options{})
	config := readFile(t, filepath.Join(work, "main.tf"))
	config = strings.Replace(config, "ca           = true", "ca           = var.is_ca", 1)
	writeFile(t, filepath.Join(work, "main.tf"), config+"\nvariable \"is_ca\" {\n  type    = bool\n  default = null\n}\n")
	for name, logs := range map[string][]string{
		"no TF_LOG*":            nil,
		"TF_LOG_PROVIDER=ERROR": {"TF_LOG_PROVIDER=ERROR"},
		"TF_LOG=TRACE":          {"TF_LOG=TRACE", "TF_LOG_PATH=" + filepath.Join(t.TempDir(), "cli.log")},
	} {
		em.ResetCounts()
		cmd := exec.Command(cli, "plan", "-input=false", "-no-color") //nolint:gosec // G204: the CLI the test suite was pointed at.
		cmd.Dir, cmd.Env = work, append(slices.Clone(env), logs...)
		out, err := cmd.CombinedOutput()
		text := strings.Join(strings.Fields(string(out)), " ")
		if err == nil || !strings.Contains(text, "Missing Configuration for Required Attribute") ||
			!strings.Contains(text, "value for the ca attribute") {
			t.Errorf("%s: the plan with ca = null did not fail on ca (err %v):\n%s", name, err, out)
		}
		if counts := em.RequestCounts(); len(counts) != 0 {
			t.Errorf("%s: the provider sent requests %v", name, counts)
		}
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name) //nolint:gosec // G304: files the test itself created.
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	}
	for name, tc := range map[string]struct {
		vars    map[string]string
		applied bool
	}{
		"nothing set":        {nil, true},
		"the user's GOGC":    {map[string]string{"GOGC": "50"}, false},
		"the user's limit":   {map[string]string{"GOMEMLIMIT": "1GiB"}, false},
		"GOGC=off is theirs": {map[string]string{"GOGC": "off"}, false},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		if got := tuneGC(env(tc.vars)); got != tc.applied {
			t.Errorf("%s: tuneGC applied = %t, want %t", name, got, tc.applied)
		}
		wantPercent, wantLimit := 100, int64(math.MaxInt64)
		if tc.applied {
			wantPercent, wantLimit = gcPercent, memoryLimit
		}
		if got := debug.SetGCPercent(-1); got != wantPercent {
			t.Errorf("%s: GOGC is %d, want %d", name, got, wantPercent)
		}
		if got := debug.SetMemoryLimit(-1); got != wantLimit {
			t.Errorf("%s: the memory limit is %d, want %d", name, got, wantLimit)
		}
	}
}

func TestExitWhenOrphaned(t *testing.T) {
	parents := func(seq ...int) func() int {
		var calls atomic.Int64
		return func() int { return seq[min(int(calls.Add(1))-1, len(seq)-1)] }
	}
	for name, tc := range map[string]struct {
		getppid func() int
		exits   bool
	}{
		"the CLI goes":         {parents(4242, 4242, 4242, 1), true},
		"reparented elsewhere": {parents(4242, 77), true},
		"the CLI stays":        {parents(4242), false},
		"started by init":      {parents(1, 4242), false},
	} {
		exited := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			exitWhenOrphaned(tc.getppid, time.Millisecond, func() { close(exited) })
		}()
		select {
		case <-exited:
			if !tc.exits {
				t.Errorf("%s: exited", name)
			}
		case <-done:
			if tc.exits {
				t.Errorf("%s: returned without exiting", name)
			}
		case <-time.After(200 * time.Millisecond):
			if tc.exits {
				t.Errorf("%s: did not exit", name)
			}
		}
	}
}

// TestAccProviderExitsWhenTheCLIIsKilled: a CLI killed with SIGKILL during
// an apply cannot stop its provider. The provider notices that its parent
// is gone, stops, and sends Cloudflare nothing more.
func TestAccProviderExitsWhenTheCLIIsKilled(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("needs /proc to find the provider process")
	}
	binDir := t.TempDir()
	binary := buildProvider(t, binDir)
	cli, env, work, em := cliSetup(t, binDir, emulator.Options{Latency: 2 * time.Second})
	cmd := exec.Command(cli, "apply", "-auto-approve", "-input=false", "-no-color") //nolint:gosec // G204: the CLI the test suite was pointed at.
	cmd.Dir, cmd.Env = work, env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for em.RequestCount(emulator.RouteUpload) == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("no upload reached the emulator within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	providers := processesRunning(t, binary)
	if len(providers) != 1 {
		_ = cmd.Process.Kill()
		t.Fatalf("found %d processes of the provider binary, want 1", len(providers))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	for len(processesRunning(t, binary)) > 0 {
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("the provider (pid %d) still runs 5 s after its CLI was killed", providers[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	exited := time.Since(killed)
	sent := em.RequestCounts()
	time.Sleep(3 * time.Second)
	if after := em.RequestCounts(); !maps.Equal(after, sent) {
		t.Errorf("requests reached the emulator after the provider exited: %v, then %v", sent, after)
	}
	t.Logf("the provider exited %s after its CLI was killed; requests in all: %v", exited.Round(time.Millisecond), sent)
}

// processesRunning returns the ids of the running processes whose
// executable is binary.
func processesRunning(t *testing.T, binary string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == binary {
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !strings.Contains(string(stat), ") Z ") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
