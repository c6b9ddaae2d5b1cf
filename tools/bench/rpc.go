package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// rpcBenchmark is one Go benchmark of the provider's protocol server
// (internal/provider/rpc_bench_test.go): the median of its runs for each
// unit it reports (ns/op, B/op, allocs/op, log-B/op).
type rpcBenchmark struct {
	name    string
	medians map[string]float64
}

// runRPCBenchmarks runs the per-RPC Go benchmarks count times each. They
// show a change's cost per RPC in review, where the CLI benchmark shows it
// only as wall time on a noisy machine.
func runRPCBenchmarks(ctx context.Context, root string, count int) ([]rpcBenchmark, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "./internal/provider/", "-run", "^$", "-bench", ".", "-benchmem", //nolint:gosec // G204: the repository's own benchmarks.
		"-count", strconv.Itoa(count))
	cmd.Dir = root
	cmd.Env = providerEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, tailLines(out, 20))
	}
	return parseRPCBenchmarks(out), nil
}

// parseRPCBenchmarks reads `go test -bench` output: a line per run,
// "BenchmarkName-2  N  value unit  value unit ...".
func parseRPCBenchmarks(out []byte) []rpcBenchmark {
	samples := map[string]map[string][]float64{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		if samples[name] == nil {
			samples[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				samples[name][fields[i+1]] = append(samples[name][fields[i+1]], v)
			}
		}
	}
	out2 := make([]rpcBenchmark, 0, len(order))
	for _, name := range order {
		b := rpcBenchmark{name: name, medians: map[string]float64{}}
		for unit, vs := range samples[name] {
			slices.Sort(vs)
			b.medians[unit] = vs[len(vs)/2]
		}
		out2 = append(out2, b)
	}
	return out2
}

// rpcMarkdown is the report's section of per-RPC benchmarks.
func rpcMarkdown(benchmarks []rpcBenchmark, count int) string {
	var b strings.Builder
	b.WriteString("## Per-RPC cost\n\n")
	fmt.Fprintf(&b, "`go test ./internal/provider/ -run '^$' -bench . -benchmem -count %d`: each RPC the CLI sends for one "+
		"certificate, called on the provider's protocol server against the emulator; medians of %d runs. `loggers=off` is "+
		"how the provider runs without TF_LOG (every log level OFF), `loggers=trace` with TF_LOG=TRACE "+
		"(log-B/op: what it writes), `loggers=none` a context without loggers. Every RPC goes through the framework.\n\n", count, count)
	b.WriteString("| Benchmark | time/op | B/op | allocs/op | log-B/op |\n|---|--:|--:|--:|--:|\n")
	for _, r := range benchmarks {
		logBytes := "—"
		if v, ok := r.medians["log-B/op"]; ok {
			logBytes = strconv.FormatFloat(v, 'f', 0, 64)
		}
		fmt.Fprintf(&b, "| %s | %.0f µs | %.0f | %.0f | %s |\n", r.name, r.medians["ns/op"]/1e3, r.medians["B/op"], r.medians["allocs/op"], logBytes)
	}
	b.WriteString("\n")
	return b.String()
}

func tailLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
