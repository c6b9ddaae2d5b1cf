package cfapi

import (
	"strings"
	"testing"
)

func TestValidateBaseURL(t *testing.T) {
	ok := []string{DefaultBaseURL, "https://example.com", "http://127.0.0.1:8787/client/v4", "http://127.9.9.9", "http://[::1]:80/x", "http://localhost:1/"}
	for _, u := range ok {
		if err := ValidateBaseURL(u); err != nil {
			t.Errorf("ValidateBaseURL(%q) = %v, want nil", u, err)
		}
	}
	bad := map[string]string{
		"http://api.cloudflare.com/client/v4": "only https is allowed",
		"http://10.0.0.1":                     "only https is allowed",
		"http://localhost.example.com":        "only https is allowed",
		"ftp://127.0.0.1":                     "must use https",
		"/client/v4":                          "has no host",
	}
	for u, want := range bad {
		if err := ValidateBaseURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateBaseURL(%q) = %v, want %q", u, err, want)
		}
	}
}

func TestRedactBody(t *testing.T) {
	got := redactBody([]byte(`{"ca":false,"certificates":"x","private_key":"-----BEGIN PRIVATE KEY-----\nsecret","nested":[{"private_key":"s2"}]}`))
	if strings.Contains(got, "secret") || strings.Contains(got, "s2") || strings.Contains(got, "BEGIN PRIVATE KEY") {
		t.Fatalf("private key leaked into log body: %s", got)
	}
	if !strings.Contains(got, `"certificates":"x"`) || strings.Count(got, "[REDACTED]") != 2 {
		t.Fatalf("unexpected redaction result: %s", got)
	}
	if got := redactBody([]byte("private_key=secret")); strings.Contains(got, "secret") {
		t.Fatalf("non-JSON body logged: %s", got)
	}
}

func TestNewRejectsBadAuth(t *testing.T) {
	cases := map[string]Config{
		"none":          {},
		"both":          {APIToken: "t", APIKey: "k", APIEmail: "e"},
		"key no email":  {APIKey: "k"},
		"insecure http": {APIToken: "t", BaseURL: "http://example.com"},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg.BaseURL)
		}
	}
	if _, err := New(Config{APIToken: "t"}); err != nil {
		t.Fatalf("New with a token: %v", err)
	}
}
