package main

import (
	"fmt"
	"os"
	"strings"
)

// before is what the report repeats from an earlier one (-before): when and
// what it measured, its targets, and its per-RPC runs for benchstat.
type before struct {
	environment string // its Date, CLI and Provider rows
	targets     string // its Targets section, without the heading
	rpcRaw      string // its go test -bench output; "" when it has none
}

// readBefore reads a BENCHMARKS.md written by an earlier run.
func readBefore(path string) (before, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: a report the user names.
	if err != nil {
		return before{}, err
	}
	// Its own figures, not those it repeated from the run before it.
	text, _, _ := strings.Cut(string(raw), "\n## Before")
	var b before
	for line := range strings.SplitSeq(text, "\n") {
		for _, row := range []string{"| Date (UTC) |", "| CLI |", "| Provider | commit "} {
			if strings.HasPrefix(line, row) {
				b.environment += line + "\n"
			}
		}
	}
	if _, rest, ok := strings.Cut(text, "\n## Targets\n"); ok {
		b.targets, _, _ = strings.Cut(rest, "\n## ")
		b.targets = strings.TrimSpace(b.targets)
	}
	if _, rest, ok := strings.Cut(text, rpcRawSummary); ok {
		if _, rest, ok = strings.Cut(rest, "```text\n"); ok {
			b.rpcRaw, _, _ = strings.Cut(rest, "```")
		}
	}
	if b.targets == "" {
		return before{}, fmt.Errorf("%s has no Targets section", path)
	}
	return b, nil
}
