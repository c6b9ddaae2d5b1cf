package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// environment is what the numbers were taken on and with.
type environment struct {
	date               time.Time
	machine            string
	loadStart, loadEnd string
	goVersion          string
	cliVersion         string
	commit             string
	binarySize         int64
	floorDir           string // the floor's source; "" when not measured
	floorMissing       string // why the floor was not measured
}

func describeEnvironment(ctx context.Context, root, cli string, cliEnv map[string]string) (environment, error) {
	memory, _ := strconv.ParseFloat(strings.TrimSuffix(procValue("/proc/meminfo", "MemTotal"), " kB"), 64)
	env := environment{
		date: time.Now().UTC(),
		machine: fmt.Sprintf("%s, %d cores, %.1f GiB memory",
			cmp.Or(procValue("/proc/cpuinfo", "model name"), "unknown CPU"), runtime.NumCPU(), memory*1024/(1<<30)),
		goVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		loadStart: loadAverage(),
		commit:    "unknown",
	}
	version := exec.CommandContext(ctx, cli, "version")
	version.Env = envList(cliEnv)
	out, err := version.Output()
	if err != nil {
		return env, fmt.Errorf("%s version: %w", cli, err)
	}
	env.cliVersion = firstLine(string(out))
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...) //nolint:gosec // G204: read-only git queries with fixed arguments.
		cmd.Dir = root
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	if commit := git("rev-parse", "--short", "HEAD"); commit != "" {
		env.commit = commit
		// Untracked files count: a new provider file is part of the build.
		if git("status", "--porcelain") != "" {
			env.commit += "-dirty"
		}
	}
	return env, nil
}

// procValue is the value of the first "key: value" line of a /proc file.
func procValue(file, key string) string {
	data, _ := os.ReadFile(file) //nolint:gosec // G304: a /proc file named here.
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the 1, 5 and 15 minute load average, to show whether other
// work shared the machine.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	if fields := strings.Fields(string(data)); len(fields) >= 3 {
		return strings.Join(fields[:3], " ")
	}
	return "unknown"
}

// report is everything measured, ready to render.
type report struct {
	opts    options
	env     environment
	startup startupStats
	cells   []*cell
	rpcRaw  string // go test -bench output of the per-RPC benchmarks
	rpcStat string // benchstat's summary of it, against before's
	before  before // from -before; empty without it
	targets []target
	total   time.Duration
}

func (rep *report) cellsOf(variant string) []*cell {
	return slices.DeleteFunc(slices.Clone(rep.cells), func(c *cell) bool { return c.variant != variant })
}

func (rep *report) cell(variant string, latency time.Duration, n int) *cell {
	i := slices.IndexFunc(rep.cells, func(c *cell) bool { return c.variant == variant && c.latency == latency && c.n == n })
	if i < 0 {
		return nil
	}
	return rep.cells[i]
}

// completed are the results of op in the cycles in which it succeeded.
func (c *cell) completed(op string) []opResult {
	var out []opResult
	for _, r := range c.runs {
		if res, ok := r[op]; ok && res.failure == "" {
			out = append(out, res)
		}
	}
	return out
}

// sorted is one figure of each result, in order.
func sorted(results []opResult, figure func(opResult) time.Duration) []time.Duration {
	var out []time.Duration
	for _, r := range results {
		out = append(out, figure(r))
	}
	slices.Sort(out)
	return out
}

func wallOf(r opResult) time.Duration { return r.wall }

// medianWall is the median wall time of op over the cycles in which it
// succeeded; false when it never did, or c is nil.
func (c *cell) medianWall(op string) (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	walls := sorted(c.completed(op), wallOf)
	return median(walls), len(walls) > 0
}

// cpuPerCertificate is the provider's CPU time over a whole cycle (apply,
// plan and destroy) divided by N: the median over the cycles in which all
// three succeeded; false when none did, or c is nil.
func (c *cell) cpuPerCertificate() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	var cycles []time.Duration
	for _, r := range c.runs {
		var sum time.Duration
		for _, res := range r {
			sum += res.cpu
			if res.failure != "" || len(r) < len(operations) {
				sum = -1
				break
			}
		}
		if sum >= 0 {
			cycles = append(cycles, sum)
		}
	}
	slices.Sort(cycles)
	return median(cycles) / time.Duration(c.n), len(cycles) > 0
}

// row is op's line of a latency table: the median wall time with the
// fastest and slowest cycle, the largest request counts and peak RSS, and
// the median provider CPU, over the cycles in which op succeeded.
func (c *cell) row(op string) string {
	ok := c.completed(op)
	if len(ok) == 0 {
		return "failed or not run: " + tableCell(firstLine(c.runs[0][op].failure)) + strings.Repeat(" |", len(reportRoutes)+3)
	}
	walls, cpus := sorted(ok, wallOf), sorted(ok, func(r opResult) time.Duration { return r.cpu })
	var rss int64
	requests := map[string]int{}
	for _, res := range ok {
		rss = max(rss, res.rss)
		for route, n := range res.requests {
			requests[route] = max(requests[route], n)
		}
	}
	text := formatSeconds(median(walls))
	if len(walls) > 1 {
		text += fmt.Sprintf(" (%.2f–%.2f)", walls[0].Seconds(), walls[len(walls)-1].Seconds())
	}
	for _, route := range reportRoutes {
		text += fmt.Sprintf(" | %d", requests[route])
	}
	return fmt.Sprintf("%s | %s | %s |", text, formatMB(rss), formatSeconds(median(cpus)))
}

var reportRoutes = []string{emulator.RouteUpload, emulator.RouteGet, emulator.RouteList, emulator.RouteDelete, emulator.RouteAssociations}

func (rep *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	env := rep.env

	w("# Benchmarks\n\nGenerated by `go run ./tools/bench %s` (see `make bench`); do not edit by hand. ", rep.commandLine())
	w("The provider binary, driven by a real CLI through terraform-exec, against the in-process API emulator. "+
		"Total run time: %s.\n\n", rep.total.Round(time.Second))

	w("## Environment\n\n| | |\n|---|---|\n| Date (UTC) | %s |\n| Machine | %s |\n", env.date.Format("2006-01-02 15:04"), env.machine)
	w("| Load average (1, 5, 15 min) | at start %s; at end %s |\n| Go | %s |\n| CLI | %s |\n", env.loadStart, env.loadEnd, env.goVersion, env.cliVersion)
	w("| Provider | commit %s |\n| CLI parallelism | 10 (the CLI's default) |\n| Cycles per cell | %d |\n", env.commit, rep.opts.runs)
	if env.floorDir != "" {
		w("| Floor | the minimal framework provider the targets are ratios to (`%s`), from %s |\n\n", floorAddress, tableCell(env.floorDir))
	} else {
		w("| Floor | not measured (%s) |\n\n", tableCell(env.floorMissing))
	}

	if rep.rpcRaw != "" {
		w("## Per-RPC cost\n\n`go test ./internal/provider/ -run '^$' -bench . -benchmem -count %d`: each RPC the CLI "+
			"sends for one certificate, called on the provider's protocol server against the emulator, with the loggers "+
			"off (as without TF_LOG), at TRACE (log-B/op: what they write) and absent. benchstat shows the median ± the "+
			"95%% confidence interval and, with -before, the change from the previous report's runs (`~`: likely noise)."+
			"\n\n```text\n%s```\n\n%s\n\n```text\n%s```\n\n</details>\n\n", rep.opts.rpcRuns, rep.rpcStat, rpcRawSummary, rep.rpcRaw)
	}

	st := rep.startup
	w("## Provider binary and start-up\n\n| | |\n|---|---|\n| Binary, `go build` | %s |\n", formatMB(env.binarySize))
	w("| Start-up, exec to GetProviderSchema reply (%d runs) | median %s, min %s, max %s |\n",
		len(st), formatMillis(median(st)), formatMillis(st[0]), formatMillis(st[len(st)-1]))

	for _, l := range rep.opts.latencies {
		w("\n## API latency %s\n\n", formatLatency(l))
		w("| Provider | N | Operation | Wall | %s | Provider peak RSS | Provider CPU |\n", strings.Join(reportRoutes, " | "))
		w("|---|--:|---|--:|%s--:|--:|\n", strings.Repeat("--:|", len(reportRoutes)))
		for _, v := range []variant{ourVariant, floorVariant} {
			for _, n := range rep.opts.counts {
				if c := rep.cell(v.name, l, n); c != nil {
					for _, op := range operations {
						w("| %s | %d | %s | %s\n", v.name, n, op, c.row(op))
					}
				}
			}
		}
	}

	w("\n## Against the floor\n\nProvider CPU per certificate: the provider's CPU time over apply, plan and destroy, " +
		"divided by N (the median over the cycles). The ratios divide our figures by the floor's at the same N and " +
		"latency (wall times: the medians).\n\n")
	w("| N | L | CPU per certificate | the floor's | CPU ÷ floor | apply wall ÷ floor | plan wall ÷ floor | destroy wall ÷ floor |\n")
	w("|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, l := range rep.opts.latencies {
		for _, n := range rep.opts.counts {
			ours, floor := rep.cell(ourVariant.name, l, n), rep.cell(floorVariant.name, l, n)
			if ours == nil {
				continue
			}
			w("| %d | %s", n, formatLatency(l))
			for _, c := range []*cell{ours, floor} {
				if d, ok := c.cpuPerCertificate(); ok {
					w(" | %s", formatMillis(d))
				} else {
					w(" | —")
				}
			}
			for _, f := range floorFigures {
				our, ok := f.of(ours)
				base, baseOK := f.of(floor)
				if ok && baseOK && base > 0 {
					w(" | %.2f×", float64(our)/float64(base))
				} else {
					w(" | —")
				}
			}
			w(" |\n")
		}
	}

	w("\n## Targets\n\nRequest counts, clean plans and successful commands are enforced (`make bench-quick` fails CI on " +
		"them); time, size and memory depend on the machine and are reported. A target against the floor is not " +
		"measured when the floor did not run.\n\n| Target | Provider | Measured | Limit | Result |\n|---|---|---|---|---|\n")
	for _, t := range rep.targets {
		w("| %s | %s | %s | %s | %s |\n", tableCell(t.name), t.provider, tableCell(t.measured), tableCell(t.limit), t.result)
	}
	if !slices.Contains(rep.opts.counts, checkN) || !slices.Contains(rep.opts.latencies, checkLatency) {
		w("\nThis run did not cover the targets at N=%d and %s (peak RSS, ratios to the floor).\n", checkN, formatLatency(checkLatency))
	}

	if rep.opts.before != "" {
		w("\n## Before\n\nThe previous report's targets (-before), for comparison:\n\n| | |\n|---|---|\n%s\n%s\n",
			rep.before.environment, rep.before.targets)
	}

	w("\n## How the numbers were taken\n\n")
	w(`- Each cell (provider, API latency L, N) gets a fresh emulator that waits L before each answer and applies no
  rate limit, and a workspace of N distinct self-signed ECDSA P-256 CA certificates whose provider block sets
  only base_url, api_token and account_id. A cycle is apply from empty, plan (refresh included; it must show no
  changes) and destroy, run by terraform-exec at the CLI's default parallelism; ` + "`init`" + ` runs once, untimed.
- Each command gets a provider process of its own, launched as a CLI launches a plugin (go-plugin handshake,
  without automatic mTLS) and handed to the CLI as a reattach value; its peak RSS and CPU time (user + system)
  are the kernel's accounting of that process when it exits, so they belong to that one command. Wall time is
  the command from exec to exit; the provider's launch is not in it (that is the start-up figure).
- The floor is a framework provider with one resource that makes the same requests and nothing else.
- Requests are the emulator's per-route counts, reset before each command: every request that reached a route,
  whatever its outcome. With several cycles, a table shows the median wall time (fastest–slowest), the median
  CPU time and the largest counts and RSS; the request targets are checked on every cycle.
- Start-up launches the binary as a CLI does (go-plugin handshake with automatic mTLS, gRPC, protocol 6) and
  times it from exec to the GetProviderSchema reply. MB is 10^6 bytes. The emulator shares the CPUs with the CLI
  and the provider; the load average shows whether other jobs did too.
`)
	return b.String()
}

func (rep *report) commandLine() string {
	list := func(v any) string { return strings.ReplaceAll(strings.Trim(fmt.Sprint(v), "[]"), " ", ",") }
	parts := []string{"-n " + list(rep.opts.counts), "-latency " + list(rep.opts.latencies)}
	if rep.opts.runs > 1 {
		parts = append(parts, fmt.Sprintf("-runs %d", rep.opts.runs))
	}
	if rep.opts.rpcRuns > 0 {
		parts = append(parts, fmt.Sprintf("-rpc-runs %d", rep.opts.rpcRuns))
	}
	if rep.opts.before != "" {
		parts = append(parts, "-before <the previous BENCHMARKS.md>")
	}
	if rep.opts.floorDir != defaultFloorDir {
		parts = append(parts, "-floor '"+rep.opts.floorDir+"'")
	}
	return strings.Join(parts, " ")
}

func formatSeconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func formatMillis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func formatLatency(d time.Duration) string {
	if d == 0 {
		return "0ms"
	}
	return d.String()
}

func formatMB(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

func formatCounts(c map[string]int) string {
	var parts []string
	for _, route := range reportRoutes {
		if c[route] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", route, c[route]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// tableCell keeps text from breaking a markdown table row.
func tableCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
