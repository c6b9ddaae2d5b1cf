package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// controlClient talks to the control API of emu with the test token.
func controlClient(t *testing.T, emu *Running) *apiClient {
	t.Helper()
	c := newClient(t, emu)
	c.baseURL = emu.ControlURL()
	return c
}

func controlAssocPath(account, id string) string {
	return "/accounts/" + account + "/mtls_certificates/" + id + "/associations"
}

var gatewayActive = []Association{{Service: "gateway", Status: "active"}}

// apiAssociations reads a certificate's associations through the API.
func apiAssociations(t *testing.T, c *apiClient, account, id string) []Association {
	t.Helper()
	r := c.do(http.MethodGet, certPath(account, id)+"/associations", nil)
	wantOK(t, r)
	var assoc []Association
	if err := json.Unmarshal(r.env.Result, &assoc); err != nil {
		t.Fatalf("associations: %v: %s", err, r.raw)
	}
	return assoc
}

func TestControlURL(t *testing.T) {
	emu := startEmulator(t, testOptions())
	want := strings.TrimSuffix(emu.URL(), PathPrefix) + "/__emulator"
	if got := emu.ControlURL(); got != want {
		t.Errorf("ControlURL() = %q, want %q", got, want)
	}
}

// TestControlNeedsCredentials: without the API's credentials every control
// endpoint answers 403 and changes nothing.
func TestControlNeedsCredentials(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	emu.SetAssociations(testAccount, id, gatewayActive)
	api.do(http.MethodGet, certsPath(testAccount), nil)
	countsBefore := emu.RequestCounts()

	requests := []struct {
		method, path string
		body         any
	}{
		{http.MethodPut, controlAssocPath(testAccount, id), `{"associations":[]}`},
		{http.MethodDelete, controlAssocPath(testAccount, id), nil},
		{http.MethodPost, "/faults", `{"route":"list","status":500}`},
		{http.MethodGet, "/requests", nil},
		{http.MethodPost, "/reset", nil},
		{http.MethodGet, "/certificates?account_id=" + testAccount, nil},
		{http.MethodGet, "/coverage", nil},
		{http.MethodPatch, "/settings", `{"ca_limit":1}`},
		{http.MethodGet, "/nowhere", nil},
	}
	for name, auth := range map[string]func(*http.Request){
		"no credentials":   noAuth,
		"wrong token":      bearer("not-" + testToken),
		"basic scheme":     func(r *http.Request) { r.Header.Set("Authorization", "Basic "+testToken) },
		"wrong global key": globalKey(testEmail, "not-"+testKey),
		"email only":       func(r *http.Request) { r.Header.Set("X-Auth-Email", testEmail) },
	} {
		c := controlClient(t, emu)
		c.auth = auth
		for _, req := range requests {
			r := c.do(req.method, req.path, req.body)
			wantError(t, r, http.StatusForbidden, CodeAuthentication)
			if !strings.Contains(r.env.Errors[0].Message, "Bearer") {
				t.Errorf("%s: %s %s: message %q does not say which credentials", name, req.method, req.path, r.env.Errors[0].Message)
			}
		}
	}

	if n := emu.CertificateCount(testAccount); n != 1 {
		t.Errorf("%d certificates after refused control requests, want 1", n)
	}
	if got := apiAssociations(t, api, testAccount, id); len(got) != 1 || got[0] != gatewayActive[0] {
		t.Errorf("associations after refused control requests: %+v", got)
	}
	if st := emu.currentSettings(); st.caLimit != 0 {
		t.Errorf("CA limit %d after a refused PATCH of the settings", st.caLimit)
	}
	// The associations read above is the only request since.
	countsBefore[RouteAssociations]++
	if got := emu.RequestCounts(); len(got) != len(countsBefore) || got[RouteList] != countsBefore[RouteList] ||
		got[RouteAssociations] != countsBefore[RouteAssociations] {
		t.Errorf("counts %v after refused control requests, want %v", got, countsBefore)
	}
	wantOK(t, api.do(http.MethodGet, certsPath(testAccount), nil)) // no refused fault is queued

	// The global key pair is accepted too.
	c := controlClient(t, emu)
	c.auth = globalKey(testEmail, testKey)
	wantOK(t, c.do(http.MethodGet, "/requests", nil))
}

// TestControlAssociations: associations set through the control API are
// what the API reports and make its DELETE refuse; draining them lets the
// delete through.
func TestControlAssociations(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID

	r := ctl.do(http.MethodPut, controlAssocPath(testAccount, id),
		`{"associations":[{"service":"gateway","status":"active"},{"service":"access","status":"pending_deletion"}]}`)
	wantOK(t, r)
	var result struct {
		Associations []Association `json:"associations"`
		DrainsAt     *string       `json:"drains_at"`
	}
	if err := json.Unmarshal(r.env.Result, &result); err != nil || len(result.Associations) != 2 || result.DrainsAt != nil {
		t.Errorf("PUT answer %s (%v)", r.raw, err)
	}
	want := []Association{{Service: "gateway", Status: "active"}, {Service: "access", Status: "pending_deletion"}}
	if got := apiAssociations(t, api, testAccount, id); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("API associations %+v, want %+v", got, want)
	}

	r = api.do(http.MethodDelete, certPath(testAccount, id), nil)
	wantError(t, r, DefaultInUseStatus, DefaultInUseCode)
	if emu.CertificateCount(testAccount) != 1 {
		t.Fatal("an in-use certificate was deleted")
	}

	r = ctl.do(http.MethodGet, "/certificates?account_id="+testAccount, nil)
	wantOK(t, r)
	var listed []struct {
		ID           string        `json:"id"`
		CA           bool          `json:"ca"`
		Associations []Association `json:"associations"`
	}
	if err := json.Unmarshal(r.env.Result, &listed); err != nil || len(listed) != 1 || listed[0].ID != id ||
		!listed[0].CA || len(listed[0].Associations) != 2 {
		t.Errorf("control certificates %s (%v)", r.raw, err)
	}

	wantOK(t, ctl.do(http.MethodDelete, controlAssocPath(testAccount, id), nil))
	if got := apiAssociations(t, api, testAccount, id); len(got) != 0 {
		t.Errorf("associations after the drain: %+v", got)
	}
	wantOK(t, api.do(http.MethodDelete, certPath(testAccount, id), nil))

	// Now the certificate is gone: both endpoints answer 404.
	wantError(t, ctl.do(http.MethodPut, controlAssocPath(testAccount, id), `{"associations":[]}`),
		http.StatusNotFound, CodeCertificateNotFound)
	wantError(t, ctl.do(http.MethodDelete, controlAssocPath(testAccount, id), nil),
		http.StatusNotFound, CodeCertificateNotFound)
	wantError(t, ctl.do(http.MethodPut, controlAssocPath(otherAccount, id), `{"associations":[]}`),
		http.StatusNotFound, CodeCertificateNotFound)
}

// TestControlDrainAfter: drain_after clears the associations once it has
// passed, and not before; a later PUT replaces the pending drain.
func TestControlDrainAfter(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID

	const drainAfter = 300 * time.Millisecond
	start := time.Now()
	r := ctl.do(http.MethodPut, controlAssocPath(testAccount, id),
		`{"associations":[{"service":"gateway","status":"active"}],"drain_after":"300ms"}`)
	wantOK(t, r)
	var result struct {
		DrainsAt string `json:"drains_at"`
	}
	if err := json.Unmarshal(r.env.Result, &result); err != nil {
		t.Fatal(err)
	}
	if at, err := time.Parse(time.RFC3339Nano, result.DrainsAt); err != nil || at.Before(start.Add(drainAfter)) ||
		at.After(time.Now().Add(drainAfter)) {
		t.Errorf("drains_at %q (%v), want about %v from now", result.DrainsAt, err, drainAfter)
	}
	wantError(t, api.do(http.MethodDelete, certPath(testAccount, id), nil), DefaultInUseStatus, DefaultInUseCode)

	deadline := time.Now().Add(5 * time.Second)
	for len(apiAssociations(t, api, testAccount, id)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the associations were not drained after drain_after")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waited := time.Since(start); waited < drainAfter {
		t.Errorf("drained after %v, before drain_after %v", waited, drainAfter)
	}
	wantOK(t, api.do(http.MethodDelete, certPath(testAccount, id), nil))

	t.Run("a later PUT cancels the drain", func(t *testing.T) {
		id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
		wantOK(t, ctl.do(http.MethodPut, controlAssocPath(testAccount, id),
			`{"associations":[{"service":"gateway","status":"active"}],"drain_after":"100ms"}`))
		wantOK(t, ctl.do(http.MethodPut, controlAssocPath(testAccount, id),
			`{"associations":[{"service":"access","status":"active"}]}`))
		time.Sleep(300 * time.Millisecond)
		if got := apiAssociations(t, api, testAccount, id); len(got) != 1 || got[0].Service != "access" {
			t.Errorf("associations %+v: the replaced drain ran", got)
		}
	})

	t.Run("reset cancels the drain", func(t *testing.T) {
		id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
		wantOK(t, ctl.do(http.MethodPut, controlAssocPath(testAccount, id),
			`{"associations":[{"service":"gateway","status":"active"}],"drain_after":"1h"}`))
		wantOK(t, ctl.do(http.MethodPost, "/reset", nil))
		emu.drainMu.Lock()
		pending := len(emu.drains)
		emu.drainMu.Unlock()
		if pending != 0 {
			t.Errorf("%d drains pending after reset", pending)
		}
	})
}

// TestControlBadAssociations: each mistake is a 400 that names the field,
// and changes nothing.
func TestControlBadAssociations(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	emu.SetAssociations(testAccount, id, gatewayActive)

	for body, wantField := range map[string]string{
		``:                                   "empty",
		`{}`:                                 "associations is required",
		`{"associations":null}`:              "associations is required",
		`{"associations":"gateway"}`:         "associations must be",
		`{"associations":[{"status":"x"}]}`:  "associations[0].service",
		`{"associations":[{"service":"g"}]}`: "associations[0].status",
		`{"associations":[{"service":"g","status":"active"},{"service":" ","status":"active"}]}`: "associations[1].service",
		`{"associations":[],"drain_after":"soon"}`:                                               "drain_after",
		`{"associations":[],"drain_after":"-1s"}`:                                                "drain_after",
		`{"associations":[],"drain_after":"0s"}`:                                                 "drain_after",
		`{"associations":[],"drain_after":5}`:                                                    "drain_after",
		`{"associations":[],"drainAfter":"5s"}`:                                                  `unknown field "drainAfter"`,
		`{"associations":[]} {}`:                                                                 "single JSON object",
		`not json`:                                                                               "not the expected JSON",
	} {
		r := ctl.do(http.MethodPut, controlAssocPath(testAccount, id), body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.env.Errors[0].Message, wantField) {
			t.Errorf("PUT %q: HTTP %d %s, want 400 naming %q", body, r.status, r.raw, wantField)
		}
	}
	r := ctl.do(http.MethodPut, controlAssocPath("not-an-account", id), `{"associations":[]}`)
	wantError(t, r, http.StatusBadRequest, CodeNoRoute)
	if got := apiAssociations(t, api, testAccount, id); len(got) != 1 || got[0] != gatewayActive[0] {
		t.Errorf("associations after bad requests: %+v", got)
	}
}

// TestControlFaults: a fault queued through the control API is served like
// one from InjectFault; a fault InjectFault would panic on is a 400.
func TestControlFaults(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	ctl := controlClient(t, emu)

	wantOK(t, ctl.do(http.MethodPost, "/faults",
		`{"route":"list","status":503,"code":2001,"message":"try later","retry_after":"7","times":2}`))
	for range 2 {
		r := api.do(http.MethodGet, certsPath(testAccount), nil)
		wantError(t, r, http.StatusServiceUnavailable, 2001)
		if r.env.Errors[0].Message != "try later" || r.header.Get("Retry-After") != "7" {
			t.Errorf("fault answer %s, Retry-After %q", r.raw, r.header.Get("Retry-After"))
		}
	}
	wantOK(t, api.do(http.MethodGet, certsPath(testAccount), nil))

	wantOK(t, ctl.do(http.MethodPost, "/faults", `{"route":"get","body":"{\"success\":tru","content_type":"text/plain","status":502}`))
	r, err := api.http.Get(emu.URL() + certPath(testAccount, "x"))
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close() // unauthenticated: the fault waits for an authenticated request
	resp := rawRequest(t, api, http.MethodGet, certPath(testAccount, "x"))
	if resp.status != http.StatusBadGateway || resp.body != `{"success":tru` || resp.contentType != "text/plain" {
		t.Errorf("body fault: %+v", resp)
	}

	wantOK(t, ctl.do(http.MethodPost, "/faults", `{"route":"delete","method":"delete","delay":"200ms"}`))
	start := time.Now()
	wantError(t, api.do(http.MethodDelete, certPath(testAccount, "0123"), nil), http.StatusNotFound, CodeCertificateNotFound)
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("delay fault: answered after %v", waited)
	}

	for body, want := range map[string]string{
		``:                                "empty",
		`{}`:                              "route is required",
		`{"status":500}`:                  "route is required",
		`{"route":"lists","status":500}`:  `unknown route "lists"`,
		`{"route":"list","status":200}`:   "status 200 is not an HTTP error status",
		`{"route":"list","status":302}`:   "status 302",
		`{"route":"list","status":600}`:   "status 600",
		`{"route":"list","status":"500"}`: "status must be a JSON int",
		`{"route":"list","status":500,"times":-1}`:                 "times",
		`{"route":"list","delay":"-1s"}`:                           "delay",
		`{"route":"list","delay":"soon"}`:                          "delay",
		`{"route":"list","body":"{}","status":101}`:                "status 101 cannot carry a body",
		`{"route":"list","body":"{}","drop_connection":true}`:      "body",
		`{"route":"list","content_type":"text/html","status":500}`: "content_type",
		`{"route":"upload","commit_then_body":true,"status":500}`:  "commit_then_body",
		`{"route":"list","method":"POST","status":500}`:            "method POST",
		`{"route":"list","status":500,"code":7}`:                   "code 7",
		`{"route":"list"}`:                                         "does nothing",
		`{"route":"list","status":500,"retries":2}`:                `unknown field "retries"`,
	} {
		r := ctl.do(http.MethodPost, "/faults", body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.env.Errors[0].Message, want) {
			t.Errorf("POST /faults %q: HTTP %d %s, want 400 containing %q", body, r.status, r.raw, want)
		}
	}
	// None of the refused faults was queued.
	wantOK(t, api.do(http.MethodGet, certsPath(testAccount), nil))
	wantOK(t, api.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}))
}

type rawAnswer struct {
	status      int
	contentType string
	header      http.Header
	body        string
}

func rawRequest(t *testing.T, c *apiClient, method, path string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, c.baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), header: resp.Header, body: string(body)}
}

// TestControlRequestsAndReset: the counts endpoint reports every route, is
// not itself counted, and reset empties state, faults and counts.
func TestControlRequestsAndReset(t *testing.T) {
	emu := startEmulator(t, testOptions())
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	id := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	api.do(http.MethodGet, certsPath(testAccount), nil)
	api.do(http.MethodGet, certsPath(testAccount), nil)
	api.do(http.MethodGet, certPath(testAccount, id), nil)

	readCounts := func() (map[string]int, json.RawMessage) {
		t.Helper()
		r := ctl.do(http.MethodGet, "/requests", nil)
		wantOK(t, r)
		var result struct {
			Counts    map[string]int  `json:"counts"`
			RateLimit json.RawMessage `json:"rate_limit"`
		}
		if err := json.Unmarshal(r.env.Result, &result); err != nil {
			t.Fatalf("requests: %v: %s", err, r.raw)
		}
		return result.Counts, result.RateLimit
	}
	counts, rateLimit := readCounts()
	want := map[string]int{RouteList: 2, RouteUpload: 1, RouteGet: 1, RouteDelete: 0, RouteAssociations: 0,
		RouteHostnameAssociationsGet: 0, RouteHostnameAssociationsPut: 0}
	if len(counts) != len(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	for route, n := range want {
		if got, ok := counts[route]; !ok || got != n {
			t.Errorf("counts[%s] = %d (present %v), want %d", route, got, ok, n)
		}
	}
	if rateLimit != nil {
		t.Errorf("rate_limit %s without a rate limit", rateLimit)
	}
	if again, _ := readCounts(); again[RouteList] != 2 {
		t.Errorf("reading the counts changed them: %v", again)
	}

	emu.SetAssociations(testAccount, id, gatewayActive)
	wantOK(t, ctl.do(http.MethodPost, "/faults", `{"route":"list","status":500}`))
	wantOK(t, ctl.do(http.MethodPost, "/reset", nil))
	if n := emu.CertificateCount(testAccount); n != 0 {
		t.Errorf("%d certificates after reset", n)
	}
	wantOK(t, api.do(http.MethodGet, certsPath(testAccount), nil)) // the fault went too
	counts, _ = readCounts()
	for route, n := range counts {
		if want := map[bool]int{true: 1}[route == RouteList]; n != want {
			t.Errorf("after reset and one list: counts[%s] = %d, want %d", route, n, want)
		}
	}
}

func TestControlRequestsRateLimit(t *testing.T) {
	opts := testOptions()
	opts.RateLimit = &RateLimit{Quota: 2, Window: time.Hour}
	emu := startEmulator(t, opts)
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		// rawRequest: the 429's code 971 is below what the envelope check accepts.
		if got := rawRequest(t, api, http.MethodGet, certsPath(testAccount)).status; got != want {
			t.Fatalf("list %d: HTTP %d, want %d", i+1, got, want)
		}
	}
	// Control requests do not use the quota: all of these succeed.
	for range 3 {
		r := ctl.do(http.MethodGet, "/requests", nil)
		wantOK(t, r)
		var result struct {
			RateLimit *rateLimitResult `json:"rate_limit"`
		}
		if err := json.Unmarshal(r.env.Result, &result); err != nil || result.RateLimit == nil {
			t.Fatalf("no rate_limit: %s (%v)", r.raw, err)
		}
		if want := (rateLimitResult{Quota: 2, Window: "1h0m0s", Refused: 1, LowestRemaining: 0}); *result.RateLimit != want {
			t.Errorf("rate_limit %+v, want %+v", *result.RateLimit, want)
		}
	}
}

// TestControlRouting: unknown control paths are 404 and wrong methods 405,
// in the envelope; Cloudflare's paths keep their answers.
func TestControlRouting(t *testing.T) {
	emu := startEmulator(t, testOptions())
	ctl := controlClient(t, emu)
	api := newClient(t, emu)
	for _, path := range []string{"", "/", "/fault", "/faults/1", "/reset/", "/accounts/" + testAccount + "/mtls_certificates/x",
		"/accounts/" + testAccount + "/mtls_certificates/x/associations/y", "/accounts//mtls_certificates/x/associations"} {
		wantError(t, ctl.do(http.MethodGet, path, nil), http.StatusNotFound, CodeNoRouteForURI)
	}
	for _, req := range []struct{ method, path, allow string }{
		{http.MethodGet, "/faults", "POST"},
		{http.MethodPost, "/requests", "GET"},
		{http.MethodGet, "/reset", "POST"},
		{http.MethodDelete, "/certificates", "GET"},
		{http.MethodPut, "/coverage", "GET"},
		{http.MethodPut, "/settings", "GET, PATCH"},
		{http.MethodGet, controlAssocPath(testAccount, "x"), "DELETE, PUT"},
		{http.MethodPost, controlAssocPath(testAccount, "x"), "DELETE, PUT"},
	} {
		r := ctl.do(req.method, req.path, nil)
		wantError(t, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
		if got := r.header.Get("Allow"); got != req.allow {
			t.Errorf("%s %s: Allow %q, want %q", req.method, req.path, got, req.allow)
		}
	}
	wantError(t, ctl.do(http.MethodGet, "/certificates", nil), http.StatusBadRequest, CodeInvalidQuery)

	// The API's own unknown paths, the control prefix under it included,
	// are still its 404 with code 7000, and counted nowhere.
	for _, path := range []string{"/zones", "/__emulator/requests", "/accounts/" + testAccount + "/mtls_certificates/x/owners"} {
		wantError(t, api.do(http.MethodGet, path, nil), http.StatusNotFound, CodeNoRouteForURI)
	}
	// A path that merely starts like the prefix is not the control API.
	outside := newClient(t, emu)
	outside.baseURL = strings.TrimSuffix(emu.URL(), PathPrefix)
	wantError(t, outside.do(http.MethodGet, "/__emulatorx/requests", nil), http.StatusNotFound, CodeNoRouteForURI)
	outside.auth = noAuth
	wantError(t, outside.do(http.MethodGet, "/__emulatorx/requests", nil), http.StatusBadRequest, CodeInvalidHeaders)
}

// TestControlSettings: the options a PATCH changes take effect at once;
// refused changes and Reset leave the options' values.
func TestControlSettings(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts := testOptions()
	opts.Now = clock.Now
	emu := startEmulator(t, opts)
	api := newClient(t, emu)
	ctl := controlClient(t, emu)
	readSettings := func(r apiResponse) string {
		t.Helper()
		wantOK(t, r)
		return string(r.env.Result)
	}
	defaults := `{"ca_limit":0,"ca_limit_status":400,"hostname_service":"api_shield","hostname_lag":"0s"}`
	if got := readSettings(ctl.do(http.MethodGet, "/settings", nil)); got != defaults {
		t.Errorf("settings %s, want %s", got, defaults)
	}

	for _, body := range []string{`{"ca_limit":-1}`, `{"ca_limit_status":500}`, `{"hostname_lag":"soon"}`,
		`{"hostname_lag":"-1s"}`, `{"hostname_service":" x"}`, `{"ca_limit":"1"}`, `{"quota":1}`, `[]`} {
		wantError(t, ctl.do(http.MethodPatch, "/settings", body), http.StatusBadRequest, CodeInvalidRequestBody)
	}
	changed := `{"ca_limit":1,"ca_limit_status":409,"hostname_service":"mtls","hostname_lag":"1m0s"}`
	if got := readSettings(ctl.do(http.MethodPatch, "/settings", changed)); got != changed {
		t.Errorf("settings after PATCH %s, want %s", got, changed)
	}
	if got := readSettings(ctl.do(http.MethodPatch, "/settings", `{"ca_limit_status":0}`)); !strings.Contains(got, `"ca_limit":1,"ca_limit_status":400,`) {
		t.Errorf("a PATCH of one field: settings %s", got)
	}
	wantOK(t, ctl.do(http.MethodPatch, "/settings", `{"ca_limit_status":409}`))

	ca := api.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	wantError(t, api.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("second CA").PEM}),
		http.StatusConflict, CodeCALimit)
	api.putHostnames(t, testZone, ca, "a.example.com")
	api.putHostnames(t, testZone, ca)
	clock.Advance(59 * time.Second)
	if got := apiAssociations(t, api, testAccount, ca); len(got) != 1 || got[0] != (Association{Service: "mtls", Status: "active"}) {
		t.Errorf("associations %v 59s into a 1m lag, want the hostnames' as mtls", got)
	}

	wantOK(t, ctl.do(http.MethodPost, "/reset", nil))
	if got := readSettings(ctl.do(http.MethodGet, "/settings", nil)); got != defaults {
		t.Errorf("settings after reset %s, want %s", got, defaults)
	}
}
