package acctest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// The variables below are the ones terraform-plugin-testing reads, so one
// scripts/with-cli.sh setup serves both kinds of test.
const (
	envAcc               = "TF_ACC"
	envCLIPath           = "TF_ACC_TERRAFORM_PATH"
	envProviderNamespace = "TF_ACC_PROVIDER_NAMESPACE"
	envProviderHost      = "TF_ACC_PROVIDER_HOST"
)

// Bounds on waits that only a broken setup hits; a slow API does not.
const (
	providerStartTimeout = 30 * time.Second
	providerStopTimeout  = 30 * time.Second
	// cliWaitDelay bounds how long output pipes may stay open after the CLI
	// exits or is killed.
	cliWaitDelay = 10 * time.Second
	// cliStopGrace is how long a CLI left running at the end of a test may
	// take to stop after an interrupt before it is killed.
	cliStopGrace = 10 * time.Second
)

// Workspace runs the real Terraform or OpenTofu CLI in its own directory
// against a provider served from the test process. It is for what
// terraform-plugin-testing cannot check: warning diagnostics, saved plans
// and state read as JSON, and signals sent to the CLI. Use it from one
// goroutine.
type Workspace struct {
	// Dir is the working directory: main.tf, .terraform, state and saved
	// plans all live here. It is removed when the test ends.
	Dir string

	t       *testing.T
	cli     string
	address string
	// env is the environment of the commands Run and Start run; tf gets
	// it too, less what terraform-exec sets itself.
	env []string
	// tf runs the commands terraform-exec has a method for: init and show.
	tf *tfexec.Terraform
	// reattach points the CLI at the provider served by the test; nil when
	// the CLI starts the provider binary itself.
	reattach tfexec.ReattachInfo
}

// newWorkspace is a Workspace in a fresh directory, with no environment yet.
func newWorkspace(t *testing.T, cli string) *Workspace {
	t.Helper()
	w := &Workspace{Dir: t.TempDir(), t: t, cli: cli, address: providerAddress()}
	tf, err := tfexec.NewTerraform(w.Dir, cli)
	if err != nil {
		t.Fatal(err)
	}
	w.tf = tf
	return w
}

// cliPathOrSkip is the CLI in TF_ACC_TERRAFORM_PATH; without TF_ACC or
// without a CLI it skips the test.
func cliPathOrSkip(t *testing.T) string {
	t.Helper()
	if os.Getenv(envAcc) == "" {
		t.Skipf("set %s=1 to run tests that drive the CLI", envAcc)
	}
	cli := os.Getenv(envCLIPath)
	if cli == "" {
		t.Skipf("set %s to a terraform or tofu binary (scripts/with-cli.sh does) to run tests that drive the CLI", envCLIPath)
	}
	return cli
}

// NewWorkspace makes an empty working directory and serves the provider for
// it until the test ends. Like the plugin-testing acceptance tests, it
// skips the test unless TF_ACC is set; it also skips unless
// TF_ACC_TERRAFORM_PATH names the CLI. scripts/with-cli.sh sets that and
// the provider address variables; `make test` adds TF_ACC. Run Init before
// any other command.
func NewWorkspace(t *testing.T) *Workspace {
	t.Helper()
	w := newWorkspace(t, cliPathOrSkip(t))
	w.reattach = serveProvider(t, w.address)
	reattach, err := json.Marshal(w.reattach)
	if err != nil {
		t.Fatalf("encoding TF_REATTACH_PROVIDERS: %v", err)
	}
	w.env = append(inheritedEnv(),
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"TF_REATTACH_PROVIDERS="+string(reattach),
	)
	return w
}

// ProviderAddress is the source address the CLI knows the provider by. A
// configuration without a required_providers block resolves "mtls" to it.
func (w *Workspace) ProviderAddress() string { return w.address }

// providerAddress is <host>/<namespace>/mtls. OpenTofu resolves an
// unqualified provider on its own registry host, so scripts/with-cli.sh
// sets the host to match the CLI.
func providerAddress() string {
	host := os.Getenv(envProviderHost)
	if host == "" {
		host = "registry.terraform.io"
	}
	namespace := os.Getenv(envProviderNamespace)
	if namespace == "" {
		namespace = "hashicorp"
	}
	return host + "/" + namespace + "/mtls"
}

// inheritedEnv is the test's environment (TF_CLI_CONFIG_FILE, credentials
// for live runs, TF_LOG) without the variables that would make a run depend
// on the caller: other arguments, another data directory or workspace, or
// another reattached provider.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "TF_CLI_ARGS", strings.HasPrefix(name, "TF_CLI_ARGS_"),
			name == "TF_DATA_DIR", name == "TF_WORKSPACE", name == "TF_REATTACH_PROVIDERS":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// serveProvider serves a fresh provider in this process and returns what
// points the CLI at it (TF_REATTACH_PROVIDERS). The server stops when the
// test ends.
func serveProvider(t *testing.T, address string) tfexec.ReattachInfo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	configCh := make(chan *plugin.ReattachConfig, 1)
	closeCh := make(chan struct{})
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- tf6server.Serve(address, provider.NewProtocol6Server("test", provider.DefaultServerOptions(os.Environ())...),
			tf6server.WithDebug(ctx, configCh, closeCh),
			// go-plugin's default logger writes JSON trace lines to stderr.
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			// Provider logs follow TF_LOG, TF_LOG_PATH, TF_ACC_LOG_PATH and
			// TF_LOG_PATH_MASK as in plugin-testing runs; without the sink
			// they would all go to stderr at trace level.
			tf6server.WithLoggingSink(t),
			tf6server.WithoutLogStderrOverride(),
		)
	}()

	var cfg *plugin.ReattachConfig
	select {
	case cfg = <-configCh:
	case err := <-serveErr:
		cancel()
		if err == nil {
			err = errors.New("it stopped before listening")
		}
		t.Fatalf("serving the provider: %v", err)
	case <-time.After(providerStartTimeout):
		cancel()
		t.Fatalf("serving the provider: no reattach configuration after %v", providerStartTimeout)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closeCh:
		case <-time.After(providerStopTimeout):
			t.Errorf("the provider server did not stop within %v", providerStopTimeout)
		}
	})

	return tfexec.ReattachInfo{address: {
		Protocol:        string(cfg.Protocol),
		ProtocolVersion: cfg.ProtocolVersion,
		Pid:             cfg.Pid,
		Test:            cfg.Test,
		Addr:            tfexec.ReattachConfigAddr{Network: cfg.Addr.Network(), String: cfg.Addr.String()},
	}}
}

// SetConfig writes hcl to main.tf, replacing what was there.
func (w *Workspace) SetConfig(hcl string) {
	w.t.Helper()
	w.WriteFile("main.tf", hcl)
}

// WriteFile writes a file the configuration can read, such as a PEM file
// with CRLF line endings. name is relative to Dir and must stay inside it.
func (w *Workspace) WriteFile(name, content string) {
	w.t.Helper()
	if !filepath.IsLocal(name) {
		w.t.Fatalf("WriteFile(%q): the name must be a relative path inside the workspace", name)
	}
	path := filepath.Join(w.Dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// Result is the outcome of one CLI run.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the CLI's exit status; -1 when a signal ended it.
	ExitCode int
}

// Init runs `init`. With the provider reattached the CLI downloads nothing.
func (w *Workspace) Init() {
	w.t.Helper()
	if err := w.terraform().Init(context.Background(), tfexec.Reattach(w.reattach)); err != nil {
		w.t.Fatalf("%s init: %v", filepath.Base(w.cli), err)
	}
}

// terraform is w.tf with the workspace's environment as it is now, since
// Setenv may have changed it. terraform-exec refuses the variables it sets
// itself (TF_IN_AUTOMATION, TF_INPUT, TF_LOG*, TF_REATTACH_PROVIDERS,
// TF_VAR_*, ...): CleanEnv leaves them out, and Reattach passes the
// provider.
func (w *Workspace) terraform() *tfexec.Terraform {
	w.t.Helper()
	env := map[string]string{}
	for _, kv := range w.env {
		name, value, _ := strings.Cut(kv, "=")
		env[name] = value
	}
	if err := w.tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		w.t.Fatal(err)
	}
	return w.tf
}

// Run runs the CLI with args in Dir and waits for it. A non-zero exit does
// not fail the test: check Result.ExitCode. Pass -json to plan, apply or
// destroy to read Result.Diagnostics.
func (w *Workspace) Run(args ...string) Result {
	w.t.Helper()
	p := w.Start(args...)
	return p.Wait()
}

// MustRun is Run that fails the test, showing both outputs, unless the CLI
// exits with 0.
func (w *Workspace) MustRun(args ...string) Result {
	w.t.Helper()
	r := w.Run(args...)
	if r.ExitCode != 0 {
		w.t.Fatalf("%s %s: exit code %d\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(w.cli), strings.Join(args, " "), r.ExitCode, r.Stdout, r.Stderr)
	}
	return r
}

// State runs `show -json` and returns the workspace's state.
func (w *Workspace) State() *tfjson.State {
	w.t.Helper()
	state, err := w.terraform().Show(context.Background(), tfexec.Reattach(w.reattach))
	if err != nil {
		w.t.Fatalf("%s show: %v", filepath.Base(w.cli), err)
	}
	return state
}

// SavedPlan runs `show -json` on the plan saved in file (relative to Dir).
func (w *Workspace) SavedPlan(file string) *tfjson.Plan {
	w.t.Helper()
	plan, err := w.terraform().ShowPlanFile(context.Background(), file, tfexec.Reattach(w.reattach))
	if err != nil {
		w.t.Fatalf("%s show %s: %v", filepath.Base(w.cli), file, err)
	}
	return plan
}

// ResourceValues returns the attribute values of the resource at address
// (such as "mtls_certificate.ca") in the root module of values: a State's
// Values or a Plan's PlannedValues. values is nil for an empty state.
func ResourceValues(values *tfjson.StateValues, address string) (map[string]any, bool) {
	if values == nil || values.RootModule == nil {
		return nil, false
	}
	for _, r := range values.RootModule.Resources {
		if r.Address == address {
			return r.AttributeValues, true
		}
	}
	return nil, false
}

// Process is a CLI run started with Start.
type Process struct {
	// Cmd is the running command; send signals with Cmd.Process.Signal.
	Cmd *exec.Cmd

	stdout, stderr syncBuffer
	done           chan struct{}
	result         Result
}

// Start starts the CLI with args in Dir and returns without waiting, so the
// test can send it a signal (p.Cmd.Process.Signal(os.Interrupt)). Output
// shows what the CLI printed so far; Wait returns the full Result. A CLI
// still running when the test ends fails the test and is interrupted, then
// killed if it does not stop.
//
// It runs the CLI itself: terraform-exec has a method per command with
// typed options, and none that takes any arguments, returns the exit code
// with both outputs, or lets the caller signal the running CLI.
func (w *Workspace) Start(args ...string) *Process {
	w.t.Helper()
	p := &Process{done: make(chan struct{})}
	// No CommandContext: it would kill the CLI outright, where the cleanup
	// below first interrupts it so it can stop its operation cleanly.
	cmd := exec.Command(w.cli, args...) //nolint:gosec // G204: the CLI a developer chose, run on purpose
	cmd.Dir = w.Dir
	cmd.Env = w.env
	cmd.Stdout = &p.stdout
	cmd.Stderr = &p.stderr
	cmd.WaitDelay = cliWaitDelay
	p.Cmd = cmd
	if err := cmd.Start(); err != nil {
		w.t.Fatalf("starting %s: %v", w.cli, err)
	}
	go func() {
		defer close(p.done)
		err := cmd.Wait()
		p.result = Result{Stdout: p.stdout.String(), Stderr: p.stderr.String(), ExitCode: cmd.ProcessState.ExitCode()}
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			p.result.Stderr += "\n(acctest: " + err.Error() + ")"
		}
	}()
	w.t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		w.t.Errorf("%s %s was still running when the test ended; stopping it", filepath.Base(w.cli), strings.Join(args, " "))
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(cliStopGrace):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Output returns what the CLI has written so far; it may stop mid-line.
func (p *Process) Output() (stdout, stderr string) {
	return p.stdout.String(), p.stderr.String()
}

// Wait waits for the CLI to exit and returns its Result. It may be called
// more than once.
func (p *Process) Wait() Result {
	<-p.done
	return p.result
}

// syncBuffer is a bytes.Buffer that the CLI's output copier can write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Diagnostic is one diagnostic of the CLI's machine-readable (-json) UI,
// flattened from tfjson.Diagnostic so that tests compare and sort
// diagnostics as values (its Range and Snippet are pointers).
type Diagnostic struct {
	// Severity is "error" or "warning".
	Severity tfjson.DiagnosticSeverity
	Summary  string
	Detail   string
	// Address is the resource the diagnostic is about, when there is one,
	// such as "mtls_certificate.ca".
	Address string
	// Code is the configuration the CLI quotes, such as
	// `  api_token = file("token.txt")` for an error on that attribute;
	// empty when it points at no configuration.
	Code string
}

// Diagnostics parses the diagnostics out of the machine-readable UI that
// plan, apply and destroy print with -json: one JSON object per line,
// diagnostics having type "diagnostic". Lines that are not such objects
// are skipped, so text output yields none.
func (r Result) Diagnostics() []Diagnostic {
	var out []Diagnostic
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	// A diagnostic carries a source snippet and may exceed the default
	// 64 KiB line limit.
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		// tfjson.UnmarshalLogMessage would do, but its Diagnostic has no
		// address, which the CLI's JSON UI gives and tests check.
		var msg struct {
			Type       tfjson.LogMessageType `json:"type"`
			Diagnostic struct {
				tfjson.Diagnostic
				Address string `json:"address"`
			} `json:"diagnostic"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg.Type != tfjson.MessageTypeDiagnostic {
			continue
		}
		d := Diagnostic{Severity: msg.Diagnostic.Severity, Summary: msg.Diagnostic.Summary, Detail: msg.Diagnostic.Detail, Address: msg.Diagnostic.Address}
		if msg.Diagnostic.Snippet != nil {
			d.Code = msg.Diagnostic.Snippet.Code
		}
		out = append(out, d)
	}
	return out
}

// Errors returns the diagnostics with severity "error".
func (r Result) Errors() []Diagnostic { return r.withSeverity(tfjson.DiagnosticSeverityError) }

// Warnings returns the diagnostics with severity "warning".
func (r Result) Warnings() []Diagnostic { return r.withSeverity(tfjson.DiagnosticSeverityWarning) }

func (r Result) withSeverity(severity tfjson.DiagnosticSeverity) []Diagnostic {
	var out []Diagnostic
	for _, d := range r.Diagnostics() {
		if d.Severity == severity {
			out = append(out, d)
		}
	}
	return out
}
