package cfapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
	"github.com/cloudflare/cloudflare-go/v7/option"
)

// The client retries on its own instead of leaving it to the SDK (whose
// retries New switches off), so that one policy decides what is transient,
// every attempt waits for the rate limiter, no wait outlasts the operation's
// deadline, and callers can learn what happened to each attempt.
const (
	// DefaultAttemptTimeout bounds one HTTP attempt when Config leaves
	// AttemptTimeout at 0. A call of this API answers in well under a
	// second; an attempt that hangs is abandoned and retried while the
	// operation still has time.
	DefaultAttemptTimeout = 30 * time.Second
	// firstRetryDelay and maxRetryDelay shape the exponential backoff used
	// when the server does not say how long to wait.
	firstRetryDelay = 500 * time.Millisecond
	maxRetryDelay   = 30 * time.Second
	// waitWithoutDeadline stands in for the deadline of a call whose
	// context has none, counted from its start, so that no wait runs on
	// for ever; a little over Cloudflare's five-minute block.
	waitWithoutDeadline = 6 * time.Minute
)

// retrier is the client's retry policy, installed as the outermost
// middleware: each attempt below it is logged and checked on its own.
type retrier struct {
	maxRetries     int
	attemptTimeout time.Duration
	limiter        *requestLimiter
	quota          *serverQuota
	now            func() time.Time
	sleep          func(ctx context.Context, d time.Duration) error
	// backoff is the wait before retry n (1 for the first retry) when the
	// server sent no Retry-After.
	backoff func(n int) time.Duration
}

func newRetrier(maxRetries int, attemptTimeout time.Duration, limiter *requestLimiter) *retrier {
	return &retrier{
		maxRetries:     maxRetries,
		attemptTimeout: attemptTimeout,
		limiter:        limiter,
		quota:          newServerQuota(),
		now:            time.Now,
		sleep:          Sleep,
		backoff:        jitteredBackoff,
	}
}

// middleware sends req until it gets an answer that is not transient, the
// retries run out, or waiting for the next attempt would pass the
// context's deadline. Transient: HTTP 408, 429 and 5XX (but 501 and 505),
// connection failures, and attempts that time out. Any other 4XX, 409
// included, is the API's final word.
func (r *retrier) middleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	ctx := req.Context()
	call, _ := ctx.Value(callKey{}).(*callAttempts)
	if call == nil {
		call = &callAttempts{}
	}
	canResend := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = r.now().Add(waitWithoutDeadline)
	}
	for {
		if err := r.holdForQuota(ctx, req, deadline); err != nil {
			return nil, &attemptsError{call: call, err: err}
		}
		if _, err := r.limiter.wait(ctx); err != nil {
			r.quota.cancel()
			return nil, &attemptsError{call: call, err: err}
		}
		call.made++
		sent := r.now()
		res, err := r.attempt(ctx, req, next, call)
		// An answer whose status asks for a retry can still be the API's
		// final word: a 429 that refuses a CA over the account's quota is no
		// rate limit, and sending the upload again changes nothing.
		final := res != nil && transientStatus(res.StatusCode) && holdsFinalCode(call.answer.body)
		r.quota.done(res, final, r.now())
		recordAttempt(ctx, req, sent, r.now(), res, final, err)
		reason := transientReason(ctx, res, err)
		if final && reason != "" {
			tflog.Debug(ctx, "Not retrying a Cloudflare API answer whose error code no retry changes", map[string]any{
				"http_method": req.Method, "http_url": redactedURL(req.URL), "http_status": res.StatusCode,
			})
			reason = ""
		}
		if reason == "" {
			return res, err
		}
		// Refusals for the rate limit are waited out, however many, until
		// the deadline; they do not use up max_retries, so that a block of
		// minutes is not reported as a failure after a few attempts.
		// max_retries = 0 still means no retry at all.
		limited := r.maxRetries > 0 && res != nil && res.StatusCode == http.StatusTooManyRequests
		if limited {
			call.limited++
		}
		stop := ""
		delay, source := r.delay(call.made, res)
		late := r.now().Add(delay).After(deadline)
		switch {
		case !limited && call.made-call.limited > r.maxRetries:
			if r.maxRetries > 0 {
				stop = fmt.Sprintf("max_retries is %d", r.maxRetries)
			}
		case !canResend:
			stop = "the request body cannot be sent again"
		case late && limited && source == "Retry-After":
			stop = refusedPastDeadline(delay)
		case late:
			stop = fmt.Sprintf("the next attempt, in %s, would start after the operation's deadline", delay.Round(time.Millisecond))
		}
		fields := map[string]any{
			"http_method": req.Method,
			"http_url":    redactedURL(req.URL),
			"attempt":     call.made,
			"max_retries": r.maxRetries,
			"reason":      reason,
		}
		if stop != "" || (!limited && call.made-call.limited > r.maxRetries) {
			call.stop = stop
			fields["stop_reason"] = stop
			tflog.Warn(ctx, "Giving up on Cloudflare API request", fields)
			if err != nil {
				return nil, &attemptsError{call: call, err: err}
			}
			return res, nil
		}
		fields["delay_ms"] = delay.Milliseconds()
		fields["delay_source"] = source
		tflog.Info(ctx, "Retrying Cloudflare API request", fields)
		if res != nil && res.Body != nil {
			_ = res.Body.Close()
		}
		if limited {
			recordRateLimitWait(ctx, delay, fmt.Sprintf("Cloudflare refused a request for the rate limit (HTTP 429) and asked to wait %s", delay.Round(time.Second)))
		}
		if err := r.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// holdForQuota waits while the count of requests that Cloudflare reports
// for the token is at its reserve, or a 429 asked to wait, and admits the
// request once it may go. A hold that would end past the deadline fails at
// once: the request is then never sent.
func (r *retrier) holdForQuota(ctx context.Context, req *http.Request, deadline time.Time) error {
	for {
		hold, why := r.quota.admit(r.now())
		if hold <= 0 {
			return nil
		}
		if r.now().Add(hold).After(deadline) {
			return fmt.Errorf("the request was not sent: %s", why.pastDeadline())
		}
		fields := map[string]any{
			"http_method":  req.Method,
			"http_url":     redactedURL(req.URL),
			"wait_ms":      hold.Milliseconds(),
			"remaining":    why.remaining,
			"reserve":      why.reserve,
			"rate_limited": why.refused,
		}
		tflog.Info(ctx, "Holding a Cloudflare API request for the API token's rate limit", fields)
		recordRateLimitWait(ctx, hold, why.describe())
		if err := r.sleep(ctx, hold); err != nil {
			return err
		}
	}
}

// attempt sends one copy of req, bounded by the attempt timeout, and reads
// the whole answer before that timeout's context is released: a body read
// later would fail with "context canceled". A body cut short is a
// transport failure like any other.
func (r *retrier) attempt(ctx context.Context, req *http.Request, next option.MiddlewareNext, call *callAttempts) (*http.Response, error) {
	attemptCtx := context.WithValue(ctx, callKey{}, call)
	cancel := context.CancelFunc(func() {})
	if r.attemptTimeout > 0 {
		attemptCtx, cancel = context.WithTimeout(attemptCtx, r.attemptTimeout)
	}
	defer cancel()
	out := req.Clone(attemptCtx)
	call.answer = answer{request: req.Method + " " + redactedURL(req.URL)}
	if call.made > 1 {
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			out.Body = body
		}
		if out.Header.Get("X-Stainless-Retry-Count") != "" {
			out.Header.Set("X-Stainless-Retry-Count", strconv.Itoa(call.made-1))
		}
	}
	res, err := next(out)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", r.attemptTimeout, err)
		}
		return nil, err
	}
	if res.Body != nil {
		body, readErr := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if readErr != nil {
			return nil, fmt.Errorf("reading the answer: %w", readErr)
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		call.answer.body = body
	}
	call.answer.status, call.answer.contentType = res.StatusCode, res.Header.Get("Content-Type")
	// The error the SDK builds from this answer points at its request; this
	// one carries the call's attempts, for the error message.
	res.Request = out
	return res, nil
}

// delay is the wait before the retry that follows attempt made: the
// server's Retry-After when it asks for a wait, else the backoff. A
// Retry-After of 0 (or a past date) asks for none: taken as is, a storm of
// 429s would become a storm of requests.
func (r *retrier) delay(made int, res *http.Response) (time.Duration, string) {
	if res != nil {
		if d, ok := parseRetryAfter(res.Header.Get("Retry-After"), r.now()); ok && d > 0 {
			return d, "Retry-After"
		}
	}
	return r.backoff(made), "backoff"
}

// transientReason says why an attempt's outcome is worth another attempt,
// or returns "" when it is final.
func transientReason(ctx context.Context, res *http.Response, err error) string {
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return "" // the caller gave up: interrupted, or out of time
		case errors.Is(err, context.DeadlineExceeded):
			return "the attempt timed out"
		case transientTransport(err):
			return "connection failure: " + err.Error()
		}
		return ""
	}
	if code := res.StatusCode; transientStatus(code) {
		return fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	}
	return ""
}

// transientStatus is the one list of answers worth another attempt: 408,
// 429 and 5XX except 501 and 505, which no retry changes.
func transientStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported
}

// finalCodes are the API's error codes that no retry changes, whatever
// the HTTP status they come with (Cloudflare documents none of them).
var finalCodes = []int64{CodeCAQuotaExceeded}

// holdsFinalCode reports whether body is an envelope whose errors list
// holds a code in finalCodes. Only a body that decodes cleanly counts: one
// that does not is left to the usual rules.
func holdsFinalCode(body []byte) bool {
	var env struct {
		Errors []struct {
			Code int64 `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil {
		return false
	}
	for _, e := range env.Errors {
		if slices.Contains(finalCodes, e.Code) {
			return true
		}
	}
	return false
}

// transientTransport reports whether a failure to get an answer may go away
// by itself. Resets, EOFs, refused connections and timeouts may; a
// certificate the client does not trust, a TLS endpoint that speaks plain
// HTTP, or a host name that does not exist will not.
func transientTransport(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &recordErr):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	}
	return true
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an
// HTTP date.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseFloat(value, 64); err == nil {
		if math.IsNaN(seconds) || seconds < 0 {
			return 0, false
		}
		// Far beyond any deadline, and safe from overflowing a Duration.
		seconds = min(seconds, 24*60*60)
		return time.Duration(seconds * float64(time.Second)), true
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// jitteredBackoff doubles from firstRetryDelay up to maxRetryDelay, and
// waits a random time between half of that and all of it, so that
// requests that failed together do not come back together.
func jitteredBackoff(n int) time.Duration {
	d := maxRetryDelay
	if n >= 1 && n <= 16 {
		d = min(firstRetryDelay<<(n-1), maxRetryDelay)
	}
	//nolint:gosec // G404: jitter needs spread, not secrecy.
	return d/2 + rand.N(d/2+1)
}

// callAttempts is how the attempts of one call went. Each attempt's
// request context carries it, so that the error built from the last answer
// can say how many attempts there were and why there was no other.
type callAttempts struct {
	made int
	// limited is how many of them were refused for the rate limit.
	limited int
	// stop is why a transient failure was not retried; empty when the
	// last answer was final.
	stop string
	// answer is the last attempt's answer, kept whole for the caller to
	// judge; its status is 0 when no answer arrived.
	answer answer
}

type callKey struct{}

// startCall returns a context in which the retrier records one call's
// attempts and last answer, and that record.
func startCall(ctx context.Context) (context.Context, *callAttempts) {
	call := &callAttempts{}
	return context.WithValue(ctx, callKey{}, call), call
}

// note is the call's attempts as the error message tells them, or "" for a
// single attempt that ended normally.
func (c *callAttempts) note() string {
	switch {
	case c == nil || (c.made <= 1 && c.stop == ""):
		return ""
	case c.made <= 1:
		return "(not retried: " + c.stop + ")"
	case c.stop == "":
		return fmt.Sprintf("after %d attempts", c.made)
	}
	return fmt.Sprintf("after %d attempts (%s)", c.made, c.stop)
}

// attemptsError is a transport failure that ended a call, with the call's
// attempts.
type attemptsError struct {
	call *callAttempts
	err  error
}

func (e *attemptsError) Error() string { return e.err.Error() }
func (e *attemptsError) Unwrap() error { return e.err }

// attemptsNote finds how the attempts of the call that failed with err
// went, for its message.
func attemptsNote(err error) string {
	var withAttempts *attemptsError
	if errors.As(err, &withAttempts) {
		return withAttempts.call.note()
	}
	var sdkErr *mtls_certificates.Error
	if errors.As(err, &sdkErr) && sdkErr.Response != nil && sdkErr.Response.Request != nil {
		call, _ := sdkErr.Response.Request.Context().Value(callKey{}).(*callAttempts)
		return call.note()
	}
	return ""
}

// Attempt is what happened to one HTTP attempt of a call, as recorded in a
// context made by WithAttemptLog.
type Attempt struct {
	Method string
	Path   string
	// Sent is when the attempt was handed to the transport.
	Sent time.Time
	// Status is the HTTP status of the answer; 0 when none arrived.
	Status int
	// Answered is when the answer arrived, and ServerDate the server's
	// clock as its Date header gave it (to the second); zero without them.
	Answered, ServerDate time.Time
	// Err is why no answer arrived.
	Err error
	// notSent marks a request that never reached the server: the
	// connection itself could not be made.
	notSent bool
	// refused marks an answer that holds a code in finalCodes: a refusal
	// whatever its status, so even a 5XX carrying one stored nothing.
	refused bool
}

// OutcomeUnknown reports whether the server may have carried out the
// attempt without the client learning so: the request may have arrived but
// no answer did (a dropped connection, a timeout, an interruption), or the
// answer was a 5XX, which a gateway can send after the service did the
// work, unless it carries a code in finalCodes. A 4XX, 429 included, is a
// refusal, and a 2XX is known.
func (a Attempt) OutcomeUnknown() bool {
	if a.Status == 0 {
		return !a.notSent
	}
	return a.Status >= 500 && !a.refused
}

// Succeeded reports whether the attempt was answered with a 2XX. The call
// can still fail after such an attempt: when the caller's context ends as
// the answer arrives, the answer is dropped.
func (a Attempt) Succeeded() bool {
	return a.Status >= 200 && a.Status < 300
}

type attemptLog struct {
	mu       sync.Mutex
	attempts []Attempt
}

type attemptLogKey struct{}

// WithAttemptLog returns a context in which the client records every HTTP
// attempt of the calls made with it, retries included, for Attempts to
// read. A caller uses it to tell an upload that failed from one whose fate
// is unknown.
func WithAttemptLog(ctx context.Context) context.Context {
	return context.WithValue(ctx, attemptLogKey{}, &attemptLog{})
}

// Attempts returns the attempts recorded so far in ctx's log, oldest
// first; nil when ctx has no log.
func Attempts(ctx context.Context) []Attempt {
	log, _ := ctx.Value(attemptLogKey{}).(*attemptLog)
	if log == nil {
		return nil
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	return append([]Attempt(nil), log.attempts...)
}

func recordAttempt(ctx context.Context, req *http.Request, sent, answered time.Time, res *http.Response, final bool, err error) {
	log, _ := ctx.Value(attemptLogKey{}).(*attemptLog)
	if log == nil {
		return
	}
	a := Attempt{Method: req.Method, Path: req.URL.Path, Sent: sent, Err: err, refused: final}
	if res != nil {
		a.Status, a.Answered = res.StatusCode, answered
		if date, err := http.ParseTime(res.Header.Get("Date")); err == nil {
			a.ServerDate = date
		}
	}
	var opErr *net.OpError
	if err != nil && errors.As(err, &opErr) && opErr.Op == "dial" {
		a.notSent = true
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	log.attempts = append(log.attempts, a)
}
