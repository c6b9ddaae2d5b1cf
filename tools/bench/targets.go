package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// The limits of the performance issue.
const (
	latencyBoundFactor = 1.3
	boundCheckN        = 1000
	maxStartup         = 50 * time.Millisecond
	maxBinaryBytes     = 30_000_000
	maxPeakRSSBytes    = 80_000_000
	// Ratios to the floor, at N = boundCheckN and floorCheckLatency: taken in
	// the same run, they depend far less on the machine than absolute times.
	floorCheckLatency = 50 * time.Millisecond
	maxFloorWallRatio = 1.2
	maxFloorCPURatio  = 1.2
)

// Kinds of target: request counts (and clean, successful runs) depend only
// on the provider's logic and are enforced in CI; the rest depend on the
// machine and are reported.
const (
	kindRequests    = "requests"
	kindPerformance = "performance"
)

// requestsPerCertificate is how many round trips each certificate needs,
// one after the other, in an operation: the bound's last factor. Destroy
// has two: the CLI's refresh (a read) and then the delete.
var requestsPerCertificate = map[string]int{opApply: 1, opPlan: 1, opDestroy: 2}

type target struct {
	name     string
	variant  string
	kind     string
	measured string
	limit    string
	result   result
}

// result is a target's verdict. notMeasured is neither: the run lacked what
// the target compares with (the floor), so it is not enforced either.
type result int

const (
	fail result = iota
	pass
	notMeasured
)

// String is the verdict as the report's Result column shows it.
func (r result) String() string {
	switch r {
	case pass:
		return "PASS"
	case notMeasured:
		return "not measured"
	default:
		return "**FAIL**"
	}
}

func passIf(ok bool) result {
	if ok {
		return pass
	}
	return fail
}

// requestCheck judges the request counts of one operation on N certificates;
// it returns "" when they meet the target, otherwise what is wrong.
type requestCheck func(n int, c map[string]int) string

var requestTargets = []struct {
	op, name, limit string
	check           requestCheck
}{
	{
		op: opApply, name: "apply: exactly 1 upload per certificate, no read-back",
		limit: "upload = N; get, list, delete, associations = 0",
		check: func(n int, c map[string]int) string {
			if c[emulator.RouteUpload] == n && total(c) == n {
				return ""
			}
			return formatCounts(c)
		},
	},
	{
		op: opPlan, name: "plan (refresh): at most 1 request per certificate",
		limit: "get + list ≤ N; no other route",
		check: func(n int, c map[string]int) string {
			reads := c[emulator.RouteGet] + c[emulator.RouteList]
			if reads <= n && total(c) == reads {
				return ""
			}
			return formatCounts(c)
		},
	},
	{
		op: opDestroy, name: "destroy: exactly 1 DELETE per certificate beyond the CLI's refresh",
		limit: "delete = N; get + list ≤ N; no upload, no associations",
		check: func(n int, c map[string]int) string {
			reads := c[emulator.RouteGet] + c[emulator.RouteList]
			if c[emulator.RouteDelete] == n && reads <= n && total(c) == reads+n {
				return ""
			}
			return formatCounts(c)
		},
	},
}

func evaluateTargets(rep *report) []target {
	var out []target
	for _, v := range rep.opts.variants {
		cells := rep.cellsOf(v.name)
		out = append(out, outcomeTargets(v.name, cells)...)
		for _, rt := range requestTargets {
			var bad []string
			checked := 0
			for _, c := range cells {
				for _, r := range c.runs {
					res, ok := r[rt.op]
					if !ok {
						continue
					}
					checked++
					if problem := rt.check(c.n, res.requests); problem != "" {
						bad = append(bad, fmt.Sprintf("N=%d at %s: %s", c.n, formatLatency(c.latency), problem))
					}
				}
			}
			out = append(out, target{
				name: rt.name, variant: v.name, kind: kindRequests, limit: rt.limit,
				result: passIf(len(bad) == 0 && checked > 0), measured: summarize(bad, checked),
			})
		}
		out = append(out, latencyTargets(rep, v.name)...)
		if t, ok := rssTarget(v.name, cells); ok {
			out = append(out, t)
		}
	}
	out = append(out, floorTargets(rep)...)
	st := rep.startup
	startup := fmt.Sprintf("median %s, max %s over %d runs", formatMillis(st.median), formatMillis(st.worst), st.runs)
	if rep.opts.floorDir != "" {
		// An absolute limit, but the floor's figure shows how loaded the machine was.
		startup += fmt.Sprintf(" (the floor's median: %s)", formatMillis(rep.floorStartup.median))
	}
	out = append(out,
		target{
			name: "provider start-up (exec to GetProviderSchema reply)", variant: "—", kind: kindPerformance,
			measured: startup, limit: "median ≤ " + formatMillis(maxStartup), result: passIf(st.median <= maxStartup),
		},
		target{
			name: "provider binary size (go build)", variant: "—", kind: kindPerformance,
			measured: formatMB(rep.env.binarySize), limit: "< " + formatMB(maxBinaryBytes),
			result: passIf(rep.env.binarySize < maxBinaryBytes),
		},
	)
	return out
}

// floorTargets compare the default variant with the floor at N =
// boundCheckN and floorCheckLatency, when this run had that cell. The
// floor's own commands must succeed for its figures to mean anything; that
// is reported, not enforced, as it is no fault of our provider.
func floorTargets(rep *report) []target {
	var out []target
	if rep.opts.floorDir != "" {
		for _, t := range outcomeTargets(floorVariant.name, rep.cellsOf(floorVariant.name)) {
			t.kind = kindPerformance
			out = append(out, t)
		}
	}
	ours := rep.cell(rep.opts.variants[0].name, floorCheckLatency, boundCheckN)
	if ours == nil {
		return out
	}
	floor := rep.cell(floorVariant.name, floorCheckLatency, boundCheckN)
	at := fmt.Sprintf("at N=%d, %s", boundCheckN, formatLatency(floorCheckLatency))
	for _, cmp := range floorComparisons() {
		t := target{
			name:    fmt.Sprintf("%s %s within %.1f× the floor's", cmp.name, at, cmp.factor),
			variant: ours.variant, kind: kindPerformance,
			limit: fmt.Sprintf("≤ %.1f × the floor's", cmp.factor),
		}
		our, ourOK := cmp.figure(ours)
		var base time.Duration
		baseOK := false
		if floor != nil {
			base, baseOK = cmp.figure(floor)
		}
		switch {
		case !ourOK:
			t.measured, t.result = "operation failed", fail
		case rep.opts.floorDir == "":
			t.measured, t.result = cmp.format(our)+"; the floor was not measured ("+rep.env.floorMissing+")", notMeasured
		case !baseOK || base == 0:
			t.measured, t.result = cmp.format(our)+"; no figure from the floor (its commands failed)", notMeasured
		default:
			ratio := float64(our) / float64(base)
			t.measured = fmt.Sprintf("%s vs the floor's %s (%.2f×)", cmp.format(our), cmp.format(base), ratio)
			t.limit += " = " + cmp.format(time.Duration(float64(base)*cmp.factor))
			t.result = passIf(ratio <= cmp.factor)
		}
		out = append(out, t)
	}
	return out
}

// floorComparison is one figure of a cell that is judged against the
// floor's: ours must be at most factor times the floor's.
type floorComparison struct {
	name   string
	factor float64
	figure func(*cell) (time.Duration, bool)
	format func(time.Duration) string
}

func floorComparisons() []floorComparison {
	var out []floorComparison
	for _, op := range operations {
		out = append(out, floorComparison{
			name: op + ": wall time", factor: maxFloorWallRatio, format: formatSeconds,
			figure: func(c *cell) (time.Duration, bool) { return c.medianWall(op) },
		})
	}
	return append(out, floorComparison{
		name: "provider CPU per certificate (apply + plan + destroy)", factor: maxFloorCPURatio,
		format: formatPerCertificate, figure: (*cell).cpuPerCertificate,
	})
}

// outcomeTargets: every command succeeds, and the plan after apply is empty.
func outcomeTargets(variant string, cells []*cell) []target {
	var failed, dirty []string
	commands, plans := 0, 0
	for _, c := range cells {
		for _, r := range c.runs {
			for _, op := range operations {
				res, ok := r[op]
				if !ok {
					continue
				}
				commands++
				if op == opPlan {
					plans++
				}
				switch {
				case op == opPlan && res.exitCode == 2:
					dirty = append(dirty, fmt.Sprintf("N=%d at %s", c.n, formatLatency(c.latency)))
				case res.failure != "":
					failed = append(failed, fmt.Sprintf("%s N=%d at %s: %s", op, c.n, formatLatency(c.latency), firstLine(res.failure)))
				}
			}
		}
	}
	return []target{
		{
			name: "every CLI command succeeds", variant: variant, kind: kindRequests, limit: "exit status 0",
			result: passIf(len(failed) == 0 && commands > 0), measured: summarize(failed, commands),
		},
		{
			name: "plan after apply shows no changes", variant: variant, kind: kindRequests, limit: "-detailed-exitcode = 0",
			result: passIf(len(dirty) == 0 && plans > 0), measured: summarize(dirty, plans),
		},
	}
}

// summarize reports the failures, or that all checked cases passed.
func summarize(bad []string, checked int) string {
	if checked == 0 {
		return "not measured"
	}
	if len(bad) == 0 {
		return fmt.Sprintf("met in %d of %d", checked, checked)
	}
	shown := bad
	if len(shown) > 3 {
		shown = shown[:3]
	}
	s := fmt.Sprintf("missed in %d of %d: %s", len(bad), checked, strings.Join(shown, "; "))
	if len(bad) > len(shown) {
		s += "; …"
	}
	return s
}

// latencyRow is the latency-attributable part of one operation: its wall
// time at latency L minus that at 0, against the time a perfectly parallel
// provider needs at the CLI's parallelism.
type latencyRow struct {
	variant  string
	n        int
	op       string
	latency  time.Duration
	t0, tL   time.Duration
	diff     time.Duration
	bound    time.Duration
	ratio    float64
	complete bool // both cells ran the operation successfully
	// inFlight is the most requests in progress at once at latency L: the
	// CLI's parallelism when the provider serializes nothing.
	inFlight int
}

func (rep *report) latencyRows() []latencyRow {
	var rows []latencyRow
	p := rep.env.parallelism
	for _, v := range rep.opts.measuredVariants() {
		for _, l := range rep.opts.latencies {
			if l == 0 || !slices.Contains(rep.opts.latencies, 0) {
				continue
			}
			for _, n := range rep.opts.counts {
				zero, withL := rep.cell(v.name, 0, n), rep.cell(v.name, l, n)
				if zero == nil || withL == nil {
					continue
				}
				for _, op := range operations {
					t0, ok0 := zero.medianWall(op)
					tL, okL := withL.medianWall(op)
					bound := time.Duration(int(math.Ceil(float64(n)/float64(p)))*requestsPerCertificate[op]) * l
					row := latencyRow{variant: v.name, n: n, op: op, latency: l, t0: t0, tL: tL, bound: bound, complete: ok0 && okL}
					if s, _, ok := withL.summary(op); ok {
						row.inFlight = s.peakInFlight
					}
					if row.complete {
						row.diff = tL - t0
						row.ratio = float64(row.diff) / float64(bound)
					}
					rows = append(rows, row)
				}
			}
		}
	}
	return rows
}

func latencyTargets(rep *report, variant string) []target {
	var out []target
	for _, row := range rep.latencyRows() {
		if row.variant != variant || row.n != boundCheckN {
			continue
		}
		t := target{
			name:    fmt.Sprintf("%s: T(%s) − T(0) at N=%d within %.1f× the parallel bound", row.op, row.latency, row.n, latencyBoundFactor),
			variant: variant, kind: kindPerformance,
			limit: fmt.Sprintf("≤ %.1f × %s = %s", latencyBoundFactor, formatSeconds(row.bound),
				formatSeconds(time.Duration(float64(row.bound)*latencyBoundFactor))),
		}
		if row.complete {
			t.measured = fmt.Sprintf("%s (%.2f×); at most %d requests at once", formatSeconds(row.diff), row.ratio, row.inFlight)
			if row.diff < 0 {
				t.measured += "; T(0) > T(L): the CPU-bound 0 ms run was slower, so the difference bounds little"
			}
			t.result = passIf(row.ratio <= latencyBoundFactor)
		} else {
			t.measured = "operation failed"
		}
		out = append(out, t)
	}
	return out
}

func rssTarget(variant string, cells []*cell) (target, bool) {
	var peak int64
	where := ""
	for _, c := range cells {
		if c.n != boundCheckN {
			continue
		}
		for _, r := range c.runs {
			for _, op := range operations {
				if res, ok := r[op]; ok && res.provider.peakRSS > peak {
					peak = res.provider.peakRSS
					where = fmt.Sprintf("%s at %s", op, formatLatency(c.latency))
				}
			}
		}
	}
	if where == "" {
		return target{}, false
	}
	return target{
		name: fmt.Sprintf("provider peak RSS at N=%d", boundCheckN), variant: variant, kind: kindPerformance,
		measured: fmt.Sprintf("%s (%s)", formatMB(peak), where), limit: "≤ " + formatMB(maxPeakRSSBytes),
		result: passIf(peak <= maxPeakRSSBytes),
	}, true
}

// enforcedFailures are the missed targets that the enforcement level turns
// into a non-zero exit status.
func (rep *report) enforcedFailures(level string) []target {
	var out []target
	for _, t := range rep.targets {
		if t.result != fail {
			continue
		}
		if level == enforceAll || (level == enforceRequests && t.kind == kindRequests) {
			out = append(out, t)
		}
	}
	return out
}

func total(c map[string]int) int {
	sum := 0
	for _, v := range c {
		sum += v
	}
	return sum
}
