package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

func TestParseFlagsVariants(t *testing.T) {
	opts, err := parseFlags([]string{"-n", "100,10,100", "-latency", "50ms,0", "-variant", "batch=batch_refresh = true"})
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.counts; len(got) != 2 || got[0] != 10 || got[1] != 100 {
		t.Errorf("counts = %v, want [10 100]", got)
	}
	if got := opts.latencies; len(got) != 2 || got[0] != 0 || got[1] != 50*time.Millisecond {
		t.Errorf("latencies = %v, want [0 50ms]", got)
	}
	if len(opts.variants) != 2 || opts.variants[0].name != "default" || opts.variants[1].hcl != "batch_refresh = true" {
		t.Errorf("variants = %+v", opts.variants)
	}
	if opts.effectiveParallelism() != defaultCLIParallelism {
		t.Errorf("parallelism = %d", opts.effectiveParallelism())
	}

	for _, bad := range [][]string{
		{"-variant", "default=x = 1"},
		{"-variant", "nohcl"},
		{"-variant", "a=x = 1", "-variant", "a=y = 2"},
		{"-n", "0"},
		{"-latency", "-5ms"},
		{"-enforce", "some"},
		{"-variant", "floor=x = 1"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestParseFlagsFloor(t *testing.T) {
	opts, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.floorDir != defaultFloorDir || opts.floorExplicit {
		t.Errorf("default: floorDir = %q, explicit = %v", opts.floorDir, opts.floorExplicit)
	}
	if got := opts.measuredVariants(); len(got) != 2 || !got[1].floor {
		t.Errorf("measured variants = %+v, want default and the floor", got)
	}
	if opts, err = parseFlags([]string{"-floor", ""}); err != nil {
		t.Fatal(err)
	}
	if opts.floorDir != "" || !opts.floorExplicit || len(opts.measuredVariants()) != 1 {
		t.Errorf("-floor '': floorDir = %q, explicit = %v, variants %+v", opts.floorDir, opts.floorExplicit, opts.measuredVariants())
	}
}

func TestPrepareFloorWithoutTheFloor(t *testing.T) {
	// The default directory is optional: missing, the floor is not measured.
	b := &bench{root: t.TempDir(), opts: options{floorDir: defaultFloorDir}}
	if err := b.prepareFloor(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b.opts.floorDir != "" || b.floor != "" || b.env.floorMissing != "no "+defaultFloorDir {
		t.Errorf("floorDir = %q, floor = %q, missing = %q", b.opts.floorDir, b.floor, b.env.floorMissing)
	}
	// One given with -floor is not.
	b = &bench{root: t.TempDir(), opts: options{floorDir: "floor", floorExplicit: true}}
	if err := b.prepareFloor(t.Context()); err == nil {
		t.Error("a missing -floor directory was accepted")
	}
}

func TestFloorWorkspace(t *testing.T) {
	dir := t.TempDir()
	if err := writeWorkspace(dir, "http://127.0.0.1:1/client/v4", "tok", floorVariant, []string{"PEM"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "main.tf")) //nolint:gosec // G304: the file this test just wrote.
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	for _, want := range []string{
		`source = "registry.terraform.io/heldout/floor"`,
		`provider "floor" {`, `base_url  = "http://127.0.0.1:1/client/v4"`, `api_token = "tok"`,
		`resource "floor_certificate" "c" {`, `account_id   = "` + benchAccountID + `"`, `certificates = var.pems[count.index]`,
	} {
		if !strings.Contains(config, want) {
			t.Errorf("the floor's main.tf lacks %q:\n%s", want, config)
		}
	}
	if strings.Contains(config, "mtls") {
		t.Errorf("the floor's main.tf names our provider:\n%s", config)
	}
}

func TestReattachWatcher(t *testing.T) {
	w := &reattachWatcher{found: make(chan string, 1)}
	value := `{"registry.terraform.io/tf-mtls/mtls":{"Protocol":"grpc","Pid":1}}`
	// Written in pieces, as a pipe may deliver it.
	out := "Provider started. To attach Terraform CLI, set ...:\n\n\tTF_REATTACH_PROVIDERS='" + value + "'\n\nlater output\n"
	for len(out) > 0 {
		n := min(7, len(out))
		if _, err := w.Write([]byte(out[:n])); err != nil {
			t.Fatal(err)
		}
		out = out[n:]
	}
	select {
	case got := <-w.found:
		if got != value {
			t.Errorf("reattach = %q, want %q", got, value)
		}
	default:
		t.Fatal("no reattach value found")
	}
}

// fakeCell builds a cell of the default variant whose operations took the
// given wall times, made the given requests and used 1s of provider CPU each.
func fakeCell(n int, latency time.Duration, walls map[string]time.Duration, requests map[string]map[string]int) *cell {
	run := map[string]opResult{}
	for _, op := range operations {
		run[op] = opResult{wall: walls[op], requests: requests[op], provider: processUsage{peakRSS: 40_000_000, cpu: time.Second}}
	}
	return &cell{variant: "default", latency: latency, n: n, runs: []map[string]opResult{run}}
}

// asFloor makes c a cell of the floor.
func asFloor(c *cell) *cell {
	c.variant = floorVariant.name
	return c
}

// withCPU sets the provider CPU time of every operation of c.
func withCPU(c *cell, cpu time.Duration) *cell {
	for _, r := range c.runs {
		for op, res := range r {
			res.provider.cpu = cpu
			r[op] = res
		}
	}
	return c
}

func wellBehaved(n int) map[string]map[string]int {
	return map[string]map[string]int{
		opApply:   {emulator.RouteUpload: n},
		opPlan:    {emulator.RouteGet: n},
		opDestroy: {emulator.RouteGet: n, emulator.RouteDelete: n},
	}
}

// testReport evaluates the cells of a run at N=1000, 0 and 50ms; without
// withFloor, as with -floor ”.
func testReport(withFloor bool, cells ...*cell) *report {
	opts, _ := parseFlags([]string{"-n", "1000", "-latency", "0,50ms"})
	env := environment{parallelism: 10, binarySize: 20_000_000, floorDir: "/floor"}
	if !withFloor {
		opts.floorDir, opts.floorExplicit = "", true
		env.floorDir, env.floorMissing = "", "-floor ''"
	}
	rep := &report{
		opts:         opts,
		env:          env,
		startup:      startupStats{runs: 1, median: 30 * time.Millisecond},
		floorStartup: startupStats{runs: 1, median: 25 * time.Millisecond},
		cells:        cells,
	}
	rep.targets = evaluateTargets(rep)
	return rep
}

// results maps the report's target names to their results.
func results(rep *report) map[string]result {
	out := map[string]result{}
	for _, tg := range rep.targets {
		out[tg.variant+": "+tg.name] = tg.result
	}
	return out
}

func TestTargetsPassForAWellBehavedProvider(t *testing.T) {
	zero := map[string]time.Duration{opApply: 20 * time.Second, opPlan: 10 * time.Second, opDestroy: 20 * time.Second}
	// Bounds at N=1000, parallelism 10, 50ms: apply 5s, plan 5s, destroy 10s.
	slow := map[string]time.Duration{opApply: 26 * time.Second, opPlan: 16 * time.Second, opDestroy: 31 * time.Second}
	rep := testReport(true,
		fakeCell(1000, 0, zero, wellBehaved(1000)), fakeCell(1000, 50*time.Millisecond, slow, wellBehaved(1000)),
		asFloor(fakeCell(1000, 0, zero, wellBehaved(1000))), asFloor(fakeCell(1000, 50*time.Millisecond, slow, wellBehaved(1000))))
	for _, tg := range rep.targets {
		if tg.result != pass {
			t.Errorf("target %q [%s] is %s: %s", tg.name, tg.variant, tg.result, tg.measured)
		}
	}
	if failed := rep.enforcedFailures(enforceAll); len(failed) != 0 {
		t.Errorf("enforced failures: %+v", failed)
	}
	text := rep.markdown()
	for _, want := range []string{"## API latency 50ms", "## Latency-attributable time", "| default | 1000 | destroy | 50ms | 20.00 s | 31.00 s | 11.00 s | 10.00 s | 1.10× | 0 |"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestTargetsCatchReadBackAndSerialization(t *testing.T) {
	zero := map[string]time.Duration{opApply: 20 * time.Second, opPlan: 10 * time.Second, opDestroy: 20 * time.Second}
	serial := map[string]time.Duration{opApply: 80 * time.Second, opPlan: 16 * time.Second, opDestroy: 31 * time.Second}
	readBack := wellBehaved(1000)
	readBack[opApply] = map[string]int{emulator.RouteUpload: 1000, emulator.RouteGet: 1000}
	rep := testReport(false, fakeCell(1000, 0, zero, wellBehaved(1000)), fakeCell(1000, 50*time.Millisecond, serial, readBack))

	failed := map[string]string{}
	for _, tg := range rep.targets {
		if tg.result == fail {
			failed[tg.name] = tg.kind
		}
	}
	if kind, ok := failed["apply: exactly 1 upload per certificate, no read-back"]; !ok || kind != kindRequests {
		t.Errorf("the read-back was not caught as a request target: %v", failed)
	}
	if _, ok := failed["apply: T(50ms) − T(0) at N=1000 within 1.3× the parallel bound"]; !ok {
		t.Errorf("the serialized apply was not caught: %v", failed)
	}
	if len(failed) != 2 {
		t.Errorf("failed = %v, want exactly the two above", failed)
	}
	if got := rep.enforcedFailures(enforceRequests); len(got) != 1 {
		t.Errorf("enforced at level requests = %d targets, want 1", len(got))
	}
}

// The floor at N=1000, 50ms: apply 10s, plan 5s, destroy 10s, and 2s of
// CPU per operation, 6ms per certificate over the cycle.
var floorWalls = map[string]time.Duration{opApply: 10 * time.Second, opPlan: 5 * time.Second, opDestroy: 10 * time.Second}

const (
	floorCPU = 2 * time.Second
	// The names of the targets against the floor, as results() keys them.
	applyVsFloor   = "default: apply: wall time at N=1000, 50ms within 1.2× the floor's"
	planVsFloor    = "default: plan: wall time at N=1000, 50ms within 1.2× the floor's"
	destroyVsFloor = "default: destroy: wall time at N=1000, 50ms within 1.2× the floor's"
	cpuVsFloor     = "default: provider CPU per certificate (apply + plan + destroy) at N=1000, 50ms within 1.2× the floor's"
)

func TestFloorTargetsAtTheirThresholds(t *testing.T) {
	atLimit := map[string]time.Duration{opApply: 12 * time.Second, opPlan: 6 * time.Second, opDestroy: 12 * time.Second}
	over := map[string]time.Duration{opApply: 12*time.Second + time.Millisecond, opPlan: 6 * time.Second, opDestroy: 12 * time.Second}
	for _, tc := range []struct {
		name   string
		walls  map[string]time.Duration
		cpu    time.Duration // per operation; the floor's is 2s
		failed []string
	}{
		{name: "at the limits", walls: atLimit, cpu: 2400 * time.Millisecond},
		{name: "faster than the floor", walls: floorWalls, cpu: time.Second},
		{name: "apply just over", walls: over, cpu: 2400 * time.Millisecond, failed: []string{applyVsFloor}},
		{name: "CPU just over", walls: atLimit, cpu: 2400*time.Millisecond + time.Millisecond, failed: []string{cpuVsFloor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := 50 * time.Millisecond
			rep := testReport(true,
				withCPU(fakeCell(1000, l, tc.walls, wellBehaved(1000)), tc.cpu),
				withCPU(asFloor(fakeCell(1000, l, floorWalls, wellBehaved(1000))), floorCPU))
			got := results(rep)
			for _, name := range []string{applyVsFloor, planVsFloor, destroyVsFloor, cpuVsFloor} {
				want := pass
				if strings.Contains(strings.Join(tc.failed, "\n"), name) {
					want = fail
				}
				if r, ok := got[name]; !ok || r != want {
					t.Errorf("%q = %v (present %v), want %v", name, r, ok, want)
				}
			}
			// Machine-dependent: reported, never enforced at the CI level.
			if f := rep.enforcedFailures(enforceRequests); len(f) != 0 {
				t.Errorf("enforced at level requests: %+v", f)
			}
			if f := rep.enforcedFailures(enforceAll); len(f) != len(tc.failed) {
				t.Errorf("enforced at level all: %d targets, want %d", len(f), len(tc.failed))
			}
		})
	}
}

func TestFloorTargetsNotMeasuredWithoutTheFloor(t *testing.T) {
	rep := testReport(false, fakeCell(1000, 50*time.Millisecond, floorWalls, wellBehaved(1000)))
	got := results(rep)
	for _, name := range []string{applyVsFloor, planVsFloor, destroyVsFloor, cpuVsFloor} {
		if r, ok := got[name]; !ok || r != notMeasured {
			t.Errorf("%q = %v (present %v), want not measured", name, r, ok)
		}
	}
	if f := rep.enforcedFailures(enforceAll); len(f) != 0 {
		t.Errorf("not measured targets are enforced: %+v", f)
	}
	text := rep.markdown()
	for _, want := range []string{
		"| Floor | not measured (-floor '') |",
		"The floor was not measured (-floor ''), so the ratios to it were not measured.",
		"| default | 1000 | 50ms | 3.00 ms |\n",
		"| 10.00 s; the floor was not measured (-floor '') | ≤ 1.2 × the floor's | not measured |",
		"`go run ./tools/bench -n 1000 -latency 0ms,50ms -floor ''`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestFloorTargetsOnlyAtNEquals1000And50ms(t *testing.T) {
	// Ratios at small N are noise: shown, never judged.
	l := 50 * time.Millisecond
	slow := map[string]time.Duration{opApply: 30 * time.Second, opPlan: 30 * time.Second, opDestroy: 30 * time.Second}
	rep := testReport(true,
		withCPU(fakeCell(10, l, slow, wellBehaved(10)), 10*time.Second),
		asFloor(fakeCell(10, l, floorWalls, wellBehaved(10))))
	rep.opts.counts = []int{10}
	rep.targets = evaluateTargets(rep)
	for name := range results(rep) {
		if strings.Contains(name, "the floor's") {
			t.Errorf("a target against the floor at N=10: %q", name)
		}
	}
	if f := rep.enforcedFailures(enforceRequests); len(f) != 0 {
		t.Errorf("enforced failures: %+v", f)
	}
	text := rep.markdown()
	for _, want := range []string{
		"| default | 10 | 50ms | 3000.00 ms | 3.00× | 6.00× | 3.00× | 10.00× |",
		"| floor | 10 | 50ms | 300.00 ms | — | — | — | — |",
		"This run did not cover the targets on the latency bound (N = 1000 at 0 and another latency); peak RSS (N = 1000); ratios to the floor (N = 1000 at 50ms); a shared token and a large account (-scale on).",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestFloorFailureIsNotOurs(t *testing.T) {
	l := 50 * time.Millisecond
	floor := asFloor(fakeCell(1000, l, floorWalls, wellBehaved(1000)))
	for op, res := range floor.runs[0] {
		res.failure = "exit status 1: boom"
		floor.runs[0][op] = res
	}
	rep := testReport(true, fakeCell(1000, l, floorWalls, wellBehaved(1000)), floor)
	got := results(rep)
	for _, name := range []string{applyVsFloor, cpuVsFloor} {
		if got[name] != notMeasured {
			t.Errorf("%q = %v, want not measured", name, got[name])
		}
	}
	if got["floor: every CLI command succeeds"] != fail {
		t.Errorf("the floor's failed commands are not reported: %v", got)
	}
	if f := rep.enforcedFailures(enforceRequests); len(f) != 0 {
		t.Errorf("the floor's failure is enforced in CI: %+v", f)
	}
}

func TestAbsoluteLimitsAreInclusive(t *testing.T) {
	for _, tc := range []struct {
		rss     int64
		startup time.Duration
		want    result
	}{
		{rss: maxPeakRSSBytes, startup: maxStartup, want: pass},
		{rss: maxPeakRSSBytes + 1, startup: maxStartup + time.Microsecond, want: fail},
	} {
		c := fakeCell(1000, 50*time.Millisecond, floorWalls, wellBehaved(1000))
		for op, res := range c.runs[0] {
			res.provider.peakRSS = tc.rss
			c.runs[0][op] = res
		}
		rep := testReport(false, c)
		rep.startup.median = tc.startup
		rep.targets = evaluateTargets(rep)
		got := results(rep)
		for _, name := range []string{"default: provider peak RSS at N=1000", "—: provider start-up (exec to GetProviderSchema reply)"} {
			if r, ok := got[name]; !ok || r != tc.want {
				t.Errorf("RSS %d, start-up %s: %q = %v (present %v), want %v", tc.rss, tc.startup, name, r, ok, tc.want)
			}
		}
	}
}

func TestParseRPCBenchmarks(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkReadResource/loggers=off-2         	    1000	   1200000 ns/op	       0 log-B/op	  360000 B/op	    4000 allocs/op
BenchmarkReadResource/loggers=off-2         	    1000	   1000000 ns/op	       0 log-B/op	  360000 B/op	    4000 allocs/op
BenchmarkReadResource/loggers=off-2         	    1000	   1400000 ns/op	       0 log-B/op	  360000 B/op	    4002 allocs/op
BenchmarkValidateResourceConfig/loggers=none-2	    5000	    250000 ns/op	  115000 B/op	    1361 allocs/op
PASS
ok  	github.com/tf-mtls/terraform-provider-mtls/internal/provider	12.3s
`)
	got := parseRPCBenchmarks(out)
	if len(got) != 2 || got[0].name != "ReadResource/loggers=off" || got[1].name != "ValidateResourceConfig/loggers=none" {
		t.Fatalf("parsed %+v", got)
	}
	if got[0].medians["ns/op"] != 1200000 || got[0].medians["allocs/op"] != 4000 || got[0].medians["log-B/op"] != 0 {
		t.Errorf("medians %v, want ns/op 1200000, allocs/op 4000, log-B/op 0", got[0].medians)
	}
	if _, ok := got[1].medians["log-B/op"]; ok {
		t.Errorf("a benchmark that reports no log-B/op got one: %v", got[1].medians)
	}
	md := rpcMarkdown(got, 3)
	if !strings.Contains(md, "| ReadResource/loggers=off | 1200 µs | 360000 | 4000 | 0 |") || !strings.Contains(md, "| ValidateResourceConfig/loggers=none | 250 µs | 115000 | 1361 | — |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestReadBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	report := "# Benchmarks\n\n## Environment\n\n| | |\n|---|---|\n| Date (UTC) | 2026-12-01 23:00 |\n| CLI | OpenTofu v1.12.6 |\n" +
		"| Provider | commit a54e809 |\n\n## API latency 50ms\n\n| a | table |\n\n## Against the floor\n\n| ratio | 3.80× |\n\n" +
		"## Targets\n\n| t | FAIL |\n\n## Before\n\n| | |\n|---|---|\n| Provider | commit 0ld0ld0 |\n\n" +
		"## How the numbers were taken\n\n- prose\n"
	if err := os.WriteFile(path, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readBefore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Provider | commit a54e809 |", "### API latency 50ms", "### Against the floor\n\n| ratio | 3.80× |", "### Targets\n\n| t | FAIL |"} {
		if !strings.Contains(got, want) {
			t.Errorf("readBefore output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "prose") || strings.Contains(got, "## Environment") || strings.Contains(got, "0ld0ld0") {
		t.Errorf("readBefore kept sections it should not:\n%s", got)
	}
	if _, err := readBefore(filepath.Join(t.TempDir(), "missing.md")); err == nil {
		t.Error("a missing report gave no error")
	}
}

func TestParseFlagsScale(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-n", "10"}, false},                // make bench-quick
		{[]string{"-n", "10,100,1000"}, true},        // make bench
		{[]string{"-n", "10", "-scale", "on"}, true}, // a quick run with the section
		{[]string{"-n", "1000", "-scale", "off"}, false},
		{[]string{"-n", "1000", "-scale", "auto"}, true},
	} {
		opts, err := parseFlags(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := opts.runScale(); got != tc.want {
			t.Errorf("parseFlags(%q).runScale() = %v, want %v", tc.args, got, tc.want)
		}
	}
	if _, err := parseFlags([]string{"-scale", "yes"}); err == nil {
		t.Error("-scale yes was accepted")
	}
	opts, _ := parseFlags([]string{"-n", "10", "-scale", "on"})
	if got := (&report{opts: opts}).commandLine(); !strings.Contains(got, "-scale on") {
		t.Errorf("command line %q does not name -scale on", got)
	}
	opts, _ = parseFlags([]string{"-n", "1000"})
	if got := (&report{opts: opts}).commandLine(); strings.Contains(got, "-scale") {
		t.Errorf("command line %q names the default -scale", got)
	}
}

func TestWorkspaceNamePrefix(t *testing.T) {
	dir := t.TempDir()
	read := func() string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "main.tf")) //nolint:gosec // G304: the file this test just wrote.
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if err := writeWorkspace(dir, "http://127.0.0.1:1/client/v4", "tok", refreshModes[1], []string{"PEM"}); err != nil {
		t.Fatal(err)
	}
	if config := read(); !strings.Contains(config, `name         = "bench-${count.index}"`) || !strings.Contains(config, "  batch_refresh = false\n") {
		t.Errorf("main.tf:\n%s", config)
	}
	if err := writeWorkspaceNamed(dir, "http://127.0.0.1:1/client/v4", "tok", refreshModes[0], []string{"PEM"}, "w2"); err != nil {
		t.Fatal(err)
	}
	if config := read(); !strings.Contains(config, `name         = "w2-${count.index}"`) || strings.Contains(config, "batch_refresh") {
		t.Errorf("main.tf:\n%s", config)
	}
}

// sweepOutput is `go test -v` output of the sweep, as the test logs it.
const sweepOutput = `=== RUN   TestBatchRefreshShareSweep
    batch_refresh_share_test.go:98: share 0.125: 3 of 5000 refreshed with 1 list requests and 3 GETs in 52ms
    batch_refresh_share_test.go:111: | Managed of account | share 0.125 | share 0.25 (the default) | batch_refresh = false |
    batch_refresh_share_test.go:111: |---|--:|--:|--:|
    batch_refresh_share_test.go:111: | 3 of 5000 | 4 (1 list + 3 GET) | 4 (1 list + 3 GET) | 3 |
    batch_refresh_share_test.go:111: | 1000 of 1000 | 22 (20 list + 2 GET) | 24 (20 list + 4 GET) | 1000 |
--- PASS: TestBatchRefreshShareSweep (35.03s)
PASS
ok  	github.com/tf-mtls/terraform-provider-mtls/internal/provider	35.056s
`

func TestParseSweep(t *testing.T) {
	got := parseSweep([]byte(sweepOutput), nil)
	if got.failure != "" || len(got.table) != 4 {
		t.Fatalf("parsed %+v", got)
	}
	if got.table[0] != "| Managed of account | share 0.125 | share 0.25 (the default) | batch_refresh = false |" ||
		got.table[3] != "| 1000 of 1000 | 22 (20 list + 2 GET) | 24 (20 list + 4 GET) | 1000 |" {
		t.Errorf("table %q", got.table)
	}

	failed := strings.Replace(sweepOutput, "--- PASS", "    batch_refresh_share_test.go:100: at the default share 0.25, refreshing 3 of 5000 cost 6 requests\n--- FAIL", 1)
	got = parseSweep([]byte(failed), errors.New("exit status 1"))
	if got.failure == "" || len(got.table) != 4 {
		t.Errorf("a failed sweep: %+v", got)
	}
	skipped := "=== RUN   TestBatchRefreshShareSweep\n    batch_refresh_share_test.go:31: set MTLS_BENCH_SWEEP=1\n--- SKIP: TestBatchRefreshShareSweep (0.00s)\nPASS\n"
	if got = parseSweep([]byte(skipped), nil); got.failure == "" {
		t.Errorf("a skipped sweep passed: %+v", got)
	}
	if got = parseSweep([]byte("--- PASS: TestBatchRefreshShareSweep (1.00s)\n"), nil); got.failure == "" {
		t.Errorf("a sweep without its table passed: %+v", got)
	}
}

// fakeScale is a section whose figures meet every target.
func fakeScale() *scaleReport {
	return &scaleReport{
		latency: 50 * time.Millisecond, parallelism: 10,
		accounts: []accountPlan{
			{managed: 3, account: 5003, mode: "default", requests: map[string]int{emulator.RouteList: 1, emulator.RouteGet: 3}, wall: 240 * time.Millisecond},
			{managed: 3, account: 5003, mode: "batch_refresh = false", requests: map[string]int{emulator.RouteGet: 3}, wall: 180 * time.Millisecond},
			{managed: 1000, account: 1000, mode: "default", requests: map[string]int{emulator.RouteList: 20, emulator.RouteGet: 4}, wall: 9 * time.Second,
				from: "the N=1000 cycle at 50ms"},
			{managed: 1000, account: 1000, mode: "batch_refresh = false", failure: "exit status 1: boom\nmore"},
		},
		shared: []sharedRun{
			{mode: "default", wall: 3750 * time.Millisecond, stats: emulator.RateLimitStats{LowestRemaining: 36},
				requests: map[string]int{emulator.RouteUpload: 120, emulator.RouteList: 24, emulator.RouteDelete: 120}},
			{mode: "batch_refresh = false", wall: 64 * time.Second, stats: emulator.RateLimitStats{LowestRemaining: -1},
				requests: map[string]int{emulator.RouteUpload: 120, emulator.RouteGet: 240, emulator.RouteDelete: 120}},
		},
		sweep: parseSweep([]byte(sweepOutput), nil),
	}
}

// scaleResults are the results of the section's targets, by variant and name.
func scaleResults(s *scaleReport) map[string]result {
	out := map[string]result{}
	for _, tg := range scaleTargets(s) {
		if tg.kind != kindRequests {
			panic("a section target that CI would not enforce: " + tg.name)
		}
		out[tg.variant+": "+tg.name] = tg.result
	}
	return out
}

const (
	largeTarget    = "default: plan of 3 certificates in an account of 5000 others: not the whole listing"
	fullTarget     = "default: plan of 1000 certificates, the whole account: listed, not a GET each"
	sharedDefault  = "default: shared token, 4 workspaces × 30 certificates at 300 per 60 s: no request refused"
	sharedPerCert  = "batch_refresh = false: shared token, 4 workspaces × 30 certificates at 300 per 60 s: no request refused"
	sweepTargetKey = "—: batch share sweep (go test): at the default share, 3 of 5000 ≤ 4 requests and 1000 of 1000 ≤ 25"
)

func TestScaleTargetsAtTheirLimits(t *testing.T) {
	if got := scaleTargets(nil); got != nil {
		t.Errorf("targets without the section: %+v", got)
	}
	for _, tc := range []struct {
		name   string
		change func(*scaleReport)
		failed []string
	}{
		{name: "as measured", change: func(*scaleReport) {}},
		{name: "at the limits", change: func(s *scaleReport) {
			s.accounts[0].requests = map[string]int{emulator.RouteList: 2, emulator.RouteGet: 3}
			s.accounts[2].requests = map[string]int{emulator.RouteList: 20, emulator.RouteGet: 5}
		}},
		{name: "3 of 5000 lists a page too many", failed: []string{largeTarget}, change: func(s *scaleReport) {
			s.accounts[0].requests = map[string]int{emulator.RouteList: 3, emulator.RouteGet: 3}
		}},
		{name: "3 of 5000 uploads", failed: []string{largeTarget}, change: func(s *scaleReport) {
			s.accounts[0].requests = map[string]int{emulator.RouteList: 1, emulator.RouteUpload: 1}
		}},
		{name: "1000 of 1000 one request over", failed: []string{fullTarget}, change: func(s *scaleReport) {
			s.accounts[2].requests = map[string]int{emulator.RouteList: 20, emulator.RouteGet: 6}
		}},
		{name: "1000 of 1000 failed", failed: []string{fullTarget}, change: func(s *scaleReport) {
			s.accounts[2].failure = "apply failed: exit status 1"
		}},
		{name: "one refusal", failed: []string{sharedPerCert}, change: func(s *scaleReport) {
			s.shared[1].stats.Refused = 1
		}},
		{name: "a command failed", failed: []string{sharedDefault}, change: func(s *scaleReport) {
			s.shared[0].failures = []string{"workspace 2 plan: the plan after apply is not empty"}
		}},
		{name: "the sweep failed", failed: []string{sweepTargetKey}, change: func(s *scaleReport) {
			s.sweep.failure = "go test: exit status 1"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeScale()
			tc.change(s)
			got := scaleResults(s)
			for _, name := range []string{largeTarget, fullTarget, sharedDefault, sharedPerCert, sweepTargetKey} {
				want := pass
				if slices.Contains(tc.failed, name) {
					want = fail
				}
				if r, ok := got[name]; !ok || r != want {
					t.Errorf("%q = %v (present %v), want %v; all: %v", name, r, ok, want, got)
				}
			}
			// Request targets: CI fails on them.
			rep := testReport(false, fakeCell(1000, 50*time.Millisecond, floorWalls, wellBehaved(1000)))
			rep.scale = s
			rep.targets = evaluateTargets(rep)
			if f := rep.enforcedFailures(enforceRequests); len(f) != len(tc.failed) {
				t.Errorf("enforced failures: %+v, want %d", f, len(tc.failed))
			}
		})
	}
}

func TestScaleMarkdown(t *testing.T) {
	rep := testReport(false)
	rep.scale = fakeScale()
	text := rep.markdown()
	for _, want := range []string{
		"\n" + scaleHeading + "\n\n",
		"| 3 of 5003 | default | 1 | 3 | 4 | 0.24 s |  |\n",
		"| 3 of 5003 | batch_refresh = false | 0 | 3 | 3 | 0.18 s |  |\n",
		"| 1000 of 1000 | default | 20 | 4 | 24 | 9.00 s | from the N=1000 cycle at 50ms |\n",
		"| 1000 of 1000 | batch_refresh = false | | | | | exit status 1: boom |\n",
		"| default | 3.75 s | 120 | 0 | 24 | 120 | 0 | 264 | 0 | 36 | 0 |  |\n",
		"| batch_refresh = false | 64.00 s | 120 | 240 | 0 | 120 | 0 | 480 | 0 | — | 0 |  |\n",
		"300 requests per 60 s per token, and the token blocked for 60 s after a refusal",
		"| Managed of account | share 0.125 | share 0.25 (the default) | batch_refresh = false |\n|---|--:|--:|--:|\n| 3 of 5000 |",
		"The share is a bet on how many more refreshes come",
		"`MTLS_BENCH_SWEEP=1 go test ./internal/provider/ -run '^TestBatchRefreshShareSweep$' -v -count=1`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Before the targets, after the figures against the floor.
	if i, j, k := strings.Index(text, "## Against the floor"), strings.Index(text, scaleHeading), strings.Index(text, "## Targets"); i >= j || j >= k {
		t.Errorf("the section is not between the floor comparison and the targets: %d, %d, %d", i, j, k)
	}
	if strings.Contains(text, "-scale on)") {
		t.Error("a report with the section says it did not cover it")
	}
	rep.scale = nil
	if text := rep.markdown(); strings.Contains(text, scaleHeading) || !strings.Contains(text, "a shared token and a large account (-scale on)") {
		t.Error("a report without the section renders it, or does not say it is missing")
	}
}

func TestReusedPlan(t *testing.T) {
	l := 50 * time.Millisecond
	reads := wellBehaved(1000)
	reads[opPlan] = map[string]int{emulator.RouteList: 20, emulator.RouteGet: 3}
	walls := map[string]time.Duration{opApply: 9 * time.Second, opPlan: 8 * time.Second, opDestroy: 19 * time.Second}
	rep := testReport(false, fakeCell(1000, l, walls, reads))
	p, ok := reusedPlan(rep, refreshModes[0], l, 1000)
	if !ok || p.planTotal() != 23 || p.wall != 8*time.Second || p.from != "the N=1000 cycle at 50ms" || p.mode != "default" {
		t.Errorf("reused %+v, %v", p, ok)
	}
	if _, ok := reusedPlan(rep, refreshModes[0], 0, 1000); ok {
		t.Error("reused a cell the run does not have")
	}
	if _, ok := reusedPlan(rep, refreshModes[1], l, 1000); ok {
		t.Error("reused the default's plan for batch_refresh = false")
	}

	// A variant with the same settings, written differently, is reused.
	perGet := fakeCell(1000, l, walls, wellBehaved(1000))
	perGet.variant = "perget"
	rep.opts.variants = append(rep.opts.variants, variant{name: "perget", hcl: "batch_refresh   =\n false"})
	rep.cells = append(rep.cells, perGet)
	if p, ok := reusedPlan(rep, refreshModes[1], l, 1000); !ok || p.requests[emulator.RouteGet] != 1000 || !strings.Contains(p.from, "variant perget") {
		t.Errorf("reused %+v, %v", p, ok)
	}

	// A plan that failed in the cycles is measured again.
	res := rep.cells[0].runs[0][opPlan]
	res.failure = "the plan after apply is not empty"
	rep.cells[0].runs[0][opPlan] = res
	if _, ok := reusedPlan(rep, refreshModes[0], l, 1000); ok {
		t.Error("reused a failed plan")
	}
}
