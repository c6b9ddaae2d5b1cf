package cfapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseRateLimit(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		h    http.Header
		want serverCount
		ok   bool
	}{
		"IETF draft, as Cloudflare sends it": {
			h:    header("Ratelimit", `"default";r=50;t=30`, "Ratelimit-Policy", `"default";q=1200;w=300`),
			want: serverCount{remaining: 50, reset: 30 * time.Second, quota: 1200, window: 300 * time.Second}, ok: true,
		},
		"parameters in another order, another policy name, spaces": {
			h:    header("RateLimit", `"cf-api";t=7; r=3`, "RateLimit-Policy", `"cf-api"; w=60;q=300`),
			want: serverCount{remaining: 3, reset: 7 * time.Second, quota: 300, window: time.Minute}, ok: true,
		},
		"a token as the policy name": {
			h:    header("Ratelimit", `default;r=0;t=1`),
			want: serverCount{remaining: 0, reset: time.Second}, ok: true,
		},
		"several policies: the one with fewest left binds, with its own quota": {
			h: header("Ratelimit", `"burst";r=90;t=1, "window";r=12;t=200`,
				"Ratelimit-Policy", `"burst";q=100;w=1, "window";q=1200;w=300`),
			want: serverCount{remaining: 12, reset: 200 * time.Second, quota: 1200, window: 300 * time.Second}, ok: true,
		},
		"several policies in separate header lines": {
			h:    header("Ratelimit", `"a";r=5;t=10`, "Ratelimit", `"b";r=4;t=20`),
			want: serverCount{remaining: 4, reset: 20 * time.Second}, ok: true,
		},
		"a quoted name holding the separators": {
			h:    header("Ratelimit", `"odd;name,x";r=8;t=9`, "Ratelimit-Policy", `"odd;name,x";q=10;w=60`),
			want: serverCount{remaining: 8, reset: 9 * time.Second, quota: 10, window: time.Minute}, ok: true,
		},
		"one unreadable policy does not hide the other": {
			h:    header("Ratelimit", `"a";r=x;t=10, "b";r=6;t=3`),
			want: serverCount{remaining: 6, reset: 3 * time.Second}, ok: true,
		},
		"policy without a matching name when it is the only one": {
			h:    header("Ratelimit", `"a";r=6;t=3`, "Ratelimit-Policy", `"other";q=100;w=60`),
			want: serverCount{remaining: 6, reset: 3 * time.Second, quota: 100, window: time.Minute}, ok: true,
		},
		"older draft fields": {
			h:    header("RateLimit-Remaining", "17", "RateLimit-Reset", "42", "RateLimit-Limit", "100"),
			want: serverCount{remaining: 17, reset: 42 * time.Second, quota: 100}, ok: true,
		},
		"X-RateLimit with an HTTP date": {
			h: header("X-RateLimit-Limit", "1200", "X-RateLimit-Remaining", "99",
				"X-RateLimit-Reset", now.Add(90*time.Second).Format(http.TimeFormat)),
			want: serverCount{remaining: 99, reset: 90 * time.Second, quota: 1200}, ok: true,
		},
		"X-RateLimit with a Unix time": {
			h:    header("X-RateLimit-Remaining", "5", "X-RateLimit-Reset", "1893553505"), // now + 60 s
			want: serverCount{remaining: 5, reset: 60 * time.Second}, ok: true,
		},
		"X-RateLimit with seconds and no limit": {
			h:    header("X-RateLimit-Remaining", "5", "X-RateLimit-Reset", "12"),
			want: serverCount{remaining: 5, reset: 12 * time.Second}, ok: true,
		},
		"X-RateLimit reset in the past": {
			h:    header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", now.Add(-time.Minute).Format(http.TimeFormat)),
			want: serverCount{remaining: 0, reset: 0}, ok: true,
		},
		"a huge reset is bounded": {
			h:    header("Ratelimit", `"default";r=1;t=99999999999999`),
			want: serverCount{remaining: 1, reset: maxReset}, ok: true,
		},
		"IETF wins over X-RateLimit": {
			h:    header("Ratelimit", `"default";r=1;t=2`, "X-RateLimit-Remaining", "1000", "X-RateLimit-Reset", "5"),
			want: serverCount{remaining: 1, reset: 2 * time.Second}, ok: true,
		},
		"malformed IETF falls back to X-RateLimit": {
			h:    header("Ratelimit", `garbage`, "X-RateLimit-Remaining", "10", "X-RateLimit-Reset", "5"),
			want: serverCount{remaining: 10, reset: 5 * time.Second}, ok: true,
		},
		// RFC 8941 allows no space before a semicolon: not a structured field.
		"not a structured field":     {h: header("Ratelimit", `"default" ; r=5;t=1`), ok: false},
		"no headers":                 {h: header(), ok: false},
		"remaining without a reset":  {h: header("Ratelimit", `"default";r=5`), ok: false},
		"reset without remaining":    {h: header("Ratelimit", `"default";t=5`), ok: false},
		"negative remaining":         {h: header("Ratelimit", `"default";r=-1;t=5`), ok: false},
		"fractional remaining":       {h: header("Ratelimit", `"default";r=1.5;t=5`), ok: false},
		"X-RateLimit bad remaining":  {h: header("X-RateLimit-Remaining", "lots", "X-RateLimit-Reset", "5"), ok: false},
		"X-RateLimit bad reset":      {h: header("X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "soon"), ok: false},
		"only a policy, no count":    {h: header("Ratelimit-Policy", `"default";q=1200;w=300`), ok: false},
		"empty fields":               {h: header("Ratelimit", ``, "X-RateLimit-Remaining", ""), ok: false},
		"unterminated quoted string": {h: header("Ratelimit", `"default;r=5;t=5`), ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := parseRateLimit(tc.h, now)
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseRateLimit(%v) = %+v, %v; want %+v, %v", tc.h, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// countHeader is the IETF headers with r and t, and q and w when quota is
// set.
func countHeader(remaining, resetSeconds, quota, windowSeconds int, extra ...string) http.Header {
	h := header(extra...)
	h.Set("Ratelimit", `"default";r=`+strconv.Itoa(remaining)+`;t=`+strconv.Itoa(resetSeconds))
	if quota > 0 {
		h.Set("Ratelimit-Policy", `"default";q=`+strconv.Itoa(quota)+`;w=`+strconv.Itoa(windowSeconds))
	}
	return h
}

// feed hands q an answer of status with h, as done does after an attempt.
func feed(q *serverQuota, now time.Time, status int, h http.Header) {
	q.done(&http.Response{StatusCode: status, Header: h, Body: http.NoBody}, false, now)
}

func newTestQuota() *serverQuota {
	q := newServerQuota()
	q.jitter = func() time.Duration { return 0 }
	return q
}

// TestServerQuotaReserve: once the count on hand reaches the reserve, new
// requests are held until the reset the server named (plus the margin);
// the reserve follows the quota and the requests in flight.
func TestServerQuotaReserve(t *testing.T) {
	clock := newTestClock()
	q := newTestQuota()
	// Nothing known: everything goes.
	for range 5 {
		if hold, _ := q.admit(clock.Now()); hold != 0 {
			t.Fatalf("held %s before any answer reported a count", hold)
		}
	}
	for range 5 {
		q.done(&http.Response{StatusCode: 200, Header: http.Header{}}, false, clock.Now())
	}
	// Quota 300: the reserve is 10% of it, 30, above the minimum of 20
	// and twice the 5 in flight seen.
	feed(q, clock.Now(), 200, countHeader(40, 30, 300, 60))
	if got := q.reserveLocked(); got != 30 {
		t.Fatalf("reserve = %d, want 30 (10%% of a quota of 300)", got)
	}
	for i := range 10 {
		if hold, _ := q.admit(clock.Now()); hold != 0 {
			t.Fatalf("request %d held with %d left, above the reserve", i+1, 40-i)
		}
	}
	hold, why := q.admit(clock.Now())
	if want := 30*time.Second + resetMargin; hold != want {
		t.Fatalf("at the reserve: hold %s, want %s (until the reset plus the margin)", hold, want)
	}
	if why.remaining != 30 || why.reserve != 30 || why.quota != 300 || why.window != time.Minute {
		t.Errorf("hold reason = %+v", why)
	}
	if msg := why.describe(); !strings.Contains(msg, "30 requests left") || !strings.Contains(msg, "quota 300 requests per 1m0s") {
		t.Errorf("describe() = %q", msg)
	}
	// Answers to the requests in flight report fewer left: other
	// processes use the token too. The count only goes down in a window.
	feed(q, clock.Now(), 200, countHeader(35, 29, 300, 60))
	feed(q, clock.Now(), 200, countHeader(20, 29, 300, 60))
	feed(q, clock.Now(), 200, countHeader(25, 29, 300, 60))
	if q.remaining != 20 {
		t.Errorf("remaining = %d after answers of 35, 20, 25; want the fewest, 20", q.remaining)
	}
	// Once the reset has passed, requests go again, and the next answer
	// is a new window.
	clock.now = clock.now.Add(30 * time.Second)
	if hold, _ := q.admit(clock.Now()); hold != 0 {
		t.Fatalf("held %s after the reset", hold)
	}
	feed(q, clock.Now(), 200, countHeader(299, 60, 300, 60))
	if q.remaining != 299 || !q.known {
		t.Errorf("after the reset: remaining %d, known %v; want 299, true", q.remaining, q.known)
	}
}

// TestServerQuotaReserveFollowsParallelism: more requests in flight here
// mean a larger reserve, and a small quota keeps half of itself usable.
func TestServerQuotaReserveFollowsParallelism(t *testing.T) {
	clock := newTestClock()
	q := newTestQuota()
	for range 30 {
		q.admit(clock.Now())
	}
	for range 30 {
		q.done(nil, false, clock.Now())
	}
	if got := q.reserveLocked(); got != 60 {
		t.Errorf("reserve with 30 in flight at once and no quota known = %d, want 60", got)
	}
	feed(q, clock.Now(), 200, countHeader(500, 100, 1200, 300))
	if got := q.reserveLocked(); got != 120 {
		t.Errorf("reserve at Cloudflare's quota of 1200 = %d, want 120", got)
	}
	feed(q, clock.Now(), 200, countHeader(5, 100, 50, 60))
	if got := q.reserveLocked(); got != 25 {
		t.Errorf("reserve at a quota of 50 = %d, want 25 (half of it)", got)
	}
	small := newTestQuota()
	feed(small, clock.Now(), 200, countHeader(5, 100, 10, 60))
	if got := small.reserveLocked(); got != 5 {
		t.Errorf("reserve at a quota of 10 = %d, want 5", got)
	}
}

// TestServerQuotaRefusal: a 429 with Retry-After holds every request until
// then, even when an answer to an older request reports plenty left.
func TestServerQuotaRefusal(t *testing.T) {
	clock := newTestClock()
	q := newTestQuota()
	q.admit(clock.Now())
	q.admit(clock.Now())
	feed(q, clock.Now(), 429, countHeader(0, 60, 300, 60, "Retry-After", "60"))
	feed(q, clock.Now(), 200, countHeader(250, 90, 300, 60))
	clock.now = clock.now.Add(10 * time.Second)
	hold, why := q.admit(clock.Now())
	if hold != 50*time.Second || !why.refused {
		t.Fatalf("after a 429 asking 60 s, 10 s later: hold %s (%+v), want 50s", hold, why)
	}
	if !strings.Contains(why.describe(), "HTTP 429") {
		t.Errorf("describe() = %q", why.describe())
	}
	// A day is a day: the hold is what was asked, and says so; whether
	// it fits is the deadline's business.
	q2 := newTestQuota()
	q2.admit(clock.Now())
	feed(q2, clock.Now(), 429, header("Retry-After", "86400"))
	clock.now = clock.now.Add(time.Minute)
	if hold, why := q2.admit(clock.Now()); hold != 24*time.Hour-time.Minute || !strings.Contains(why.describe(), "asked to wait 24h0m0s") {
		t.Errorf("a minute after Retry-After: 86400: hold %s, %q; want the rest of the day, and the day asked", hold, why.describe())
	}
	// A 429 without a usable Retry-After leaves the spacing to the
	// retrier's backoff.
	q3 := newTestQuota()
	q3.admit(clock.Now())
	feed(q3, clock.Now(), 429, header("Retry-After", "soon"))
	if hold, _ := q3.admit(clock.Now()); hold != 0 {
		t.Errorf("hold after a 429 without a usable Retry-After = %s, want 0", hold)
	}
}

// TestServerQuotaWithoutHeaders: a server that sends no rate limit headers
// is never waited for.
func TestServerQuotaWithoutHeaders(t *testing.T) {
	clock := newTestClock()
	q := newTestQuota()
	for range 5000 {
		if hold, _ := q.admit(clock.Now()); hold != 0 {
			t.Fatalf("held %s without headers", hold)
		}
		feed(q, clock.Now(), 200, header("X-RateLimit-Remaining", "garbage"))
	}
}

// TestRetrierHoldsForServerCount drives the retrier: at the reserve it
// sleeps until the reset before sending, logs the wait to the context's
// RateLimitWaits, and fails without sending when the hold would pass the
// deadline.
func TestRetrierHoldsForServerCount(t *testing.T) {
	clock := newTestClock()
	r := testRetrier(clock, 0)
	sent := 0
	next := func(*http.Request) (*http.Response, error) {
		sent++
		return &http.Response{StatusCode: 200, Header: countHeader(5, 40, 300, 60), Body: http.NoBody}, nil
	}
	ctx, waits := WithRateLimitWaits(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.com/x", http.NoBody)
	for i := range 2 {
		res, err := r.middleware(req, next)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i+1, res, err)
		}
		_ = res.Body.Close()
	}
	if sent != 2 || clock.total() != 40*time.Second+resetMargin {
		t.Fatalf("sent %d, slept %s (%v); want 2 sent and one hold of %s", sent, clock.total(), clock.sleeps, 40*time.Second+resetMargin)
	}
	if got := waits.Total(); got != 40*time.Second+resetMargin {
		t.Errorf("RateLimitWaits.Total() = %s", got)
	}
	if s := waits.Summary(); !strings.Contains(s, "41s in 1 wait;") || !strings.Contains(s, "5 requests left") {
		t.Errorf("Summary() = %q", s)
	}

	deadlineCtx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(10*time.Second))
	defer cancel()
	req, _ = http.NewRequestWithContext(deadlineCtx, http.MethodGet, "https://api.example.com/x", http.NoBody)
	res, err := r.middleware(req, next)
	if err == nil {
		_ = res.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "not sent") || !strings.Contains(err.Error(), "timeouts block") {
		t.Fatalf("hold past the deadline: err = %v", err)
	}
	if sent != 2 {
		t.Errorf("a request was sent although its hold passed the deadline")
	}
}

// TestRetrierRateLimitedDoesNotUseRetries: 429s are waited out without
// using max_retries; a 5XX still does.
func TestRetrierRateLimitedDoesNotUseRetries(t *testing.T) {
	clock := newTestClock()
	r := testRetrier(clock, 1)
	s := &scripted{steps: []step{
		{status: 429, retryAfter: "300"}, {status: 429, retryAfter: "300"}, {status: 429, retryAfter: "300"},
		{status: 503}, {status: 200},
	}}
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(20*time.Minute))
	defer cancel()
	res, err := r.middleware(newRequest(ctx, t, http.MethodGet, ""), s.next)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("got %v %v, want the 200 after three 429s and one 503 with max_retries 1", res, err)
	}
	_ = res.Body.Close()
	if len(s.bodies) != 5 {
		t.Errorf("attempts = %d, want 5", len(s.bodies))
	}
	if got := clock.total(); got < 900*time.Second {
		t.Errorf("waited %s, want the three Retry-Afters of 300 s at least", got)
	}
}

// TestRetrierNoRetriesMeansNone: with max_retries 0 a 429 is the answer,
// not waited out; the fuzzer found the client retrying it for minutes.
func TestRetrierNoRetriesMeansNone(t *testing.T) {
	clock := newTestClock()
	r := testRetrier(clock, 0)
	s := &scripted{steps: []step{{status: 429}, {status: 200}}}
	res, err := r.middleware(newRequest(context.Background(), t, http.MethodGet, ""), s.next)
	if err != nil || res.StatusCode != 429 {
		t.Fatalf("got %v %v, want the 429", res, err)
	}
	_ = res.Body.Close()
	if len(s.bodies) != 1 || clock.total() != 0 {
		t.Errorf("%d attempts, waited %s; want 1 and none", len(s.bodies), clock.total())
	}
}
