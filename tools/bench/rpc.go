package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// rpcRawSummary opens the report's block of raw go test output, which the
// next run's -before hands to benchstat.
const rpcRawSummary = "<details><summary>go test output (benchstat's input; -before reads it)</summary>"

// runRPCBenchmarks runs the per-RPC Go benchmarks (internal/provider,
// rpc_bench_test.go) count times each and returns go test's output. They
// show a change's cost per RPC in review, where the CLI's wall time is noisy.
func runRPCBenchmarks(ctx context.Context, root string, count int) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "./internal/provider/", "-run", "^$", "-bench", ".", "-benchmem", //nolint:gosec // G204: the repository's own benchmarks.
		"-count", strconv.Itoa(count))
	cmd.Dir = root
	cmd.Env = envList(cleanEnv())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	return string(out), nil
}

// benchstat summarizes this run's per-RPC results and, when before holds
// an earlier run's, compares the two. It is installed, pinned, on first use.
func benchstat(ctx context.Context, root, work, before, this string) (string, error) {
	tool, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "ensure-go-tool.sh"), "benchstat").Output() //nolint:gosec // G204: the repository's own script.
	if err != nil {
		return "", fmt.Errorf("scripts/ensure-go-tool.sh benchstat: %w", err)
	}
	var args []string
	for _, in := range []struct{ label, text string }{{"before", before}, {"this run", this}} {
		if in.text == "" {
			continue
		}
		path := filepath.Join(work, strings.ReplaceAll(in.label, " ", "-")+".txt")
		if err := os.WriteFile(path, []byte(in.text), 0o600); err != nil { //nolint:gosec // G703: a file in this run's temporary directory.
			return "", err
		}
		args = append(args, in.label+"="+path)
	}
	out, err := exec.CommandContext(ctx, strings.TrimSpace(string(tool)), args...).CombinedOutput() //nolint:gosec // G204: the pinned benchstat.
	if err != nil {
		return "", fmt.Errorf("benchstat: %w\n%s", err, out)
	}
	return string(out), nil
}
