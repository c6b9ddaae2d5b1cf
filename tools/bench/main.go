// Command bench measures the provider as users run it: the binary, driven by
// a real Terraform/OpenTofu CLI through terraform-exec, against the
// in-process API emulator. For each API latency and certificate count it
// times apply, plan and destroy, counts their API requests by route and
// reads the provider's peak RSS and CPU time, beside the floor provider
// (-floor); it also times start-up, summarizes the per-RPC Go benchmarks
// with benchstat, and checks the targets (BENCHMARKS.md). It exits 1 when a
// request-count target is missed: `make bench-quick` is the CI check. Run
// from the repository root.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"
)

type options struct {
	counts      []int
	latencies   []time.Duration
	runs        int
	startupRuns int
	rpcRuns     int // 0: the per-RPC benchmarks do not run
	out         string
	cliPath     string
	before      string // an earlier report to compare with
	floorDir    string // "": the floor is not measured
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	missed, err := run(ctx, opts)
	stop()
	if err != nil {
		logf("%v", err)
	}
	if err != nil || missed {
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var opts options
	counts := fs.String("n", "10,100,1000", "comma-separated certificate counts")
	latencies := fs.String("latency", "0,50ms", "comma-separated API latencies the emulator adds (Go durations; 0 for none)")
	fs.IntVar(&opts.runs, "runs", 1, "apply/plan/destroy cycles per cell; tables show medians, request targets are checked on every cycle")
	fs.IntVar(&opts.startupRuns, "startup-runs", 20, "provider start-ups to time")
	fs.IntVar(&opts.rpcRuns, "rpc-runs", 0, "run the per-RPC Go benchmarks (internal/provider) this many times each and summarize them with benchstat; 0 skips them")
	fs.StringVar(&opts.out, "out", "", "also write the markdown report to this file (BENCHMARKS.md)")
	fs.StringVar(&opts.cliPath, "cli", "", "the terraform or tofu binary; default: what scripts/ensure-cli.sh finds")
	fs.StringVar(&opts.before, "before", "", "an earlier report (BENCHMARKS.md) whose targets the new one repeats and whose per-RPC runs benchstat compares with this run's")
	fs.StringVar(&opts.floorDir, "floor", defaultFloorDir, "the floor provider's source (a Go module), relative to the repository root; measured when it exists")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if opts.counts, err = parseList(*counts, "-n", strconv.Atoi); err != nil {
		return options{}, err
	}
	if opts.latencies, err = parseList(*latencies, "-latency", time.ParseDuration); err != nil {
		return options{}, err
	}
	switch { // the lists are sorted: their first value is the smallest
	case opts.counts[0] < 1:
		return options{}, errors.New("-n: certificate counts must be positive")
	case opts.latencies[0] < 0:
		return options{}, errors.New("-latency: latencies must not be negative")
	case opts.runs < 1:
		return options{}, errors.New("-runs must be at least 1")
	case opts.startupRuns < 1:
		return options{}, errors.New("-startup-runs must be at least 1")
	case opts.rpcRuns < 0:
		return options{}, errors.New("-rpc-runs must not be negative")
	}
	return opts, nil
}

// parseList parses a comma-separated flag value into sorted, distinct values.
func parseList[T cmp.Ordered](s, name string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for field := range strings.SplitSeq(s, ",") {
		v, err := parse(strings.TrimSpace(field))
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", name, field, err)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// run measures, writes the report and reports whether an enforced target
// was missed.
func run(ctx context.Context, opts options) (missed bool, err error) {
	started := time.Now()
	b, err := newBench(ctx, opts)
	if err != nil {
		return false, err
	}
	defer b.cleanup()
	rep, err := b.measure(ctx)
	if err != nil {
		return false, err
	}
	rep.total = time.Since(started)
	rep.env.loadEnd = loadAverage()

	text := rep.markdown()
	fmt.Print(text)
	if opts.out != "" {
		if err := os.WriteFile(opts.out, []byte(text), 0o644); err != nil { //nolint:gosec // G306: a report meant to be committed and read.
			return false, err
		}
		logf("wrote %s", opts.out)
	}
	for _, t := range rep.targets {
		if t.enforced && t.result == fail {
			logf("target missed: %s [%s]: %s (limit %s)", t.name, t.provider, t.measured, t.limit)
			missed = true
		}
	}
	return missed, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
