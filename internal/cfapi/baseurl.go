package cfapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ValidateBaseURL accepts https URLs, and plain http only for loopback hosts
// so that a local emulator can be used without ever sending credentials in
// clear text over a network.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL: %w", raw, err)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host; expected for example %s", raw, DefaultBaseURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses http; only https is allowed, except for loopback hosts (127.0.0.0/8, ::1, localhost) used by local emulators", raw)
	default:
		return fmt.Errorf("%q must use https (or http for a loopback host)", raw)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
