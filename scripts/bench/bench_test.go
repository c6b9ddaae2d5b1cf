package main

import (
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
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
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

// fakeCell builds a cell whose operations made the given requests.
func fakeCell(n int, latency time.Duration, walls map[string]time.Duration, requests map[string]map[string]int) *cell {
	run := map[string]opResult{}
	for _, op := range operations {
		run[op] = opResult{wall: walls[op], requests: requests[op], provider: processUsage{peakRSS: 40_000_000}}
	}
	return &cell{variant: "default", latency: latency, n: n, runs: []map[string]opResult{run}}
}

func wellBehaved(n int) map[string]map[string]int {
	return map[string]map[string]int{
		opApply:   {emulator.RouteUpload: n},
		opPlan:    {emulator.RouteGet: n},
		opDestroy: {emulator.RouteGet: n, emulator.RouteDelete: n},
	}
}

func testReport(cells ...*cell) *report {
	opts, _ := parseFlags([]string{"-n", "1000", "-latency", "0,50ms"})
	rep := &report{
		opts:    opts,
		env:     environment{parallelism: 10, binarySize: 20_000_000},
		startup: startupStats{runs: 1, median: 30 * time.Millisecond},
		cells:   cells,
	}
	rep.targets = evaluateTargets(rep)
	return rep
}

func TestTargetsPassForAWellBehavedProvider(t *testing.T) {
	zero := map[string]time.Duration{opApply: 20 * time.Second, opPlan: 10 * time.Second, opDestroy: 20 * time.Second}
	// Bounds at N=1000, parallelism 10, 50ms: apply 5s, plan 5s, destroy 10s.
	slow := map[string]time.Duration{opApply: 26 * time.Second, opPlan: 16 * time.Second, opDestroy: 31 * time.Second}
	rep := testReport(fakeCell(1000, 0, zero, wellBehaved(1000)), fakeCell(1000, 50*time.Millisecond, slow, wellBehaved(1000)))
	for _, tg := range rep.targets {
		if !tg.pass {
			t.Errorf("target %q failed: %s", tg.name, tg.measured)
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
	rep := testReport(fakeCell(1000, 0, zero, wellBehaved(1000)), fakeCell(1000, 50*time.Millisecond, serial, readBack))

	failed := map[string]string{}
	for _, tg := range rep.targets {
		if !tg.pass {
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
