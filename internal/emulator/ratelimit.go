package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is Cloudflare's limit on API requests: a fixed window of Quota
// requests per credential, and optionally a block that follows a refusal.
// Every request that passes authentication and routing uses one of its
// credential's quota, whatever its answer; the one that finds the quota
// used up is answered HTTP 429 with a Retry-After header and
// CodeRateLimited, and is not performed. Requests refused by
// authentication or routing never reach the limit, so they are neither
// counted nor given rate-limit headers.
//
// A credential is an API token or an email and global key pair (see
// userOf); every client that sends the same one shares its window, as
// every Terraform run with one token shares Cloudflare's.
type RateLimit struct {
	// Quota is how many requests one credential may send per window.
	Quota int
	// Window is the length of a fixed window. It starts with the
	// credential's first counted request after the previous window (or
	// block) ended, not on a wall-clock boundary, so a client cannot time
	// its requests to land at the start of one.
	Window time.Duration
	// Block, when positive, refuses every request of a credential for
	// Block after a request was refused for its quota, the way Cloudflare
	// blocks a token for five minutes. Requests during the block are
	// refused too but do not extend it. Zero means no block: requests are
	// accepted again as soon as the window ends.
	Block time.Duration
	// Headers chooses which rate-limit headers answers carry; the zero
	// value is RateLimitHeadersIETF, which Cloudflare sends today.
	Headers RateLimitHeaders
}

// CloudflareRateLimit is the real API's limit: 1,200 requests per five
// minutes per credential, and a five-minute block for a credential that
// goes over.
var CloudflareRateLimit = RateLimit{Quota: 1200, Window: 5 * time.Minute, Block: 5 * time.Minute}

func (l RateLimit) validate() error {
	switch {
	case l.Quota < 1:
		return fmt.Errorf("emulator: RateLimit.Quota must be at least 1 request, got %d", l.Quota)
	case l.Window <= 0:
		return fmt.Errorf("emulator: RateLimit.Window must be positive, got %v", l.Window)
	case l.Block < 0:
		return fmt.Errorf("emulator: RateLimit.Block must not be negative (0 means no block), got %v", l.Block)
	case !l.Headers.known():
		return fmt.Errorf("emulator: unknown RateLimit.Headers style %d", int(l.Headers))
	}
	return nil
}

// RateLimitHeaders chooses which headers tell a client where it stands
// against the rate limit. Cloudflare sends the IETF draft's headers; older
// answers, and many other APIs, use the X-RateLimit-* ones; and a client
// must also cope with none, as it did before Cloudflare sent any.
type RateLimitHeaders int

const (
	// RateLimitHeadersIETF sends the IETF draft's headers, as Cloudflare
	// does: `Ratelimit: "default";r=R;t=T`, where R is the quota left after
	// the request and T the whole seconds until the window (or block)
	// ends, and `Ratelimit-Policy: "default";q=QUOTA;w=WINDOW_SECONDS`.
	RateLimitHeadersIETF RateLimitHeaders = iota
	// RateLimitHeadersLegacy sends X-RateLimit-Limit (the quota),
	// X-RateLimit-Remaining (R as above) and X-RateLimit-Reset, the HTTP
	// date (http.TimeFormat) at which the window or block ends.
	RateLimitHeadersLegacy
	// RateLimitHeadersNone sends no rate-limit headers; a 429 still
	// carries Retry-After.
	RateLimitHeadersNone
)

var rateLimitHeadersNames = [...]string{
	RateLimitHeadersIETF:   "ietf",
	RateLimitHeadersLegacy: "x-ratelimit",
	RateLimitHeadersNone:   "none",
}

// known reports whether h is one of the styles above; the names list is the
// one place a new style has to be registered.
func (h RateLimitHeaders) known() bool {
	return h >= 0 && int(h) < len(rateLimitHeadersNames)
}

func (h RateLimitHeaders) String() string {
	if !h.known() {
		return fmt.Sprintf("RateLimitHeaders(%d)", int(h))
	}
	return rateLimitHeadersNames[h]
}

// ParseRateLimitHeaders accepts the names String returns.
func ParseRateLimitHeaders(name string) (RateLimitHeaders, error) {
	for i, n := range rateLimitHeadersNames {
		if n == name {
			return RateLimitHeaders(i), nil
		}
	}
	return 0, fmt.Errorf("unknown rate-limit header style %q (accepted: %s)", name, strings.Join(rateLimitHeadersNames[:], ", "))
}

// RateLimitStats is what the rate limit has done since the emulator was
// built or last Reset, for tests that need to show a client came close to
// the limit without going over it, or went over it and recovered.
type RateLimitStats struct {
	// Refused is how many requests were answered 429, for the quota or
	// during a block; RateLimitedCount returns the same number.
	Refused int
	// LowestRemaining is the lowest quota left after a request (the R of
	// the headers, 0 for a refused request), over every credential; -1
	// when no request has reached the limit. It is kept whichever Headers
	// style is chosen, so RateLimitHeadersNone can be measured too.
	LowestRemaining int
	// Blocks is how many blocks began, one per refusal outside a block
	// when RateLimit.Block is set.
	Blocks int
}

// rateLimiter holds one window per credential. The emulator keeps its own
// count rather than share the client's rate package, so the two can
// disagree.
type rateLimiter struct {
	limit RateLimit
	// now is replaceable so tests can move time without waiting.
	now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
	stats   RateLimitStats
}

// window is one credential's standing: a zero end means no window is open.
type window struct {
	end          time.Time
	used         int
	blockedUntil time.Time
}

// verdict is the limiter's answer to one request: whether it may proceed,
// the quota left after it, and when the window or block that governs the
// answer ends.
type verdict struct {
	allowed   bool
	remaining int
	reset     time.Time
	// wait is how long from the request until reset; positive whenever
	// the request was counted, since a window or block that governs a
	// request has not ended.
	wait time.Duration
}

func newRateLimiter(limit RateLimit) *rateLimiter {
	return &rateLimiter{limit: limit, now: time.Now, windows: map[string]*window{}, stats: RateLimitStats{LowestRemaining: -1}}
}

// take counts one request of user and decides its fate.
func (l *rateLimiter) take(user string) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.windows[user]
	if w == nil {
		w = &window{}
		l.windows[user] = w
	}
	v := l.decide(w, now)
	if !v.allowed {
		l.stats.Refused++
	}
	if l.stats.LowestRemaining < 0 || v.remaining < l.stats.LowestRemaining {
		l.stats.LowestRemaining = v.remaining
	}
	return v
}

func (l *rateLimiter) decide(w *window, now time.Time) verdict {
	if !w.blockedUntil.IsZero() {
		if now.Before(w.blockedUntil) {
			return verdict{reset: w.blockedUntil, wait: w.blockedUntil.Sub(now)}
		}
		// A block ends with the window it interrupted: the next request
		// starts afresh, even when Block is shorter than Window.
		*w = window{}
	}
	if w.end.IsZero() || !now.Before(w.end) {
		*w = window{end: now.Add(l.limit.Window)}
	}
	if w.used < l.limit.Quota {
		w.used++
		return verdict{allowed: true, remaining: l.limit.Quota - w.used, reset: w.end, wait: w.end.Sub(now)}
	}
	if l.limit.Block > 0 {
		w.blockedUntil = now.Add(l.limit.Block)
		l.stats.Blocks++
		return verdict{reset: w.blockedUntil, wait: l.limit.Block}
	}
	return verdict{reset: w.end, wait: w.end.Sub(now)}
}

func (l *rateLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.windows)
	l.stats = RateLimitStats{LowestRemaining: -1}
}

// rateLimited counts a request against its credential's limit, sets the
// rate-limit headers of its answer, and answers it with 429 when it is
// over the limit; it reports whether it did. The headers go on w before
// the operation runs, so they are there whichever way the request is then
// answered (the operation's own errors and injected faults included).
func (s *Server) rateLimited(w http.ResponseWriter, h http.Header) bool {
	if s.limiter == nil {
		return false
	}
	v := s.limiter.take(userOf(h))
	setRateLimitHeaders(w.Header(), s.limiter.limit, v)
	if v.allowed {
		return false
	}
	// Retry-After is whole seconds, rounded up so a client that honors it
	// arrives after the window or block has ended, not just before.
	w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(v.wait), 10))
	writeError(w, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: MessageRateLimited})
	return true
}

func setRateLimitHeaders(h http.Header, limit RateLimit, v verdict) {
	switch limit.Headers {
	case RateLimitHeadersIETF:
		h.Set("Ratelimit", fmt.Sprintf(`"default";r=%d;t=%d`, v.remaining, ceilSeconds(v.wait)))
		h.Set("Ratelimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, limit.Quota, ceilSeconds(limit.Window)))
	case RateLimitHeadersLegacy:
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit.Quota))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
		// An HTTP date has whole seconds; rounding up keeps a client that
		// waits until it from arriving before the reset.
		h.Set("X-RateLimit-Reset", ceilSecond(v.reset).UTC().Format(http.TimeFormat))
	case RateLimitHeadersNone:
	}
}

// ceilSeconds is d in whole seconds, rounded up: a positive d is at least
// 1, so a client is never told a window that has not ended is over.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// ceilSecond is t rounded up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if down := t.Truncate(time.Second); !down.Equal(t) {
		return down.Add(time.Second)
	}
	return t
}

// userOf names the credential a request authenticated with; authenticate
// has accepted the headers already. A bearer token wins over a global key,
// as in authenticate, so a request is counted against the credential that
// let it in.
func userOf(h http.Header) string {
	if authz := h.Get("Authorization"); authz != "" {
		return "token " + authz
	}
	return "key " + h.Get("X-Auth-Email")
}

// RateLimitedCount is how many requests the rate limit has refused since
// the emulator was built or last Reset.
func (s *Server) RateLimitedCount() int {
	return s.RateLimitStats().Refused
}

// RateLimitStats reports what Options.RateLimit has done since the emulator
// was built or last Reset; without a rate limit nothing reaches it, and
// LowestRemaining is -1.
func (s *Server) RateLimitStats() RateLimitStats {
	if s.limiter == nil {
		return RateLimitStats{LowestRemaining: -1}
	}
	s.limiter.mu.Lock()
	defer s.limiter.mu.Unlock()
	return s.limiter.stats
}
