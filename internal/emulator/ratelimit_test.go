package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
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

// limitedAnswer is a request's status, headers and error codes, read
// without the invariants of apiClient.send: the rate limit's code is below
// the 1000 the API reference promises, as the real API's is.
type limitedAnswer struct {
	status     int
	retryAfter string
	header     http.Header
	codes      []int
}

func sendRaw(t *testing.T, c *apiClient, method, path string) limitedAnswer {
	t.Helper()
	raw := rawRequest(t, c, method, path)
	var env struct {
		Errors []apiError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(raw.body), &env); err != nil {
		t.Fatalf("not an envelope: %s", raw.body)
	}
	out := limitedAnswer{status: raw.status, retryAfter: raw.header.Get("Retry-After"), header: raw.header}
	for _, e := range env.Errors {
		out.codes = append(out.codes, e.Code)
	}
	return out
}

// rateLimitEpoch is where the fake clocks of the rate-limit tests start: a
// quarter second past a whole second, so the tests see which way the
// emulator rounds.
var rateLimitEpoch = time.Date(2030, 1, 1, 0, 0, 0, 250*int(time.Millisecond), time.UTC)

// limitedEmulator serves an emulator that enforces limit on a fake clock.
func limitedEmulator(t *testing.T, limit RateLimit) (*Running, *fakeClock) {
	t.Helper()
	opts := testOptions()
	opts.RateLimit = &limit
	emu := startEmulator(t, opts)
	clock := &fakeClock{now: rateLimitEpoch}
	// Set before the first request, which the connection orders after it.
	emu.limiter.now = clock.Now
	return emu, clock
}

// rateLimitHeaderNames are every header a RateLimitHeaders style may send.
var rateLimitHeaderNames = []string{"Ratelimit", "Ratelimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}

// TestRateLimitWindowPerCredential: each credential has a fixed window of
// its own that opens with its first request, every client with the same
// credential shares it, and requests refused by authentication are
// neither counted nor told about the limit.
func TestRateLimitWindowPerCredential(t *testing.T) {
	emu, clock := limitedEmulator(t, RateLimit{Quota: 3, Window: 10 * time.Second})
	token := newClient(t, emu)
	sameToken := newClient(t, emu)
	key := newClient(t, emu)
	key.auth = globalKey(testEmail, testKey)
	wrong := newClient(t, emu)
	wrong.auth = bearer("wrong")
	list := certsPath(testAccount)

	for _, step := range []struct {
		name       string
		advance    time.Duration
		client     *apiClient
		status     int
		ratelimit  string // the Ratelimit header; "" wants none
		retryAfter string
	}{
		{"the token's first request opens its window", 0, token, http.StatusOK, `"default";r=2;t=10`, ""},
		{"a wrong token is refused before the limit", 0, wrong, http.StatusForbidden, "", ""},
		{"another client with the same token shares its window", time.Second, sameToken, http.StatusOK, `"default";r=1;t=9`, ""},
		{"the global key's window opens with its own first request", 0, key, http.StatusOK, `"default";r=2;t=10`, ""},
		{"the token's last request of the window", 0, token, http.StatusOK, `"default";r=0;t=9`, ""},
		{"over the token's quota: wait for the window's end", 2500 * time.Millisecond, token, http.StatusTooManyRequests, `"default";r=0;t=7`, "7"},
		{"the key is not limited by the token", 0, key, http.StatusOK, `"default";r=1;t=8`, ""},
		{"after the window, the next request opens a fresh one", 9500 * time.Millisecond, token, http.StatusOK, `"default";r=2;t=10`, ""},
		{"the key's window ended too", 0, key, http.StatusOK, `"default";r=2;t=10`, ""},
	} {
		clock.Advance(step.advance)
		a := sendRaw(t, step.client, http.MethodGet, list)
		if a.status != step.status || a.header.Get("Ratelimit") != step.ratelimit || a.retryAfter != step.retryAfter {
			t.Fatalf("%s: HTTP %d, Ratelimit %q, Retry-After %q; want HTTP %d, %q, %q",
				step.name, a.status, a.header.Get("Ratelimit"), a.retryAfter, step.status, step.ratelimit, step.retryAfter)
		}
		if a.status == http.StatusTooManyRequests && (len(a.codes) != 1 || a.codes[0] != CodeRateLimited) {
			t.Fatalf("%s: codes %v, want [%d]", step.name, a.codes, CodeRateLimited)
		}
	}
	if n := emu.RateLimitedCount(); n != 1 {
		t.Errorf("RateLimitedCount = %d, want 1", n)
	}
	if got, want := emu.RateLimitStats(), (RateLimitStats{Refused: 1, LowestRemaining: 0}); got != want {
		t.Errorf("RateLimitStats = %+v, want %+v", got, want)
	}
	// Every request counts as one that reached its route, limited or
	// refused or not.
	if n := emu.RequestCount(RouteList); n != 9 {
		t.Errorf("RequestCount(list) = %d, want 9", n)
	}
}

// TestRateLimitConcurrentClients: clients racing on one token get exactly
// the quota between them, no more and no less.
func TestRateLimitConcurrentClients(t *testing.T) {
	const quota, clients, each = 30, 6, 10
	emu, _ := limitedEmulator(t, RateLimit{Quota: quota, Window: time.Hour})
	statuses := make(chan int, clients*each)
	errs := make(chan error, clients*each)
	var wg sync.WaitGroup
	for range clients {
		c := newClient(t, emu)
		wg.Go(func() {
			for range each {
				req, err := http.NewRequest(http.MethodGet, c.baseURL+certsPath(testAccount), nil)
				if err != nil {
					errs <- err
					return
				}
				c.auth(req)
				resp, err := c.http.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				statuses <- resp.StatusCode
			}
		})
	}
	wg.Wait()
	close(statuses)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if want := map[int]int{http.StatusOK: quota, http.StatusTooManyRequests: clients*each - quota}; !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if got, want := emu.RateLimitStats(), (RateLimitStats{Refused: clients*each - quota, LowestRemaining: 0}); got != want {
		t.Errorf("RateLimitStats = %+v, want %+v", got, want)
	}
}

// TestRateLimitHeaders: every answer that went through the limit carries
// the chosen style's headers with exact values, whether the operation
// succeeded, failed on its own, met an injected fault or was refused, and
// whether the window or a block governs it; answers refused before the
// limit, and every answer with the None style, carry none.
func TestRateLimitHeaders(t *testing.T) {
	ietf := func(r, tSec int, _ string) map[string]string {
		return map[string]string{
			"Ratelimit":        fmt.Sprintf(`"default";r=%d;t=%d`, r, tSec),
			"Ratelimit-Policy": `"default";q=3;w=10`,
		}
	}
	legacy := func(r, _ int, reset string) map[string]string {
		return map[string]string{
			"X-RateLimit-Limit":     "3",
			"X-RateLimit-Remaining": strconv.Itoa(r),
			"X-RateLimit-Reset":     reset,
		}
	}
	none := func(int, int, string) map[string]string { return nil }

	for _, tc := range []struct {
		style RateLimitHeaders
		want  func(remaining, seconds int, reset string) map[string]string
	}{
		{RateLimitHeadersIETF, ietf},
		{RateLimitHeadersLegacy, legacy},
		{RateLimitHeadersNone, none},
	} {
		t.Run(tc.style.String(), func(t *testing.T) {
			emu, clock := limitedEmulator(t, RateLimit{Quota: 3, Window: 10 * time.Second, Block: 20 * time.Second, Headers: tc.style})
			c := newClient(t, emu)
			wrong := newClient(t, emu)
			wrong.auth = bearer("wrong")
			list := certsPath(testAccount)
			// The window opens at 00:00:00.250 and ends at 00:00:10.250;
			// the block starts at 00:00:01.750 and ends at 00:00:21.750.
			// Reset dates round up to the whole second.
			const windowReset, blockReset = "Tue, 01 Jan 2030 00:00:11 GMT", "Tue, 01 Jan 2030 00:00:22 GMT"
			for _, step := range []struct {
				name       string
				advance    time.Duration
				client     *apiClient
				path       string
				fault      *Fault
				status     int
				retryAfter string
				want       map[string]string
			}{
				{"a success", 0, c, list, nil, http.StatusOK, "", tc.want(2, 10, windowReset)},
				{"the operation's own 404", 1500 * time.Millisecond, c, certPath(testAccount, "6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e"), nil,
					http.StatusNotFound, "", tc.want(1, 9, windowReset)},
				{"an injected 503", 0, c, list, &Fault{Route: RouteList, Status: http.StatusServiceUnavailable}, http.StatusServiceUnavailable, "", tc.want(0, 9, windowReset)},
				{"the refusal that starts the block", 0, c, list, nil, http.StatusTooManyRequests, "20", tc.want(0, 20, blockReset)},
				{"a refusal during the block", 5 * time.Second, c, list, nil, http.StatusTooManyRequests, "15", tc.want(0, 15, blockReset)},
				{"a wrong token, refused before the limit", 0, wrong, list, nil, http.StatusForbidden, "", nil},
			} {
				clock.Advance(step.advance)
				if step.fault != nil {
					emu.InjectFault(*step.fault)
				}
				a := sendRaw(t, step.client, http.MethodGet, step.path)
				if a.status != step.status || a.retryAfter != step.retryAfter {
					t.Fatalf("%s: HTTP %d, Retry-After %q; want HTTP %d, %q", step.name, a.status, a.retryAfter, step.status, step.retryAfter)
				}
				for _, name := range rateLimitHeaderNames {
					if got, want := a.header.Values(name), step.want[name]; want == "" && len(got) != 0 || want != "" && !slices.Equal(got, []string{want}) {
						t.Errorf("%s: %s %q, want %q", step.name, name, got, want)
					}
				}
			}
		})
	}

	t.Run("no limit", func(t *testing.T) {
		a := sendRaw(t, newClient(t, startEmulator(t, testOptions())), http.MethodGet, certsPath(testAccount))
		for _, name := range rateLimitHeaderNames {
			if got := a.header.Values(name); a.status != http.StatusOK || len(got) != 0 {
				t.Errorf("HTTP %d, %s %q without a rate limit", a.status, name, got)
			}
		}
	})
}

// TestCloudflareRateLimit pins the real API's figures, in the limit and in
// the headers a client sees.
func TestCloudflareRateLimit(t *testing.T) {
	if want := (RateLimit{Quota: 1200, Window: 5 * time.Minute, Block: 5 * time.Minute, Headers: RateLimitHeadersIETF}); CloudflareRateLimit != want {
		t.Fatalf("CloudflareRateLimit = %+v, want %+v", CloudflareRateLimit, want)
	}
	emu, _ := limitedEmulator(t, CloudflareRateLimit)
	a := sendRaw(t, newClient(t, emu), http.MethodGet, certsPath(testAccount))
	if got := a.header.Get("Ratelimit"); got != `"default";r=1199;t=300` {
		t.Errorf("Ratelimit %q", got)
	}
	if got := a.header.Get("Ratelimit-Policy"); got != `"default";q=1200;w=300` {
		t.Errorf("Ratelimit-Policy %q", got)
	}
}

// TestRateLimitRetryAfter: without a block a refused client is told to
// wait for the window's end; with one, for the block's end, which further
// requests do not push back; either way the next request after it opens a
// fresh window.
func TestRateLimitRetryAfter(t *testing.T) {
	type step struct {
		at         time.Duration // since the first request
		status     int
		retryAfter string
		ratelimit  string
	}
	for _, tc := range []struct {
		name  string
		limit RateLimit
		steps []step
		stats RateLimitStats
	}{
		{
			name:  "no block: until the window ends",
			limit: RateLimit{Quota: 2, Window: time.Minute},
			steps: []step{
				{0, http.StatusOK, "", `"default";r=1;t=60`},
				{0, http.StatusOK, "", `"default";r=0;t=60`},
				{20500 * time.Millisecond, http.StatusTooManyRequests, "40", `"default";r=0;t=40`},
				{59 * time.Second, http.StatusTooManyRequests, "1", `"default";r=0;t=1`},
				{59900 * time.Millisecond, http.StatusTooManyRequests, "1", `"default";r=0;t=1`},
				{time.Minute, http.StatusOK, "", `"default";r=1;t=60`},
			},
			stats: RateLimitStats{Refused: 3, LowestRemaining: 0},
		},
		{
			name:  "block: its length, not extended by requests during it",
			limit: RateLimit{Quota: 2, Window: time.Minute, Block: 2 * time.Minute},
			steps: []step{
				{0, http.StatusOK, "", `"default";r=1;t=60`},
				{0, http.StatusOK, "", `"default";r=0;t=60`},
				{10 * time.Second, http.StatusTooManyRequests, "120", `"default";r=0;t=120`},
				{70 * time.Second, http.StatusTooManyRequests, "60", `"default";r=0;t=60`},
				{129500 * time.Millisecond, http.StatusTooManyRequests, "1", `"default";r=0;t=1`},
				{130 * time.Second, http.StatusOK, "", `"default";r=1;t=60`},
				{130 * time.Second, http.StatusOK, "", `"default";r=0;t=60`},
				{131 * time.Second, http.StatusTooManyRequests, "120", `"default";r=0;t=120`},
			},
			stats: RateLimitStats{Refused: 4, LowestRemaining: 0, Blocks: 2},
		},
		{
			name:  "a block shorter than the window ends the window too",
			limit: RateLimit{Quota: 2, Window: time.Minute, Block: 5 * time.Second},
			steps: []step{
				{0, http.StatusOK, "", `"default";r=1;t=60`},
				{0, http.StatusOK, "", `"default";r=0;t=60`},
				{time.Second, http.StatusTooManyRequests, "5", `"default";r=0;t=5`},
				{6 * time.Second, http.StatusOK, "", `"default";r=1;t=60`},
			},
			stats: RateLimitStats{Refused: 1, LowestRemaining: 0, Blocks: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, clock := limitedEmulator(t, tc.limit)
			c := newClient(t, emu)
			var at time.Duration
			for i, s := range tc.steps {
				clock.Advance(s.at - at)
				at = s.at
				a := sendRaw(t, c, http.MethodGet, certsPath(testAccount))
				if a.status != s.status || a.retryAfter != s.retryAfter || a.header.Get("Ratelimit") != s.ratelimit {
					t.Fatalf("request %d at +%v: HTTP %d, Retry-After %q, Ratelimit %q; want HTTP %d, %q, %q",
						i+1, s.at, a.status, a.retryAfter, a.header.Get("Ratelimit"), s.status, s.retryAfter, s.ratelimit)
				}
			}
			if got := emu.RateLimitStats(); got != tc.stats {
				t.Errorf("RateLimitStats = %+v, want %+v", got, tc.stats)
			}
		})
	}
}

// TestRateLimitReset: Reset lifts a block and clears every count, so the
// next request opens a fresh window.
func TestRateLimitReset(t *testing.T) {
	emu, clock := limitedEmulator(t, RateLimit{Quota: 2, Window: time.Hour, Block: time.Hour})
	c := newClient(t, emu)
	list := certsPath(testAccount)
	for range 2 {
		sendRaw(t, c, http.MethodGet, list)
	}
	if a := sendRaw(t, c, http.MethodGet, list); a.status != http.StatusTooManyRequests {
		t.Fatalf("over the quota: HTTP %d", a.status)
	}
	if got, want := emu.RateLimitStats(), (RateLimitStats{Refused: 1, LowestRemaining: 0, Blocks: 1}); got != want {
		t.Fatalf("before Reset: RateLimitStats = %+v, want %+v", got, want)
	}

	clock.Advance(time.Minute)
	emu.Reset()
	if got, want := emu.RateLimitStats(), (RateLimitStats{LowestRemaining: -1}); got != want || emu.RateLimitedCount() != 0 {
		t.Errorf("after Reset: RateLimitStats = %+v, RateLimitedCount = %d; want %+v, 0", got, emu.RateLimitedCount(), want)
	}
	if a := sendRaw(t, c, http.MethodGet, list); a.status != http.StatusOK || a.header.Get("Ratelimit") != `"default";r=1;t=3600` {
		t.Errorf("after Reset: HTTP %d, Ratelimit %q; want 200 in a fresh window", a.status, a.header.Get("Ratelimit"))
	}
	if got, want := emu.RateLimitStats(), (RateLimitStats{LowestRemaining: 1}); got != want {
		t.Errorf("after one request: RateLimitStats = %+v, want %+v", got, want)
	}

	if got, want := New(testOptions()).RateLimitStats(), (RateLimitStats{LowestRemaining: -1}); got != want {
		t.Errorf("without a rate limit: RateLimitStats = %+v, want %+v", got, want)
	}
}

// TestRateLimitBeforeFaults: a limited request never reaches an injected
// fault or the operation.
func TestRateLimitBeforeFaults(t *testing.T) {
	opts := testOptions()
	opts.RateLimit = &RateLimit{Quota: 1, Window: time.Hour}
	emu := startEmulator(t, opts)
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")
	c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM})
	emu.InjectFault(Fault{Route: RouteUpload, CommitThenDrop: true})
	req, err := http.NewRequest(http.MethodPost, c.baseURL+certsPath(testAccount),
		strings.NewReader(`{"ca":true,"certificates":`+quoteJSON(testcerts.NewCA("emulator test CA").PEM)+`}`))
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

func TestParseRateLimitHeaders(t *testing.T) {
	for _, h := range []RateLimitHeaders{RateLimitHeadersIETF, RateLimitHeadersLegacy, RateLimitHeadersNone} {
		got, err := ParseRateLimitHeaders(h.String())
		if err != nil || got != h {
			t.Errorf("ParseRateLimitHeaders(%q) = %v, %v; want %v", h.String(), got, err, h)
		}
	}
	if _, err := ParseRateLimitHeaders("draft"); err == nil || !strings.Contains(err.Error(), "ietf, x-ratelimit, none") {
		t.Errorf("unknown style error %v should list the accepted names", err)
	}
	// The zero value is the style Cloudflare sends, so a RateLimit
	// literal that leaves Headers out gets it.
	if RateLimitHeadersIETF != 0 || RateLimitHeadersIETF.String() != "ietf" {
		t.Errorf("the zero RateLimitHeaders is %v", RateLimitHeaders(0))
	}
	if got := RateLimitHeaders(9).String(); got != "RateLimitHeaders(9)" {
		t.Errorf("String of an unknown style = %q", got)
	}
}

func TestRandomFaults(t *testing.T) {
	t.Run("server errors are not performed", func(t *testing.T) {
		opts := testOptions()
		opts.RandomFaults = &RandomFaults{Seed: 1, ServerError: 1}
		emu := startEmulator(t, opts)
		c := newClient(t, emu)
		r, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM})
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
		if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}); err == nil {
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
		if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}); err == nil {
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
	for name, tc := range map[string]struct {
		opts    Options
		wantErr string // "" wants none
	}{
		"zero quota":       {Options{RateLimit: &RateLimit{Quota: 0, Window: time.Minute}}, "Quota must be at least 1"},
		"negative quota":   {Options{RateLimit: &RateLimit{Quota: -1, Window: time.Minute}}, "Quota must be at least 1"},
		"zero window":      {Options{RateLimit: &RateLimit{Quota: 1}}, "Window must be positive"},
		"negative window":  {Options{RateLimit: &RateLimit{Quota: 1, Window: -time.Second}}, "Window must be positive"},
		"negative block":   {Options{RateLimit: &RateLimit{Quota: 1, Window: time.Minute, Block: -time.Second}}, "Block must not be negative"},
		"unknown headers":  {Options{RateLimit: &RateLimit{Quota: 1, Window: time.Minute, Headers: 3}}, "unknown RateLimit.Headers"},
		"cloudflare":       {Options{RateLimit: &CloudflareRateLimit}, ""},
		"legacy headers":   {Options{RateLimit: &RateLimit{Quota: 1, Window: time.Nanosecond, Headers: RateLimitHeadersLegacy}}, ""},
		"no headers":       {Options{RateLimit: &RateLimit{Quota: 1, Window: time.Minute, Block: time.Second, Headers: RateLimitHeadersNone}}, ""},
		"negative odds":    {Options{RandomFaults: &RandomFaults{Reset: -0.1}}, "between 0 and 1"},
		"odds above one":   {Options{RandomFaults: &RandomFaults{ServerError: 0.6, Reset: 0.5}}, "add up to more than 1"},
		"odds not numbers": {Options{RandomFaults: &RandomFaults{ResetAfterCommit: 2}}, "between 0 and 1"},
	} {
		o := testOptions()
		o.RateLimit, o.RandomFaults = tc.opts.RateLimit, tc.opts.RandomFaults
		err := o.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: Validate refused %+v: %v", name, o.RateLimit, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Validate = %v, want an error about %q", name, err, tc.wantErr)
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
		strings.NewReader(`{"ca":true,"certificates":`+quoteJSON(testcerts.NewCA("emulator test CA").PEM)+`}`))
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
	if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}); err == nil {
		t.Fatal("CommitThenDrop answered")
	}
	if n := emu.CertificateCount(testAccount); n != 1 {
		t.Fatalf("an upload performed before its connection dropped left %d certificates, want 1", n)
	}
}
