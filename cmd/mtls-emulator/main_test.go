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
		"base_url":   baseURL,
		"api_token":  "env-token",
		"api_email":  "demo@example.com",
		"account_id": sampleAccountID,
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
