package main

import (
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
	date                 time.Time
	cpuModel             string
	cores                int
	memoryBytes          int64
	loadStart, loadEnd   string
	goVersion            string
	cliVersion           string
	commit               string
	parallelism          int
	parallelismIsDefault bool
	runs                 int
	binarySize           int64
	releaseBinarySize    int64
	floorDir             string // the floor's source; "" when not measured
	floorBinarySize      int64
	floorMissing         string // why the floor was not measured
}

func describeEnvironment(ctx context.Context, root string, cli cliRunner) (environment, error) {
	env := environment{
		date:      time.Now().UTC(),
		cpuModel:  cpuModel(),
		cores:     runtime.NumCPU(),
		goVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		loadStart: loadAverage(),
	}
	env.memoryBytes = memTotal()

	cmd := exec.CommandContext(ctx, cli.path, "version") //nolint:gosec // G204: the CLI the developer chose, run on purpose.
	cmd.Env = cli.baseEnv
	out, err := cmd.Output()
	if err != nil {
		return env, fmt.Errorf("%s version: %w", cli.path, err)
	}
	env.cliVersion = firstLine(string(out))

	env.commit = "unknown"
	if out, err := gitOutput(ctx, root, "rev-parse", "--short", "HEAD"); err == nil {
		env.commit = out
		// Untracked files count: a new provider file is part of the build.
		if status, err := gitOutput(ctx, root, "status", "--porcelain"); err == nil && status != "" {
			env.commit += "-dirty"
		}
	}
	return env, nil
}

func gitOutput(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...) //nolint:gosec // G204: read-only git queries with fixed arguments.
	cmd.Dir = root
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

func memTotal() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// loadAverage is the 1, 5 and 15 minute load average, to show whether
// other work shared the machine.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// report is everything measured, ready to render.
type report struct {
	opts         options
	env          environment
	startup      startupStats
	floorStartup startupStats
	cells        []*cell
	rpcRaw       string // go test -bench output of the per-RPC benchmarks
	rpcStat      string // benchstat's summary of it, against before's
	before       before // from -before; empty without it
	targets      []target
	total        time.Duration
}

func (rep *report) cellsOf(variant string) []*cell {
	var out []*cell
	for _, c := range rep.cells {
		if c.variant == variant {
			out = append(out, c)
		}
	}
	return out
}

func (rep *report) cell(variant string, latency time.Duration, n int) *cell {
	for _, c := range rep.cells {
		if c.variant == variant && c.latency == latency && c.n == n {
			return c
		}
	}
	return nil
}

// medianWall is the operation's median wall time over the cycles in which
// it completed; false when it never did.
func (c *cell) medianWall(op string) (time.Duration, bool) {
	var walls []time.Duration
	for _, r := range c.runs {
		if res, ok := r[op]; ok && res.failure == "" {
			walls = append(walls, res.wall)
		}
	}
	if len(walls) == 0 {
		return 0, false
	}
	slices.Sort(walls)
	return median(walls), true
}

// cpuPerCertificate is the provider CPU time of a whole cycle (apply, plan
// and destroy) divided by N: the median over the cycles that completed all
// three; false when none did.
func (c *cell) cpuPerCertificate() (time.Duration, bool) {
	var cycles []time.Duration
	for _, r := range c.runs {
		var sum time.Duration
		complete := true
		for _, op := range operations {
			res, ok := r[op]
			if !ok || res.failure != "" {
				complete = false
				break
			}
			sum += res.provider.cpu
		}
		if complete {
			cycles = append(cycles, sum)
		}
	}
	if len(cycles) == 0 {
		return 0, false
	}
	slices.Sort(cycles)
	return median(cycles) / time.Duration(c.n), true
}

// summary folds the cycles of one operation into a table row: the median
// wall and CPU time, the largest request counts and peaks. The wall time
// column shows the spread over the cycles too.
func (c *cell) summary(op string) (opResult, int, bool) {
	var agg opResult
	var walls, cpus, cliCPUs []time.Duration
	cycles := 0
	for _, r := range c.runs {
		res, ok := r[op]
		if !ok {
			continue
		}
		cycles++
		walls = append(walls, res.wall)
		cpus = append(cpus, res.provider.cpu)
		cliCPUs = append(cliCPUs, res.cliCPU)
		if agg.requests == nil {
			agg.requests = map[string]int{}
		}
		for route, n := range res.requests {
			agg.requests[route] = max(agg.requests[route], n)
		}
		agg.provider.peakRSS = max(agg.provider.peakRSS, res.provider.peakRSS)
		agg.cliRSS = max(agg.cliRSS, res.cliRSS)
		agg.peakInFlight = max(agg.peakInFlight, res.peakInFlight)
		if agg.failure == "" {
			agg.failure = res.failure
		}
	}
	if cycles == 0 {
		return agg, 0, false
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(cliCPUs)
	agg.wall, agg.provider.cpu, agg.cliCPU = median(walls), median(cpus), median(cliCPUs)
	return agg, cycles, true
}

// wallSpread is the median wall time of op, followed by the fastest and
// slowest cycle when there were several.
func (c *cell) wallSpread(op string) string {
	var walls []time.Duration
	for _, r := range c.runs {
		if res, ok := r[op]; ok {
			walls = append(walls, res.wall)
		}
	}
	if len(walls) == 0 {
		return ""
	}
	slices.Sort(walls)
	text := formatSeconds(median(walls))
	if len(walls) > 1 {
		text += fmt.Sprintf(" (%.2f–%.2f)", walls[0].Seconds(), walls[len(walls)-1].Seconds())
	}
	return text
}

var reportRoutes = []string{emulator.RouteUpload, emulator.RouteGet, emulator.RouteList, emulator.RouteDelete, emulator.RouteAssociations}

func (rep *report) markdown() string {
	var b strings.Builder
	env := rep.env
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# Benchmarks\n\n")
	w("Generated by `go run ./tools/bench %s` (see `make bench`); do not edit by hand. ", rep.commandLine())
	w("The provider binary, driven by a real CLI, against the in-process API emulator. Total run time: %s.\n\n", rep.total.Round(time.Second))

	w("## Environment\n\n| | |\n|---|---|\n")
	w("| Date (UTC) | %s |\n", env.date.Format("2006-01-02 15:04"))
	w("| Machine | %s, %d cores, %.1f GiB memory |\n", env.cpuModel, env.cores, float64(env.memoryBytes)/(1<<30))
	w("| Load average (1, 5, 15 min) | at start %s; at end %s |\n", env.loadStart, env.loadEnd)
	w("| Go | %s |\n", env.goVersion)
	w("| CLI | %s |\n", env.cliVersion)
	w("| Provider | commit %s |\n", env.commit)
	parallelism := strconv.Itoa(env.parallelism)
	if env.parallelismIsDefault {
		parallelism += " (the CLI's default)"
	}
	w("| CLI parallelism | %s |\n", parallelism)
	w("| Cycles per cell | %d |\n", env.runs)
	w("| Variants | %s |\n", rep.variantList())
	if env.floorDir != "" {
		w("| Floor | `floor`: the minimal framework provider the targets are ratios to (`%s`), from %s |\n\n", floorAddress, tableCell(env.floorDir))
	} else {
		w("| Floor | not measured (%s) |\n\n", tableCell(env.floorMissing))
	}

	if rep.rpcRaw != "" {
		w("## Per-RPC cost\n\n")
		w("`go test ./internal/provider/ -run '^$' -bench . -benchmem -count %d`: each RPC the CLI sends for one "+
			"certificate, called on the provider's protocol server against the emulator. `loggers=off` is how the "+
			"provider runs without TF_LOG (every log level OFF), `loggers=trace` with TF_LOG=TRACE (log-B/op: what it "+
			"writes), `loggers=none` a context without loggers. Summarised by benchstat: the median ± the 95%% "+
			"confidence interval", rep.opts.rpcRuns)
		if rep.before.rpcRaw != "" {
			w(", and against the previous report's runs (`~`: the difference is likely noise)")
		}
		w(".\n\n```text\n%s```\n\n%s\n\n```text\n%s```\n\n</details>\n\n", rep.rpcStat, rpcRawSummary, rep.rpcRaw)
	}

	w("## Provider binary and start-up\n\n| | |\n|---|---|\n")
	w("| Binary, `go build` (the one benchmarked) | %s |\n", formatMB(env.binarySize))
	if rep.opts.releaseSize {
		w("| Binary, release flags (`-trimpath -ldflags=\"-s -w\"`, `CGO_ENABLED=0`) | %s |\n", formatMB(env.releaseBinarySize))
	}
	st := rep.startup
	w("| Start-up, exec to GetProviderSchema reply (%d runs) | median %s, min %s, max %s |\n",
		st.runs, formatMillis(st.median), formatMillis(st.best), formatMillis(st.worst))
	w("| GetProviderSchema reply | %d bytes |\n", st.schemaBytes)
	if env.floorDir != "" {
		fs := rep.floorStartup
		w("| Floor: binary, `go build` | %s |\n", formatMB(env.floorBinarySize))
		w("| Floor: start-up (%d runs) | median %s, min %s, max %s |\n",
			fs.runs, formatMillis(fs.median), formatMillis(fs.best), formatMillis(fs.worst))
	}
	w("\n")

	for _, l := range rep.opts.latencies {
		w("## API latency %s\n\n", formatLatency(l))
		w("| Variant | N | Operation | Wall | upload | get | list | delete | associations | Most in flight | Provider peak RSS | Provider CPU | CLI peak RSS | CLI CPU | Note |\n")
		w("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, v := range rep.opts.measuredVariants() {
			for _, n := range rep.opts.counts {
				c := rep.cell(v.name, l, n)
				if c == nil {
					continue
				}
				for _, op := range operations {
					s, _, ok := c.summary(op)
					if !ok {
						w("| %s | %d | %s | not run | | | | | | | | | | | |\n", v.name, n, op)
						continue
					}
					w("| %s | %d | %s | %s |", v.name, n, op, c.wallSpread(op))
					for _, route := range reportRoutes {
						w(" %d |", s.requests[route])
					}
					w(" %d | %s | %s | %s | %s | %s |\n", s.peakInFlight, formatMB(s.provider.peakRSS), formatSeconds(s.provider.cpu),
						formatMB(s.cliRSS), formatSeconds(s.cliCPU), tableCell(firstLine(s.failure)))
				}
			}
		}
		w("\n")
	}

	if rows := rep.latencyRows(); len(rows) > 0 {
		w("## Latency-attributable time\n\n")
		w("T(L) − T(0): the wall time an operation gains from the API latency L. The bound is ceil(N / %d) × L × "+
			"requests per certificate (apply 1, plan 1, destroy 2: the CLI's refresh, then the delete), the time "+
			"%d requests in flight at all times would need.\n\n", env.parallelism, env.parallelism)
		w("| Variant | N | Operation | L | T(0) | T(L) | T(L) − T(0) | Bound | Ratio | Most in flight at L |\n|---|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rows {
			if !r.complete {
				w("| %s | %d | %s | %s | | | failed | %s | | |\n", r.variant, r.n, r.op, formatLatency(r.latency), formatSeconds(r.bound))
				continue
			}
			w("| %s | %d | %s | %s | %s | %s | %s | %s | %.2f× | %d |\n", r.variant, r.n, r.op, formatLatency(r.latency),
				formatSeconds(r.t0), formatSeconds(r.tL), formatSeconds(r.diff), formatSeconds(r.bound), r.ratio, r.inFlight)
		}
		w("\n")
	}

	rep.writeFloorComparison(w)

	w("## Targets\n\n")
	w("Request counts, clean plans and successful commands are enforced (`make bench-quick` fails CI on them); ")
	w("time, size and memory depend on the machine and are reported. A target against the floor is not measured ")
	w("when the floor did not run.\n\n")
	w("| Target | Variant | Measured | Limit | Result |\n|---|---|---|---|---|\n")
	for _, t := range rep.targets {
		w("| %s | %s | %s | %s | %s |\n", tableCell(t.name), t.variant, tableCell(t.measured), tableCell(t.limit), t.result)
	}
	if uncovered := rep.uncoveredTargets(); len(uncovered) > 0 {
		w("\nThis run did not cover the targets on %s.\n", strings.Join(uncovered, "; "))
	}

	if rep.opts.before != "" {
		w("\n## Before\n\nThe targets of the previous report (-before), for comparison:\n\n| | |\n|---|---|\n%s\n%s\n",
			rep.before.environment, rep.before.targets)
	}
	w("\n## How the numbers were taken\n\n")
	w(`- Every cell (variant, latency L, N) gets a fresh emulator that waits L before answering each request, and a
  workspace with N distinct self-signed ECDSA P-256 CA certificates (` + "`count = N`" + ` over a list variable).
  A cycle is ` + "`apply -auto-approve`" + ` from empty, ` + "`plan -detailed-exitcode`" + ` (refresh included; exit 0
  required) and ` + "`destroy -auto-approve`" + `. The provider block sets only base_url, api_token and account_id,
  plus the variant's attributes: every other provider option is at its default. The emulator applies no rate
  limit of its own.
- Each command gets a provider process of its own, started with ` + "`-debug`" + `; the CLI reattaches to it
  (TF_REATTACH_PROVIDERS). Peak RSS is that process's VmHWM (/proc/<pid>/status) and CPU its user + system time,
  read after the command ends and before the provider is stopped, so they belong to that one command. The
  provider's logs go to /dev/null.
- Wall time is the CLI command from exec to exit, including the CLI's own work; the provider is already running,
  so its launch is not included (it is the start-up figure). ` + "`init`" + ` runs once per workspace, untimed.
  CLI peak RSS and CPU are the command's maximum resident set and user + system time (wait4 rusage).
- Requests are the emulator's per-route counts, reset before each command: every request that reached a route,
  whatever its outcome. "Most in flight" is the largest number of API requests in progress at once during the
  command; a provider that keeps the CLI's parallelism busy reaches it. With more than one cycle, a table shows the median wall time (with the fastest and slowest
  cycle in parentheses), the median CPU time and the largest counts and peaks; the latency bound uses the
  medians, and the request targets are checked on every cycle.
`)
	b.WriteString(rep.floorMethod())
	w(`- Start-up launches the binary as a CLI does (go-plugin handshake with automatic mTLS, gRPC, protocol 6) and
  times it from exec to the GetProviderSchema reply.
- MB is 10^6 bytes. The emulator runs inside the benchmark process and shares the CPUs with the CLI and the
  provider; the load average above shows whether other jobs did too.
`)
	return b.String()
}

// uncoveredTargets names the targets whose cells this run did not have.
func (rep *report) uncoveredTargets() []string {
	hasN := slices.Contains(rep.opts.counts, boundCheckN)
	var out []string
	if !hasN || !slices.Contains(rep.opts.latencies, 0) || len(rep.opts.latencies) < 2 {
		out = append(out, fmt.Sprintf("the latency bound (N = %d at 0 and another latency)", boundCheckN))
	}
	if !hasN {
		out = append(out, fmt.Sprintf("peak RSS (N = %d)", boundCheckN))
	}
	if !hasN || !slices.Contains(rep.opts.latencies, floorCheckLatency) {
		out = append(out, fmt.Sprintf("ratios to the floor (N = %d at %s)", boundCheckN, formatLatency(floorCheckLatency)))
	}
	return out
}

// floorMethod is the bullet on how the floor ran, when it did.
func (rep *report) floorMethod() string {
	if rep.opts.floorDir == "" {
		return ""
	}
	return `- The floor (` + "`floor`" + ` rows) is a terraform-plugin-framework provider with one resource that makes the
  same requests and nothing else; it gets the same certificates, emulator latency and CLI, and its figures are taken
  the same way. It has no ` + "`-debug`" + ` mode, so the benchmark launches it as a CLI launches a plugin (go-plugin
  handshake, without automatic mTLS) and hands its socket to the CLI as a reattach value.
`
}

func (rep *report) commandLine() string {
	var parts []string
	counts := make([]string, len(rep.opts.counts))
	for i, n := range rep.opts.counts {
		counts[i] = strconv.Itoa(n)
	}
	parts = append(parts, "-n "+strings.Join(counts, ","))
	lats := make([]string, len(rep.opts.latencies))
	for i, l := range rep.opts.latencies {
		lats[i] = formatLatency(l)
	}
	parts = append(parts, "-latency "+strings.Join(lats, ","))
	if rep.opts.parallelism > 0 {
		parts = append(parts, fmt.Sprintf("-parallelism %d", rep.opts.parallelism))
	}
	if rep.opts.runs > 1 {
		parts = append(parts, fmt.Sprintf("-runs %d", rep.opts.runs))
	}
	for _, v := range rep.opts.variants[1:] {
		parts = append(parts, "-variant "+v.name+"=…")
	}
	if rep.opts.rpcRuns > 0 {
		parts = append(parts, fmt.Sprintf("-rpc-runs %d", rep.opts.rpcRuns))
	}
	if rep.opts.before != "" {
		parts = append(parts, "-before <the previous BENCHMARKS.md>")
	}
	switch {
	case !rep.opts.floorExplicit:
	case rep.opts.floorDir == "":
		parts = append(parts, "-floor ''")
	default:
		parts = append(parts, "-floor "+rep.opts.floorDir)
	}
	return strings.Join(parts, " ")
}

// writeFloorComparison renders each cell's provider CPU per certificate and,
// when the floor ran, its figures over the floor's at the same N and latency.
func (rep *report) writeFloorComparison(w func(string, ...any)) {
	withFloor := rep.opts.floorDir != ""
	w("## Against the floor\n\n")
	w("Provider CPU per certificate: the provider's CPU time over apply, plan and destroy, divided by N (median over the cycles). ")
	if withFloor {
		w("The ratios divide each figure by the floor's at the same N and latency (wall times: the medians).\n\n")
		w("| Variant | N | L | CPU per certificate | apply wall ÷ floor | plan wall ÷ floor | destroy wall ÷ floor | CPU per certificate ÷ floor |\n")
		w("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	} else {
		w("The floor was not measured (%s), so the ratios to it were not measured.\n\n", rep.env.floorMissing)
		w("| Variant | N | L | CPU per certificate |\n|---|--:|--:|--:|\n")
	}
	for _, l := range rep.opts.latencies {
		for _, n := range rep.opts.counts {
			floor := rep.cell(floorVariant.name, l, n)
			for _, v := range rep.opts.measuredVariants() {
				c := rep.cell(v.name, l, n)
				if c == nil {
					continue
				}
				cpu := "failed"
				if d, ok := c.cpuPerCertificate(); ok {
					cpu = formatPerCertificate(d)
				}
				w("| %s | %d | %s | %s |", v.name, n, formatLatency(l), cpu)
				if withFloor {
					for _, cmp := range floorComparisons() {
						w(" %s |", ratioToFloor(cmp, c, floor))
					}
				}
				w("\n")
			}
		}
	}
	w("\n")
}

// ratioToFloor is a table cell: c's figure over the floor's.
func ratioToFloor(cmp floorComparison, c, floor *cell) string {
	if c.variant == floorVariant.name {
		return "—"
	}
	our, ok := cmp.figure(c)
	if !ok {
		return "failed"
	}
	if floor == nil {
		return ""
	}
	base, ok := cmp.figure(floor)
	if !ok || base == 0 {
		return "floor failed"
	}
	return fmt.Sprintf("%.2f×", float64(our)/float64(base))
}

func (rep *report) variantList() string {
	var parts []string
	for _, v := range rep.opts.variants {
		if v.hcl == "" {
			parts = append(parts, "`"+v.name+"` (no extra provider attributes)")
			continue
		}
		parts = append(parts, "`"+v.name+"`: `"+strings.Join(strings.Fields(v.hcl), " ")+"`")
	}
	return tableCell(strings.Join(parts, "; "))
}

func formatSeconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func formatMillis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func formatLatency(d time.Duration) string {
	if d == 0 {
		return "0ms"
	}
	return d.String()
}

func formatPerCertificate(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
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
