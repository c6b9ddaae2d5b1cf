package cfapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Cloudflare counts requests per API token (or user) across every client
// that uses it, and blocks the token for five minutes once it goes over.
// The client's own token bucket (requestLimiter) only knows this process;
// serverQuota follows the count the server reports on each answer, which
// other processes' requests lower too, and holds new requests once it
// falls to a reserve, until the count resets.
//
// The reserve covers requests that the count on hand does not show yet:
// those in flight from this process and from the other processes on the
// token, each of which may send up to its CLI's -parallelism (10 by
// default) before an answer tells it to stop. It is the largest of
//   - minReserve, two CLIs at the default parallelism;
//   - twice the most requests this process has had in flight at once,
//     which is its CLI's parallelism in practice;
//   - reserveShare of the quota, when the server states it: at
//     Cloudflare's 1,200 per five minutes, 120 requests, which is twelve
//     pipelines at the default parallelism all in flight at the moment the
//     count reaches the reserve.
//
// and never more than half of the quota, so that a small quota still
// serves requests. What the reserve keeps back is not lost: the count
// resets at the end of the window.
const (
	minReserve   = 20
	reserveShare = 0.10
	// resetMargin is added to a hold past the reset the server named: its
	// seconds are whole, and may be rounded down. Up to as much again is
	// added at random so that the processes held together do not all send
	// at the same instant.
	resetMargin = time.Second
)

// serverQuota is the count of requests the server says the token has
// left, shared by every request of one Client.
type serverQuota struct {
	jitter func() time.Duration

	mu sync.Mutex
	// known is false until an answer reports the count, and again once
	// the reset it named has passed.
	known bool
	// remaining is the fewest requests any answer of the current window
	// reported left, less the requests sent since.
	remaining int
	resetAt   time.Time
	quota     int
	window    time.Duration
	inFlight  int
	peak      int
	// blockedUntil is the end of the wait a 429 asked for, and blockedFor
	// that wait. It holds every request whatever later answers to
	// requests sent before it report.
	blockedUntil time.Time
	blockedFor   time.Duration
}

func newServerQuota() *serverQuota {
	return &serverQuota{
		//nolint:gosec // G404: jitter needs spread, not secrecy.
		jitter: func() time.Duration { return rand.N(resetMargin) },
	}
}

// quotaHold is why a request is held, for the log and the error.
type quotaHold struct {
	// refused: Cloudflare refused a request for the rate limit, and asked
	// to wait asked, of which resetIn is left.
	refused   bool
	asked     time.Duration
	remaining int
	reserve   int
	quota     int
	window    time.Duration
	resetIn   time.Duration
}

func (h quotaHold) describe() string {
	if h.refused {
		return refusedNote(h.asked)
	}
	s := fmt.Sprintf("Cloudflare reported %d requests left for this API token, at or below the %d kept in reserve for "+
		"requests in flight here and in other processes on the token, until its count resets in %s",
		h.remaining, h.reserve, h.resetIn.Round(time.Second))
	if h.quota > 0 && h.window > 0 {
		s += fmt.Sprintf(" (quota %d requests per %s)", h.quota, h.window)
	}
	return s
}

// pastDeadline is why the request is not sent when the hold would end
// after the operation's deadline.
func (h quotaHold) pastDeadline() string {
	if h.refused {
		return refusedPastDeadline(h.asked)
	}
	return h.describe() + ", which is past the operation's deadline. Other processes may be using the same API " +
		"token; lower their -parallelism, or raise this operation's timeout in its timeouts block"
}

// refusedNote tells a 429's Retry-After in the same words for the request
// it answered and for every request held after it.
func refusedNote(asked time.Duration) string {
	wait := asked.Round(time.Second)
	if asked < time.Second {
		wait = asked.Round(time.Millisecond)
	}
	return fmt.Sprintf("Cloudflare refused a request of this API token for its rate limit (HTTP 429) and asked to wait %s", wait)
}

// refusedPastDeadline is why a call stops when a 429's wait ends after its
// deadline: it fails at once instead of sleeping into the timeout.
func refusedPastDeadline(asked time.Duration) string {
	return refusedNote(asked) + ", longer than this operation's timeout leaves; raise the timeout in its timeouts " +
		"block, or run again once the wait is over"
}

// reserveLocked is the number of requests held back; see the package
// comment above.
func (q *serverQuota) reserveLocked() int {
	r := max(minReserve, 2*q.peak)
	if q.quota > 0 {
		r = max(r, int(float64(q.quota)*reserveShare+0.5))
		r = min(r, q.quota/2)
	}
	return r
}

// admit is called before each attempt. It returns 0 when the request may
// go now, and counts it as sent; otherwise it returns how long to hold it
// (past the reset) and why, and the caller asks again after the hold.
func (q *serverQuota) admit(now time.Time) (time.Duration, quotaHold) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Before(q.blockedUntil) {
		return q.blockedUntil.Sub(now) + q.jitter(), quotaHold{refused: true, asked: q.blockedFor, quota: q.quota, window: q.window, resetIn: q.blockedUntil.Sub(now)}
	}
	if q.known && !now.Before(q.resetAt) {
		q.known = false // the count has reset; the next answer says by how much
	}
	if q.known {
		if reserve := q.reserveLocked(); q.remaining <= reserve {
			hold := q.resetAt.Sub(now) + resetMargin + q.jitter()
			return hold, quotaHold{remaining: max(q.remaining, 0), reserve: reserve, quota: q.quota, window: q.window, resetIn: q.resetAt.Sub(now)}
		}
		q.remaining--
	}
	q.inFlight++
	q.peak = max(q.peak, q.inFlight)
	return 0, quotaHold{}
}

// cancel undoes an admit whose request was never sent.
func (q *serverQuota) cancel() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight--
	if q.known {
		q.remaining++
	}
}

// done is called after each admitted attempt with its answer, nil when
// none arrived. A refusal for the rate limit (HTTP 429) with a Retry-After
// holds every request until then, whatever the headers say, so that no
// other request of this process is sent into a block. A 429 that is the
// API's final word on something else (final) is no such refusal.
func (q *serverQuota) done(res *http.Response, final bool, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight--
	if res == nil {
		return
	}
	if c, ok := parseRateLimit(res.Header, now); ok {
		q.observeLocked(now, c)
	}
	if res.StatusCode == http.StatusTooManyRequests && !final {
		wait, ok := parseRetryAfter(res.Header.Get("Retry-After"), now)
		if !ok {
			return // the retrier's backoff spaces the retries
		}
		if until := now.Add(wait); until.After(q.blockedUntil) {
			q.blockedUntil, q.blockedFor = until, wait
		}
		q.observeLocked(now, serverCount{remaining: 0, reset: wait})
	}
}

// observeLocked takes in one answer's count. Answers to concurrent
// requests arrive in any order, so within a window the fewest remaining
// wins; a reset later than the one on hand with more requests left is a
// new window.
func (q *serverQuota) observeLocked(now time.Time, c serverCount) {
	resetAt := now.Add(c.reset)
	if c.quota > 0 {
		q.quota = c.quota
	}
	if c.window > 0 {
		q.window = c.window
	}
	switch {
	case !q.known || !now.Before(q.resetAt):
		q.known, q.remaining, q.resetAt = true, c.remaining, resetAt
	case resetAt.After(q.resetAt.Add(resetMargin)) && c.remaining > q.remaining:
		q.remaining, q.resetAt = c.remaining, resetAt
	default:
		q.remaining = min(q.remaining, c.remaining)
		if resetAt.After(q.resetAt) {
			q.resetAt = resetAt
		}
	}
}

// RateLimitWaits adds up the time that the calls made with one context
// were held for a rate limit: the client's own pace, the count the server
// reports, and the waits a 429 asked for. An operation that waited long
// says so in a warning.
type RateLimitWaits struct {
	mu     sync.Mutex
	total  time.Duration
	count  int
	reason string
}

type rateLimitWaitsKey struct{}

// WithRateLimitWaits returns a context whose calls add their rate limit
// waits to the returned RateLimitWaits.
func WithRateLimitWaits(ctx context.Context) (context.Context, *RateLimitWaits) {
	w := &RateLimitWaits{}
	return context.WithValue(ctx, rateLimitWaitsKey{}, w), w
}

// RateLimitWaitsOf returns the RateLimitWaits of a context made by
// WithRateLimitWaits, or nil.
func RateLimitWaitsOf(ctx context.Context) *RateLimitWaits {
	w, _ := ctx.Value(rateLimitWaitsKey{}).(*RateLimitWaits)
	return w
}

// Total is the time waited so far.
func (w *RateLimitWaits) Total() time.Duration {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// Add records a wait that happened elsewhere on the caller's behalf, such
// as a shared listing's.
func (w *RateLimitWaits) Add(other *RateLimitWaits) {
	if w == nil || other == nil || w == other {
		return
	}
	other.mu.Lock()
	total, count, reason := other.total, other.count, other.reason
	other.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += total
	w.count += count
	if reason != "" {
		w.reason = reason
	}
}

// Summary says how long the waits were, how many, and the last reason.
func (w *RateLimitWaits) Summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	waits := "waits"
	if w.count == 1 {
		waits = "wait"
	}
	return fmt.Sprintf("%s in %d %s; the last because %s", w.total.Round(time.Second), w.count, waits, w.reason)
}

func recordRateLimitWait(ctx context.Context, d time.Duration, reason string) {
	w, _ := ctx.Value(rateLimitWaitsKey{}).(*RateLimitWaits)
	if w == nil || d <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += d
	w.count++
	w.reason = reason
}
