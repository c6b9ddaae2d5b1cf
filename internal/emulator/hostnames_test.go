package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

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
