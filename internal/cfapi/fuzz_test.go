package cfapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// cannedServer answers every request with the same status, Content-Type
// and body, whatever was asked.
type cannedServer struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        []byte
}

func (s *cannedServer) set(status int, contentType string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.contentType, s.body = status, contentType, body
}

func (s *cannedServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	status, contentType, body := s.status, s.contentType, s.body
	s.mu.Unlock()
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	} else {
		// Without this, net/http would sniff one from the body.
		w.Header()["Content-Type"] = nil
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func startCanned(t testing.TB) (*cannedServer, *cfapi.Client) {
	t.Helper()
	canned := &cannedServer{status: http.StatusOK}
	srv := httptest.NewServer(canned)
	t.Cleanup(srv.Close)
	// No retries, so that each call sees the canned answer once, and no
	// client-side rate limit, which would hold the fuzzer to 4 calls a second.
	c, err := cfapi.New(cfapi.Config{APIToken: "t", BaseURL: srv.URL, MaxRetries: 0, RequestsPerSecond: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	return canned, c
}

// fuzzStatuses and fuzzContentTypes are what a fuzzed byte picks from:
// the statuses the API and the proxies in front of it send.
var (
	fuzzStatuses     = []int{200, 400, 404, 500, 201, 204, 401, 403, 409, 429, 502, 503}
	fuzzContentTypes = []string{"application/json", "application/json; charset=utf-8", "text/html; charset=utf-8", "", "text/plain", "application/problem+json"}
)

const fuzzCertID = "6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e"

// FuzzAPIResponse answers every call of the client with one fuzzed
// response. Whatever comes back, the client must not panic, and must either
// fail with an *APIError or return values the body really holds: a success
// never hides a refusal, a null result or a value of the wrong type.
func FuzzAPIResponse(f *testing.F) {
	f.Add(byte(0), byte(0), []byte(`{"success":true,"errors":[],"messages":[],"result":{"id":"`+fuzzCertID+`","ca":true,"certificates":"x","expires_on":"2122-10-29T16:59:47Z","uploaded_on":"2022-11-22T17:32:30.467938Z"}}`))
	f.Add(byte(0), byte(0), []byte(`{"success":true,"errors":[],"messages":[],"result":null}`))
	f.Add(byte(1), byte(2), []byte(`<html><body>400 Bad Request</body></html>`))
	canned, c := startCanned(f)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, statusPick, typePick byte, body []byte) {
		status := fuzzStatuses[int(statusPick)%len(fuzzStatuses)]
		contentType := fuzzContentTypes[int(typePick)%len(fuzzContentTypes)]
		canned.set(status, contentType, body)
		failure := status >= 400

		got, err := c.Get(ctx, account, fuzzCertID)
		checkCertificateOutcome(t, "get", failure, status, body, got, err)

		up, err := c.Upload(ctx, cfapi.UploadRequest{AccountID: account, CA: true, Certificates: "x"})
		checkCertificateOutcome(t, "upload", failure, status, body, up, err)

		list, err := c.ListAll(ctx, account, cfapi.ListOptions{})
		checkError(t, "list", failure, status, body, err)
		if err == nil {
			seen := map[string]bool{}
			for _, cert := range list {
				if cert.ID == "" || seen[cert.ID] {
					t.Fatalf("list returned an empty or repeated id %q from %s", cert.ID, body)
				}
				seen[cert.ID] = true
			}
		}

		assoc, err := c.AssociationsAll(ctx, account, fuzzCertID)
		checkError(t, "associations", failure, status, body, err)
		for _, a := range assoc {
			if a.Service == "" {
				t.Fatalf("associations returned one without a service from %s", body)
			}
		}

		for op, call := range map[string]func() ([]string, error){
			"hostnames":         func() ([]string, error) { return c.HostnameAssociations(ctx, zone, fuzzCertID) },
			"replace hostnames": func() ([]string, error) { return c.ReplaceHostnameAssociations(ctx, zone, fuzzCertID, nil) },
		} {
			hostnames, err := call()
			checkError(t, op, failure, status, body, err)
			if err == nil {
				checkHostnamesOutcome(t, op, body, hostnames)
			}
		}

		err = c.Delete(ctx, account, fuzzCertID)
		checkError(t, "delete", failure, status, body, err)
		if err == nil && !envelopeSucceeded(body) {
			t.Fatalf("delete succeeded on a body without success:true: %s", body)
		}
	})
}

// checkError holds for every call: an error status is an error, every
// error is an *APIError with text, and only an envelope can say "not found".
func checkError(t *testing.T, op string, failure bool, status int, body []byte, err error) {
	t.Helper()
	if failure && err == nil {
		t.Fatalf("%s: HTTP %d gave no error", op, status)
	}
	if err == nil {
		return
	}
	var apiErr *cfapi.APIError
	if !errors.As(err, &apiErr) || err.Error() == "" {
		t.Fatalf("%s: error %T %q is not an *APIError with text", op, err, err)
	}
	if cfapi.IsCertificateNotFound(err) && !isJSONObject(body) {
		t.Fatalf("%s: %q reads as not found from a body that is no envelope: %s", op, err, body)
	}
}

// checkCertificateOutcome adds, for calls that return a certificate, that a
// success carries the id and ca the body holds.
func checkCertificateOutcome(t *testing.T, op string, failure bool, status int, body []byte, got *cfapi.Certificate, err error) {
	t.Helper()
	checkError(t, op, failure, status, body, err)
	if err != nil {
		if got != nil {
			t.Fatalf("%s: both a certificate and an error", op)
		}
		return
	}
	if got == nil || got.ID == "" {
		t.Fatalf("%s: success without a certificate id from %s", op, body)
	}
	if !envelopeSucceeded(body) {
		t.Fatalf("%s: success on a body without success:true: %s", op, body)
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(exactly(body)["result"], &result); err != nil {
		t.Fatalf("%s: success without a result object (%v): %s", op, err, body)
	}
	var id string
	var ca bool
	if json.Unmarshal(result["id"], &id) != nil || json.Unmarshal(result["ca"], &ca) != nil || id != got.ID || ca != got.CA {
		t.Fatalf("%s: got id %q ca %t from %s", op, got.ID, got.CA, body)
	}
	for name, gotTime := range map[string]time.Time{"expires_on": got.ExpiresOn, "uploaded_on": got.UploadedOn} {
		var raw string
		_ = json.Unmarshal(result[name], &raw)
		want, _ := time.Parse(time.RFC3339, raw)
		if !want.Equal(gotTime) {
			t.Fatalf("%s: %s %q became %v", op, name, raw, gotTime)
		}
	}
}

// checkHostnamesOutcome: a success carries exactly the strings the body's
// result.hostnames holds.
func checkHostnamesOutcome(t *testing.T, op string, body []byte, got []string) {
	t.Helper()
	if !envelopeSucceeded(body) {
		t.Fatalf("%s: success on a body without success:true: %s", op, body)
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(exactly(body)["result"], &result); err != nil {
		t.Fatalf("%s: success without a result object (%v): %s", op, err, body)
	}
	var want []string
	if err := json.Unmarshal(result["hostnames"], &want); err != nil || len(want) != len(got) {
		t.Fatalf("%s: got %q from %s", op, got, body)
	}
	for i := range want {
		if want[i] != got[i] || got[i] == "" {
			t.Fatalf("%s: got %q from %s", op, got, body)
		}
	}
}

// exactly decodes a JSON object with its keys as sent: encoding/json into
// a struct would also take "Success" or "RESULT" for the API's fields.
func exactly(body []byte) map[string]json.RawMessage {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	return fields
}

func envelopeSucceeded(body []byte) bool {
	var success bool
	return json.Unmarshal(exactly(body)["success"], &success) == nil && success
}

func isJSONObject(body []byte) bool {
	return exactly(body) != nil
}

// TestMalformedAnswers pins the wording and the classification of the
// answers a broken API or proxy sends.
func TestMalformedAnswers(t *testing.T) {
	canned, c := startCanned(t)
	ctx := context.Background()
	const valid = `"id":"` + fuzzCertID + `","ca":true,"certificates":"x"`
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string // in the Get error
		unreadable, notFound    bool
	}{
		{"truncated", "application/json", `{"success":true,"result":{` + valid, 200,
			"read failed with HTTP 200 OK: the API's answer for certificate " + fuzzCertID + " could not be understood: the body is not valid JSON (unexpected end of JSON input)", true, false},
		{"null result", "application/json", `{"success":true,"errors":[],"messages":[],"result":null}`, 200,
			`could not be understood: "result" is null although "success" is true`, true, false},
		{"missing result", "application/json", `{"success":true,"errors":[],"messages":[]}`, 200,
			`"result" is missing although "success" is true`, true, false},
		{"string result", "application/json", `{"success":true,"result":"` + fuzzCertID + `"}`, 200,
			`"result" is a string, not a certificate`, true, false},
		{"list result", "application/json", `{"success":true,"result":[{` + valid + `}]}`, 200,
			`"result" is a list, not a certificate`, true, false},
		{"ca as a string", "application/json", `{"success":true,"result":{"id":"` + fuzzCertID + `","ca":"true"}}`, 200,
			`"result.ca" is a string, not true or false`, true, false},
		{"ca missing", "application/json", `{"success":true,"result":{"id":"` + fuzzCertID + `"}}`, 200,
			`"result.ca" is missing`, true, false},
		{"id as a number", "application/json", `{"success":true,"result":{"id":7,"ca":true}}`, 200,
			`"result.id" is a number, not a certificate id`, true, false},
		{"bad time", "application/json", `{"success":true,"result":{` + valid + `,"expires_on":"soon"}}`, 200,
			`"result.expires_on" is not an RFC 3339 time`, true, false},
		{"success missing", "application/json", `{"result":{` + valid + `}}`, 200,
			`"success" is missing`, true, false},
		{"success as a string", "application/json", `{"success":"true","result":{` + valid + `}}`, 200,
			`"success" is a string, not true or false`, true, false},
		{"trailing data", "application/json", `{"success":true,"result":{` + valid + `}} {}`, 200,
			"the body is not valid JSON", true, false},
		{"html with 200", "text/html", `<html>maintenance</html>`, 200,
			"the response is text/html, not JSON; check that the base URL is Cloudflare's API", true, false},
		{"html 502", "text/html", `<html><title>502 Bad Gateway</title></html>`, 502,
			"read failed with HTTP 502 Bad Gateway: the API's answer for certificate " + fuzzCertID + " could not be understood: the response is text/html, not JSON", true, false},
		{"html 404", "text/html", `<html>Not Found</html>`, 404,
			"HTTP 404 Not Found: the API's answer for certificate " + fuzzCertID + " could not be understood", true, false},
		{"json array 404", "application/json", `[]`, 404,
			"the body is a list, not an API envelope", true, false},
		// A success status and a failed envelope contradict each other:
		// not a refusal, and certainly not "not found".
		{"refusal with 200", "application/json", `{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"result":null}`, 200,
			`read failed with HTTP 200 OK: the API's answer for certificate ` + fuzzCertID + ` could not be understood: "success" is false although the status is 200 (code 1472: Certificate not found)`, true, false},
		{"refusal without errors", "application/json", `{"success":false,"errors":[],"result":null}`, 200,
			`"success" is false although the status is 200`, true, false},
		{"success with 400", "application/json", `{"success":true,"errors":[{"code":1000,"message":"x"}],"result":null}`, 400,
			`"success" is true although the status is 400`, true, false},
		{"not utf-8", "application/json", "{\"success\":true,\"result\":{" + valid + ",\"name\":\"\xff\"}}", 200,
			"the body is not UTF-8 text", true, false},
		{"errors of the wrong type", "application/json", `{"success":false,"errors":[{"code":"1000","message":5},null,7],"result":null}`, 400,
			`read failed with HTTP 400 Bad Request: the API's answer for certificate ` + fuzzCertID + ` could not be understood: the error envelope's "errors" holds no readable error`, true, false},
		{"no route", "application/json", `{"success":false,"errors":[{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}`, 404,
			"read failed with HTTP 404 Not Found: code 7000: No route for that URI", false, false},
		{"could not route", "application/json", `{"success":false,"errors":[{"code":7003,"message":"Could not route to /accounts/x, perhaps your object identifier is invalid?"}],"messages":[],"result":null}`, 404,
			"code 7003: Could not route", false, false},
		{"real not found", "application/json", `{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"messages":[],"result":null}`, 404,
			"read failed with HTTP 404 Not Found: code 1472: Certificate not found", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			canned.set(tc.status, tc.contentType, []byte(tc.body))
			got, err := c.Get(ctx, account, fuzzCertID)
			if err == nil {
				t.Fatalf("Get = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to hold %q", err, tc.want)
			}
			if cfapi.IsUnreadableAnswer(err) != tc.unreadable || cfapi.IsCertificateNotFound(err) != tc.notFound {
				t.Errorf("unreadable %t, not found %t; want %t, %t", cfapi.IsUnreadableAnswer(err), cfapi.IsCertificateNotFound(err), tc.unreadable, tc.notFound)
			}
		})
	}
}

func TestMalformedUploadAnswerMayHaveStored(t *testing.T) {
	canned, c := startCanned(t)
	for _, tc := range []struct {
		status int
		body   string
		reason string
	}{
		{http.StatusOK, `{"success":true,"errors":[],"messages":[],"result":null}`, `"result" is null although "success" is true`},
		{http.StatusOK, `{"success":true,"errors":[],"messages":[],"result":{"ca":true}}`, `"result.id" is missing`},
		{http.StatusOK, `{"success":false,"errors":[{"code":1000,"message":"failed"}],"messages":[],"result":null}`,
			`"success" is false although the status is 200 (code 1000: failed)`},
		{http.StatusCreated, `{"success":false,"errors":[],"messages":[],"result":null}`, `"success" is false although the status is 201`},
		{http.StatusBadRequest, `{"success":true,"errors":[],"messages":[],"result":null}`, `"success" is true although the status is 400`},
		{http.StatusBadRequest, `{"success":false,"errors":[],"messages":[],"result":null}`, `the error envelope's "errors" holds no readable error`},
	} {
		canned.set(tc.status, "application/json", []byte(tc.body))
		_, err := c.Upload(context.Background(), cfapi.UploadRequest{AccountID: account, CA: true, Certificates: "x"})
		want := fmt.Sprintf(`upload failed with HTTP %d %s: the API's answer could not be understood: %s`, tc.status, http.StatusText(tc.status), tc.reason)
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; Cloudflare may have stored the certificate even so") ||
			!cfapi.IsUnreadableAnswer(err) {
			t.Errorf("%d %s:\nerror %q\nwant %q, unreadable, and that the certificate may be stored", tc.status, tc.body, err, want)
		}
	}
	// A well-formed refusal is the only answer that says nothing was stored.
	canned.set(http.StatusBadRequest, "application/json", []byte(`{"success":false,"errors":[{"code":1402,"message":"bad certificate"}],"messages":[],"result":null}`))
	if _, err := c.Upload(context.Background(), cfapi.UploadRequest{AccountID: account, CA: true, Certificates: "x"}); err == nil ||
		cfapi.IsUnreadableAnswer(err) || !strings.Contains(err.Error(), "code 1402: bad certificate") {
		t.Errorf("a well-formed refusal: error %v, want a readable refusal", err)
	}
}

func TestMalformedListAnswers(t *testing.T) {
	canned, c := startCanned(t)
	ctx := context.Background()
	for body, want := range map[string]string{
		`{"success":true,"result":{"id":"a","ca":true}}`:                  "list failed with HTTP 200 OK: the API's answer could not be understood: \"result\" is an object, not a list of certificates",
		`{"success":true,"result":[{"id":"a","ca":true},"b"]}`:            `"result[1]" is a string, not a certificate`,
		`{"success":true,"result":[{"id":"","ca":true}]}`:                 `"result[0].id" is an empty string, not a certificate id`,
		`{"success":true,"result":[],"result_info":{"total_pages":1e99}}`: "its result_info does not fit",
	} {
		canned.set(http.StatusOK, "application/json", []byte(body))
		if _, err := c.ListAll(ctx, account, cfapi.ListOptions{}); err == nil || !strings.Contains(err.Error(), want) || !cfapi.IsUnreadableAnswer(err) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
	for body, want := range map[string]string{
		`{"success":true,"result":[{"service":5}]}`:                    `"result[0].service" is a number, not a service name`,
		`{"success":true,"result":[{"service":"gateway","status":1}]}`: `"result[0].status" is a number, not a string`,
	} {
		canned.set(http.StatusOK, "application/json", []byte(body))
		if _, err := c.AssociationsAll(ctx, account, fuzzCertID); err == nil || !strings.Contains(err.Error(), want) || !cfapi.IsUnreadableAnswer(err) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
	// An empty list may come as [] or as null: the API does not say which.
	for _, body := range []string{`{"success":true,"result":[]}`, `{"success":true,"result":null}`} {
		canned.set(http.StatusOK, "application/json", []byte(body))
		if got, err := c.ListAll(ctx, account, cfapi.ListOptions{}); err != nil || len(got) != 0 {
			t.Errorf("%s: list = %v, %v; want empty", body, got, err)
		}
		if got, err := c.AssociationsAll(ctx, account, fuzzCertID); err != nil || len(got) != 0 {
			t.Errorf("%s: associations = %v, %v; want empty", body, got, err)
		}
	}
}
