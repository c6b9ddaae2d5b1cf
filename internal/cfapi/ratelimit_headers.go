package cfapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// serverCount is what one answer said about the API token's rate limit:
// how many requests are left and how long until the count resets, and,
// when the answer says so, the quota and its window.
type serverCount struct {
	remaining int
	reset     time.Duration
	quota     int           // 0 when the answer does not say
	window    time.Duration // 0 when the answer does not say
}

// parseRateLimit reads the rate limit headers of an answer that arrived
// at now. Cloudflare sends the IETF draft's structured fields
//
//	Ratelimit: "default";r=50;t=30
//	Ratelimit-Policy: "default";q=1200;w=300
//
// whose policy name and parameter order vary, and an older announcement
// named X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (an
// HTTP date). Both are read, and the earlier drafts' RateLimit-Remaining /
// RateLimit-Reset pair too. An answer with none of them, or with values
// that do not parse, says nothing: the caller then goes on as without
// headers, rather than guess.
func parseRateLimit(h http.Header, now time.Time) (serverCount, bool) {
	if c, ok := parseStructuredRateLimit(h); ok {
		return c, true
	}
	if c, ok := parseFieldsRateLimit(h, "Ratelimit-Remaining", "Ratelimit-Reset", "Ratelimit-Limit", now); ok {
		return c, true
	}
	return parseFieldsRateLimit(h, "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Limit", now)
}

// parseStructuredRateLimit reads the Ratelimit and Ratelimit-Policy
// fields, structured field lists (RFC 8941) that httpsfv parses. When
// Ratelimit lists several policies, the one with the fewest requests left
// binds; a member without a readable count is skipped, so that one odd
// policy does not hide the others. Its quota comes from the policy of the
// same name, else from the only policy there is.
func parseStructuredRateLimit(h http.Header) (serverCount, bool) {
	limits, err := httpsfv.UnmarshalList(h.Values("Ratelimit"))
	if err != nil {
		return serverCount{}, false
	}
	var best *httpsfv.Item
	var r, t int64
	for _, member := range limits {
		item, ok := member.(httpsfv.Item)
		if !ok {
			continue
		}
		ri, rOK := intParam(item.Params, "r")
		ti, tOK := intParam(item.Params, "t")
		if rOK && tOK && (best == nil || ri < r) {
			best, r, t = &item, ri, ti
		}
	}
	if best == nil {
		return serverCount{}, false
	}
	c := serverCount{remaining: int(min(r, 1<<31)), reset: seconds(t)}
	policies, err := httpsfv.UnmarshalList(h.Values("Ratelimit-Policy"))
	if err != nil {
		return c, true // the count stands without a quota
	}
	for _, member := range policies {
		p, ok := member.(httpsfv.Item)
		if !ok || len(policies) > 1 && !sameName(p.Value, best.Value) {
			continue
		}
		if q, ok := intParam(p.Params, "q"); ok && q > 0 {
			c.quota = int(min(q, 1<<31))
		}
		if w, ok := intParam(p.Params, "w"); ok && w > 0 {
			c.window = seconds(w)
		}
		break
	}
	return c, true
}

// intParam is a parameter that is a non-negative integer.
func intParam(p *httpsfv.Params, key string) (int64, bool) {
	v, ok := p.Get(key)
	n, isInt := v.(int64)
	return n, ok && isInt && n >= 0
}

// sameName compares policy names, which may be strings or tokens.
func sameName(a, b any) bool {
	name := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case httpsfv.Token:
			return string(v)
		}
		return ""
	}
	return name(a) != "" && name(a) == name(b)
}

// parseFieldsRateLimit reads one header per value. The reset is a number
// of seconds, a Unix time (a number past 10^9) or an HTTP date.
func parseFieldsRateLimit(h http.Header, remainingName, resetName, limitName string, now time.Time) (serverCount, bool) {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get(remainingName)))
	if err != nil || remaining < 0 {
		return serverCount{}, false
	}
	value := strings.TrimSpace(h.Get(resetName))
	var reset time.Duration
	if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
		reset = seconds(n)
		if n > 1_000_000_000 {
			reset = max(time.Unix(n, 0).Sub(now), 0)
		}
	} else if at, err := http.ParseTime(value); err == nil {
		reset = max(at.Sub(now), 0)
	} else {
		return serverCount{}, false
	}
	c := serverCount{remaining: remaining, reset: reset}
	if q, err := strconv.Atoi(strings.TrimSpace(h.Get(limitName))); err == nil && q > 0 {
		c.quota = q
	}
	return c, true
}

// maxReset bounds a reset a header can ask for, far past any operation's
// deadline, so that a wrong header cannot overflow a Duration.
const maxReset = 24 * time.Hour

func seconds(n int64) time.Duration {
	return min(time.Duration(n)*time.Second, maxReset)
}
