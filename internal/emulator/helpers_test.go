package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	testAccount  = "0123456789abcdef0123456789abcdef"
	otherAccount = "fedcba9876543210fedcba9876543210"
	testToken    = "emulator-test-token"
	testEmail    = "user@example.com"
	testKey      = "emulator-test-global-key"
)

func testOptions() Options {
	return Options{APIToken: testToken, APIEmail: testEmail, APIKey: testKey}
}

func startEmulator(t testing.TB, opts Options) *Running {
	t.Helper()
	r, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// apiClient is a deliberately naive client: it sends exactly what a test
// asks for and decodes the envelope loosely, so the emulator's answers are
// what gets checked.
type apiClient struct {
	t       testing.TB
	baseURL string
	http    *http.Client
	auth    func(*http.Request)
}

func newClient(t testing.TB, r *Running) *apiClient {
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &apiClient{
		t:       t,
		baseURL: r.URL(),
		http:    &http.Client{Transport: transport, Timeout: 10 * time.Second},
		auth:    bearer(testToken),
	}
}

func bearer(token string) func(*http.Request) {
	return func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
}

func globalKey(email, key string) func(*http.Request) {
	return func(req *http.Request) {
		req.Header.Set("X-Auth-Email", email)
		req.Header.Set("X-Auth-Key", key)
	}
}

func noAuth(*http.Request) {}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type apiResponse struct {
	status int
	header http.Header
	raw    []byte
	env    struct {
		Success    bool              `json:"success"`
		Errors     []apiError        `json:"errors"`
		Messages   []json.RawMessage `json:"messages"`
		Result     json.RawMessage   `json:"result"`
		ResultInfo *resultInfo       `json:"result_info"`
	}
}

// send returns the transport error instead of failing, for fault tests.
func (c *apiClient) send(method, path string, body any) (apiResponse, error) {
	c.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		payload, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, c.baseURL+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return apiResponse{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	out := apiResponse{status: resp.StatusCode, header: resp.Header}
	if out.raw, err = io.ReadAll(resp.Body); err != nil {
		return apiResponse{}, err
	}
	if err := json.Unmarshal(out.raw, &out.env); err != nil {
		c.t.Fatalf("%s %s: body is not an envelope: %v\n%s", method, path, err, out.raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	checkEnvelopeInvariants(c.t, method+" "+path, out)
	return out, nil
}

func (c *apiClient) do(method, path string, body any) apiResponse {
	c.t.Helper()
	resp, err := c.send(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// checkEnvelopeInvariants holds for every answer: a failure has no result
// and at least one error with a Cloudflare-range code.
func checkEnvelopeInvariants(t testing.TB, what string, r apiResponse) {
	t.Helper()
	if r.env.Errors == nil || r.env.Messages == nil {
		t.Errorf("%s: errors and messages must be lists: %s", what, r.raw)
	}
	if r.env.Success != (r.status == http.StatusOK) {
		t.Errorf("%s: success=%v with HTTP %d", what, r.env.Success, r.status)
	}
	if r.env.Success {
		return
	}
	if string(r.env.Result) != "null" {
		t.Errorf("%s: failure with result %s", what, r.env.Result)
	}
	if len(r.env.Errors) == 0 {
		t.Errorf("%s: failure without errors", what)
	}
	for _, e := range r.env.Errors {
		if e.Code < 1000 || e.Message == "" {
			t.Errorf("%s: bad error %+v", what, e)
		}
	}
}

// wantError checks status and the single error code.
func wantError(t testing.TB, r apiResponse, status, code int) {
	t.Helper()
	if r.status != status || len(r.env.Errors) != 1 || r.env.Errors[0].Code != code {
		t.Fatalf("want HTTP %d code %d, got HTTP %d: %s", status, code, r.status, r.raw)
	}
}

func wantOK(t testing.TB, r apiResponse) {
	t.Helper()
	if r.status != http.StatusOK || !r.env.Success {
		t.Fatalf("want success, got HTTP %d: %s", r.status, r.raw)
	}
}

// certJSON is the certificate object decoded with every field the API may
// send, plus a catch-all to spot fields it must not send.
type certJSON struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	CA           bool    `json:"ca"`
	Certificates string  `json:"certificates"`
	Issuer       string  `json:"issuer"`
	SerialNumber string  `json:"serial_number"`
	Signature    string  `json:"signature"`
	ExpiresOn    string  `json:"expires_on"`
	UploadedOn   string  `json:"uploaded_on"`
	Type         string  `json:"type"`
	UpdatedAt    *string `json:"updated_at"`
}

func (r apiResponse) certificate(t testing.TB) certJSON {
	t.Helper()
	var c certJSON
	if err := json.Unmarshal(r.env.Result, &c); err != nil {
		t.Fatalf("result is not a certificate: %v: %s", err, r.raw)
	}
	return c
}

func (r apiResponse) certificates(t testing.TB) []certJSON {
	t.Helper()
	var cs []certJSON
	if err := json.Unmarshal(r.env.Result, &cs); err != nil || cs == nil {
		t.Fatalf("result is not a list of certificates: %v: %s", err, r.raw)
	}
	return cs
}

func certsPath(account string) string {
	return "/accounts/" + account + "/mtls_certificates"
}

func certPath(account, id string) string {
	return certsPath(account) + "/" + id
}

type uploadBody struct {
	CA           bool   `json:"ca"`
	Certificates string `json:"certificates"`
	Name         string `json:"name,omitempty"`
	PrivateKey   string `json:"private_key,omitempty"`
}

func (c *apiClient) upload(account string, body uploadBody) certJSON {
	c.t.Helper()
	r := c.do(http.MethodPost, certsPath(account), body)
	wantOK(c.t, r)
	return r.certificate(c.t)
}
