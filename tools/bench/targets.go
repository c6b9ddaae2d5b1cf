package main

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// The limits of the performance issue. Ratios to the floor are judged at
// N = checkN and checkLatency: taken in the same run, they depend far less
// on the machine than absolute times, and at small N they are noise.
const (
	checkN        = 1000
	checkLatency  = 50 * time.Millisecond
	maxFloorRatio = 1.2 // wall time of each operation, and CPU per certificate
	maxPeakRSS    = 80_000_000
	maxStartup    = 50 * time.Millisecond
	maxBinary     = 30_000_000
)

type target struct {
	name, provider, measured, limit string
	// enforced: a miss fails the run (and CI). Request counts, clean plans
	// and successful commands depend only on the provider's logic; time,
	// size and memory depend on the machine and are reported.
	enforced bool
	result   result
}

// result is a target's verdict as the report shows it. notMeasured is
// neither pass nor fail: the run lacked what the target compares with.
type result string

const (
	pass        result = "PASS"
	fail        result = "**FAIL**"
	notMeasured result = "not measured"
)

func passIf(ok bool) result {
	if ok {
		return pass
	}
	return fail
}

// requestTargets judge the request counts of each operation on N
// certificates; check reports whether they meet the target.
var requestTargets = []struct {
	op, name, limit string
	check           func(n int, c map[string]int) bool
}{
	{
		op: opApply, name: "apply: exactly 1 upload per certificate, no read-back",
		limit: "upload = N; get, list, delete, associations = 0",
		check: func(n int, c map[string]int) bool { return c[emulator.RouteUpload] == n && total(c) == n },
	},
	{
		op: opPlan, name: "plan (refresh): at most 1 request per certificate",
		limit: "get + list ≤ N; no other route",
		check: func(n int, c map[string]int) bool {
			reads := c[emulator.RouteGet] + c[emulator.RouteList]
			return reads <= n && total(c) == reads
		},
	},
	{
		op: opDestroy, name: "destroy: exactly 1 DELETE per certificate beyond the CLI's refresh",
		limit: "delete = N; get + list ≤ N; no upload, no associations",
		check: func(n int, c map[string]int) bool {
			reads := c[emulator.RouteGet] + c[emulator.RouteList]
			return c[emulator.RouteDelete] == n && reads <= n && total(c) == reads+n
		},
	},
}

func evaluateTargets(rep *report) []target {
	ours := rep.cellsOf(ourVariant.name)
	out := outcomeTargets(ours)
	for _, rt := range requestTargets {
		out = append(out, perCommand(rt.name, rt.limit, ours, rt.op, func(c *cell, r opResult) string {
			if rt.check(c.n, r.requests) {
				return ""
			}
			return formatCounts(r.requests)
		}))
	}
	if t, ok := rssTarget(ours); ok {
		out = append(out, t)
	}
	out = append(out, floorTargets(rep)...)

	st := rep.startup
	startup := fmt.Sprintf("median %s, max %s over %d runs", formatMillis(median(st)), formatMillis(st[len(st)-1]), len(st))
	return append(out,
		target{name: "provider start-up (exec to GetProviderSchema reply)", provider: ourVariant.name, measured: startup,
			limit: "median ≤ " + formatMillis(maxStartup), result: passIf(median(st) <= maxStartup)},
		target{name: "provider binary size (go build)", provider: ourVariant.name, measured: formatMB(rep.env.binarySize),
			limit: "< " + formatMB(maxBinary), result: passIf(rep.env.binarySize < maxBinary)},
	)
}

// outcomeTargets: every command succeeds, and the plan after apply is empty.
// (The floor's failures are no fault of ours; they show in its rows, and
// void the ratios to it.)
func outcomeTargets(cells []*cell) []target {
	return []target{
		perCommand("every CLI command succeeds", "exit status 0", cells, "", func(_ *cell, r opResult) string {
			if r.planChanged {
				return "" // the plan ran; the next target judges its changes
			}
			return firstLine(r.failure)
		}),
		perCommand("plan after apply shows no changes", "-detailed-exitcode = 0", cells, opPlan, func(_ *cell, r opResult) string {
			if r.planChanged {
				return "changes"
			}
			return ""
		}),
	}
}

// perCommand is an enforced target on every command of op ("": of every
// operation) in cells; problem says what is wrong with one, "" when nothing.
func perCommand(name, limit string, cells []*cell, op string, problem func(*cell, opResult) string) target {
	var missed []string
	checked := 0
	for _, c := range cells {
		for _, r := range c.runs {
			for _, o := range operations {
				if res, ok := r[o]; ok && (op == "" || o == op) {
					checked++
					if p := problem(c, res); p != "" {
						missed = append(missed, fmt.Sprintf("%s N=%d at %s: %s", o, c.n, formatLatency(c.latency), p))
					}
				}
			}
		}
	}
	return target{name: name, provider: ourVariant.name, measured: summarize(missed, checked), limit: limit, enforced: true,
		result: passIf(len(missed) == 0 && checked > 0)}
}

// summarize reports the misses, or that every checked case met the target.
func summarize(missed []string, checked int) string {
	count := len(missed)
	switch {
	case checked == 0:
		return "not measured"
	case count == 0:
		return fmt.Sprintf("met in %d of %d", checked, checked)
	case count > 3:
		missed = append(missed[:3], "…")
	}
	return fmt.Sprintf("missed in %d of %d: %s", count, checked, strings.Join(missed, "; "))
}

// floorTargets compare ours with the floor at checkN and checkLatency, when
// this run had that cell.
func floorTargets(rep *report) []target {
	ours := rep.cell(ourVariant.name, checkLatency, checkN)
	if ours == nil {
		return nil
	}
	floor := rep.cell(floorVariant.name, checkLatency, checkN)
	var out []target
	for _, f := range floorFigures {
		t := target{
			name:     fmt.Sprintf("%s at N=%d, %s within %.1f× the floor's", f.name, checkN, formatLatency(checkLatency), maxFloorRatio),
			provider: ourVariant.name, limit: fmt.Sprintf("≤ %.1f × the floor's", maxFloorRatio),
		}
		our, ok := f.of(ours)
		base, baseOK := f.of(floor)
		switch {
		case !ok:
			t.measured, t.result = "operation failed", fail
		case !baseOK || base == 0:
			t.measured, t.result = f.format(our)+"; no figure from the floor ("+cmp.Or(rep.env.floorMissing, "its commands failed")+")", notMeasured
		default:
			ratio := float64(our) / float64(base)
			t.measured = fmt.Sprintf("%s vs the floor's %s (%.2f×)", f.format(our), f.format(base), ratio)
			t.limit += " = " + f.format(time.Duration(float64(base)*maxFloorRatio))
			t.result = passIf(ratio <= maxFloorRatio)
		}
		out = append(out, t)
	}
	return out
}

// floorFigures are the figures of a cell judged against the floor's, in
// the order of the report's columns.
var floorFigures = []struct {
	name   string
	of     func(*cell) (time.Duration, bool)
	format func(time.Duration) string
}{
	{"provider CPU per certificate (apply + plan + destroy)", (*cell).cpuPerCertificate, formatMillis},
	{"apply: wall time", func(c *cell) (time.Duration, bool) { return c.medianWall(opApply) }, formatSeconds},
	{"plan: wall time", func(c *cell) (time.Duration, bool) { return c.medianWall(opPlan) }, formatSeconds},
	{"destroy: wall time", func(c *cell) (time.Duration, bool) { return c.medianWall(opDestroy) }, formatSeconds},
}

func rssTarget(cells []*cell) (target, bool) {
	var peak int64
	where := ""
	for _, c := range cells {
		for _, r := range c.runs {
			for _, op := range operations {
				if res, ok := r[op]; ok && c.n == checkN && res.rss > peak {
					peak, where = res.rss, fmt.Sprintf("%s at %s", op, formatLatency(c.latency))
				}
			}
		}
	}
	return target{
		name: fmt.Sprintf("provider peak RSS at N=%d", checkN), provider: ourVariant.name,
		measured: fmt.Sprintf("%s (%s)", formatMB(peak), where), limit: "≤ " + formatMB(maxPeakRSS),
		result: passIf(peak <= maxPeakRSS),
	}, where != ""
}

func total(c map[string]int) int {
	sum := 0
	for _, v := range c {
		sum += v
	}
	return sum
}
