package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit is a token bucket per user, the way Cloudflare limits its API:
// Burst requests may arrive back to back, and the bucket refills at
// PerSecond. A request that finds it empty is answered HTTP 429 with a
// Retry-After header and CodeRateLimited, and is not performed. Requests
// refused by authentication do not reach the bucket.
type RateLimit struct {
	Burst     int
	PerSecond float64
}

// CloudflareRateLimit is the real API's limit: 1,200 requests per five
// minutes per user.
var CloudflareRateLimit = RateLimit{Burst: 1200, PerSecond: 4}

func (l RateLimit) validate() error {
	if l.Burst < 1 || l.PerSecond <= 0 || math.IsInf(l.PerSecond, 0) || math.IsNaN(l.PerSecond) {
		return fmt.Errorf("emulator: RateLimit needs a Burst of at least 1 and a positive PerSecond, got %+v", l)
	}
	return nil
}

// rateLimiter holds one bucket per user. The emulator keeps its own bucket
// rather than share the client's rate package, so the two can disagree.
type rateLimiter struct {
	limit RateLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	refused int
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(limit RateLimit) *rateLimiter {
	return &rateLimiter{limit: limit, now: time.Now, buckets: map[string]*bucket{}}
}

// take spends a token of user's bucket. When there is none it returns how
// long until there will be one.
func (l *rateLimiter) take(user string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[user]
	if b == nil {
		b = &bucket{tokens: float64(l.limit.Burst), at: now}
		l.buckets[user] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(l.limit.Burst), b.tokens+elapsed.Seconds()*l.limit.PerSecond)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	l.refused++
	missing := 1 - b.tokens
	return false, time.Duration(missing / l.limit.PerSecond * float64(time.Second))
}

func (l *rateLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
	l.refused = 0
}

// rateLimited answers a request whose user has run out of requests, and
// reports whether it did.
func (s *Server) rateLimited(w http.ResponseWriter, h http.Header) bool {
	if s.limiter == nil {
		return false
	}
	ok, wait := s.limiter.take(userOf(h))
	if ok {
		return false
	}
	// Retry-After is whole seconds, rounded up so a client that honors it
	// finds a token.
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: MessageRateLimited})
	return true
}

// userOf names the user a request authenticated as; authenticate has
// accepted the headers already.
func userOf(h http.Header) string {
	if authz := h.Get("Authorization"); authz != "" {
		return "token " + authz
	}
	return "key " + h.Get("X-Auth-Email")
}

// RateLimitedCount is how many requests the rate limit has refused.
func (s *Server) RateLimitedCount() int {
	if s.limiter == nil {
		return 0
	}
	s.limiter.mu.Lock()
	defer s.limiter.mu.Unlock()
	return s.limiter.refused
}
