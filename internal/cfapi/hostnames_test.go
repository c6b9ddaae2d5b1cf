package cfapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

const zone = "fedcba9876543210fedcba9876543210"

// TestHostnameAssociationsAgainstEmulator: a replace sets a CA's hostnames
// in a zone, a read returns them, [] removes them, and an unknown
// certificate is Cloudflare's "not found".
func TestHostnameAssociationsAgainstEmulator(t *testing.T) {
	em := startEmulator(t)
	ctx := context.Background()
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := c.Upload(ctx, cfapi.UploadRequest{AccountID: account, CA: true, Certificates: selfSigned()})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.HostnameAssociations(ctx, zone, ca.ID); err != nil || len(got) != 0 {
		t.Fatalf("hostnames before any replace = %q, %v; want none", got, err)
	}
	set, err := c.ReplaceHostnameAssociations(ctx, zone, ca.ID, []string{"b.example.com", "a.example.com"})
	if err != nil || !slices.Equal(set, []string{"a.example.com", "b.example.com"}) {
		t.Fatalf("replace = %q, %v", set, err)
	}
	if got, err := c.HostnameAssociations(ctx, zone, ca.ID); err != nil || !slices.Equal(got, set) {
		t.Fatalf("hostnames = %q, %v; want %q", got, err, set)
	}
	if got, err := c.HostnameAssociations(ctx, "00000000000000000000000000000000", ca.ID); err != nil || len(got) != 0 {
		t.Fatalf("hostnames in another zone = %q, %v; want none", got, err)
	}
	if cleared, err := c.ReplaceHostnameAssociations(ctx, zone, ca.ID, nil); err != nil || len(cleared) != 0 {
		t.Fatalf("replace with none = %q, %v", cleared, err)
	}
	if got, err := c.HostnameAssociations(ctx, zone, ca.ID); err != nil || len(got) != 0 {
		t.Fatalf("hostnames after clearing = %q, %v; want none", got, err)
	}
	const unknown = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
	if _, err := c.HostnameAssociations(ctx, zone, unknown); !cfapi.IsCertificateNotFound(err) {
		t.Fatalf("hostnames of an unknown certificate: %v, want not found", err)
	}
	if _, err := c.ReplaceHostnameAssociations(ctx, zone, unknown, []string{"a.example.com"}); !cfapi.IsCertificateNotFound(err) {
		t.Fatalf("replace on an unknown certificate: %v, want not found", err)
	}
}

// TestHostnameAssociationsNeedsACertificate: without a certificate id the
// endpoints address Cloudflare's managed CA, so no request is sent.
func TestHostnameAssociationsNeedsACertificate(t *testing.T) {
	em := startEmulator(t)
	c, err := cfapi.New(cfapi.Config{APIToken: "tok", BaseURL: em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ReplaceHostnameAssociations(ctx, zone, "", nil); err == nil || !strings.Contains(err.Error(), "no request was sent") {
		t.Errorf("replace without a certificate id: %v", err)
	}
	if _, err := c.HostnameAssociations(ctx, "", fuzzCertID); err == nil {
		t.Error("read without a zone id succeeded")
	}
	if counts := em.RequestCounts(); len(counts) != 0 {
		t.Errorf("requests were sent: %v", counts)
	}
}

// TestMalformedHostnameAnswers: both hostname calls judge their answers
// like the certificate calls: a wrong type is unreadable, success:false
// under 200 is not a refusal, and only code 1472 is "not found".
func TestMalformedHostnameAnswers(t *testing.T) {
	canned, c := startCanned(t)
	ctx := context.Background()
	calls := map[string]func() ([]string, error){
		"read": func() ([]string, error) { return c.HostnameAssociations(ctx, zone, fuzzCertID) },
		"replace": func() ([]string, error) {
			return c.ReplaceHostnameAssociations(ctx, zone, fuzzCertID, []string{"a.example.com"})
		},
	}
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string
		unreadable, notFound    bool
	}{
		{"hostnames a string", "application/json", `{"success":true,"errors":[],"result":{"hostnames":"a.example.com"}}`, 200,
			`"result.hostnames" is a string, not a list of hostnames`, true, false},
		{"hostname a number", "application/json", `{"success":true,"errors":[],"result":{"hostnames":["a.example.com",7]}}`, 200,
			`"result.hostnames[1]" is a number, not a hostname`, true, false},
		{"hostname empty", "application/json", `{"success":true,"errors":[],"result":{"hostnames":[""]}}`, 200,
			`"result.hostnames[0]" is an empty string, not a hostname`, true, false},
		{"hostname null", "application/json", `{"success":true,"errors":[],"result":{"hostnames":[null]}}`, 200,
			`"result.hostnames[0]" is null, not a hostname`, true, false},
		{"hostnames missing", "application/json", `{"success":true,"errors":[],"result":{}}`, 200,
			`"result.hostnames" is missing`, true, false},
		{"result a list", "application/json", `{"success":true,"errors":[],"result":["a.example.com"]}`, 200,
			`"result" is a list, not an object with hostnames`, true, false},
		{"result null", "application/json", `{"success":true,"errors":[],"result":null}`, 200,
			`"result" is null although "success" is true`, true, false},
		{"refusal with 200", "application/json", `{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"result":null}`, 200,
			`"success" is false although the status is 200 (code 1472: Certificate not found)`, true, false},
		{"html 404", "text/html", `<html>Not Found</html>`, 404,
			"HTTP 404 Not Found: the API's answer for certificate " + fuzzCertID + " in zone " + zone + " could not be understood", true, false},
		{"no route", "application/json", `{"success":false,"errors":[{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}`, 404,
			"HTTP 404 Not Found: code 7000: No route for that URI", false, false},
		{"real not found", "application/json", `{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"messages":[],"result":null}`, 404,
			"HTTP 404 Not Found: code 1472: Certificate not found", false, true},
	} {
		for op, call := range calls {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				canned.set(tc.status, tc.contentType, []byte(tc.body))
				got, err := call()
				if err == nil {
					t.Fatalf("= %q, want an error", got)
				}
				if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), op+" hostname associations failed") {
					t.Errorf("error %q\nwant it to start with %q and hold %q", err, op+" hostname associations failed", tc.want)
				}
				if cfapi.IsUnreadableAnswer(err) != tc.unreadable || cfapi.IsCertificateNotFound(err) != tc.notFound {
					t.Errorf("unreadable %t, not found %t; want %t, %t", cfapi.IsUnreadableAnswer(err), cfapi.IsCertificateNotFound(err), tc.unreadable, tc.notFound)
				}
			})
		}
	}
	// A null list is none, as an empty one is.
	for _, body := range []string{`{"success":true,"errors":[],"result":{"hostnames":[]}}`, `{"success":true,"errors":[],"result":{"hostnames":null}}`} {
		canned.set(http.StatusOK, "application/json", []byte(body))
		for op, call := range calls {
			if got, err := call(); err != nil || len(got) != 0 {
				t.Errorf("%s %s = %q, %v; want none", op, body, got, err)
			}
		}
	}
}
