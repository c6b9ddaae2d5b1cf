package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// benchAccountID is the account every certificate goes to; the emulator
// accepts any well-formed id.
const benchAccountID = "0123456789abcdef0123456789abcdef"

// floorAddress is the address the floor serves under (its main.go).
const floorAddress = "registry.terraform.io/heldout/floor"

// The operations of one cycle, in the order they run.
const (
	opApply   = "apply"
	opPlan    = "plan"
	opDestroy = "destroy"
)

var operations = []string{opApply, opPlan, opDestroy}

// bench holds what every cell shares: the working directory, the built
// provider, the CLI and the certificates.
type bench struct {
	opts     options
	root     string // repository root
	work     string
	provider string // the provider binary under test
	floor    string // the floor's binary; "" when it is not measured
	cli      cliRunner
	env      environment
	pems     []string
}

func newBench(ctx context.Context, opts options) (*bench, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"go.mod", "main.go", "internal/emulator"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return nil, fmt.Errorf("run from the repository root (no %s in %s)", f, root)
		}
	}
	work, err := os.MkdirTemp("", "mtls-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{opts: opts, root: root, work: work}
	if err := b.prepare(ctx); err != nil {
		b.cleanup()
		return nil, err
	}
	return b, nil
}

func (b *bench) prepare(ctx context.Context) error {
	cliPath := b.opts.cliPath
	if cliPath == "" {
		out, err := exec.CommandContext(ctx, filepath.Join(b.root, "scripts", "ensure-cli.sh")).Output() //nolint:gosec // G204: the repository's own script.
		if err != nil {
			return fmt.Errorf("scripts/ensure-cli.sh: %w", err)
		}
		cliPath = strings.TrimSpace(string(out))
	}
	rc := filepath.Join(b.work, "cli.rc")
	// An empty CLI configuration: the provider is reached through
	// TF_REATTACH_PROVIDERS, and nothing from the caller's config applies.
	if err := os.WriteFile(rc, []byte("# mtls bench: intentionally empty\n"), 0o600); err != nil {
		return err
	}
	b.cli = cliRunner{path: cliPath, baseEnv: cliEnv(rc), timeout: b.opts.opTimeout}

	var err error
	if b.env, err = describeEnvironment(ctx, b.root, b.cli); err != nil {
		return err
	}
	b.env.parallelism = b.opts.effectiveParallelism()
	b.env.parallelismIsDefault = b.opts.parallelism == 0
	b.env.runs = b.opts.runs

	logf("building the provider")
	b.provider = filepath.Join(b.work, "bin", "terraform-provider-mtls")
	if b.env.binarySize, err = buildProvider(ctx, b.root, b.provider, false); err != nil {
		return err
	}
	if b.opts.releaseSize {
		if b.env.releaseBinarySize, err = buildProvider(ctx, b.root, filepath.Join(b.work, "release", "terraform-provider-mtls"), true); err != nil {
			return err
		}
	}
	return b.prepareFloor(ctx)
}

// prepareFloor builds the floor, or records why it is not measured.
func (b *bench) prepareFloor(ctx context.Context) error {
	dir := b.opts.floorDir
	if dir == "" {
		b.env.floorMissing = "-floor ''"
		return nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(b.root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		if b.opts.floorExplicit {
			return fmt.Errorf("-floor %s: not a Go module (%w)", b.opts.floorDir, err)
		}
		logf("no floor at %s: the ratios to it are not measured", dir)
		b.env.floorMissing = "no " + defaultFloorDir
		b.opts.floorDir = ""
		return nil
	}
	logf("building the floor from %s", dir)
	b.floor = filepath.Join(b.work, "floor", "terraform-provider-floor")
	var err error
	if b.env.floorBinarySize, err = buildFloor(ctx, dir, b.floor); err != nil {
		return fmt.Errorf("building the floor (-floor '' skips it): %w", err)
	}
	b.env.floorDir = dir
	return nil
}

func (b *bench) cleanup() {
	if b.opts.keep {
		fmt.Fprintf(os.Stderr, "bench: kept the working directory %s\n", b.work)
		return
	}
	if err := os.RemoveAll(b.work); err != nil { //nolint:gosec // G703: the temporary directory this run made.
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}

// measure runs everything and returns the report with targets evaluated.
func (b *bench) measure(ctx context.Context) (*report, error) {
	rep := &report{env: b.env, opts: b.opts}
	if b.opts.before != "" {
		var err error
		if rep.before, err = readBefore(b.opts.before); err != nil {
			return nil, fmt.Errorf("-before: %w", err)
		}
	}
	if b.opts.rpcRuns > 0 {
		logf("running the per-RPC Go benchmarks, %d runs each", b.opts.rpcRuns)
		var err error
		if rep.rpcRaw, err = runRPCBenchmarks(ctx, b.root, b.opts.rpcRuns); err != nil {
			return nil, err
		}
		if rep.rpcStat, err = benchstat(ctx, b.root, b.work, rep.before.rpcRaw, rep.rpcRaw); err != nil {
			return nil, err
		}
	}

	logf("timing %d provider start-ups", b.opts.startupRuns)
	var err error
	if rep.startup, err = measureStartups(ctx, b.provider, providerEnv(), b.opts.startupRuns, "mtls_certificate"); err != nil {
		return nil, err
	}
	if b.floor != "" {
		logf("timing %d floor start-ups", b.opts.startupRuns)
		if rep.floorStartup, err = measureStartups(ctx, b.floor, providerEnv(), b.opts.startupRuns, "floor_certificate"); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
	}

	if b.pems, err = generateCertificates(slices.Max(b.opts.counts)); err != nil {
		return nil, err
	}
	// Latency innermost: the cells that T(L) − T(0) compares run back to
	// back, under the most similar background load. The variants, the floor
	// among them, come next, so that the cells a ratio to the floor compares
	// run minutes apart rather than the whole run.
	for _, n := range b.opts.counts {
		for _, v := range b.opts.measuredVariants() {
			for _, latency := range b.opts.latencies {
				c, err := b.runCell(ctx, v, latency, n)
				if err != nil {
					return nil, err
				}
				rep.cells = append(rep.cells, c)
			}
		}
	}
	rep.targets = evaluateTargets(rep)
	return rep, nil
}

// cell is one (variant, latency, N) combination; runs holds each cycle's
// results by operation.
type cell struct {
	variant string
	latency time.Duration
	n       int
	runs    []map[string]opResult
}

// opResult is one CLI command and what it cost.
type opResult struct {
	wall     time.Duration
	exitCode int
	failure  string // why the operation did not complete as expected; "" when it did
	requests map[string]int
	provider processUsage
	cliRSS   int64 // bytes
	cliCPU   time.Duration
	// peakInFlight is the most API requests in progress at once.
	peakInFlight int
}

func (b *bench) runCell(ctx context.Context, v variant, latency time.Duration, n int) (*cell, error) {
	dir := filepath.Join(b.work, "cells", fmt.Sprintf("%s-%s-%d", v.name, latency, n))
	em, token, err := startTokenAPIServer(emulator.Options{Latency: latency})
	if err != nil {
		return nil, err
	}
	defer em.close()
	if err := writeWorkspace(dir, em.url, token, v, b.pems[:n]); err != nil {
		return nil, err
	}

	if err := b.initWorkspace(ctx, dir, v); err != nil {
		return nil, err
	}
	c := &cell{variant: v.name, latency: latency, n: n}
	for i := range b.opts.runs {
		results := map[string]opResult{}
		c.runs = append(c.runs, results)
		for _, op := range operations {
			r, err := b.runOperation(ctx, v, dir, op, i, n, em)
			if err != nil {
				return nil, err
			}
			results[op] = r
			logf("%-8s latency=%-5s N=%-5d %-7s %8.2fs  requests %s (at most %d at once)  provider RSS %s%s",
				v.name, formatLatency(latency), n, op, r.wall.Seconds(), formatCounts(r.requests), r.peakInFlight,
				formatMB(r.provider.peakRSS), failureSuffix(r.failure))
			if r.failure != "" {
				fmt.Fprintf(os.Stderr, "%s\n", r.failure)
			}
			if r.failure != "" && op == opApply {
				// Nothing sensible follows a failed apply; the emulator
				// and workspace are thrown away with the cell.
				return c, nil
			}
		}
		if left := em.CertificateCount(benchAccountID); left != 0 {
			results[opDestroy] = withFailure(results[opDestroy], fmt.Sprintf("%d certificates left after destroy", left))
			return c, nil
		}
	}
	return c, nil
}

// runOperation starts a fresh provider, runs one CLI command through it and
// stops it, so the provider's peak RSS belongs to that command alone.
func (b *bench) runOperation(ctx context.Context, v variant, dir, op string, cycle, n int, em *apiServer) (opResult, error) {
	prov, err := b.startProvider(ctx, v)
	if err != nil {
		return opResult{}, err
	}
	defer prov.stop()

	logBase := filepath.Join(dir, fmt.Sprintf("%d-%s", cycle, op))
	em.resetOperation()
	r, err := b.cli.run(ctx, dir, prov.reattach, logBase+".log", b.cliArgs(op, b.opts.parallelism)...)
	if err != nil {
		return opResult{}, err
	}
	res := opResult{
		wall: r.wall, exitCode: r.exitCode, cliRSS: r.maxRSS, cliCPU: r.cpu,
		requests: em.RequestCounts(), peakInFlight: em.peakInFlight(),
	}
	if res.provider, err = prov.usage(); err != nil {
		return opResult{}, err
	}

	switch {
	case op == opPlan && r.exitCode == 2:
		res.failure = "the plan after apply is not empty"
	case r.exitCode != 0:
		res.failure = fmt.Sprintf("exit status %d: %s", r.exitCode, r.tail)
	case op == opApply && em.CertificateCount(benchAccountID) != n:
		res.failure = fmt.Sprintf("%d certificates stored after apply, want %d", em.CertificateCount(benchAccountID), n)
	}
	return res, nil
}

// initWorkspace runs init, untimed, with a provider process of its own. A
// reattached provider is not installed, but init keeps the workspace valid
// for CLIs that insist on it.
func (b *bench) initWorkspace(ctx context.Context, dir string, v variant) error {
	prov, err := b.startProvider(ctx, v)
	if err != nil {
		return err
	}
	defer prov.stop()
	logPath := filepath.Join(dir, "init.log")
	r, err := b.cli.run(ctx, dir, prov.reattach, logPath, "init", "-input=false", "-no-color")
	switch {
	case err != nil:
		return fmt.Errorf("init: %w", err)
	case r.exitCode != 0:
		return fmt.Errorf("init failed (exit %d):\n%s", r.exitCode, r.tail)
	}
	return nil
}

// startProvider starts the provider of the variant: ours with -debug, the
// floor, which has no such mode, as a plugin.
func (b *bench) startProvider(ctx context.Context, v variant) (*providerProcess, error) {
	if v.floor {
		return startPluginProvider(ctx, b.floor, providerEnv(), floorAddress)
	}
	return startProvider(ctx, b.provider, providerEnv())
}

// cliArgs are the arguments of op; parallelism 0 leaves the CLI's default.
func (b *bench) cliArgs(op string, parallelism int) []string {
	args := []string{op, "-input=false", "-no-color"}
	switch op {
	case opApply, opDestroy:
		args = append(args, "-auto-approve")
	case opPlan:
		args = append(args, "-detailed-exitcode")
	}
	if parallelism > 0 {
		args = append(args, fmt.Sprintf("-parallelism=%d", parallelism))
	}
	return args
}

func withFailure(r opResult, failure string) opResult {
	if r.failure == "" {
		r.failure = failure
	}
	return r
}

func failureSuffix(failure string) string {
	if failure == "" {
		return ""
	}
	return "  FAILED: " + firstLine(failure)
}

func randomToken() (string, error) {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return "bench-" + hex.EncodeToString(buf), nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
