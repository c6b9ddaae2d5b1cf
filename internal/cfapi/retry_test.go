package cfapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestClientRetriesAgainstEmulator counts, on the emulator's side, the
// requests each kind of failure costs.
func TestClientRetriesAgainstEmulator(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		fault     emulator.Fault
		wantSent  int
		wantError string
	}{
		{name: "429 with Retry-After, then success", fault: emulator.Fault{Status: http.StatusTooManyRequests, Code: emulator.CodeRateLimited, RetryAfter: "1"}, wantSent: 2},
		{name: "5XX twice, then success", fault: emulator.Fault{Status: http.StatusServiceUnavailable, Times: 2}, wantSent: 3},
		{name: "reset, then success", fault: emulator.Fault{DropConnection: true}, wantSent: 2},
		{name: "400 is never retried", fault: emulator.Fault{Status: http.StatusBadRequest, Code: 1402, Message: "bad"}, wantSent: 1,
			wantError: "list failed with HTTP 400 Bad Request: code 1402: bad"},
		{name: "409 is never retried", fault: emulator.Fault{Status: http.StatusConflict, Code: 1409, Message: "conflict"}, wantSent: 1,
			wantError: "list failed with HTTP 409 Conflict: code 1409: conflict"},
		{name: "max_retries runs out", fault: emulator.Fault{Status: http.StatusBadGateway, Times: 9}, wantSent: 3,
			wantError: "list failed with HTTP 502 Bad Gateway after 3 attempts (max_retries is 2): code 10999: Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			em := startEmulator(t)
			c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL(), MaxRetries: 2})
			if err != nil {
				t.Fatal(err)
			}
			f := tc.fault
			f.Route = emulator.RouteList
			em.InjectFault(f)
			_, err = c.ListAll(context.Background(), account, cfapi.ListOptions{})
			switch {
			case tc.wantError == "" && err != nil:
				t.Fatalf("list: %v", err)
			case tc.wantError != "" && (err == nil || err.Error() != tc.wantError):
				t.Fatalf("list error = %v, want %q", err, tc.wantError)
			}
			if n := em.RequestCount(emulator.RouteList); n != tc.wantSent {
				t.Errorf("the emulator saw %d list requests, want %d", n, tc.wantSent)
			}
		})
	}
}

// TestUploadAttemptLog: an upload stored before its connection dropped is
// retried into 1471, and the attempt log tells the caller that the first
// attempt's fate was unknown.
func TestUploadAttemptLog(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL(), MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	em.InjectFault(emulator.Fault{Route: emulator.RouteUpload, CommitThenDrop: true})
	ctx := cfapi.WithAttemptLog(context.Background())
	_, err = c.Upload(ctx, cfapi.UploadRequest{AccountID: account, Name: "n", CA: true, Certificates: selfSigned()})
	if !cfapi.IsAlreadyExists(err) || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("upload error = %v, want 1471 after 2 attempts", err)
	}
	attempts := cfapi.Attempts(ctx)
	if len(attempts) != 2 || !attempts[0].OutcomeUnknown() || attempts[0].Method != http.MethodPost ||
		attempts[1].OutcomeUnknown() || attempts[1].Status < 400 {
		t.Fatalf("attempts %+v: want an unknown outcome, then the 1471 refusal", attempts)
	}
	if n := em.CertificateCount(account); n != 1 {
		t.Fatalf("emulator holds %d certificates, want 1", n)
	}
}

// TestRateLimiterIsSharedByTheClient: once a client has spent the burst,
// a call whose deadline comes before the next token is not sent at all.
func TestRateLimiterIsSharedByTheClient(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true,"errors":[],"messages":[],"result":[]}`))
	}))
	t.Cleanup(srv.Close)
	c, err := cfapi.New(cfapi.Config{APIToken: "t", BaseURL: srv.URL, RequestsPerSecond: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfapi.RateLimitBurst {
		if _, err := c.ListAll(context.Background(), account, cfapi.ListOptions{}); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = c.ListAll(ctx, account, cfapi.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "not sent: the client-side rate limit (0.5 requests per second after a burst of 1200)") {
		t.Fatalf("error = %v, want the rate limit's refusal", err)
	}
	if n := served.Load(); n != cfapi.RateLimitBurst {
		t.Errorf("the server saw %d requests, want %d", n, cfapi.RateLimitBurst)
	}
}

func TestNewRejectsBadLimits(t *testing.T) {
	for name, cfg := range map[string]cfapi.Config{
		"negative rate":    {APIToken: "t", RequestsPerSecond: -1},
		"negative retries": {APIToken: "t", MaxRetries: -1},
		"negative timeout": {APIToken: "t", AttemptTimeout: -time.Second},
	} {
		if _, err := cfapi.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestCAQuotaRefusalIsSentOnce: Cloudflare's 1489 refusal of a CA over the
// account's quota is final with any status it may come with (which is not
// documented), 429 and 503 included: one upload request, nothing stored,
// and IsCAQuotaExceeded says so. The same code in an unreadable answer (a
// success status that says "success": false) proves nothing.
func TestCAQuotaRefusalIsSentOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status    int
		injected  bool // a fault, for a status the emulator's quota cannot take
		wantQuota bool
	}{
		{status: http.StatusBadRequest, wantQuota: true},
		{status: http.StatusForbidden, wantQuota: true},
		{status: http.StatusTooManyRequests, wantQuota: true},
		{status: http.StatusServiceUnavailable, injected: true, wantQuota: true},
		{status: http.StatusOK, injected: true},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			opts := emulator.Options{APIToken: "tok", CALimit: 1, CALimitStatus: tc.status}
			if tc.injected {
				opts.CALimit, opts.CALimitStatus = 0, 0
			}
			em, err := emulator.Start(opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(em.Close)
			if _, err := em.AddCertificate(account, "held", true, testcerts.NewCA("held").PEM, ""); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.status == http.StatusOK:
				em.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Status: http.StatusOK,
					Body: []byte(`{"success":false,"errors":[{"code":1489,"message":"Hit maximum CA cert allocation."}],"messages":[],"result":null}`)})
			case tc.injected:
				em.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Status: tc.status, Code: cfapi.CodeCAQuotaExceeded, Message: emulator.MessageCALimit})
			}
			c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL(), MaxRetries: 3})
			if err != nil {
				t.Fatal(err)
			}
			ctx := cfapi.WithAttemptLog(context.Background())
			_, err = c.Upload(ctx, cfapi.UploadRequest{AccountID: account, Name: "over", CA: true, Certificates: selfSigned()})
			if err == nil {
				t.Fatal("the upload over the quota succeeded")
			}
			if got := cfapi.IsCAQuotaExceeded(err); got != tc.wantQuota {
				t.Errorf("IsCAQuotaExceeded(%v) = %t, want %t", err, got, tc.wantQuota)
			}
			if cfapi.IsTransient(err) {
				t.Errorf("IsTransient(%v) = true: the refusal reads as worth a retry", err)
			}
			if n := em.RequestCount(emulator.RouteUpload); n != 1 {
				t.Errorf("the emulator saw %d uploads, want 1", n)
			}
			if n := em.CertificateCount(account); n != 1 {
				t.Errorf("the account holds %d certificates, want the 1 held before", n)
			}
			attempts := cfapi.Attempts(ctx)
			if len(attempts) != 1 || attempts[0].OutcomeUnknown() {
				t.Errorf("attempts %+v: want one, with a known outcome", attempts)
			}
		})
	}
}
