package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer lets the test read what run prints while run is still going.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func noEnv(string) string { return "" }

func TestRunServesUntilCanceled(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-ready-file", ready, "-email", "demo@example.com", "-key", "k"},
			&stdout, io.Discard, func(name string) string {
				if name == tokenEnv {
					return "env-token"
				}
				return ""
			})
	}()

	baseURL := waitForFile(t, ready, done)
	facts := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(stdout.String()), "\n") {
		k, v, _ := strings.Cut(line, "=")
		facts[k] = v
	}
	want := map[string]string{
		"base_url":    baseURL,
		"control_url": strings.TrimSuffix(baseURL, "/client/v4") + "/__emulator",
		"api_token":   "env-token",
		"api_email":   "demo@example.com",
		"account_id":  sampleAccountID,
	}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("%s=%q, want %q (stdout %q)", k, facts[k], v, stdout.String())
		}
	}
	if !strings.HasPrefix(baseURL, "http://127.0.0.1:") || !strings.HasSuffix(baseURL, "/client/v4") {
		t.Errorf("base URL %q", baseURL)
	}

	req, err := http.NewRequest(http.MethodGet, baseURL+"/accounts/"+sampleAccountID+"/mtls_certificates", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer env-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("list with the printed token: HTTP %d", resp.StatusCode)
	}

	// The printed control URL serves the control API, with the printed token.
	for token, wantStatus := range map[string]int{"env-token": http.StatusOK, "other": http.StatusForbidden} {
		req, err := http.NewRequest(http.MethodGet, facts["control_url"]+"/requests", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Errorf("control API with token %q: HTTP %d, want %d", token, resp.StatusCode, wantStatus)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ready file left behind: %v", err)
	}
}

func waitForFile(t *testing.T, path string, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(filepath.Clean(path)); err == nil {
			return string(data)
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before it was ready: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the ready file never appeared")
	return ""
}

func TestRunGeneratesATokenWhenNoneIsGiven(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve nothing: stop as soon as the facts are printed
	var stdout lockedBuffer
	if err := run(ctx, []string{"-addr", "127.0.0.1:0"}, &stdout, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	i := strings.Index(out, "api_token=")
	if i < 0 {
		t.Fatalf("no api_token line in %q", out)
	}
	token, _, _ := strings.Cut(out[i+len("api_token="):], "\n")
	if len(token) != 40 {
		t.Errorf("generated token %q, want 40 hex characters", token)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", ":0"},
		{"-addr", "192.0.2.1:8787"},
		{"-addr", "example.com:8787"},
		{"-addr", "127.0.0.1"},
		{"-pem-style", "unix", "-addr", "127.0.0.1:0"},
		{"-paging", "sometimes", "-addr", "127.0.0.1:0"},
		{"-email", "only@example.com", "-addr", "127.0.0.1:0"},
		{"-latency", "-1s", "-addr", "127.0.0.1:0"},
		{"-addr", "127.0.0.1:0", "extra"},
	} {
		// Canceled, so a wrongly accepted flag set returns instead of serving.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := run(ctx, args, io.Discard, io.Discard, noEnv); err == nil {
			t.Errorf("run(%q) accepted bad flags", args)
		}
	}
}

func TestRunAcceptsEveryPagingMode(t *testing.T) {
	for _, mode := range []string{"honored", "ignored", "inconsistent-totals", "shrinking-totals"} {
		// Canceled, so run stops as soon as the facts are printed.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := run(ctx, []string{"-addr", "127.0.0.1:0", "-paging", mode}, io.Discard, io.Discard, noEnv); err != nil {
			t.Errorf("-paging %s: %v", mode, err)
		}
	}
}

func TestRequireLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8787": true,
		"127.1.2.3:0":    true,
		"[::1]:8787":     true,
		"localhost:8787": true,
		"LOCALHOST:1":    true,
		"0.0.0.0:8787":   false,
		"[::]:8787":      false,
		":8787":          false,
		"10.0.0.1:8787":  false,
		"host:8787":      false,
	} {
		if err := requireLoopback(addr); (err == nil) != ok {
			t.Errorf("requireLoopback(%q) = %v", addr, err)
		}
	}
}

// startupFacts runs the command with args and a canceled context, so it
// stops as soon as it has printed its facts, and returns them.
func startupFacts(t *testing.T, args ...string) (map[string]string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout lockedBuffer
	err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &stdout, io.Discard, noEnv)
	facts := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(stdout.String()), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			facts[k] = v
		}
	}
	return facts, err
}

// TestRunRateLimitFlags: the rate-limit flags are parsed into the limit the
// start-up lines report, and those lines appear only when a limit is on.
func TestRunRateLimitFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string // "" wants the line absent
	}{
		{nil, map[string]string{"rate_limit": "", "rate_limit_block": "", "rate_limit_headers": ""}},
		{[]string{"-rate-limit", "1200/5m"}, map[string]string{"rate_limit": "1200/5m0s", "rate_limit_block": "", "rate_limit_headers": "ietf"}},
		{[]string{"-rate-limit", "1200/5m", "-rate-limit-block", "5m"}, map[string]string{"rate_limit": "1200/5m0s", "rate_limit_block": "5m0s", "rate_limit_headers": "ietf"}},
		{[]string{"-rate-limit", "3/1.5s", "-rate-limit-block", "0s", "-rate-limit-headers", "x-ratelimit"}, map[string]string{"rate_limit": "3/1.5s", "rate_limit_block": "", "rate_limit_headers": "x-ratelimit"}},
		{[]string{"-rate-limit", "1/1h", "-rate-limit-headers", "none"}, map[string]string{"rate_limit": "1/1h0m0s", "rate_limit_headers": "none"}},
	} {
		facts, err := startupFacts(t, tc.args...)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		for k, want := range tc.want {
			if got, ok := facts[k]; got != want || ok != (want != "") {
				t.Errorf("%q: %s=%q (present %v), want %q", tc.args, k, got, ok, want)
			}
		}
	}
}

// TestRunRejectsBadRateLimitFlags: each bad value is refused with an error
// that names the flag and what is wrong with it.
func TestRunRejectsBadRateLimitFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-rate-limit", "1200"}, `-rate-limit "1200": want QUOTA/WINDOW`},
		{[]string{"-rate-limit", "5m/1200"}, `the quota "5m" is not a whole number`},
		{[]string{"-rate-limit", "0/5m"}, `the quota "0" is not a whole number of requests of at least 1`},
		{[]string{"-rate-limit", "-3/5m"}, `the quota "-3"`},
		{[]string{"-rate-limit", "/5m"}, `the quota ""`},
		{[]string{"-rate-limit", "1200/300"}, `the window "300" is not a positive duration`},
		{[]string{"-rate-limit", "1200/0s"}, `the window "0s" is not a positive duration`},
		{[]string{"-rate-limit", "1200/-5m"}, `the window "-5m"`},
		{[]string{"-rate-limit", "1200/5m/1"}, `the window "5m/1"`},
		{[]string{"-rate-limit", "1200/5m", "-rate-limit-block", "-1s"}, "-rate-limit-block -1s: must not be negative"},
		{[]string{"-rate-limit", "1200/5m", "-rate-limit-block", "soon"}, "-rate-limit-block"},
		{[]string{"-rate-limit", "1200/5m", "-rate-limit-headers", "draft"}, `-rate-limit-headers: unknown rate-limit header style "draft" (accepted: ietf, x-ratelimit, none)`},
		{[]string{"-rate-limit-block", "5m"}, "-rate-limit-block needs -rate-limit QUOTA/WINDOW"},
		{[]string{"-rate-limit-headers", "ietf"}, "-rate-limit-headers needs -rate-limit"},
		{[]string{"-rate-limit-block", "5m", "-rate-limit-headers", "none"}, "-rate-limit-block and -rate-limit-headers need -rate-limit"},
	} {
		if _, err := startupFacts(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.wantErr)
		}
	}
}

// TestRunEnforcesTheRateLimit: the limit the flags describe is the one the
// served emulator enforces, with the chosen headers and block.
func TestRunEnforcesTheRateLimit(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-ready-file", ready, "-token", "limited",
			"-rate-limit", "2/1h", "-rate-limit-block", "30s", "-rate-limit-headers", "x-ratelimit"}, io.Discard, io.Discard, noEnv)
	}()
	baseURL := waitForFile(t, ready, done)

	for i, want := range []struct {
		status               int
		remaining, retryWait string
	}{
		{http.StatusOK, "1", ""},
		{http.StatusOK, "0", ""},
		{http.StatusTooManyRequests, "0", "30"},
	} {
		req, err := http.NewRequest(http.MethodGet, baseURL+"/accounts/"+sampleAccountID+"/mtls_certificates", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer limited")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want.status || resp.Header.Get("X-RateLimit-Limit") != "2" ||
			resp.Header.Get("X-RateLimit-Remaining") != want.remaining || resp.Header.Get("Retry-After") != want.retryWait {
			t.Errorf("request %d: HTTP %d, headers %v; want HTTP %d, X-RateLimit-Limit 2, X-RateLimit-Remaining %s, Retry-After %q",
				i+1, resp.StatusCode, resp.Header, want.status, want.remaining, want.retryWait)
		}
		if resp.Header.Get("Ratelimit") != "" {
			t.Errorf("request %d: IETF headers with -rate-limit-headers x-ratelimit", i+1)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}
