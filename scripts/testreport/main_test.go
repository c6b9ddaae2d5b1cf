package main

import (
	"strings"
	"testing"
)

// stream is go test -json output of one package: a pass, a skip with its
// reason, and a test failing in one subtest.
const stream = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestPass"}
{"Action":"output","Package":"p","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"p","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestPass","Elapsed":0}
{"Action":"run","Package":"p","Test":"TestOld"}
{"Action":"output","Package":"p","Test":"TestOld","Output":"    old_test.go:12: Terraform 1.5.7 lacks resource identity: skipping test\n"}
{"Action":"output","Package":"p","Test":"TestOld","Output":"--- SKIP: TestOld (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestOld","Elapsed":0}
{"Action":"run","Package":"p","Test":"TestBroken"}
{"Action":"run","Package":"p","Test":"TestBroken/ok"}
{"Action":"output","Package":"p","Test":"TestBroken/ok","Output":"    noisy line of a passing subtest\n"}
{"Action":"pass","Package":"p","Test":"TestBroken/ok","Elapsed":0}
{"Action":"run","Package":"p","Test":"TestBroken/bad"}
{"Action":"output","Package":"p","Test":"TestBroken/bad","Output":"    broken_test.go:30: want 1 upload, got 2\n"}
{"Action":"output","Package":"p","Test":"TestBroken/bad","Output":"--- FAIL: TestBroken/bad (0.10s)\n"}
{"Action":"fail","Package":"p","Test":"TestBroken/bad","Elapsed":0.1}
{"Action":"output","Package":"p","Test":"TestBroken","Output":"--- FAIL: TestBroken (0.10s)\n"}
{"Action":"fail","Package":"p","Test":"TestBroken","Elapsed":0.1}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.2s\n"}
{"Action":"fail","Package":"p","Elapsed":0.2}
`

func TestReport(t *testing.T) {
	var out strings.Builder
	r := &report{out: &out, output: map[string][]string{}}
	if err := r.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if want := (counts{passed: 1, failed: 1, skipped: 1}); r.counts != want || !r.failed {
		t.Errorf("counts = %+v, failed = %v; want %+v, true", r.counts, r.failed, want)
	}
	text := out.String()
	for _, want := range []string{
		"--- SKIP: TestOld: Terraform 1.5.7 lacks resource identity: skipping test\n",
		"--- FAIL: TestBroken/bad (0.1s)\n    broken_test.go:30: want 1 upload, got 2\n",
		"--- FAIL: TestBroken (0.1s)\n",
		"FAIL\tp\t0.2s\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"noisy line", "TestPass", "=== RUN", "--- FAIL: TestBroken/bad (0.10s)"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the report holds %q:\n%s", unwanted, text)
		}
	}
}
