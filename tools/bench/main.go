// Command bench measures the provider the way users run it: the provider
// binary, driven by a real Terraform/OpenTofu CLI, against the in-process API
// emulator with a set latency. For every provider variant, API latency and
// certificate count N it times apply (from empty), a no-op plan with refresh
// and destroy; counts the API requests of each by route; and reads the
// provider's peak RSS and CPU. It also reports the binary size and the
// provider's start-up time, measures the floor (a minimal framework provider,
// -floor) the same way so that targets can be ratios to it, checks the
// targets of the performance issue, and renders the result as markdown
// (BENCHMARKS.md with -out).
//
// `make bench` runs the full matrix, `make bench-quick` the CI check (N=10,
// 50 ms, fails when a request-count target is missed). Run from the
// repository root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultCLIParallelism is what terraform and tofu use without -parallelism.
const defaultCLIParallelism = 10

// defaultFloorDir is where the floor's source is looked for, relative to the
// repository root; measured only when it exists.
const defaultFloorDir = "../shared/floor"

// Enforcement levels: which failed targets make the command exit non-zero.
const (
	enforceNone     = "none"
	enforceRequests = "requests"
	enforceAll      = "all"
)

type options struct {
	counts      []int
	latencies   []time.Duration
	variants    []variant
	parallelism int // 0: the CLI's default, not passed on the command line
	runs        int
	startupRuns int
	out         string
	cliPath     string
	enforce     string
	keep        bool
	opTimeout   time.Duration
	releaseSize bool
	// rpcRuns is how many times each per-RPC Go benchmark runs; 0 skips them.
	rpcRuns int
	// before is an earlier report whose figures the new one repeats.
	before string
	// floorDir is the floor's source directory; "" when it is not measured.
	floorDir      string
	floorExplicit bool // -floor was given: a missing directory is an error
}

// variant is one provider configuration to benchmark: extra attributes
// added to the provider block, reported as rows of their own.
type variant struct {
	name string
	hcl  string
	// floor marks the floor provider rather than ours.
	floor bool
}

// floorVariant is the row of the floor provider.
var floorVariant = variant{name: "floor", floor: true}

// measuredVariants are the rows the cells run: ours, then the floor.
func (o options) measuredVariants() []variant {
	if o.floorDir == "" {
		return o.variants
	}
	return append(o.variants[:len(o.variants):len(o.variants)], floorVariant)
}

// effectiveParallelism is the parallelism the CLI actually runs with.
func (o options) effectiveParallelism() int {
	if o.parallelism > 0 {
		return o.parallelism
	}
	return defaultCLIParallelism
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, opts)
	stop()
	os.Exit(code)
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var (
		opts      options
		counts    = fs.String("n", "10,100,1000", "comma-separated certificate counts")
		latencies = fs.String("latency", "0,50ms", "comma-separated API latencies added by the emulator (Go durations; 0 for none)")
		variants  variantFlag
	)
	fs.Var(&variants, "variant", "an extra provider configuration to benchmark, as `name=HCL` (attributes added to the provider block); repeatable. The variant \"default\" (no extra attributes) always runs first")
	fs.IntVar(&opts.parallelism, "parallelism", 0, "the CLI's -parallelism; 0 leaves the CLI's default (10)")
	fs.IntVar(&opts.runs, "runs", 1, "apply/plan/destroy cycles per cell; wall times are the median, request counts are checked on every cycle")
	fs.IntVar(&opts.startupRuns, "startup-runs", 20, "provider start-ups to time")
	fs.StringVar(&opts.out, "out", "", "write the markdown report to this file as well as to stdout (BENCHMARKS.md)")
	fs.StringVar(&opts.cliPath, "cli", "", "the terraform or tofu binary; default: what scripts/ensure-cli.sh finds")
	fs.StringVar(&opts.enforce, "enforce", enforceRequests, "which failed targets make the exit status non-zero: none, requests (request counts, a clean plan, no errors) or all")
	fs.BoolVar(&opts.keep, "keep", false, "keep the working directory (configurations, CLI output, state) and print its path")
	fs.StringVar(&opts.before, "before", "", "an earlier report (BENCHMARKS.md) whose latency tables, figures against the floor and targets the new report repeats under \"Before\"")
	fs.IntVar(&opts.rpcRuns, "rpc-runs", 0, "also run the per-RPC Go benchmarks (internal/provider) this many times each and report their medians; 0 skips them")
	fs.BoolVar(&opts.releaseSize, "release-size", true, "also build with the release flags to report that binary's size (a second, uncached build the first time)")
	fs.DurationVar(&opts.opTimeout, "op-timeout", 20*time.Minute, "time limit for one CLI command")
	fs.StringVar(&opts.floorDir, "floor", defaultFloorDir, "the floor provider's source directory (a Go module, built with go build), measured beside ours as the row \"floor\"; relative to the repository root; \"\" skips it. The default is used only when it exists")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	fs.Visit(func(f *flag.Flag) { opts.floorExplicit = opts.floorExplicit || f.Name == "floor" })
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	var err error
	if opts.counts, err = parseCounts(*counts); err != nil {
		return options{}, err
	}
	if opts.latencies, err = parseLatencies(*latencies); err != nil {
		return options{}, err
	}
	opts.variants = append([]variant{{name: "default"}}, variants...)
	switch {
	case opts.parallelism < 0:
		return options{}, errors.New("-parallelism must not be negative")
	case opts.runs < 1:
		return options{}, errors.New("-runs must be at least 1")
	case opts.rpcRuns < 0:
		return options{}, errors.New("-rpc-runs must not be negative")
	case opts.startupRuns < 1:
		return options{}, errors.New("-startup-runs must be at least 1")
	case !slices.Contains([]string{enforceNone, enforceRequests, enforceAll}, opts.enforce):
		return options{}, fmt.Errorf("-enforce must be none, requests or all, not %q", opts.enforce)
	}
	return opts, nil
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for field := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n: %q is not a positive certificate count", field)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func parseLatencies(s string) ([]time.Duration, error) {
	var out []time.Duration
	for field := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(field))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("-latency: %q is not a non-negative duration such as 0 or 50ms", field)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

type variantFlag []variant

var variantName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

func (f *variantFlag) String() string {
	names := make([]string, len(*f))
	for i, v := range *f {
		names[i] = v.name
	}
	return strings.Join(names, ",")
}

func (f *variantFlag) Set(s string) error {
	name, hcl, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	switch {
	case !ok || strings.TrimSpace(hcl) == "":
		return fmt.Errorf("want name=HCL, for example 'batch=batch_refresh = true', got %q", s)
	case !variantName.MatchString(name):
		return fmt.Errorf("variant name %q: use lowercase letters, digits, '-' and '_'", name)
	case name == "default" || name == floorVariant.name || slices.ContainsFunc(*f, func(v variant) bool { return v.name == name }):
		return fmt.Errorf("variant name %q is used twice (\"default\" and \"floor\" are taken)", name)
	}
	*f = append(*f, variant{name: name, hcl: hcl})
	return nil
}

func run(ctx context.Context, opts options) int {
	started := time.Now()
	b, err := newBench(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer b.cleanup()

	rep, err := b.measure(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	rep.total = time.Since(started)
	rep.env.loadEnd = loadAverage()

	text := rep.markdown()
	fmt.Print(text)
	if opts.out != "" {
		if err := os.WriteFile(opts.out, []byte(text), 0o644); err != nil { //nolint:gosec // G306: a report meant to be committed and read.
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", opts.out)
	}

	failed := rep.enforcedFailures(opts.enforce)
	for _, t := range failed {
		fmt.Fprintf(os.Stderr, "bench: target missed: %s [%s]: %s (limit %s)\n", t.name, t.variant, t.measured, t.limit)
	}
	if len(failed) > 0 {
		return 1
	}
	return 0
}
