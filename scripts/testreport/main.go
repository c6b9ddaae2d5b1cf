// Command testreport reads `go test -json` on stdin and prints what a plain
// `go test` would, plus counts: each package's result, the whole output of
// every failed test, and one line per skipped test with its reason. With
// -counts FILE it writes "run passed failed skipped" of the top-level tests
// to FILE, for scripts/testacc-matrix.sh. It exits 1 when a test or package
// failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// counts are the top-level tests of a run by outcome.
type counts struct {
	passed, failed, skipped int
}

func (c counts) run() int { return c.passed + c.failed + c.skipped }

// report turns the event stream into the printed summary.
type report struct {
	out io.Writer
	// output holds each test's lines ("pkg\x00Test/sub") until it ends.
	output map[string][]string
	counts counts
	failed bool
}

func main() {
	countsFile := flag.String("counts", "", `write "run passed failed skipped" to this file`)
	flag.Parse()

	r := &report{out: os.Stdout, output: map[string][]string{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	c := r.counts
	r.printf("tests: %d run, %d passed, %d failed, %d skipped\n", c.run(), c.passed, c.failed, c.skipped)
	if *countsFile != "" {
		line := fmt.Sprintf("%d %d %d %d\n", c.run(), c.passed, c.failed, c.skipped)
		if err := os.WriteFile(*countsFile, []byte(line), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
	if r.failed {
		os.Exit(1)
	}
}

// printf writes to the report's output; a closed stdout is not worth
// failing the test run for.
func (r *report) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(r.out, format, args...)
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// Not an event, such as a message of the go command.
			r.printf("%s\n", sc.Text())
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

func (r *report) handle(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "output", "build-output":
		if e.Test == "" {
			r.packageOutput(e)
			return
		}
		r.output[key] = append(r.output[key], e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			if e.Action == "fail" {
				r.failed = true
			}
			return
		}
		r.testEnded(e, key)
	case "build-fail":
		r.failed = true
	}
}

// packageOutput prints the package's own lines: its ok/FAIL line and
// anything printed outside a test, but not go test -v's PASS/FAIL footer.
func (r *report) packageOutput(e event) {
	line := e.Output
	switch strings.TrimSpace(line) {
	case "PASS", "FAIL", "":
		return
	}
	if strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") {
		return
	}
	r.printf("%s", line)
}

func (r *report) testEnded(e event, key string) {
	lines := r.output[key]
	topLevel := !strings.Contains(e.Test, "/")
	switch e.Action {
	case "fail":
		r.failed = true
		// A parent's failure is its subtests'; print each failure once,
		// with what the test and its subtests printed.
		r.printf("--- FAIL: %s (%.1fs)\n", e.Test, e.Elapsed)
		for _, l := range r.subtestOutput(e.Package, e.Test, lines) {
			r.printf("%s", l)
		}
		if topLevel {
			r.counts.failed++
		}
	case "skip":
		if topLevel {
			r.counts.skipped++
			r.printf("--- SKIP: %s: %s\n", e.Test, skipReason(lines))
		}
	case "pass":
		if topLevel {
			r.counts.passed++
		}
	}
	if topLevel {
		for k := range r.output {
			if strings.HasPrefix(k, key+"/") {
				delete(r.output, k)
			}
		}
	}
	delete(r.output, key)
}

// subtestOutput is the test's own lines, then those of its subtests still
// held (failed ones have been printed and removed already).
func (r *report) subtestOutput(pkg, test string, own []string) []string {
	prefix := pkg + "\x00" + test + "/"
	var keys []string
	for k := range r.output {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := filterFramework(own)
	for _, k := range keys {
		out = append(out, filterFramework(r.output[k])...)
		delete(r.output, k)
	}
	return out
}

// filterFramework drops go test's own progress lines.
func filterFramework(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== RUN") || strings.HasPrefix(t, "=== PAUSE") || strings.HasPrefix(t, "=== CONT") ||
			strings.HasPrefix(t, "=== NAME") || strings.HasPrefix(t, "--- ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// skipReason is the message of t.Skip: the test's last line that is not
// go test's own, without the file:line prefix.
func skipReason(lines []string) string {
	for _, l := range slices.Backward(filterFramework(lines)) {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if _, msg, ok := strings.Cut(t, ": "); ok && strings.Contains(t[:len(t)-len(msg)], ".go:") {
			return msg
		}
		return t
	}
	return "(no reason given)"
}
