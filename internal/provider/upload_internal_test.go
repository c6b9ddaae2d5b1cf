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
)

const uploadTestAccount = "0123456789abcdef0123456789abcdef"

// interruptingServer serves the emulator, except that the first upload
// interrupts the client (as Terraform does on SIGINT, by canceling the
// operation's context) and never answers. With commitFirst the emulator
// stores the certificate before the interruption.
func interruptingServer(t *testing.T, interrupt context.CancelFunc, commitFirst bool) (*emulator.Server, *cfapi.Client, *atomic.Int64) {
	t.Helper()
	emu := emulator.New(emulator.Options{APIToken: "tok"})
	var uploads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && uploads.Add(1) == 1 {
			if commitFirst {
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
	emu, client, uploads := interruptingServer(t, cancel, true)
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

func TestUploadInterruptedBeforeCommitStoresNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu, client, _ := interruptingServer(t, cancel, false)
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
}

func TestOwnTwins(t *testing.T) {
	firstSent := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	now := firstSent.Add(20 * time.Second)
	req := cfapi.UploadRequest{Name: "n", CA: true}
	twin := func(name string, ca bool, uploaded time.Time) cfapi.Certificate {
		return cfapi.Certificate{ID: "x", Name: name, CA: ca, UploadedOn: uploaded}
	}
	for name, tc := range map[string]struct {
		holders []cfapi.Certificate
		want    int
	}{
		"uploaded after the first attempt":        {[]cfapi.Certificate{twin("n", true, firstSent.Add(time.Second))}, 1},
		"within the clock skew allowance before":  {[]cfapi.Certificate{twin("n", true, firstSent.Add(-4*time.Minute))}, 1},
		"older than the allowance":                {[]cfapi.Certificate{twin("n", true, firstSent.Add(-6*time.Minute))}, 0},
		"within the clock skew allowance after":   {[]cfapi.Certificate{twin("n", true, now.Add(4*time.Minute))}, 1},
		"later than now and the allowance":        {[]cfapi.Certificate{twin("n", true, now.Add(6*time.Minute))}, 0},
		"another name":                            {[]cfapi.Certificate{twin("m", true, firstSent)}, 0},
		"another ca":                              {[]cfapi.Certificate{twin("n", false, firstSent)}, 0},
		"no uploaded_on to judge by":              {[]cfapi.Certificate{twin("n", true, time.Time{})}, 0},
		"no certificate with these contents":      {nil, 0},
		"two candidates, both returned":           {[]cfapi.Certificate{twin("n", true, firstSent), twin("n", true, now)}, 2},
		"one candidate beside an old certificate": {[]cfapi.Certificate{twin("n", true, firstSent.Add(-time.Hour)), twin("n", true, now)}, 1},
	} {
		if got := ownTwins(tc.holders, req, firstSent, now); len(got) != tc.want {
			t.Errorf("%s: ownTwins = %v, want %d", name, got, tc.want)
		}
	}
}
