package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// The section "Requests on a shared token and in a large account": what a
// refresh costs when the workspace manages few of its account's
// certificates, or all of them, and whether workspaces that share one API
// token stay within its rate limit.
const scaleHeading = "## Requests on a shared token and in a large account"

// Values of -scale.
const (
	scaleAuto = "auto"
	scaleOn   = "on"
	scaleOff  = "off"
)

// The scenarios of the section.
const (
	// largeAccount certificates are seeded in the emulator, and the
	// workspace manages largeAccountManaged more.
	largeAccount        = 5000
	largeAccountManaged = 3
	// sharedWorkspaces workspaces of sharedPerWorkspace certificates each
	// run at once on one token, each command at -parallelism=sharedParallelism.
	sharedWorkspaces   = 4
	sharedPerWorkspace = 30
	sharedParallelism  = 5
	// The request targets of the issue.
	maxLargeAccountPlan = 5  // a plan of 3 of 5,000 must not list 100 pages
	maxFullAccountPlan  = 25 // a plan of 1,000 of 1,000: about 20 list pages
)

// sharedRateLimit is a scaled-down Cloudflare limit (1,200 per five minutes,
// a five-minute block): 4 × 30 certificates with a GET per certificate need
// more requests than one window holds.
var sharedRateLimit = emulator.RateLimit{Quota: 300, Window: time.Minute, Block: time.Minute}

// refreshModes are the two refresh settings the section compares.
var refreshModes = []variant{{name: "default"}, {name: "batch_refresh = false", hcl: "batch_refresh = false"}}

// sweepCommand runs the batch share sweep (internal/provider/batch_refresh_share_test.go).
var sweepCommand = []string{"test", "./internal/provider/", "-run", "^TestBatchRefreshShareSweep$", "-v", "-count=1"}

// sweepDisplay is sweepCommand as a shell would take it.
func sweepDisplay() string {
	args := slices.Clone(sweepCommand)
	for i, a := range args {
		if strings.ContainsAny(a, "^$") {
			args[i] = "'" + a + "'"
		}
	}
	return strings.Join(args, " ")
}

// sweepEnv turns the sweep on; without it the test skips.
const sweepEnv = "MTLS_BENCH_SWEEP=1"

// runScale reports whether this run measures the section. auto runs it
// with the full matrix (N = 1,000 among the counts, as make bench has),
// whose N = 1,000 plans it reuses; it takes minutes, as the shared token
// without batch refresh has to wait out a one-minute window, so make
// bench-quick (N = 10) leaves it out.
func (o options) runScale() bool {
	switch o.scale {
	case scaleOn:
		return true
	case scaleOff:
		return false
	default:
		return slices.Contains(o.counts, boundCheckN)
	}
}

// scaleReport is what the section measured.
type scaleReport struct {
	latency     time.Duration // of the CLI runs
	parallelism int           // of the large account's plans
	accounts    []accountPlan
	shared      []sharedRun
	sweep       sweepResult
	// How long each part took.
	accountsTook, sharedTook time.Duration
}

// accountPlan is the plan (the refresh) of a workspace that manages managed
// of the account's certificates, with one refresh setting.
type accountPlan struct {
	managed, account int
	mode             string
	requests         map[string]int
	wall             time.Duration
	failure          string
	// from says where reused figures come from; "" when measured here.
	from string
}

// sharedRun is the four workspaces on one token with one refresh setting.
type sharedRun struct {
	mode     string
	wall     time.Duration
	requests map[string]int
	stats    emulator.RateLimitStats
	failures []string
}

// sweepResult is the batch share sweep's table, as the test logs it.
type sweepResult struct {
	table   []string // markdown lines: header, separator, a row per case
	failure string   // why the sweep did not pass; "" when it did
	took    time.Duration
}

// measureScale runs the section's scenarios; rep holds the cycles already
// measured, whose N = 1,000 plans it reuses.
func (b *bench) measureScale(ctx context.Context, rep *report) (*scaleReport, error) {
	s := &scaleReport{latency: slices.Max(b.opts.latencies), parallelism: b.env.parallelism}
	need := max(largeAccount+largeAccountManaged, boundCheckN, sharedWorkspaces*sharedPerWorkspace)
	logf("scale: generating %d certificates", need)
	pems, err := generateCertificates(need)
	if err != nil {
		return nil, err
	}

	started := time.Now()
	plans, err := b.accountPlans(ctx, s.latency, pems[:largeAccount], pems[largeAccount:largeAccount+largeAccountManaged], refreshModes)
	if err != nil {
		return nil, err
	}
	s.accounts = append(s.accounts, plans...)
	var todo []variant
	full := make([]accountPlan, len(refreshModes))
	for i, m := range refreshModes {
		if p, ok := reusedPlan(rep, m, s.latency, boundCheckN); ok {
			full[i] = p
			logf("scale: %d of %d, %s: the plan's requests of the cycle (%s)", boundCheckN, boundCheckN, m.name, formatCounts(p.requests))
		} else {
			todo = append(todo, m)
		}
	}
	if len(todo) > 0 {
		plans, err := b.accountPlans(ctx, s.latency, nil, pems[:boundCheckN], todo)
		if err != nil {
			return nil, err
		}
		for _, p := range plans {
			full[slices.IndexFunc(refreshModes, func(m variant) bool { return m.name == p.mode })] = p
		}
	}
	s.accounts = append(s.accounts, full...)
	s.accountsTook = time.Since(started)

	started = time.Now()
	for i, m := range refreshModes {
		r, err := b.sharedTokenRun(ctx, i, s.latency, pems[:sharedWorkspaces*sharedPerWorkspace], m)
		if err != nil {
			return nil, err
		}
		s.shared = append(s.shared, r)
	}
	s.sharedTook = time.Since(started)

	logf("scale: the batch share sweep (%s go %s)", sweepEnv, sweepDisplay())
	s.sweep = runShareSweep(ctx, b.root)
	if s.sweep.failure != "" {
		logf("scale: the sweep failed: %s", firstLine(s.sweep.failure))
	}
	return s, nil
}

// reusedPlan is the plan of N = n at latency from the cycles, when a
// variant with mode's settings ran it and it completed.
func reusedPlan(rep *report, mode variant, latency time.Duration, n int) (accountPlan, bool) {
	for _, v := range rep.opts.variants {
		if normalizeHCL(v.hcl) != normalizeHCL(mode.hcl) {
			continue
		}
		c := rep.cell(v.name, latency, n)
		if c == nil {
			continue
		}
		s, cycles, ok := c.summary(opPlan)
		if !ok || s.failure != "" {
			continue
		}
		from := fmt.Sprintf("the N=%d cycle at %s", n, formatLatency(latency))
		if v.name != mode.name {
			from += " (variant " + v.name + ")"
		}
		if cycles > 1 {
			from += fmt.Sprintf("; the most of %d cycles, the median wall time", cycles)
		}
		return accountPlan{managed: n, account: n, mode: mode.name, requests: s.requests, wall: s.wall, from: from}, true
	}
	return accountPlan{}, false
}

func normalizeHCL(hcl string) string { return strings.Join(strings.Fields(hcl), " ") }

// accountPlans seeds an account with the unmanaged certificates, applies a
// workspace of the managed ones, then plans it with each mode's settings,
// each plan with a fresh provider.
func (b *bench) accountPlans(ctx context.Context, latency time.Duration, unmanaged, managed []string, modes []variant) ([]accountPlan, error) {
	account := len(unmanaged) + len(managed)
	dir := filepath.Join(b.work, "scale", fmt.Sprintf("account-%d-of-%d", len(managed), account))
	em, token, err := startTokenAPIServer(emulator.Options{Latency: latency})
	if err != nil {
		return nil, err
	}
	defer em.close()
	for i, pem := range unmanaged {
		if _, err := em.AddCertificate(benchAccountID, fmt.Sprintf("unmanaged-%d", i), true, pem, ""); err != nil {
			return nil, fmt.Errorf("seeding the account: %w", err)
		}
	}
	if err := writeWorkspace(dir, em.url, token, modes[0], managed); err != nil {
		return nil, err
	}
	if err := b.initWorkspace(ctx, dir, modes[0]); err != nil {
		return nil, err
	}

	r, err := b.runCommand(ctx, dir, "apply", b.cliArgs(opApply, b.opts.parallelism)...)
	if err != nil {
		return nil, err
	}
	applyFailure := commandFailure(opApply, r)
	if applyFailure == "" && em.CertificateCount(benchAccountID) != account {
		applyFailure = fmt.Sprintf("%d certificates stored after apply, want %d", em.CertificateCount(benchAccountID), account)
	}
	logf("scale: %d of %d: apply %.2fs%s", len(managed), account, r.wall.Seconds(), failureSuffix(applyFailure))

	var out []accountPlan
	for i, m := range modes {
		p := accountPlan{managed: len(managed), account: account, mode: m.name}
		if applyFailure != "" {
			p.failure = "apply failed: " + applyFailure
			out = append(out, p)
			continue
		}
		if err := writeWorkspace(dir, em.url, token, m, managed); err != nil {
			return nil, err
		}
		em.resetOperation()
		r, err := b.runCommand(ctx, dir, fmt.Sprintf("plan-%d", i), b.cliArgs(opPlan, b.opts.parallelism)...)
		if err != nil {
			return nil, err
		}
		p.wall, p.requests, p.failure = r.wall, em.RequestCounts(), commandFailure(opPlan, r)
		logf("scale: %d of %d, %s: plan %.2fs  requests %s%s", p.managed, account, m.name, r.wall.Seconds(),
			formatCounts(p.requests), failureSuffix(p.failure))
		out = append(out, p)
	}
	return out, nil
}

// sharedTokenRun runs apply, plan and destroy in each of the workspaces,
// the workspaces at once, all on one token against sharedRateLimit.
func (b *bench) sharedTokenRun(ctx context.Context, index int, latency time.Duration, pems []string, mode variant) (sharedRun, error) {
	run := sharedRun{mode: mode.name}
	limit := sharedRateLimit
	em, token, err := startTokenAPIServer(emulator.Options{Latency: latency, RateLimit: &limit})
	if err != nil {
		return run, err
	}
	defer em.close()
	dirs := make([]string, sharedWorkspaces)
	for i := range dirs {
		dirs[i] = filepath.Join(b.work, "scale", fmt.Sprintf("shared-%d", index), fmt.Sprintf("w%d", i))
		certs := pems[i*sharedPerWorkspace : (i+1)*sharedPerWorkspace]
		if err := writeWorkspaceNamed(dirs[i], em.url, token, mode, certs, fmt.Sprintf("w%d", i)); err != nil {
			return run, err
		}
		if err := b.initWorkspace(ctx, dirs[i], mode); err != nil {
			return run, err
		}
	}
	em.resetOperation()
	logf("scale: shared token, %s: %d workspaces × %d certificates at once", mode.name, sharedWorkspaces, sharedPerWorkspace)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	started := time.Now()
	for i, dir := range dirs {
		wg.Go(func() {
			for _, op := range operations {
				r, err := b.runCommand(ctx, dir, op, b.cliArgs(op, sharedParallelism)...)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("workspace %d: %w", i, err))
					mu.Unlock()
					return
				}
				failure := commandFailure(op, r)
				logf("scale: shared token, %s: workspace %d %-7s %6.2fs%s", mode.name, i, op, r.wall.Seconds(), failureSuffix(failure))
				if failure != "" {
					mu.Lock()
					run.failures = append(run.failures, fmt.Sprintf("workspace %d %s: %s", i, op, firstLine(failure)))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	run.wall = time.Since(started)
	if len(errs) > 0 {
		return run, errors.Join(errs...)
	}
	run.requests, run.stats = em.RequestCounts(), em.RateLimitStats()
	if want := sharedWorkspaces * sharedPerWorkspace; run.requests[emulator.RouteUpload] != want {
		run.failures = append(run.failures, fmt.Sprintf("%d uploads, want %d (each certificate once)", run.requests[emulator.RouteUpload], want))
	}
	if left := em.CertificateCount(benchAccountID); left != 0 {
		run.failures = append(run.failures, fmt.Sprintf("%d certificates left after the destroys", left))
	}
	logf("scale: shared token, %s: %.2fs  requests %s  refused %d, fewest remaining %d, blocks %d", mode.name, run.wall.Seconds(),
		formatCounts(run.requests), run.stats.Refused, run.stats.LowestRemaining, run.stats.Blocks)
	return run, nil
}

// cliArgs are the arguments of op; parallelism 0 leaves the CLI's default.
func (b *bench) cliArgs(op string, parallelism int) []string {
	args := []string{op, "-input=false", "-no-color"}
	switch op {
	case opApply, opDestroy:
		args = append(args, "-auto-approve")
	case opPlan:
		args = append(args, "-detailed-exitcode")
	}
	if parallelism > 0 {
		args = append(args, fmt.Sprintf("-parallelism=%d", parallelism))
	}
	return args
}

// runCommand runs one CLI command in dir with a provider of its own, which
// it stops afterwards; the output goes to dir/<logName>.log.
func (b *bench) runCommand(ctx context.Context, dir, logName string, args ...string) (cliRun, error) {
	prov, err := b.startProvider(ctx, variant{})
	if err != nil {
		return cliRun{}, err
	}
	defer prov.stop()
	return b.cli.run(ctx, dir, prov.reattach, filepath.Join(dir, logName+".log"), args...)
}

// commandFailure is why a command did not do what it should; "" when it did.
func commandFailure(op string, r cliRun) string {
	switch {
	case op == opPlan && r.exitCode == 2:
		return "the plan after apply is not empty"
	case r.exitCode != 0:
		return fmt.Sprintf("exit status %d: %s", r.exitCode, r.tail)
	}
	return ""
}

// runShareSweep runs the sweep test and reads its table.
func runShareSweep(ctx context.Context, root string) sweepResult {
	started := time.Now()
	cmd := exec.CommandContext(ctx, "go", sweepCommand...)
	cmd.Dir = root
	cmd.Env = append(providerEnv(), sweepEnv)
	out, err := cmd.CombinedOutput()
	res := parseSweep(out, err)
	res.took = time.Since(started)
	return res
}

// sweepLine is a line of the table the sweep logs: t.Log prefixes each with
// the file and line.
var sweepLine = regexp.MustCompile(`^\s*batch_refresh_share_test\.go:\d+: (\|.*\|)\s*$`)

// parseSweep reads the sweep's `go test -v` output; err is the command's.
func parseSweep(out []byte, err error) sweepResult {
	var res sweepResult
	passed := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := sweepLine.FindStringSubmatch(line); m != nil {
			res.table = append(res.table, m[1])
		}
		if strings.HasPrefix(strings.TrimSpace(line), "--- PASS: TestBatchRefreshShareSweep") {
			passed = true
		}
	}
	switch {
	case err != nil:
		res.failure = fmt.Sprintf("go %s: %v\n%s", sweepDisplay(), err, tailLines(out, 20))
	case !passed:
		res.failure = "the sweep did not run (skipped, or not found):\n" + tailLines(out, 5)
	case len(res.table) < 3:
		res.failure = "the sweep logged no table:\n" + tailLines(out, 5)
	}
	return res
}

// planTotal is the plan's requests, every route.
func (p accountPlan) planTotal() int { return total(p.requests) }

// scaleTargets judge the section: a refresh of 3 of 5,000 must not list the
// account, one of 1,000 of 1,000 must list it rather than send 1,000 GETs,
// the shared token must never be refused, and the sweep must pass.
func scaleTargets(s *scaleReport) []target {
	if s == nil {
		return nil
	}
	var out []target
	for _, c := range []struct {
		managed, account, limit int
		name                    string
	}{
		{largeAccountManaged, largeAccount + largeAccountManaged, maxLargeAccountPlan,
			fmt.Sprintf("plan of %d certificates in an account of %d others: not the whole listing", largeAccountManaged, largeAccount)},
		{boundCheckN, boundCheckN, maxFullAccountPlan,
			fmt.Sprintf("plan of %d certificates, the whole account: listed, not a GET each", boundCheckN)},
	} {
		t := target{name: c.name, variant: refreshModes[0].name, kind: kindRequests,
			limit: fmt.Sprintf("get + list ≤ %d; no other route", c.limit), measured: "not measured"}
		for _, p := range s.accounts {
			if p.managed != c.managed || p.account != c.account || p.mode != refreshModes[0].name {
				continue
			}
			reads := p.requests[emulator.RouteGet] + p.requests[emulator.RouteList]
			switch {
			case p.failure != "":
				t.measured = firstLine(p.failure)
			default:
				t.measured = fmt.Sprintf("%d (%s)", p.planTotal(), formatCounts(p.requests))
				t.result = passIf(reads <= c.limit && p.planTotal() == reads)
			}
		}
		out = append(out, t)
	}
	for _, r := range s.shared {
		t := target{
			name:    fmt.Sprintf("shared token, %d workspaces × %d certificates at %d per %s: no request refused", sharedWorkspaces, sharedPerWorkspace, sharedRateLimit.Quota, formatWindow(sharedRateLimit.Window)),
			variant: r.mode, kind: kindRequests, limit: "refused = 0; every command succeeds",
		}
		t.measured = fmt.Sprintf("%d refused, %d blocks, fewest remaining %s", r.stats.Refused, r.stats.Blocks, formatRemaining(r.stats.LowestRemaining))
		if len(r.failures) > 0 {
			t.measured += "; " + strings.Join(r.failures, "; ")
		}
		t.result = passIf(r.stats.Refused == 0 && len(r.failures) == 0)
		out = append(out, t)
	}
	sweep := target{
		name:    "batch share sweep (go test): at the default share, 3 of 5000 ≤ 4 requests and 1000 of 1000 ≤ 25",
		variant: "—", kind: kindRequests, limit: "the test passes", measured: "passed", result: pass,
	}
	if s.sweep.failure != "" {
		sweep.measured, sweep.result = firstLine(s.sweep.failure), fail
	}
	return append(out, sweep)
}

// markdown is the section.
func (s *scaleReport) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n\n", scaleHeading)
	w("What a refresh costs when the workspace manages few of its account's certificates, or all of them, and whether "+
		"workspaces that share one API token stay inside its rate limit; through the same CLI and provider build as "+
		"the cycles above, at API latency %s, each command with a provider process of its own. `default` is batch "+
		"refresh (the provider's default); `batch_refresh = false` sends one GET per certificate. This section took %s "+
		"(large account %s, shared token %s, sweep %s).\n\n",
		formatLatency(s.latency), (s.accountsTook + s.sharedTook + s.sweep.took).Round(time.Second),
		s.accountsTook.Round(time.Second), s.sharedTook.Round(time.Second), s.sweep.took.Round(time.Second))

	w("**Refresh in a large account.** The plan after apply, refresh included, of a workspace that manages some of "+
		"the account's certificates: 3 in an account that also holds %d it does not manage (seeded in the emulator), "+
		"and 1000 that are the whole account. CLI parallelism %d.\n\n", largeAccount, s.parallelism)
	w("| Managed of account | Refresh | list | get | Total | Plan wall | Note |\n|---|---|--:|--:|--:|--:|---|\n")
	for _, p := range s.accounts {
		if p.failure != "" {
			w("| %d of %d | %s | | | | | %s |\n", p.managed, p.account, p.mode, tableCell(firstLine(p.failure)))
			continue
		}
		note := ""
		if p.from != "" {
			note = "from " + p.from
		}
		w("| %d of %d | %s | %d | %d | %d | %s | %s |\n", p.managed, p.account, p.mode, p.requests[emulator.RouteList],
			p.requests[emulator.RouteGet], p.planTotal(), formatSeconds(p.wall), tableCell(note))
	}
	w("\n")

	limit := sharedRateLimit
	w("**Four workspaces on one API token.** %d workspaces of %d certificates each, in one account and on one token, "+
		"each running apply, plan and destroy in turn at `-parallelism=%d`, the %d at once, against the emulator's rate "+
		"limit: %d requests per %s per token, and the token blocked for %s after a refusal (Cloudflare's: 1,200 per "+
		"300 s, blocked for 300 s). Wall is the time until the last workspace's destroy ends; requests are those of "+
		"every command, by route; fewest remaining is the lowest count left in a window after a request.\n\n",
		sharedWorkspaces, sharedPerWorkspace, sharedParallelism, sharedWorkspaces, limit.Quota, formatWindow(limit.Window), formatWindow(limit.Block))
	w("| Refresh | Wall | upload | get | list | delete | associations | Total | Refused | Fewest remaining | Blocks | Note |\n")
	w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range s.shared {
		w("| %s | %s |", r.mode, formatSeconds(r.wall))
		for _, route := range reportRoutes {
			w(" %d |", r.requests[route])
		}
		w(" %d | %d | %s | %d | %s |\n", total(r.requests), r.stats.Refused, formatRemaining(r.stats.LowestRemaining), r.stats.Blocks,
			tableCell(strings.Join(r.failures, "; ")))
	}
	w("\n")

	w("**The batch share.** `%s go %s`: the batch refresher alone, without the CLI, 10 refreshes at a time against "+
		"the emulator at 20 ms, of the certificates at the end of the account (few are on its first page); the "+
		"requests (list + GET) for each value of `batchShare`, and the GETs of `batch_refresh = false`.\n\n", sweepEnv, sweepDisplay())
	w("The share is a bet on how many more refreshes come: a refresh not on the first page costs a GET and the rest of " +
		"the listing a request per page left, so the refresher lists the rest once those misses reach the share times " +
		"the pages left; a low share pays when the workspace manages much of the account, and costs the whole listing " +
		"on top of the GETs when it manages a few dozen.\n\n")
	if len(s.sweep.table) > 0 {
		w("%s\n\n", strings.Join(s.sweep.table, "\n"))
	}
	if s.sweep.failure != "" {
		w("The sweep failed: %s\n\n", tableCell(firstLine(s.sweep.failure)))
	}
	return b.String()
}

// formatWindow is a rate-limit window or block, in seconds when whole.
func formatWindow(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}

// formatRemaining is RateLimitStats.LowestRemaining; -1 means no request
// reached the limit.
func formatRemaining(n int) string {
	if n < 0 {
		return "—"
	}
	return fmt.Sprint(n)
}
