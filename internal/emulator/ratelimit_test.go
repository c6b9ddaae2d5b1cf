package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// limitedAnswer is a request's status, Retry-After and error codes, read
// without the invariants of apiClient.send: the rate limit's code is below
// the 1000 the API reference promises, as the real API's is.
type limitedAnswer struct {
	status     int
	retryAfter string
	codes      []int
}

func sendRaw(t *testing.T, c *apiClient, method, path string) limitedAnswer {
	t.Helper()
	req, err := http.NewRequest(method, c.baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Errors []apiError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("not an envelope: %s", raw)
	}
	out := limitedAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	for _, e := range env.Errors {
		out.codes = append(out.codes, e.Code)
	}
	return out
}

func TestRateLimitPerUser(t *testing.T) {
	opts := testOptions()
	opts.RateLimit = &RateLimit{Burst: 3, PerSecond: 0.5}
	emu := startEmulator(t, opts)
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	emu.limiter.now = clock.Now
	token := newClient(t, emu)
	key := newClient(t, emu)
	key.auth = globalKey(testEmail, testKey)
	list := certsPath(testAccount)

	for i := range 3 {
		if a := sendRaw(t, token, http.MethodGet, list); a.status != http.StatusOK {
			t.Fatalf("request %d of the burst: %+v", i+1, a)
		}
	}
	a := sendRaw(t, token, http.MethodGet, list)
	if a.status != http.StatusTooManyRequests || len(a.codes) != 1 || a.codes[0] != CodeRateLimited || a.retryAfter != "2" {
		t.Fatalf("over the burst: %+v, want 429, code %d, Retry-After 2 (one token at 0.5/s)", a, CodeRateLimited)
	}
	// Another user has a bucket of its own; a refused login spends nothing.
	if a := sendRaw(t, key, http.MethodGet, list); a.status != http.StatusOK {
		t.Fatalf("the key user was limited by the token user's requests: %+v", a)
	}
	denied := newClient(t, emu)
	denied.auth = bearer("wrong")
	if a := sendRaw(t, denied, http.MethodGet, list); a.status != http.StatusForbidden {
		t.Fatalf("wrong token: %+v", a)
	}

	clock.Advance(1500 * time.Millisecond)
	if a := sendRaw(t, token, http.MethodGet, list); a.status != http.StatusTooManyRequests || a.retryAfter != "1" {
		t.Fatalf("three quarters of a token later: %+v, want 429 with Retry-After 1", a)
	}
	clock.Advance(500 * time.Millisecond)
	if a := sendRaw(t, token, http.MethodGet, list); a.status != http.StatusOK {
		t.Fatalf("after the Retry-After: %+v", a)
	}
	if n := emu.RateLimitedCount(); n != 2 {
		t.Errorf("RateLimitedCount = %d, want 2", n)
	}
	// Every request counts as one that reached its route, limited or
	// refused or not.
	if n := emu.RequestCount(RouteList); n != 8 {
		t.Errorf("RequestCount(list) = %d, want 8", n)
	}
	emu.Reset()
	for range 3 {
		if a := sendRaw(t, token, http.MethodGet, list); a.status != http.StatusOK {
			t.Fatalf("Reset did not refill the bucket: %+v", a)
		}
	}
}

// TestRateLimitBeforeFaults: a limited request never reaches an injected
// fault or the operation.
func TestRateLimitBeforeFaults(t *testing.T) {
	opts := testOptions()
	opts.RateLimit = &RateLimit{Burst: 1, PerSecond: 0.001}
	emu := startEmulator(t, opts)
	c := newClient(t, emu)
	ca := newCA(t)
	c.upload(testAccount, uploadBody{CA: true, Certificates: ca.pem})
	emu.InjectFault(Fault{Route: RouteUpload, CommitThenDrop: true})
	req, err := http.NewRequest(http.MethodPost, c.baseURL+certsPath(testAccount),
		strings.NewReader(`{"ca":true,"certificates":`+quoteJSON(newCA(t).pem)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("a limited upload must be answered, not dropped by the fault: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	if n := emu.CertificateCount(testAccount); n != 1 {
		t.Errorf("%d certificates stored, want only the first", n)
	}
}

func TestRandomFaults(t *testing.T) {
	t.Run("server errors are not performed", func(t *testing.T) {
		opts := testOptions()
		opts.RandomFaults = &RandomFaults{Seed: 1, ServerError: 1}
		emu := startEmulator(t, opts)
		c := newClient(t, emu)
		r, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: newCA(t).pem})
		if err != nil || r.status < 500 || r.env.Errors[0].Code != CodeInjectedFault {
			t.Fatalf("got %+v, %v; want a 5XX", r, err)
		}
		if n := emu.CertificateCount(testAccount); n != 0 {
			t.Errorf("a 5XX upload stored %d certificates", n)
		}
	})
	t.Run("resets are not performed", func(t *testing.T) {
		opts := testOptions()
		opts.RandomFaults = &RandomFaults{Seed: 1, Reset: 1}
		emu := startEmulator(t, opts)
		c := newClient(t, emu)
		if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: newCA(t).pem}); err == nil {
			t.Fatal("the upload got an answer through a reset")
		}
		if n := emu.CertificateCount(testAccount); n != 0 {
			t.Errorf("a reset upload stored %d certificates", n)
		}
	})
	t.Run("resets after commit are performed", func(t *testing.T) {
		opts := testOptions()
		opts.RandomFaults = &RandomFaults{Seed: 1, ResetAfterCommit: 1}
		emu := startEmulator(t, opts)
		c := newClient(t, emu)
		if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: newCA(t).pem}); err == nil {
			t.Fatal("the upload got an answer through a reset")
		}
		if n := emu.CertificateCount(testAccount); n != 1 {
			t.Errorf("an upload reset after commit stored %d certificates, want 1", n)
		}
		if got := emu.RandomFaultCounts(); got != (RandomFaultCounts{ResetsAfterCommit: 1, UploadsCommittedThenReset: 1}) {
			t.Errorf("counts %+v", got)
		}
	})
	t.Run("shares follow the odds and the seed", func(t *testing.T) {
		odds := RandomFaults{Seed: 42, ServerError: 0.2, Reset: 0.1, ResetAfterCommit: 0.1}
		draws := func() RandomFaultCounts {
			r := newRandomFaults(odds)
			for range 2000 {
				r.draw(RouteGet)
			}
			return r.counts
		}
		first := draws()
		if again := draws(); again != first {
			t.Fatalf("the same seed drew %+v, then %+v", first, again)
		}
		// Within 20% of the expected count: far beyond chance for 2000
		// draws, and the seed makes the outcome fixed anyway.
		for name, got := range map[string]struct{ n, want int }{
			"server errors":       {first.ServerErrors, 400},
			"resets":              {first.Resets, 200},
			"resets after commit": {first.ResetsAfterCommit, 200},
		} {
			if got.n < got.want*8/10 || got.n > got.want*12/10 {
				t.Errorf("%s: %d of 2000, want about %d", name, got.n, got.want)
			}
		}
	})
}

func TestRateLimitAndRandomFaultOptionsAreChecked(t *testing.T) {
	for name, opts := range map[string]Options{
		"zero burst":       {RateLimit: &RateLimit{Burst: 0, PerSecond: 1}},
		"zero rate":        {RateLimit: &RateLimit{Burst: 1}},
		"negative odds":    {RandomFaults: &RandomFaults{Reset: -0.1}},
		"odds above one":   {RandomFaults: &RandomFaults{ServerError: 0.6, Reset: 0.5}},
		"odds not numbers": {RandomFaults: &RandomFaults{ResetAfterCommit: 2}},
	} {
		o := testOptions()
		o.RateLimit, o.RandomFaults = opts.RateLimit, opts.RandomFaults
		if err := o.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v %+v", name, o.RateLimit, o.RandomFaults)
		}
	}
}

// TestLatencyAndDisconnect pins down what a client that hangs up in the
// middle of an upload leaves behind: nothing, when it hangs up during
// Latency; the certificate, when the upload had already been performed.
func TestLatencyAndDisconnect(t *testing.T) {
	opts := testOptions()
	opts.Latency = 300 * time.Millisecond
	emu := startEmulator(t, opts)
	c := newClient(t, emu)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+certsPath(testAccount),
		strings.NewReader(`{"ca":true,"certificates":`+quoteJSON(newCA(t).pem)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("upload = %v, want the client's deadline", err)
	}
	// Wait past the latency: a server that went on would have stored it.
	time.Sleep(2 * opts.Latency)
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Fatalf("an upload whose client hung up during Latency stored %d certificates", n)
	}

	emu.InjectFault(Fault{Route: RouteUpload, CommitThenDrop: true})
	if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: newCA(t).pem}); err == nil {
		t.Fatal("CommitThenDrop answered")
	}
	if n := emu.CertificateCount(testAccount); n != 1 {
		t.Fatalf("an upload performed before its connection dropped left %d certificates, want 1", n)
	}
}
