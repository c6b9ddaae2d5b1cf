package cfapi

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// userinfoPassword and userinfoUser stand for credentials of a proxy in
// front of the API, written into the base URL.
const (
	userinfoUser     = "proxyuser7f3a"
	userinfoPassword = "pw9c41e2"
)

// hideUserinfo keeps them out of the tests' own failure messages.
var hideUserinfo = strings.NewReplacer(userinfoUser, "<user>", userinfoPassword, "<password>").Replace

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://" + userinfoUser + ":" + userinfoPassword + "@api.example.com/client/v4": "https://xxxxx@api.example.com/client/v4",
		"https://" + userinfoUser + "@api.example.com/client/v4":                          "https://xxxxx@api.example.com/client/v4",
		"https://api.example.com/client/v4?x=1":                                           "https://api.example.com/client/v4?x=1",
		// Unparsable: the password may run anywhere, so nothing is shown.
		"https://" + userinfoUser + ":" + userinfoPassword + "/x@ex ample.com/": "[URL not shown: it does not parse and may hold a password]",
		"https://ex ample.com/": "https://ex ample.com/",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", hideUserinfo(raw), hideUserinfo(got), want)
		}
	}
}

// TestValidateBaseURLHidesUserinfo: every refusal names the host but
// neither the user name nor the password.
func TestValidateBaseURLHidesUserinfo(t *testing.T) {
	creds := userinfoUser + ":" + userinfoPassword + "@"
	for raw, want := range map[string]string{
		"http://" + creds + "api.example.com/client/v4": "http://xxxxx@api.example.com/client/v4\" uses http",
		"ftp://" + creds + "api.example.com/client/v4":  "ftp://xxxxx@api.example.com/client/v4\" must use https",
		"https://" + creds + "/client/v4":               "https://xxxxx@/client/v4\" has no host",
		// The parser would quote "pw9c41e2" as an invalid port.
		"https://" + userinfoUser + ":" + userinfoPassword + "/x@api.example.com": "may hold a password",
		"https://" + creds + "api.example.com:port/":                              "may hold a password",
	} {
		err := ValidateBaseURL(raw)
		if err == nil {
			t.Errorf("ValidateBaseURL(%q): no error", hideUserinfo(raw))
			continue
		}
		if msg := err.Error(); strings.Contains(msg, userinfoPassword) || strings.Contains(msg, userinfoUser) || !strings.Contains(msg, want) {
			t.Errorf("ValidateBaseURL(%q) = %q, want %q and no userinfo", hideUserinfo(raw), hideUserinfo(msg), want)
		}
	}
}

// TestRequestLogsHideUserinfo: the request log, the retry log and the
// rate-limit hold log name the host of a base URL with userinfo, never the
// user name or password.
func TestRequestLogsHideUserinfo(t *testing.T) {
	var logs bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &logs)
	target := "https://" + userinfoUser + ":" + userinfoPassword + "@api.example.com/client/v4/accounts/a/mtls_certificates"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	logger := &requestLogger{}
	// Two 503s: "Retrying", then "Giving up"; the next request is held for
	// the count the second one reported.
	s := &scripted{steps: []step{{status: 503}, {status: 503}, {status: 200}}}
	next := func(r *http.Request) (*http.Response, error) {
		res, err := s.next(r)
		if res != nil {
			res.Header = countHeader(5, 40, 300, 60)
		}
		return res, err
	}
	r := testRetrier(newTestClock(), 1)
	through := func(req *http.Request) (*http.Response, error) { return logger.middleware(req, next) }
	for range 2 {
		res, err := r.middleware(req, through)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}

	text := logs.String()
	entries, err := tflogtest.MultilineJSONDecode(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		msg, _ := e["@message"].(string)
		shown, _ := e["http_url"].(string)
		if shown == "" {
			continue
		}
		seen[msg] = true
		if u, err := url.Parse(shown); err != nil || u.Host != "api.example.com" || u.User.String() != "xxxxx" {
			t.Errorf("%q logs http_url %q, want the host with its userinfo replaced", msg, hideUserinfo(shown))
		}
	}
	for _, want := range []string{"Sending Cloudflare API request", "Received Cloudflare API response", "Retrying Cloudflare API request",
		"Giving up on Cloudflare API request", "Holding a Cloudflare API request for the API token's rate limit"} {
		if !seen[want] {
			t.Errorf("no %q line with http_url; the logs are:\n%s", want, hideUserinfo(text))
		}
	}
	if strings.Contains(text, userinfoPassword) || strings.Contains(text, userinfoUser) {
		t.Errorf("the logs hold the base URL's user name or password: %s", hideUserinfo(firstLineWith(text, userinfoUser)+firstLineWith(text, userinfoPassword)))
	}
}

func firstLineWith(text, s string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
