package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func TestFaultStatusAndRetryAfter(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	emu.InjectFault(Fault{Route: RouteList, Status: http.StatusTooManyRequests, RetryAfter: "7", Times: 2})

	for range 2 {
		r := c.do(http.MethodGet, certsPath(testAccount), nil)
		wantError(t, r, http.StatusTooManyRequests, CodeInjectedFault)
		if got := r.header.Get("Retry-After"); got != "7" {
			t.Errorf("Retry-After %q, want 7", got)
		}
		if r.env.Errors[0].Message != "Too Many Requests" {
			t.Errorf("default message %q", r.env.Errors[0].Message)
		}
	}
	r := c.do(http.MethodGet, certsPath(testAccount), nil)
	wantOK(t, r)
	if r.header.Get("Retry-After") != "" {
		t.Error("Retry-After outlived its fault")
	}
	if n := emu.RequestCount(RouteList); n != 3 {
		t.Errorf("RequestCount(list) = %d, want 3", n)
	}
}

func TestFaultsAreFIFOPerRoute(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	missing := certPath(testAccount, "6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e")

	emu.InjectFault(Fault{Route: RouteGet, Status: http.StatusServiceUnavailable, Code: 2001, Message: "first"})
	emu.InjectFault(Fault{Route: RouteDelete, Status: http.StatusInternalServerError})
	emu.InjectFault(Fault{Route: RouteGet, Status: http.StatusBadGateway, Code: 2002, Message: "second"})
	// A fault restricted to another method never matches this route's
	// requests, and must not block the faults behind it either.
	emu.InjectFault(Fault{Route: RouteAssociations, Method: http.MethodPost, Status: http.StatusInternalServerError})

	r := c.do(http.MethodGet, missing, nil)
	wantError(t, r, http.StatusServiceUnavailable, 2001)
	if r.env.Errors[0].Message != "first" {
		t.Errorf("message %q, want first", r.env.Errors[0].Message)
	}
	wantError(t, c.do(http.MethodGet, missing, nil), http.StatusBadGateway, 2002)
	wantError(t, c.do(http.MethodGet, missing, nil), http.StatusNotFound, CodeCertificateNotFound)
	wantError(t, c.do(http.MethodGet, missing+"/associations", nil), http.StatusNotFound, CodeCertificateNotFound)
	wantError(t, c.do(http.MethodDelete, missing, nil), http.StatusInternalServerError, CodeInjectedFault)

	emu.InjectFault(Fault{Route: RouteList, Status: http.StatusInternalServerError})
	emu.ClearFaults()
	wantOK(t, c.do(http.MethodGet, certsPath(testAccount), nil))
}

func TestFaultDelay(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	const delay = 60 * time.Millisecond
	emu.InjectFault(Fault{Route: RouteList, Delay: delay})

	start := time.Now()
	wantOK(t, c.do(http.MethodGet, certsPath(testAccount), nil))
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("delayed request took %v, want at least %v", elapsed, delay)
	}

	// A client that gives up is not kept waiting, and the delayed operation
	// is not performed.
	emu.InjectFault(Fault{Route: RouteUpload, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, emu.URL()+certsPath(testAccount),
		strings.NewReader(`{"ca":true,"certificates":`+quoteJSON(testcerts.NewCA("emulator test CA").PEM)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	bearer(testToken)(req)
	resp, err := c.http.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("request outlived its context")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want a deadline", err)
	}
	// Shutdown waits for handlers in flight, so it returns in time only if
	// the delayed one ended with its client.
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShutdown()
	if err := emu.Shutdown(shutdownCtx); err != nil {
		t.Errorf("the delayed handler outlived its client: %v", err)
	}
	if emu.CertificateCount(testAccount) != 0 {
		t.Error("an abandoned delayed upload was stored")
	}
}

func TestFaultDropConnection(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")

	emu.InjectFault(Fault{Route: RouteUpload, DropConnection: true})
	if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM}); err == nil {
		t.Fatal("dropped upload returned a response")
	}
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Fatalf("dropped upload stored %d certificates", n)
	}
	created := c.upload(testAccount, uploadBody{CA: true, Certificates: ca.PEM})

	// Go's transport replays a GET once when a reused connection drops, so a
	// single drop is only visible on a fresh connection.
	fresh := newClient(t, emu)
	fresh.http.Transport.(*http.Transport).DisableKeepAlives = true
	emu.InjectFault(Fault{Route: RouteGet, DropConnection: true})
	if _, err := fresh.send(http.MethodGet, certPath(testAccount, created.ID), nil); err == nil {
		t.Fatal("dropped GET returned a response")
	}
	wantOK(t, fresh.do(http.MethodGet, certPath(testAccount, created.ID), nil))
	if n := emu.RequestCount(RouteGet); n != 2 {
		t.Errorf("RequestCount(get) = %d, want 2", n)
	}
}

func TestFaultCommitThenDrop(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")

	emu.InjectFault(Fault{Route: RouteUpload, CommitThenDrop: true})
	if _, err := c.send(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM}); err == nil {
		t.Fatal("commit-then-drop upload returned a response")
	}
	stored := emu.Certificates(testAccount)
	if len(stored) != 1 {
		t.Fatalf("commit-then-drop upload stored %d certificates, want 1", len(stored))
	}
	// The client cannot know it succeeded; retrying blindly hits the
	// duplicate check, which is what a client must be ready for.
	wantError(t, c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM}),
		http.StatusBadRequest, CodeDuplicateCertificate)

	emu.InjectFault(Fault{Route: RouteDelete, CommitThenDrop: true})
	if _, err := c.send(http.MethodDelete, certPath(testAccount, stored[0].ID), nil); err == nil {
		t.Fatal("commit-then-drop delete returned a response")
	}
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Errorf("commit-then-drop delete left %d certificates", n)
	}
	wantError(t, c.do(http.MethodDelete, certPath(testAccount, stored[0].ID), nil), http.StatusNotFound, CodeCertificateNotFound)
}

// rawResponse is an answer read without assuming it is an envelope.
type rawResponse struct {
	status      int
	contentType string
	body        string
}

func (c *apiClient) raw(method, path string, body string) rawResponse {
	c.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.baseURL+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(raw)}
}

func TestFaultBody(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	get := certPath(testAccount, id)

	const truncated = `{"success":true,"errors":[],"messages":[],"result":{"id":`
	emu.InjectFault(Fault{Route: RouteGet, Body: []byte(truncated), Times: 2})
	for range 2 {
		if r := c.raw(http.MethodGet, get, ""); r != (rawResponse{200, "application/json", truncated}) {
			t.Errorf("got %+v, want the raw body with 200 and JSON", r)
		}
	}
	wantOK(t, c.do(http.MethodGet, get, nil))

	const page = "<html><body>502 Bad Gateway</body></html>"
	emu.InjectFault(Fault{Route: RouteGet, Status: http.StatusBadGateway, ContentType: "text/html", Body: []byte(page)})
	emu.InjectFault(Fault{Route: RouteGet, Status: http.StatusNoContent, Body: []byte{}})
	if r := c.raw(http.MethodGet, get, ""); r != (rawResponse{502, "text/html", page}) {
		t.Errorf("got %+v, want the HTML page with 502", r)
	}
	if r := c.raw(http.MethodGet, get, ""); r.status != http.StatusNoContent || r.body != "" {
		t.Errorf("got %+v, want an empty 204", r)
	}

	// Without CommitThenBody the operation does not run; with it, it does.
	const nullResult = `{"success":true,"errors":[],"messages":[],"result":null}`
	emu.InjectFault(Fault{Route: RouteUpload, Body: []byte(nullResult)})
	emu.InjectFault(Fault{Route: RouteUpload, Body: []byte(nullResult), CommitThenBody: true})
	upload := `{"ca":true,"certificates":` + quoteJSON(testcerts.NewCA("emulator test CA").PEM) + `}`
	if r := c.raw(http.MethodPost, certsPath(testAccount), upload); r.body != nullResult {
		t.Errorf("upload answered %+v", r)
	}
	if n := emu.CertificateCount(testAccount); n != 1 {
		t.Fatalf("an upload answered by Body stored a certificate: %d stored", n)
	}
	if r := c.raw(http.MethodPost, certsPath(testAccount), upload); r.body != nullResult {
		t.Errorf("upload answered %+v", r)
	}
	if n := emu.CertificateCount(testAccount); n != 2 {
		t.Fatalf("CommitThenBody did not store the certificate: %d stored", n)
	}
}

func TestInjectFaultRejectsMistakes(t *testing.T) {
	emu := New(testOptions())
	for name, f := range map[string]Fault{
		"unknown route":    {Route: "lists", Status: 500},
		"no route":         {Status: 500},
		"success status":   {Route: RouteList, Status: 200},
		"negative times":   {Route: RouteList, Status: 500, Times: -1},
		"negative delay":   {Route: RouteList, Delay: -time.Second},
		"redirect status":  {Route: RouteList, Status: 302},
		"status too large": {Route: RouteList, Status: 600},
		"body with 1xx":    {Route: RouteList, Status: 101, Body: []byte("{}")},
		"body and drop":    {Route: RouteList, Body: []byte("{}"), DropConnection: true},
		"type, no body":    {Route: RouteList, ContentType: "text/html"},
		"commit, no body":  {Route: RouteUpload, CommitThenBody: true},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: InjectFault accepted %+v", name, f)
				}
			}()
			emu.InjectFault(f)
		}()
	}
}

func TestRequestCounts(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	c.do(http.MethodGet, certsPath(testAccount), nil)
	c.do(http.MethodGet, certsPath(testAccount), nil)
	c.do(http.MethodGet, certPath(testAccount, id), nil)
	c.do(http.MethodGet, certPath(testAccount, id)+"/associations", nil)
	c.do(http.MethodGet, "/zones", nil)                  // unknown route: counted as other
	c.do(http.MethodPut, certPath(testAccount, id), nil) // wrong method: counted as other
	c.do(http.MethodGet, certPath("BAD", id), nil)       // invalid account: still the get route
	c.auth = noAuth
	c.do(http.MethodDelete, certPath(testAccount, id), nil) // refused, but it reached the route

	want := map[string]int{RouteUpload: 1, RouteList: 2, RouteGet: 2, RouteAssociations: 1, RouteDelete: 1, RouteOther: 2}
	got := emu.RequestCounts()
	if len(got) != len(want) {
		t.Errorf("RequestCounts() = %v, want %v", got, want)
	}
	for route, n := range want {
		if got[route] != n || emu.RequestCount(route) != n {
			t.Errorf("count of %s: %d, want %d", route, got[route], n)
		}
	}
	got[RouteList] = 100
	if emu.RequestCount(RouteList) != 2 {
		t.Error("RequestCounts returned the live map")
	}
	emu.ResetCounts()
	if n := len(emu.RequestCounts()); n != 0 {
		t.Errorf("%d routes counted after ResetCounts", n)
	}
}

func TestLatency(t *testing.T) {
	opts := testOptions()
	opts.Latency = 40 * time.Millisecond
	emu := startEmulator(t, opts)
	c := newClient(t, emu)
	c.auth = noAuth // latency applies to refused requests too
	start := time.Now()
	c.do(http.MethodGet, certsPath(testAccount), nil)
	if elapsed := time.Since(start); elapsed < opts.Latency {
		t.Errorf("request took %v, want at least %v", elapsed, opts.Latency)
	}
}

func TestReset(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	id := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	emu.SetAssociations(testAccount, id, []Association{{Service: "gateway", Status: "active"}})
	emu.InjectFault(Fault{Route: RouteList, Status: http.StatusInternalServerError})

	emu.Reset()
	if emu.CertificateCount(testAccount) != 0 || len(emu.RequestCounts()) != 0 {
		t.Error("Reset kept certificates or counts")
	}
	wantOK(t, c.do(http.MethodGet, certsPath(testAccount), nil))
}

func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
