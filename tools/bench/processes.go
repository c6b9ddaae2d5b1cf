package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// buildProvider builds the provider from the repository root and returns the
// binary's size. release adds the flags of .goreleaser.yml that shrink it.
func buildProvider(ctx context.Context, root, out string, release bool) (int64, error) {
	var flags, env []string
	if release {
		flags = []string{"-trimpath", "-ldflags=-s -w"}
		env = []string{"CGO_ENABLED=0"}
	}
	return goBuild(ctx, root, out, flags, env)
}

// buildFloor builds the floor in its own module; GOWORK=off keeps a
// workspace file above it from pulling it into another build.
func buildFloor(ctx context.Context, dir, out string) (int64, error) {
	return goBuild(ctx, dir, out, nil, []string{"GOWORK=off"})
}

// goBuild builds the main package in dir and returns the binary's size.
func goBuild(ctx context.Context, dir, out string, flags, env []string) (int64, error) {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...) //nolint:gosec // G204: fixed go build arguments and an output path of our own.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// withoutInheritedSettings drops variables that would change what the CLI
// or the provider does: credentials, log levels, extra CLI arguments, a
// foreign CLI configuration or reattach set.
func withoutInheritedSettings(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "CLOUDFLARE_"),
			strings.HasPrefix(name, "TF_LOG"),
			strings.HasPrefix(name, "TF_CLI_ARGS"),
			strings.HasPrefix(name, "TF_VAR_"),
			name == "TF_CLI_CONFIG_FILE", name == "TF_REATTACH_PROVIDERS",
			name == "TF_DATA_DIR", name == "TF_WORKSPACE", name == "TF_INPUT":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func providerEnv() []string { return withoutInheritedSettings(os.Environ()) }

func cliEnv(rcFile string) []string {
	return append(withoutInheritedSettings(os.Environ()),
		"TF_CLI_CONFIG_FILE="+rcFile,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
	)
}

// providerProcess is a provider serving every CLI command given its
// reattach value until it is stopped; the benchmark, as its parent, can
// read its /proc entry.
type providerProcess struct {
	pid      int
	reattach string // the TF_REATTACH_PROVIDERS value
	// Started with -debug: cmd and exited are set.
	cmd     *exec.Cmd
	exited  chan error
	exitErr error
	// Started as a plugin: client is set.
	client  *plugin.Client
	stopped bool
}

// startProvider starts our provider with -debug, in which it prints its own
// reattach value.
func startProvider(ctx context.Context, binary string, env []string) (*providerProcess, error) {
	cmd := exec.CommandContext(ctx, binary, "-debug") //nolint:gosec // G702: the provider binary this benchmark just built.
	cmd.Env = env
	// stderr carries the provider's logs, as it would to a CLI that
	// discards them; nil sends them to the null device.
	cmd.Stderr = nil
	watch := &reattachWatcher{found: make(chan string, 1)}
	cmd.Stdout = watch
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &providerProcess{pid: cmd.Process.Pid, cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()

	select {
	case p.reattach = <-watch.found:
		return p, nil
	case p.exitErr = <-p.exited:
		p.stopped = true
		return nil, fmt.Errorf("the provider exited before printing its reattach configuration: %w", p.exitErr)
	case <-time.After(15 * time.Second):
		p.stop()
		return nil, errors.New("the provider did not print its reattach configuration within 15s")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// startPluginProvider starts a provider that has no -debug mode (the floor)
// as a CLI launches a plugin, and hands its address to the CLI as a
// reattach value. Without automatic mTLS: a reattach value carries no
// certificates, and the CLI connects in plain gRPC over the Unix socket.
func startPluginProvider(ctx context.Context, binary string, env []string, address string) (*providerProcess, error) {
	cmd := exec.CommandContext(ctx, binary) //nolint:gosec // G702: the floor binary this benchmark just built.
	cmd.Env = env
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  providerHandshake,
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": schemaClientPlugin{}}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		StartTimeout:     15 * time.Second,
	})
	p := &providerProcess{client: client}
	if _, err := client.Start(); err != nil {
		p.stop()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	rc := client.ReattachConfig()
	if rc == nil {
		p.stop()
		return nil, fmt.Errorf("%s started without an address", binary)
	}
	p.pid = rc.Pid
	// Test: the CLI must leave the process running after the command.
	value, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": client.NegotiatedVersion(), "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		p.stop()
		return nil, err
	}
	p.reattach = string(value)
	return p, nil
}

// stop ends the provider. A -debug provider is interrupted, which is how
// that mode expects to end, and killed if it lingers; its exit status is of
// no interest (it may report the signal). A plugin ignores interrupts and
// is shut down over gRPC by its client instead.
func (p *providerProcess) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	if p.client != nil {
		p.client.Kill()
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case p.exitErr = <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		p.exitErr = <-p.exited
	}
}

// processUsage is what /proc says about a running process.
type processUsage struct {
	peakRSS int64 // VmHWM, bytes
	cpu     time.Duration
}

// clockTicksPerSecond is USER_HZ, the unit of /proc/<pid>/stat times; it
// is 100 on every Linux architecture Go supports.
const clockTicksPerSecond = 100

func (p *providerProcess) usage() (processUsage, error) {
	pid := p.pid
	var u processUsage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)) //nolint:gosec // G703: /proc of a child process.
	if err != nil {
		return u, fmt.Errorf("reading the provider's peak RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return u, fmt.Errorf("VmHWM line %q: %w", line, err)
			}
			u.peakRSS = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)) //nolint:gosec // G703: /proc of a child process.
	if err != nil {
		return u, fmt.Errorf("reading the provider's CPU time: %w", err)
	}
	// The command name may hold spaces; fields resume after its ')'.
	idx := bytes.LastIndexByte(stat, ')')
	if idx < 0 {
		return u, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	fields := strings.Fields(string(stat[idx+1:]))
	if len(fields) < 13 {
		return u, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	var ticks int64
	for _, f := range fields[11:13] {
		t, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return u, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
		}
		ticks += t
	}
	u.cpu = time.Duration(ticks) * time.Second / clockTicksPerSecond
	return u, nil
}

// reattachWatcher reads the provider's stdout for the line that carries
// the TF_REATTACH_PROVIDERS value, and discards the rest.
type reattachWatcher struct {
	mu    sync.Mutex
	buf   []byte
	done  bool
	found chan string
}

const reattachPrefix = "TF_REATTACH_PROVIDERS='"

func (w *reattachWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		w.buf = rest
		text := strings.TrimSpace(string(line))
		value, ok := strings.CutPrefix(text, reattachPrefix)
		if !ok {
			continue
		}
		// The value is shell-quoted: a quote inside is written '"'"'.
		value = strings.ReplaceAll(strings.TrimSuffix(value, "'"), `'"'"'`, `'`)
		var parsed map[string]json.RawMessage
		if json.Unmarshal([]byte(value), &parsed) != nil || len(parsed) == 0 {
			continue
		}
		w.done, w.buf = true, nil
		w.found <- value
		return len(p), nil
	}
}

// cliRunner runs the CLI in a workspace with a given reattach value.
type cliRunner struct {
	path    string
	baseEnv []string
	timeout time.Duration
}

type cliRun struct {
	wall     time.Duration
	exitCode int
	maxRSS   int64 // bytes
	cpu      time.Duration
	tail     string // the end of the output, for failures
}

// run executes one CLI command; the error is for a command that could not
// run at all, a non-zero exit is reported in exitCode.
func (c cliRunner) run(ctx context.Context, dir, reattach, logPath string, args ...string) (cliRun, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	logFile, err := os.Create(logPath) //nolint:gosec // G304: a file in the benchmark's own working directory.
	if err != nil {
		return cliRun{}, err
	}
	defer func() { _ = logFile.Close() }()

	cmd := exec.CommandContext(ctx, c.path, args...) //nolint:gosec // G204: the CLI the developer chose, run on purpose.
	cmd.Dir = dir
	cmd.Env = append(c.baseEnv[:len(c.baseEnv):len(c.baseEnv)], "TF_REATTACH_PROVIDERS="+reattach)
	cmd.Stdout, cmd.Stderr = logFile, logFile

	start := time.Now()
	err = cmd.Run()
	r := cliRun{wall: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s %s: %w (output in %s)", filepath.Base(c.path), args[0], ctx.Err(), logPath)
	case errors.As(err, &exitErr):
		r.exitCode = exitErr.ExitCode()
	case err != nil:
		return r, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if r.exitCode != 0 {
		r.tail = tailOf(logPath, 2000)
	}
	return r, nil
}

func tailOf(path string, n int) string {
	data, err := os.ReadFile(path) //nolint:gosec // G304: a log the benchmark wrote.
	if err != nil {
		return ""
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return strings.TrimSpace(string(data))
}
