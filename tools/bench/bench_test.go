package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"-n", "100,10,100", "-latency", "50ms,0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.counts; len(got) != 2 || got[0] != 10 || got[1] != 100 {
		t.Errorf("counts = %v, want [10 100]", got)
	}
	if got := opts.latencies; len(got) != 2 || got[0] != 0 || got[1] != 50*time.Millisecond {
		t.Errorf("latencies = %v, want [0 50ms]", got)
	}
	if opts.floorDir != defaultFloorDir {
		t.Errorf("default: floorDir = %q", opts.floorDir)
	}
	for _, bad := range [][]string{{"-n", "0"}, {"-n", "ten"}, {"-latency", "-5ms"}, {"-runs", "0"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestPrepareFloorWithoutTheFloor(t *testing.T) {
	// Without the floor's module, or with -floor '', the floor is not
	// measured, and the report says why.
	for _, dir := range []string{defaultFloorDir, ""} {
		b := &bench{root: t.TempDir(), opts: options{floorDir: dir}}
		if err := b.prepareFloor(t.Context()); err != nil {
			t.Fatal(err)
		}
		if b.floor != "" || b.env.floorDir != "" || b.env.floorMissing != fmt.Sprintf("no Go module at -floor %q", dir) {
			t.Errorf("-floor %q: floor = %q, missing = %q", dir, b.floor, b.env.floorMissing)
		}
	}
}

func TestWorkspaces(t *testing.T) {
	read := func(v variant) string {
		t.Helper()
		dir := t.TempDir()
		if err := writeWorkspace(dir, "http://127.0.0.1:1/client/v4", "tok", v, []string{"PEM"}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "main.tf")) //nolint:gosec // G304: the file this test just wrote.
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	// The sources must be the addresses the reattach values name.
	for v, want := range map[variant][]string{
		ourVariant: {`source = "` + ourAddress + `"`, `provider "mtls" {`, `account_id = "` + benchAccountID + `"`,
			`resource "mtls_certificate" "c" {`, `certificates = var.pems[count.index]`},
		floorVariant: {`source = "` + floorAddress + `"`, `provider "floor" {`, `base_url  = "http://127.0.0.1:1/client/v4"`,
			`resource "floor_certificate" "c" {`, `account_id   = "` + benchAccountID + `"`, `certificates = var.pems[count.index]`},
	} {
		config := read(v)
		for _, w := range want {
			if !strings.Contains(config, w) {
				t.Errorf("the %s main.tf lacks %q:\n%s", v.name, w, config)
			}
		}
	}
}

// fakeCell builds a cell of ours whose operations took the given wall
// times, made the given requests and used 1s of provider CPU and 40 MB each.
func fakeCell(n int, latency time.Duration, walls map[string]time.Duration, requests map[string]map[string]int) *cell {
	run := map[string]opResult{}
	for _, op := range operations {
		run[op] = opResult{wall: walls[op], requests: requests[op], rss: 40_000_000, cpu: time.Second}
	}
	return &cell{variant: ourVariant.name, latency: latency, n: n, runs: []map[string]opResult{run}}
}

// asFloor makes c a cell of the floor.
func asFloor(c *cell) *cell {
	c.variant = floorVariant.name
	return c
}

// change applies f to every operation of c.
func change(c *cell, f func(*opResult)) *cell {
	for _, r := range c.runs {
		for op, res := range r {
			f(&res)
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

// The floor at N=1000, 50ms: apply 10s, plan 5s, destroy 10s.
var floorWalls = map[string]time.Duration{opApply: 10 * time.Second, opPlan: 5 * time.Second, opDestroy: 10 * time.Second}

// testReport evaluates the cells of a run at N=1000, 0 and 50ms; without
// withFloor, as with -floor ”.
func testReport(withFloor bool, cells ...*cell) *report {
	opts, _ := parseFlags([]string{"-n", "1000", "-latency", "0,50ms"})
	env := environment{binarySize: 20_000_000, floorDir: "/floor"}
	if !withFloor {
		opts.floorDir = ""
		env.floorDir, env.floorMissing = "", `no Go module at -floor ""`
	}
	rep := &report{opts: opts, env: env, startup: startupStats{30 * time.Millisecond}, cells: cells}
	rep.targets = evaluateTargets(rep)
	return rep
}

// results maps "provider: target" to the result, and counts the enforced failures.
func results(rep *report) (map[string]result, int) {
	out, enforced := map[string]result{}, 0
	for _, tg := range rep.targets {
		out[tg.provider+": "+tg.name] = tg.result
		if tg.enforced && tg.result == fail {
			enforced++
		}
	}
	return out, enforced
}

const (
	applyRequests  = "mtls: apply: exactly 1 upload per certificate, no read-back"
	planRequests   = "mtls: plan (refresh): at most 1 request per certificate"
	destroyRequest = "mtls: destroy: exactly 1 DELETE per certificate beyond the CLI's refresh"
	succeeds       = "mtls: every CLI command succeeds"
	emptyPlan      = "mtls: plan after apply shows no changes"
	applyVsFloor   = "mtls: apply: wall time at N=1000, 50ms within 1.2× the floor's"
	planVsFloor    = "mtls: plan: wall time at N=1000, 50ms within 1.2× the floor's"
	destroyVsFloor = "mtls: destroy: wall time at N=1000, 50ms within 1.2× the floor's"
	cpuVsFloor     = "mtls: provider CPU per certificate (apply + plan + destroy) at N=1000, 50ms within 1.2× the floor's"
	peakRSS        = "mtls: provider peak RSS at N=1000"
	startup        = "mtls: provider start-up (exec to GetProviderSchema reply)"
)

func TestRequestTargets(t *testing.T) {
	l := 50 * time.Millisecond
	for _, tc := range []struct {
		name   string
		modify func(*opResult, string)
		failed []string
	}{
		{name: "well behaved", modify: func(*opResult, string) {}},
		{name: "a listing refresh", modify: func(r *opResult, op string) {
			if op != opApply {
				r.requests = map[string]int{emulator.RouteList: 20, emulator.RouteDelete: r.requests[emulator.RouteDelete]}
			}
		}},
		{name: "apply reads back", failed: []string{applyRequests}, modify: func(r *opResult, op string) {
			if op == opApply {
				r.requests = map[string]int{emulator.RouteUpload: 1000, emulator.RouteGet: 1}
			}
		}},
		{name: "apply uploads twice", failed: []string{applyRequests}, modify: func(r *opResult, op string) {
			if op == opApply {
				r.requests = map[string]int{emulator.RouteUpload: 1001}
			}
		}},
		{name: "plan reads twice", failed: []string{planRequests}, modify: func(r *opResult, op string) {
			if op == opPlan {
				r.requests = map[string]int{emulator.RouteGet: 1000, emulator.RouteList: 1}
			}
		}},
		{name: "plan asks for associations", failed: []string{planRequests}, modify: func(r *opResult, op string) {
			if op == opPlan {
				r.requests = map[string]int{emulator.RouteList: 20, emulator.RouteAssociations: 1}
			}
		}},
		{name: "destroy deletes twice", failed: []string{destroyRequest}, modify: func(r *opResult, op string) {
			if op == opDestroy {
				r.requests = map[string]int{emulator.RouteList: 20, emulator.RouteDelete: 1001}
			}
		}},
		{name: "a command fails", failed: []string{succeeds}, modify: func(r *opResult, op string) {
			if op == opDestroy {
				r.failure = "exit status 1\nError: boom"
			}
		}},
		{name: "the plan is not empty", failed: []string{emptyPlan}, modify: func(r *opResult, op string) {
			if op == opPlan {
				r.failure, r.planChanged = "the plan after apply is not empty", true
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeCell(1000, l, floorWalls, wellBehaved(1000))
			for op, res := range c.runs[0] {
				tc.modify(&res, op)
				c.runs[0][op] = res
			}
			got, enforced := results(testReport(false, c))
			for _, name := range []string{applyRequests, planRequests, destroyRequest, succeeds, emptyPlan} {
				want := pass
				if strings.Contains(strings.Join(tc.failed, "\n"), name) {
					want = fail
				}
				if r, ok := got[name]; !ok || r != want {
					t.Errorf("%q = %v (present %v), want %v", name, r, ok, want)
				}
			}
			// CI fails on each of them.
			if enforced != len(tc.failed) {
				t.Errorf("%d enforced failures, want %d", enforced, len(tc.failed))
			}
		})
	}
	// A run that measured nothing meets nothing.
	if got, _ := results(testReport(false)); got[applyRequests] != fail || got[succeeds] != fail {
		t.Errorf("targets of an empty run: %v", got)
	}
}

func TestFloorTargetsAtTheirThresholds(t *testing.T) {
	l := 50 * time.Millisecond
	atLimit := map[string]time.Duration{opApply: 12 * time.Second, opPlan: 6 * time.Second, opDestroy: 12 * time.Second}
	over := map[string]time.Duration{opApply: 12*time.Second + time.Millisecond, opPlan: 6 * time.Second, opDestroy: 12 * time.Second}
	for _, tc := range []struct {
		name   string
		walls  map[string]time.Duration
		cpu    time.Duration // per operation; the floor's is 1s
		failed []string
	}{
		{name: "at the limits", walls: atLimit, cpu: 1200 * time.Millisecond},
		{name: "faster than the floor", walls: floorWalls, cpu: 500 * time.Millisecond},
		{name: "apply just over", walls: over, cpu: 1200 * time.Millisecond, failed: []string{applyVsFloor}},
		{name: "CPU just over", walls: atLimit, cpu: 1200*time.Millisecond + time.Millisecond, failed: []string{cpuVsFloor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := testReport(true,
				change(fakeCell(1000, l, tc.walls, wellBehaved(1000)), func(r *opResult) { r.cpu = tc.cpu }),
				asFloor(fakeCell(1000, l, floorWalls, wellBehaved(1000))))
			got, enforced := results(rep)
			for _, name := range []string{applyVsFloor, planVsFloor, destroyVsFloor, cpuVsFloor} {
				want := pass
				if strings.Contains(strings.Join(tc.failed, "\n"), name) {
					want = fail
				}
				if r, ok := got[name]; !ok || r != want {
					t.Errorf("%q = %v (present %v), want %v", name, r, ok, want)
				}
			}
			// Machine-dependent: reported, never enforced.
			if enforced != 0 {
				t.Errorf("%d enforced failures", enforced)
			}
		})
	}
}

func TestFloorTargetsNeedTheFloor(t *testing.T) {
	l := 50 * time.Millisecond
	rep := testReport(false, fakeCell(1000, l, floorWalls, wellBehaved(1000)))
	got, _ := results(rep)
	for _, name := range []string{applyVsFloor, planVsFloor, destroyVsFloor, cpuVsFloor} {
		if r, ok := got[name]; !ok || r != notMeasured {
			t.Errorf("without the floor: %q = %v (present %v), want not measured", name, r, ok)
		}
	}
	text := rep.markdown()
	for _, want := range []string{
		"| Floor | not measured (no Go module at -floor \"\") |",
		"| 1000 | 50ms | 3.00 ms | — | — | — | — | — |\n",
		"| 10.00 s; no figure from the floor (no Go module at -floor \"\") | ≤ 1.2 × the floor's | not measured |",
		"`go run ./tools/bench -n 1000 -latency 0s,50ms -floor ''`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}

	// The floor's failures void its figures; they are not ours to enforce.
	floor := change(asFloor(fakeCell(1000, l, floorWalls, wellBehaved(1000))), func(r *opResult) { r.failure = "exit status 1" })
	got, enforced := results(testReport(true, fakeCell(1000, l, floorWalls, wellBehaved(1000)), floor))
	if got[applyVsFloor] != notMeasured || got[cpuVsFloor] != notMeasured || got[succeeds] != pass || enforced != 0 {
		t.Errorf("with a failing floor: %v, %d enforced", got, enforced)
	}

	// Ratios at small N are noise: shown, never judged.
	slow := map[string]time.Duration{opApply: 30 * time.Second, opPlan: 30 * time.Second, opDestroy: 30 * time.Second}
	rep = testReport(true, fakeCell(10, l, slow, wellBehaved(10)), asFloor(fakeCell(10, l, floorWalls, wellBehaved(10))))
	rep.opts.counts = []int{10}
	got, _ = results(rep)
	if _, ok := got[applyVsFloor]; ok {
		t.Errorf("a target against the floor at N=10: %v", got)
	}
	text = rep.markdown()
	for _, want := range []string{
		"| 10 | 50ms | 300.00 ms | 300.00 ms | 1.00× | 3.00× | 6.00× | 3.00× |",
		"This run did not cover the targets at N=1000 and 50ms",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestAbsoluteLimitsAreInclusive(t *testing.T) {
	for _, tc := range []struct {
		rss     int64
		startup time.Duration
		want    result
	}{
		{rss: maxPeakRSS, startup: maxStartup, want: pass},
		{rss: maxPeakRSS + 1, startup: maxStartup + time.Microsecond, want: fail},
	} {
		c := change(fakeCell(1000, 50*time.Millisecond, floorWalls, wellBehaved(1000)), func(r *opResult) { r.rss = tc.rss })
		rep := testReport(false, c)
		rep.startup = startupStats{tc.startup}
		rep.targets = evaluateTargets(rep)
		got, _ := results(rep)
		for _, name := range []string{peakRSS, startup} {
			if r, ok := got[name]; !ok || r != tc.want {
				t.Errorf("RSS %d, start-up %s: %q = %v (present %v), want %v", tc.rss, tc.startup, name, r, ok, tc.want)
			}
		}
	}
}

// rpcOutput is go test -bench output of two per-RPC benchmarks.
const rpcOutput = `goos: linux
BenchmarkReadResource/loggers=off-2         	    1000	   1200000 ns/op	       0 log-B/op	  360000 B/op	    4000 allocs/op
BenchmarkValidateResourceConfig/loggers=none-2	    5000	    250000 ns/op	  115000 B/op	    1361 allocs/op
PASS
`

func TestReadBefore(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		t.Helper()
		path := filepath.Join(dir, "BENCHMARKS.md")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A report of the previous format: no raw per-RPC output, a Before of its own.
	old := "# Benchmarks\n\n## Environment\n\n| | |\n|---|---|\n| Date (UTC) | 2026-12-01 23:00 |\n| CLI | OpenTofu v1.12.6 |\n" +
		"| Provider | commit a54e809 |\n\n## API latency 50ms\n\n| a | table |\n\n" +
		"## Targets\n\n| t | FAIL |\n\n## Before\n\n| | |\n|---|---|\n| Provider | commit 0ld0ld0 |\n\n### Targets\n\n| old | PASS |\n"
	got, err := readBefore(write(old))
	if err != nil {
		t.Fatal(err)
	}
	if got.targets != "| t | FAIL |" || got.rpcRaw != "" ||
		got.environment != "| Date (UTC) | 2026-12-01 23:00 |\n| CLI | OpenTofu v1.12.6 |\n| Provider | commit a54e809 |\n" {
		t.Errorf("readBefore = %+v", got)
	}

	// This run's report hands its raw per-RPC output to the next run.
	rep := testReport(false, fakeCell(10, 50*time.Millisecond, floorWalls, wellBehaved(10)))
	rep.opts.rpcRuns, rep.rpcRaw, rep.rpcStat = 1, rpcOutput, "benchstat's table\n"
	rep.targets = evaluateTargets(rep)
	got, err = readBefore(write(rep.markdown()))
	if err != nil {
		t.Fatal(err)
	}
	if got.rpcRaw != rpcOutput || !strings.HasPrefix(got.targets, "Request counts") || strings.Count(got.environment, "\n") != 3 {
		t.Errorf("readBefore = %+v", got)
	}

	if _, err := readBefore(write("# Benchmarks\n\n## Environment\n")); err == nil {
		t.Error("a report without targets gave no error")
	}
	if _, err := readBefore(filepath.Join(dir, "missing.md")); err == nil {
		t.Error("a missing report gave no error")
	}
}
