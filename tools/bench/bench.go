package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// benchAccountID is the account of every certificate; any well-formed id.
const benchAccountID = "0123456789abcdef0123456789abcdef"

// The addresses the providers serve under, which the reattach values name:
// ours (workspace.go's source) and the floor's (its main.go).
const (
	ourAddress   = "registry.terraform.io/tf-mtls/mtls"
	floorAddress = "registry.terraform.io/heldout/floor"
)

// defaultFloorDir is the floor's source, relative to the repository root.
const defaultFloorDir = "../shared/floor"

// opTimeout bounds one CLI command.
const opTimeout = 20 * time.Minute

// The operations of one cycle, in the order they run.
const (
	opApply   = "apply"
	opPlan    = "plan"
	opDestroy = "destroy"
)

var operations = []string{opApply, opPlan, opDestroy}

// variant is a provider the cells run: ours, or the floor. hcl is extra
// attributes for our provider block (workspace.go); none are set today.
type variant struct {
	name  string
	hcl   string
	floor bool
}

var (
	ourVariant   = variant{name: "mtls"}
	floorVariant = variant{name: "floor", floor: true}
)

// bench holds what every cell shares.
type bench struct {
	opts     options
	root     string // the repository
	work     string // a temporary directory
	cli      string
	cliEnv   map[string]string
	provider string // our binary
	floor    string // the floor's binary; "" when it is not measured
	env      environment
	pems     []string
}

func newBench(ctx context.Context, opts options) (*bench, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "emulator")); err != nil {
		return nil, fmt.Errorf("run from the repository root: %w", err)
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
	if b.cli = b.opts.cliPath; b.cli == "" {
		out, err := exec.CommandContext(ctx, filepath.Join(b.root, "scripts", "ensure-cli.sh")).Output() //nolint:gosec // G204: the repository's own script.
		if err != nil {
			return fmt.Errorf("scripts/ensure-cli.sh: %w", err)
		}
		b.cli = strings.TrimSpace(string(out))
	}
	// An empty CLI configuration: the providers are reached through
	// reattach values, and nothing of the caller's config applies.
	b.cliEnv = cleanEnv()
	b.cliEnv["TF_CLI_CONFIG_FILE"] = os.DevNull
	b.cliEnv["CHECKPOINT_DISABLE"] = "1"

	var err error
	if b.env, err = describeEnvironment(ctx, b.root, b.cli, b.cliEnv); err != nil {
		return err
	}
	logf("building the provider")
	b.provider = filepath.Join(b.work, "bin", "terraform-provider-mtls")
	if b.env.binarySize, err = goBuild(ctx, b.root, b.provider); err != nil {
		return err
	}
	return b.prepareFloor(ctx)
}

// prepareFloor builds the floor, or records why it is not measured.
func (b *bench) prepareFloor(ctx context.Context) error {
	dir := b.opts.floorDir
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(b.root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); dir == "" || err != nil {
		b.env.floorMissing = fmt.Sprintf("no Go module at -floor %q", b.opts.floorDir)
		logf("the floor is not measured: %s", b.env.floorMissing)
		return nil
	}
	logf("building the floor from %s", dir)
	b.floor = filepath.Join(b.work, "floor", "terraform-provider-floor")
	if _, err := goBuild(ctx, dir, b.floor); err != nil {
		return fmt.Errorf("building the floor (-floor '' skips it): %w", err)
	}
	b.env.floorDir = dir
	return nil
}

func (b *bench) cleanup() {
	if err := os.RemoveAll(b.work); err != nil { //nolint:gosec // G703: the temporary directory this run made.
		logf("%v", err)
	}
}

// measure runs everything and returns the report with targets evaluated.
func (b *bench) measure(ctx context.Context) (*report, error) {
	rep := &report{env: b.env, opts: b.opts}
	var err error
	if b.opts.before != "" {
		if rep.before, err = readBefore(b.opts.before); err != nil {
			return nil, fmt.Errorf("-before: %w", err)
		}
	}
	if b.opts.rpcRuns > 0 {
		logf("running the per-RPC Go benchmarks, %d runs each", b.opts.rpcRuns)
		if rep.rpcRaw, err = runRPCBenchmarks(ctx, b.root, b.opts.rpcRuns); err != nil {
			return nil, err
		}
		if rep.rpcStat, err = benchstat(ctx, b.root, b.work, rep.before.rpcRaw, rep.rpcRaw); err != nil {
			return nil, err
		}
	}

	logf("timing %d provider start-ups", b.opts.startupRuns)
	if rep.startup, err = measureStartups(ctx, b.provider, b.opts.startupRuns); err != nil {
		return nil, err
	}

	b.pems = generateCertificates(slices.Max(b.opts.counts))
	// The floor's cells run right after ours at the same N and latency, so
	// that a ratio compares cells taken under similar background load.
	variants := []variant{ourVariant}
	if b.floor != "" {
		variants = append(variants, floorVariant)
	}
	for _, n := range b.opts.counts {
		for _, latency := range b.opts.latencies {
			for _, v := range variants {
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

// cell is one (provider, latency, N) combination; runs holds each cycle's
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
	requests map[string]int
	rss      int64 // the provider's peak, bytes
	cpu      time.Duration
	// failure says why the command did not do what it should; "" when it did.
	failure string
	// planChanged: a plan after apply that was not empty (also a failure).
	planChanged bool
}

func (b *bench) runCell(ctx context.Context, v variant, latency time.Duration, n int) (*cell, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("%s-%s-%d", v.name, latency, n))
	token := "bench-" + rand.Text()
	em, err := emulator.Start(emulator.Options{APIToken: token, Latency: latency})
	if err != nil {
		return nil, err
	}
	defer em.Close()
	if err := writeWorkspace(dir, em.URL(), token, v, b.pems[:n]); err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(dir, b.cli)
	if err != nil {
		return nil, err
	}
	if err := tf.SetEnv(b.cliEnv); err != nil {
		return nil, err
	}

	// init, untimed: a reattached provider is not installed, but the CLI
	// wants an initialized workspace.
	prov, err := b.startProvider(ctx, v)
	if err != nil {
		return nil, err
	}
	err = tf.Init(ctx, tfexec.Reattach(prov.reattach))
	prov.stop()
	if err != nil {
		return nil, fmt.Errorf("init in %s: %w", dir, err)
	}

	c := &cell{variant: v.name, latency: latency, n: n}
	for range b.opts.runs {
		cycle := map[string]opResult{}
		c.runs = append(c.runs, cycle)
		for _, op := range operations {
			r, err := b.runOperation(ctx, tf, v, op, n, em)
			if err != nil {
				return nil, err
			}
			cycle[op] = r
			logf("%-5s latency=%-5s N=%-5d %-7s %8.2fs  requests %s  provider RSS %s  %s", v.name, formatLatency(latency), n, op,
				r.wall.Seconds(), formatCounts(r.requests), formatMB(r.rss), firstLine(r.failure))
			if r.failure != "" && op == opApply {
				return c, nil // nothing sensible follows a failed apply
			}
		}
	}
	return c, nil
}

// runOperation runs one CLI command with a provider process of its own, so
// that the provider's peak RSS and CPU time belong to that command alone
// (and the process's start and stop).
func (b *bench) runOperation(ctx context.Context, tf *tfexec.Terraform, v variant, op string, n int, em *emulator.Running) (opResult, error) {
	prov, err := b.startProvider(ctx, v)
	if err != nil {
		return opResult{}, err
	}
	defer prov.stop()
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()

	em.ResetCounts()
	reattach := tfexec.Reattach(prov.reattach)
	var changed bool
	start := time.Now()
	switch op {
	case opApply:
		err = tf.Apply(opCtx, reattach)
	case opPlan:
		changed, err = tf.Plan(opCtx, reattach)
	case opDestroy:
		err = tf.Destroy(opCtx, reattach)
	}
	r := opResult{wall: time.Since(start), requests: em.RequestCounts(), planChanged: changed}
	if opCtx.Err() != nil {
		return r, fmt.Errorf("%s in %s: %w", op, tf.WorkingDir(), opCtx.Err())
	}
	var usageErr error
	if r.rss, r.cpu, usageErr = prov.usage(); usageErr != nil {
		return r, usageErr
	}
	switch {
	case err != nil:
		r.failure = err.Error()
	case changed:
		r.failure = "the plan after apply is not empty"
	case op == opApply && em.CertificateCount(benchAccountID) != n:
		r.failure = fmt.Sprintf("%d certificates stored after apply, want %d", em.CertificateCount(benchAccountID), n)
	}
	return r, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
