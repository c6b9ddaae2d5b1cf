package cfapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ValidateBaseURL accepts https URLs, and plain http only for loopback hosts
// so that a local emulator can be used without ever sending credentials in
// clear text over a network. Its errors show the URL without its userinfo.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			// The parser's message quotes the text it stopped at, which may be the password.
			return errors.New("the URL does not parse; it is not shown because the part before \"@\" may hold a password. " +
				"Percent-encode reserved characters in the user name and password (\"/\" as %2F, \"@\" as %40)")
		}
		return fmt.Errorf("%q is not a valid URL: %w", raw, err)
	}
	shown := redactedURL(u)
	if u.Host == "" {
		return fmt.Errorf("%q has no host; expected for example %s", shown, DefaultBaseURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses http; only https is allowed, except for loopback hosts (127.0.0.0/8, ::1, localhost) used by local emulators", shown)
	default:
		return fmt.Errorf("%q must use https (or http for a loopback host)", shown)
	}
}

// RedactURL is raw as logs and diagnostics may show it: its userinfo is
// replaced (see redactedURL). Text that does not parse as a URL is shown
// only when it has no "@", since where a password would end is then unknown.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return redactedURL(u)
	}
	if strings.Contains(raw, "@") {
		return "[URL not shown: it does not parse and may hold a password]"
	}
	return raw
}

// redactedURL is u with its whole userinfo replaced, not only the password
// as url.URL.Redacted does: a token is often passed as the user name.
func redactedURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User("xxxxx")
	return c.String()
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
