package cfapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
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
// fields. When Ratelimit lists several policies, the one with the fewest
// requests left binds; its quota comes from the policy of the same name,
// else from the only policy there is.
func parseStructuredRateLimit(h http.Header) (serverCount, bool) {
	items := sfList(strings.Join(h.Values("Ratelimit"), ","))
	var best *sfItem
	for i := range items {
		it := &items[i]
		r, rOK := it.intParam("r")
		_, tOK := it.intParam("t")
		if !rOK || !tOK {
			continue
		}
		if best == nil {
			best = it
			continue
		}
		if br, _ := best.intParam("r"); r < br {
			best = it
		}
	}
	if best == nil {
		return serverCount{}, false
	}
	r, _ := best.intParam("r")
	t, _ := best.intParam("t")
	c := serverCount{remaining: int(min(r, 1<<31)), reset: seconds(t)}
	policies := sfList(strings.Join(h.Values("Ratelimit-Policy"), ","))
	for i := range policies {
		p := &policies[i]
		if p.name != best.name && len(policies) > 1 {
			continue
		}
		if q, ok := p.intParam("q"); ok && q > 0 {
			c.quota = int(min(q, 1<<31))
		}
		if w, ok := p.intParam("w"); ok && w > 0 {
			c.window = seconds(w)
		}
		break
	}
	return c, true
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

// sfItem is one member of a structured field list (RFC 8941): its bare
// item, here a policy name, and its parameters.
type sfItem struct {
	name   string
	params map[string]string
}

// intParam is a parameter that is a non-negative integer.
func (it *sfItem) intParam(key string) (int64, bool) {
	v, ok := it.params[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// sfList splits a structured field list into its members. It is lenient
// where the answer stays clear (spaces, parameter order, quoted or token
// names) and drops a member it cannot read, so that one odd policy does not
// hide the others.
func sfList(field string) []sfItem {
	var items []sfItem
	for _, member := range splitOutsideQuotes(field, ',') {
		parts := splitOutsideQuotes(member, ';')
		if len(parts) == 0 {
			continue
		}
		name := strings.TrimSpace(parts[0])
		if unquoted, err := strconv.Unquote(name); err == nil {
			name = unquoted
		}
		it := sfItem{name: name, params: map[string]string{}}
		for _, p := range parts[1:] {
			key, value, found := strings.Cut(strings.TrimSpace(p), "=")
			key = strings.ToLower(strings.TrimSpace(key))
			if key == "" {
				continue
			}
			if !found {
				value = "?1" // a bare parameter is boolean true
			}
			it.params[key] = strings.TrimSpace(value)
		}
		items = append(items, it)
	}
	return items
}

// splitOutsideQuotes splits s at sep where sep is not inside a quoted
// string, and drops empty parts.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			if part := strings.TrimSpace(s[start:i]); part != "" {
				parts = append(parts, part)
			}
			start = i + 1
		}
	}
	if part := strings.TrimSpace(s[start:]); part != "" {
		parts = append(parts, part)
	}
	return parts
}
