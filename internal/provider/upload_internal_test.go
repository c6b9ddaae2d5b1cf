package provider

import (
	"bytes"
	"context"
	"io"
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

const uploadTestAccount = "0123456789abcdef0123456789abcdef"

// commitDelay is how long after an upload arrives a test server stores
// it, when the test needs Cloudflare's clock, read to the second from the
// Date of its answers, to place the certificate after the upload was sent.
const commitDelay = 1200 * time.Millisecond

// interruptingServer serves the emulator, except that the first upload
// interrupts the client (as Terraform does on SIGINT, by canceling the
// operation's context) and never answers. With commitAfter >= 0 the
// emulator stores the certificate that long after the upload arrived,
// before the interruption.
func interruptingServer(t *testing.T, interrupt context.CancelFunc, commitAfter time.Duration) (*emulator.Server, *cfapi.Client, *atomic.Int64) {
	t.Helper()
	emu := emulator.New(emulator.Options{APIToken: "tok"})
	var uploads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && uploads.Add(1) == 1 {
			if commitAfter >= 0 {
				time.Sleep(commitAfter)
				emu.ServeHTTP(httptest.NewRecorder(), r)
			}
			// Only once the body is read does net/http notice that the
			// client hangs up.
			_, _ = io.Copy(io.Discard, r.Body)
			interrupt()
			<-r.Context().Done()
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: srv.URL + emulator.PathPrefix, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	return emu, client, &uploads
}

func TestUploadInterruptedAfterCommitIsRecorded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu, client, uploads := interruptingServer(t, cancel, commitDelay)
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	if diags.HasError() || got == nil {
		t.Fatalf("got %v, %v; want the stored certificate", got, diags)
	}
	stored := emu.Certificates(uploadTestAccount)
	if len(stored) != 1 || stored[0].ID != got.ID || got.Name != "n" || !got.CA {
		t.Fatalf("recorded %+v; the emulator holds %+v", got, stored)
	}
	if len(diags) != 1 || diags[0].Summary() != "mTLS Certificate Recorded After a Lost Answer" ||
		!strings.Contains(diags[0].Detail(), "the operation was interrupted before Cloudflare answered") ||
		!strings.Contains(diags[0].Detail(), "certificate "+got.ID) {
		t.Errorf("diagnostics %v, want one warning about the interruption", diags)
	}
	if n := uploads.Load(); n != 1 {
		t.Errorf("%d uploads, want 1: an interrupted upload is not retried", n)
	}
}

// An upload stored within the second it was sent cannot be placed after it
// by a clock read to the second: it may have been there before, so it is
// named, not recorded, and not uploaded again.
func TestUploadInterruptedRightAfterCommitIsNamed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu, client, uploads := interruptingServer(t, cancel, 0)
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	stored := emu.Certificates(uploadTestAccount)
	if got != nil || !diags.HasError() || len(stored) != 1 {
		t.Fatalf("got %v, %v, stored %d; want an error and the one stored certificate", got, diags, len(stored))
	}
	d := diags.Errors()[0]
	for _, want := range []string{"was interrupted before Cloudflare answered", "certificate " + stored[0].ID,
		"terraform import <resource address> " + uploadTestAccount + "/" + stored[0].ID, "by Cloudflare's clock"} {
		if d.Summary() != "mTLS Certificate May Predate This Upload" || !strings.Contains(d.Detail(), want) {
			t.Errorf("%s: %q lacks %q", d.Summary(), d.Detail(), want)
		}
	}
	if n := uploads.Load(); n != 1 {
		t.Errorf("%d uploads, want 1", n)
	}
}

func TestUploadInterruptedBeforeCommitStoresNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu, client, _ := interruptingServer(t, cancel, -1)
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	if got != nil || !diags.HasError() {
		t.Fatalf("got %v, %v; want an error", got, diags)
	}
	detail := diags.Errors()[0].Detail()
	for _, want := range []string{"was interrupted before Cloudflare answered", "as far as the provider can tell nothing was stored"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail %q lacks %q", detail, want)
		}
	}
	if n := emu.CertificateCount(uploadTestAccount); n != 0 {
		t.Errorf("the emulator holds %d certificates", n)
	}
}

// answerThenInterrupt is a transport that lets the first upload's answer
// arrive whole, then interrupts the client before the SDK hands it on: the
// answer is dropped with the canceled operation.
type answerThenInterrupt struct {
	base      http.RoundTripper
	interrupt context.CancelFunc
	uploads   atomic.Int64
}

func (a *answerThenInterrupt) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := a.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || a.uploads.Add(1) != 1 {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	a.interrupt()
	return res, nil
}

func TestUploadAnsweredAsInterruptedIsRecorded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := emulator.New(emulator.Options{APIToken: "tok"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	transport := &answerThenInterrupt{base: http.DefaultTransport, interrupt: cancel}
	client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: srv.URL + emulator.PathPrefix, HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		t.Fatal(err)
	}
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	if diags.HasError() || got == nil {
		t.Fatalf("got %v, %v; want the stored certificate", got, diags)
	}
	if stored := emu.Certificates(uploadTestAccount); len(stored) != 1 || stored[0].ID != got.ID {
		t.Fatalf("recorded %+v; the emulator holds %+v", got, stored)
	}
	// The answer named the certificate: nothing to look for, nothing to warn of.
	if n := emu.RequestCount(emulator.RouteList); n != 0 || len(diags) != 0 {
		t.Errorf("%d listings and diagnostics %v; the answer that arrived should have been used as it is", n, diags)
	}
}

func TestOwnTwins(t *testing.T) {
	firstSent := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	now := firstSent.Add(20 * time.Second)
	// Cloudflare's clock is 10 minutes ahead, known to within 1 s.
	offset := cfapi.ClockOffset{Min: 10*time.Minute - 200*time.Millisecond, Max: 10*time.Minute + 800*time.Millisecond}
	sentThere := firstSent.Add(10 * time.Minute) // the first attempt, by Cloudflare's clock, give or take
	req := cfapi.UploadRequest{Name: "n", CA: true}
	twin := func(name string, ca bool, uploaded time.Time) cfapi.Certificate {
		return cfapi.Certificate{ID: "x", Name: name, CA: ca, UploadedOn: uploaded}
	}
	for name, tc := range map[string]struct {
		holders         []cfapi.Certificate
		clockUnknown    bool
		twins, unplaced int
	}{
		"surely after the first attempt":      {[]cfapi.Certificate{twin("n", true, sentThere.Add(time.Second))}, false, 1, 0},
		"within the clock's uncertainty":      {[]cfapi.Certificate{twin("n", true, sentThere.Add(100*time.Millisecond))}, false, 0, 1},
		"surely before: never this upload's":  {[]cfapi.Certificate{twin("n", true, sentThere.Add(-time.Second))}, false, 0, 0},
		"15 s before, as another workspace's": {[]cfapi.Certificate{twin("n", true, sentThere.Add(-15*time.Second))}, false, 0, 0},
		"after by this machine's clock only":  {[]cfapi.Certificate{twin("n", true, firstSent.Add(time.Second))}, false, 0, 0},
		"in the future by Cloudflare's clock": {[]cfapi.Certificate{twin("n", true, now.Add(offset.Max+time.Second))}, false, 0, 1},
		"no clock reading":                    {[]cfapi.Certificate{twin("n", true, sentThere.Add(time.Second))}, true, 0, 1},
		"another name":                        {[]cfapi.Certificate{twin("m", true, sentThere.Add(time.Second))}, false, 0, 0},
		"another ca":                          {[]cfapi.Certificate{twin("n", false, sentThere.Add(time.Second))}, false, 0, 0},
		"no uploaded_on to judge by":          {[]cfapi.Certificate{twin("n", true, time.Time{})}, false, 0, 1},
		"no certificate with these contents":  {nil, false, 0, 0},
		"two after":                           {[]cfapi.Certificate{twin("n", true, sentThere.Add(time.Second)), twin("n", true, sentThere.Add(2*time.Second))}, false, 2, 0},
		"one after beside an old certificate": {[]cfapi.Certificate{twin("n", true, sentThere.Add(-time.Hour)), twin("n", true, sentThere.Add(time.Second))}, false, 1, 0},
	} {
		twins, unplaced := ownTwins(tc.holders, req, firstSent, now, offset, !tc.clockUnknown)
		if len(twins) != tc.twins || len(unplaced) != tc.unplaced {
			t.Errorf("%s: ownTwins = %v, %v; want %d twins and %d unplaced", name, twins, unplaced, tc.twins, tc.unplaced)
		}
	}
}

// quotaServer is an emulator whose accounts hold at most opts.CALimit CAs
// (1 when unset), with one CA already in uploadTestAccount, and a client
// with retries.
func quotaServer(t *testing.T, opts emulator.Options) (*emulator.Running, *cfapi.Client) {
	t.Helper()
	opts.APIToken, opts.CALimit = "tok", max(opts.CALimit, 1)
	emu, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	if _, err := emu.AddCertificate(uploadTestAccount, "held", true, testcerts.NewCA("held").PEM, ""); err != nil {
		t.Fatal(err)
	}
	client, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: emu.URL(), MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	return emu, client
}

// TestUploadOverQuotaAfterALostAnswer: a retry refused with 1489 after an
// attempt whose fate is unknown (a 503) is not taken at its word: the first
// attempt may have stored the CA and so filled the quota. The account is
// searched for it, and once none is found the quota is named.
func TestUploadOverQuotaAfterALostAnswer(t *testing.T) {
	t.Parallel()
	emu, client := quotaServer(t, emulator.Options{})
	emu.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Status: http.StatusServiceUnavailable})
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(context.Background(), client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	if got != nil || len(diags) != 1 || !diags.HasError() {
		t.Fatalf("got %v, %v; want one error", got, diags)
	}
	if detail := diags[0].Detail(); !strings.Contains(detail, "holds as many CA certificates as it may") || !strings.Contains(detail, `(name "held")`) {
		t.Errorf("detail %q does not name the quota and the CA held", detail)
	}
	// Two uploads (the 503, then 1489); one listing to look for the first
	// one's certificate, and one to name the account's CAs.
	for route, want := range map[string]int{emulator.RouteUpload: 2, emulator.RouteList: 2} {
		if n := emu.RequestCount(route); n != want {
			t.Errorf("%d %s requests, want %d", n, route, want)
		}
	}
}

// TestUploadOverQuotaFilledByItsOwnLostAttempt: the first attempt stored
// the CA (its answer was lost), which used the account's last slot, so the
// retry is refused with 1489. The certificate the first attempt stored is
// recorded, exactly as after a lost answer refused with 1471.
func TestUploadOverQuotaFilledByItsOwnLostAttempt(t *testing.T) {
	t.Parallel()
	// Duplicates allowed, so that the retry meets the quota rather than
	// 1471; the emulator stores the first attempt after Cloudflare's clock
	// has passed the second in which it was sent.
	emu, client := quotaServer(t, emulator.Options{AllowDuplicates: true, CALimit: 2})
	emu.InjectFault(emulator.Fault{Route: emulator.RouteUpload, Delay: commitDelay, CommitThenDrop: true})
	pemText, _ := selfSignedPEM(t)

	got, diags := uploadExactlyOnce(context.Background(), client, cfapi.UploadRequest{AccountID: uploadTestAccount, Name: "n", CA: true, Certificates: pemText})
	if diags.HasError() || got == nil {
		t.Fatalf("got %v, %v; want the certificate the first attempt stored", got, diags)
	}
	stored := emu.Certificates(uploadTestAccount)
	if len(stored) != 2 || stored[1].ID != got.ID {
		t.Fatalf("recorded %+v; the emulator holds %+v", got, stored)
	}
	if len(diags) != 1 || diags[0].Summary() != "mTLS Certificate Recorded After a Lost Answer" ||
		!strings.Contains(diags[0].Detail(), "code 1489") {
		t.Errorf("diagnostics %v; want the warning about the lost answer, quoting the 1489 refusal", diags)
	}
}
