package emulator

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

const (
	testZone  = "00112233445566778899aabbccddeeff"
	otherZone = "ffeeddccbbaa99887766554433221100"
)

func hostnamesPath(zone string) string {
	return "/zones/" + zone + "/certificate_authorities/hostname_associations"
}

type hostnamesBody struct {
	Hostnames []string `json:"hostnames"`
	CertID    string   `json:"mtls_certificate_id,omitempty"`
}

// hostnamesOf decodes a successful hostname associations answer.
func hostnamesOf(t *testing.T, r apiResponse) []string {
	t.Helper()
	wantOK(t, r)
	var result struct {
		Hostnames []string `json:"hostnames"`
	}
	if err := json.Unmarshal(r.env.Result, &result); err != nil || result.Hostnames == nil {
		t.Fatalf("result is not {hostnames: [...]}: %v: %s", err, r.raw)
	}
	return result.Hostnames
}

func (c *apiClient) getHostnames(t *testing.T, zone, certID string) []string {
	t.Helper()
	path := hostnamesPath(zone)
	if certID != "" {
		path += "?mtls_certificate_id=" + certID
	}
	return hostnamesOf(t, c.do(http.MethodGet, path, nil))
}

func (c *apiClient) putHostnames(t *testing.T, zone, certID string, hostnames ...string) []string {
	t.Helper()
	return hostnamesOf(t, c.do(http.MethodPut, hostnamesPath(zone), hostnamesBody{Hostnames: append([]string{}, hostnames...), CertID: certID}))
}

func wantHostnames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, append([]string{}, want...)) {
		t.Errorf("%s: hostnames %q, want %q", what, got, want)
	}
}

func TestHostnameAssociations(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	// Zones belong to no account: a CA of another account is found too.
	foreign := c.upload(otherAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("other CA").PEM}).ID

	wantHostnames(t, "before any PUT", c.getHostnames(t, testZone, ca))
	got := c.putHostnames(t, testZone, ca, "b.example.com", "a.example.com", "b.example.com", "*.example.com")
	wantHostnames(t, "PUT answer, sorted without repeats", got, "*.example.com", "a.example.com", "b.example.com")
	wantHostnames(t, "GET", c.getHostnames(t, testZone, ca), "*.example.com", "a.example.com", "b.example.com")
	wantHostnames(t, "another zone", c.getHostnames(t, otherZone, ca))
	wantHostnames(t, "the managed CA", c.getHostnames(t, testZone, ""))

	wantHostnames(t, "replace", c.putHostnames(t, testZone, ca, "c.example.com"), "c.example.com")
	c.putHostnames(t, testZone, foreign, "c.example.com")
	wantHostnames(t, "another CA on the same hostname", c.getHostnames(t, testZone, ca), "c.example.com")
	wantHostnames(t, "remove all", c.putHostnames(t, testZone, ca), []string{}...)
	wantHostnames(t, "GET after removal", c.getHostnames(t, testZone, ca))
	wantHostnames(t, "the other CA keeps its own", c.getHostnames(t, testZone, foreign), "c.example.com")

	// Without mtls_certificate_id, the managed CA's hostnames.
	c.putHostnames(t, testZone, "", "managed.example.com")
	wantHostnames(t, "the managed CA after PUT", c.getHostnames(t, testZone, ""), "managed.example.com")

	if got := emu.RequestCount(RouteHostnameAssociationsPut); got != 5 {
		t.Errorf("%d PUT requests counted, want 5", got)
	}
	if got := emu.RequestCount(RouteHostnameAssociationsGet); got != 8 {
		t.Errorf("%d GET requests counted, want 8", got)
	}
}

func TestHostnameAssociationsRefusals(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	testCA := testcerts.NewCA("emulator test CA")
	ca := c.upload(testAccount, uploadBody{CA: true, Certificates: testCA.PEM}).ID
	leaf := c.upload(testAccount, uploadBody{Certificates: testCA.Issue("leaf").PEM}).ID
	c.putHostnames(t, testZone, ca, "kept.example.com")
	const missing = "6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e"

	for _, bad := range []string{"", "example", "https://a.example.com", "a.example.com/path", "a.example.com:443",
		"a example.com", " a.example.com", "A.example.com", "a..example.com", "a.example.com.", "-a.example.com",
		"a_b.example.com", "*", "a.*.example.com"} {
		r := c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{"ok.example.com", bad}, CertID: ca})
		wantError(t, r, http.StatusBadRequest, CodeInvalidHostname)
	}
	for name, tc := range map[string]struct {
		method, path string
		body         any
		status, code int
	}{
		"PUT unknown certificate":   {http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{}, CertID: missing}, http.StatusNotFound, CodeCertificateNotFound},
		"GET unknown certificate":   {http.MethodGet, hostnamesPath(testZone) + "?mtls_certificate_id=" + missing, nil, http.StatusNotFound, CodeCertificateNotFound},
		"PUT a leaf":                {http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{"a.example.com"}, CertID: leaf}, http.StatusBadRequest, CodeNotCA},
		"GET a leaf":                {http.MethodGet, hostnamesPath(testZone) + "?mtls_certificate_id=" + leaf, nil, http.StatusBadRequest, CodeNotCA},
		"no hostnames":              {http.MethodPut, hostnamesPath(testZone), `{"mtls_certificate_id":"` + ca + `"}`, http.StatusBadRequest, CodeMissingField},
		"null hostnames":            {http.MethodPut, hostnamesPath(testZone), `{"hostnames":null,"mtls_certificate_id":"` + ca + `"}`, http.StatusBadRequest, CodeMissingField},
		"hostnames not a list":      {http.MethodPut, hostnamesPath(testZone), `{"hostnames":"a.example.com"}`, http.StatusBadRequest, CodeInvalidRequestBody},
		"hostname not a string":     {http.MethodPut, hostnamesPath(testZone), `{"hostnames":[1]}`, http.StatusBadRequest, CodeInvalidRequestBody},
		"body not JSON":             {http.MethodPut, hostnamesPath(testZone), `{`, http.StatusBadRequest, CodeInvalidRequestBody},
		"empty body":                {http.MethodPut, hostnamesPath(testZone), nil, http.StatusBadRequest, CodeInvalidRequestBody},
		"two objects":               {http.MethodPut, hostnamesPath(testZone), `{"hostnames":[]}{}`, http.StatusBadRequest, CodeInvalidRequestBody},
		"zone id too short":         {http.MethodGet, hostnamesPath("0123"), nil, http.StatusBadRequest, CodeNoRoute},
		"zone id in capitals":       {http.MethodPut, hostnamesPath("00112233445566778899AABBCCDDEEFF"), hostnamesBody{Hostnames: []string{}, CertID: ca}, http.StatusBadRequest, CodeNoRoute},
		"POST":                      {http.MethodPost, hostnamesPath(testZone), nil, http.StatusMethodNotAllowed, CodeMethodNotAllowed},
		"path under the route":      {http.MethodGet, hostnamesPath(testZone) + "/x", nil, http.StatusNotFound, CodeNoRouteForURI},
		"zone without the resource": {http.MethodGet, "/zones/" + testZone, nil, http.StatusNotFound, CodeNoRouteForURI},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body)
			wantError(t, r, tc.status, tc.code)
			if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET, PUT" {
				t.Errorf("Allow %q, want \"GET, PUT\"", r.header.Get("Allow"))
			}
		})
	}
	emu.InjectFault(Fault{Route: RouteHostnameAssociationsPut, Status: http.StatusServiceUnavailable})
	wantError(t, c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{}, CertID: ca}),
		http.StatusServiceUnavailable, CodeInjectedFault)
	wantHostnames(t, "after the refusals", c.getHostnames(t, testZone, ca), "kept.example.com")

	c.auth = noAuth
	wantError(t, c.do(http.MethodGet, hostnamesPath("bad"), nil), http.StatusBadRequest, CodeInvalidHeaders)
}

// TestHostnamesMakeTheCAInUse: hostnames in any zone refuse the CA's delete
// as other associations do, and the associations endpoint names them.
func TestHostnamesMakeTheCAInUse(t *testing.T) {
	for _, tc := range []struct{ service, wantService string }{{"", DefaultHostnameService}, {"mtls_hostnames", "mtls_hostnames"}} {
		t.Run(tc.wantService, func(t *testing.T) {
			opts := testOptions()
			opts.HostnameService = tc.service
			emu := startEmulator(t, opts)
			c := newClient(t, emu)
			ca := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
			hostnamesEntry := Association{Service: tc.wantService, Status: "active"}

			c.putHostnames(t, testZone, ca, "a.example.com")
			c.putHostnames(t, otherZone, ca, "b.example.com")
			if got := apiAssociations(t, c, testAccount, ca); !slices.Equal(got, []Association{hostnamesEntry}) {
				t.Errorf("associations %v, want one for the hostnames", got)
			}
			r := c.do(http.MethodDelete, certPath(testAccount, ca), nil)
			wantError(t, r, DefaultInUseStatus, DefaultInUseCode)
			if r.env.Errors[0].Message != MessageInUse {
				t.Errorf("in-use message %q", r.env.Errors[0].Message)
			}

			// Associations set by a test come first; clearing them leaves the hostnames'.
			emu.SetAssociations(testAccount, ca, gatewayActive)
			if got := apiAssociations(t, c, testAccount, ca); !slices.Equal(got, append(slices.Clone(gatewayActive), hostnamesEntry)) {
				t.Errorf("associations %v, want gateway then the hostnames", got)
			}
			emu.ClearAssociations()

			c.putHostnames(t, testZone, ca)
			wantError(t, c.do(http.MethodDelete, certPath(testAccount, ca), nil), DefaultInUseStatus, DefaultInUseCode)
			c.putHostnames(t, otherZone, ca)
			if got := apiAssociations(t, c, testAccount, ca); len(got) != 0 {
				t.Errorf("associations %v after every hostname was removed, want none", got)
			}
			wantOK(t, c.do(http.MethodDelete, certPath(testAccount, ca), nil))
		})
	}
}

// testClock is a settable Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestHostnameLag: after the last hostnames go, the CA stays in use for
// Options.HostnameLag, counted from the latest removal.
func TestHostnameLag(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts := testOptions()
	opts.Now, opts.HostnameLag = clock.Now, 30*time.Second
	emu := startEmulator(t, opts)
	c := newClient(t, emu)
	ca := c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA("emulator test CA").PEM}).ID
	inUse := func(when string, want bool) {
		t.Helper()
		got := len(apiAssociations(t, c, testAccount, ca)) > 0
		r := c.do(http.MethodDelete, certPath(testAccount, ca), nil)
		if refused := r.status == DefaultInUseStatus; got != want || refused != want {
			t.Fatalf("%s: associations listed %v, delete refused %v (HTTP %d); want both %v", when, got, refused, r.status, want)
		}
	}

	c.putHostnames(t, testZone, ca, "a.example.com")
	c.putHostnames(t, testZone, ca)
	wantHostnames(t, "GET during the lag", c.getHostnames(t, testZone, ca))
	clock.Advance(10 * time.Second)
	inUse("10s after the removal", true)

	// Hostnames back and gone again: the lag starts over.
	c.putHostnames(t, testZone, ca, "a.example.com")
	clock.Advance(10 * time.Second)
	c.putHostnames(t, testZone, ca)
	clock.Advance(29 * time.Second)
	inUse("29s after the second removal", true)
	clock.Advance(time.Second)
	inUse("30s after the second removal", false)
}

// TestCoverage: the audit keeps, per zone and hostname, the fewest CAs that
// covered it at once since it was first covered.
func TestCoverage(t *testing.T) {
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	newCA := func(name string) string {
		return c.upload(testAccount, uploadBody{CA: true, Certificates: testcerts.NewCA(name).PEM}).ID
	}
	oldCA, newCAID, deletedCA := newCA("old CA"), newCA("new CA"), newCA("deleted CA")
	key := func(zone, hostname string) string { return zone + "/" + hostname }

	// Rotation in the safe order: the new CA first, then the old one goes.
	c.putHostnames(t, testZone, oldCA, "safe.example.com", "unsafe.example.com", "dropped.example.com")
	c.putHostnames(t, testZone, newCAID, "safe.example.com")
	c.putHostnames(t, testZone, oldCA, "unsafe.example.com", "dropped.example.com")
	// In the unsafe order: the old CA goes, then the new one comes.
	c.putHostnames(t, testZone, oldCA, "dropped.example.com")
	c.putHostnames(t, testZone, newCAID, "safe.example.com", "unsafe.example.com")
	// A hostname whose CA is deleted; one in another zone, covered by two.
	c.putHostnames(t, otherZone, deletedCA, "deleted.example.com")
	c.putHostnames(t, otherZone, deletedCA)
	wantOK(t, c.do(http.MethodDelete, certPath(testAccount, deletedCA), nil))
	c.putHostnames(t, otherZone, oldCA, "safe.example.com")
	c.putHostnames(t, otherZone, "", "safe.example.com") // the managed CA counts too
	c.putHostnames(t, testZone, oldCA)

	want := map[string]int{
		key(testZone, "safe.example.com"):     1,
		key(testZone, "unsafe.example.com"):   0,
		key(testZone, "dropped.example.com"):  0,
		key(otherZone, "deleted.example.com"): 0,
		key(otherZone, "safe.example.com"):    1,
	}
	if got := emu.Coverage(); !maps.Equal(got, want) {
		t.Errorf("Coverage() = %v, want %v", got, want)
	}
	ctl := controlClient(t, emu)
	r := ctl.do(http.MethodGet, "/coverage", nil)
	wantOK(t, r)
	var got map[string]int
	if err := json.Unmarshal(r.env.Result, &got); err != nil || !maps.Equal(got, want) {
		t.Errorf("GET /coverage = %s (%v), want %v", r.env.Result, err, want)
	}

	// Once a hostname has two CAs, losing one leaves the audit at 1.
	c.putHostnames(t, otherZone, oldCA)
	if got := emu.Coverage()[key(otherZone, "safe.example.com")]; got != 1 {
		t.Errorf("coverage of a hostname that kept the managed CA: %d, want 1", got)
	}
	emu.Reset()
	if got := emu.Coverage(); len(got) != 0 {
		t.Errorf("Coverage() after Reset = %v, want empty", got)
	}
}
