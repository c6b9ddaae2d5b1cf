package cfapi

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/time/rate"
)

// Cloudflare allows each user 1,200 API requests per five minutes and
// answers HTTP 429 beyond that. The client keeps a bucket of the same shape,
// so an ordinary apply runs at full speed on the burst while a very large
// one, at a high -parallelism, is slowed down before Cloudflare has to.
const (
	// RateLimitBurst is how many requests may go out back to back: the
	// whole five-minute allowance.
	RateLimitBurst = 1200
	// DefaultRequestsPerSecond refills the bucket at Cloudflare's own
	// pace, 1,200 requests per 300 seconds.
	DefaultRequestsPerSecond = 4.0
)

// requestLimiter is a token bucket shared by every request of one Client,
// and so of one provider instance. Retries take a token like any other
// request: they count against Cloudflare's limit too.
type requestLimiter struct {
	bucket    *rate.Limiter
	perSecond float64
	// now and sleep are the clock; tests replace them to check the
	// spacing of requests without waiting for it.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newRequestLimiter(perSecond float64) *requestLimiter {
	return &requestLimiter{
		bucket:    rate.NewLimiter(rate.Limit(perSecond), RateLimitBurst),
		perSecond: perSecond,
		now:       time.Now,
		sleep:     Sleep,
	}
}

// wait blocks until the bucket lets the next request go, and returns how
// long that took. When the wait would outlast ctx's deadline it fails at
// once, without waiting and without using up a token: the request is then
// never sent.
func (l *requestLimiter) wait(ctx context.Context) (time.Duration, error) {
	now := l.now()
	reservation := l.bucket.ReserveN(now, 1)
	if !reservation.OK() {
		// Only a burst below 1 refuses a single token; RateLimitBurst is not.
		return 0, fmt.Errorf("the client-side rate limit refused the request")
	}
	delay := reservation.DelayFrom(now)
	if delay <= 0 {
		return 0, nil
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(delay).After(deadline) {
		reservation.CancelAt(now)
		return 0, fmt.Errorf("the request was not sent: the client-side rate limit (%g requests per second after a burst of %d) "+
			"would have held it for %s, past the operation's deadline; lower -parallelism or raise requests_per_second",
			l.perSecond, RateLimitBurst, delay.Round(time.Millisecond))
	}
	fields := map[string]any{"wait_ms": delay.Milliseconds(), "requests_per_second": l.perSecond}
	if delay >= time.Second {
		tflog.Info(ctx, "Holding a Cloudflare API request for the client-side rate limit", fields)
	} else {
		tflog.Debug(ctx, "Holding a Cloudflare API request for the client-side rate limit", fields)
	}
	recordRateLimitWait(ctx, delay, fmt.Sprintf("of the provider's own pace of %g requests per second (requests_per_second)", l.perSecond))
	if err := l.sleep(ctx, delay); err != nil {
		reservation.CancelAt(l.now())
		return 0, err
	}
	return delay, nil
}

// Sleep waits d, or less when ctx ends first; then it returns ctx's
// error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
