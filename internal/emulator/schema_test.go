package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// seedPath is Cloudflare's own OpenAPI text for the DELETE operation, kept
// beside the repository (../shared from its root).
const seedPath = "../../../shared/api/seed-delete-operation.txt"

// schemaChecker validates decoded JSON against the subset of OpenAPI 3.0
// schema keywords the seed uses. A keyword it does not know is reported as a
// violation, so a seed that gains a constraint cannot pass unchecked.
type schemaChecker struct {
	violations []string
}

// ignoredKeywords carry no constraint the emulator must meet.
var ignoredKeywords = map[string]string{
	"description": "annotation",
	"example":     "annotation",
	"readOnly":    "annotation",
	"title":       "annotation",
	"uniqueItems": "the seed puts it on item objects, where it has no meaning",
	// The seed types a certificate id with the shared "Identifier" schema
	// (32 characters), but certificate ids are UUIDs of 36; the API
	// reference's own text says so, and the emulator follows it.
	"maxLength": "contradicted for certificate ids, see above",
}

func (c *schemaChecker) failf(path, format string, args ...any) {
	c.violations = append(c.violations, path+": "+fmt.Sprintf(format, args...))
}

func (c *schemaChecker) check(schema map[string]any, v any, path string) {
	for _, kw := range sortedKeys(schema) {
		rule := schema[kw]
		switch kw {
		case "type":
			if v == nil && schema["nullable"] == true {
				continue
			}
			if !hasType(v, rule.(string)) {
				c.failf(path, "want %s, got %s", rule, describe(v))
			}
		case "nullable":
			// Consulted by "type".
		case "enum":
			if !slices.ContainsFunc(rule.([]any), func(e any) bool { return reflect.DeepEqual(e, v) }) {
				c.failf(path, "%s is not one of %v", describe(v), rule)
			}
		case "minimum":
			n, ok := v.(json.Number)
			if !ok {
				continue // "type" reports it
			}
			got, _ := n.Float64()
			limit, _ := rule.(json.Number).Float64()
			if got < limit {
				c.failf(path, "%s is below the minimum %s", n, rule)
			}
		case "minLength", "minItems":
			// The seed writes minLength on an array where minItems is meant.
			limit, _ := rule.(json.Number).Int64()
			switch x := v.(type) {
			case []any:
				if int64(len(x)) < limit {
					c.failf(path, "%d items, want at least %d", len(x), limit)
				}
			case string:
				if int64(len(x)) < limit {
					c.failf(path, "%d characters, want at least %d", len(x), limit)
				}
			}
		case "format":
			s, ok := v.(string)
			if !ok || rule != "date-time" {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				c.failf(path, "%q is not an RFC 3339 date-time", s)
			}
		case "required":
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for _, name := range rule.([]any) {
				if _, present := obj[name.(string)]; !present {
					c.failf(path, "required property %q is missing", name)
				}
			}
		case "properties":
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			props := rule.(map[string]any)
			for _, name := range sortedKeys(props) {
				if pv, present := obj[name]; present {
					c.check(props[name].(map[string]any), pv, path+"."+name)
				}
			}
		case "items":
			arr, ok := v.([]any)
			if !ok {
				continue
			}
			for i, item := range arr {
				c.check(rule.(map[string]any), item, fmt.Sprintf("%s[%d]", path, i))
			}
		case "allOf":
			for _, sub := range rule.([]any) {
				c.check(sub.(map[string]any), v, path)
			}
		case "anyOf":
			var reasons []string
			matched := false
			for _, sub := range rule.([]any) {
				inner := &schemaChecker{}
				inner.check(sub.(map[string]any), v, path)
				if len(inner.violations) == 0 {
					matched = true
					break
				}
				reasons = append(reasons, inner.violations...)
			}
			if !matched {
				c.failf(path, "matches no anyOf branch (%s)", strings.Join(reasons, "; "))
			}
		default:
			if _, ok := ignoredKeywords[kw]; !ok {
				c.failf(path, "schema keyword %q is not supported by this checker", kw)
			}
		}
	}
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	case "null":
		return v == nil
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case json.Number:
		return "number " + x.String()
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validate(schema map[string]any, v any) []string {
	c := &schemaChecker{}
	c.check(schema, v, "$")
	return c.violations
}

func decodeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, raw)
	}
	return v
}

// seedSchemas holds the schemas the conformance tests use, all cut from the
// seed's responses object.
type seedSchemas struct {
	// success is the whole 200 schema of DELETE.
	success map[string]any
	// envelope is the part of success every successful response shares,
	// lists included.
	envelope map[string]any
	// certificate is the schema of the certificate object in `result`.
	certificate map[string]any
	// failure4XX is the whole 4XX schema; failure is the member of it that
	// describes a failure (see TestSeed4XXSchemaIsContradictory).
	failure4XX map[string]any
	failure    map[string]any
}

func loadSeedSchemas(t *testing.T) seedSchemas {
	t.Helper()
	data, err := os.ReadFile(seedPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("seed %s is absent", seedPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	responses := findResponsesObject(t, data)
	schemaOf := func(status string) map[string]any {
		return dig(t, responses, status, "content", "application/json", "schema").(map[string]any)
	}
	var s seedSchemas
	s.success = schemaOf("200")
	s.envelope = dig(t, s.success, "allOf", 0, "allOf", 0).(map[string]any)
	s.certificate = dig(t, s.success, "allOf", 1, "properties", "result").(map[string]any)
	s.failure4XX = schemaOf("4XX")
	for _, member := range dig(t, s.failure4XX, "allOf").([]any) {
		success, _ := digOK(member, "properties", "success", "enum")
		if reflect.DeepEqual(success, []any{false}) {
			s.failure = member.(map[string]any)
		}
	}
	if s.failure == nil {
		t.Fatal("the seed's 4XX schema has no member with success: enum [false]")
	}
	return s
}

// findResponsesObject walks the seed, which is prose followed by several
// JSON documents, and returns the one that defines the "200" and "4XX"
// responses.
func findResponsesObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	for i := 0; i < len(data); i++ {
		if data[i] != '{' && data[i] != '[' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(data[i:]))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			continue // a brace in prose, such as {account_identifier}
		}
		if obj, ok := v.(map[string]any); ok && obj["200"] != nil && obj["4XX"] != nil {
			return obj
		}
		i += int(dec.InputOffset()) - 1
	}
	t.Fatal("no JSON document in the seed defines both the 200 and the 4XX response")
	return nil
}

func digOK(v any, path ...any) (any, bool) {
	for _, step := range path {
		switch key := step.(type) {
		case string:
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[key]; !ok {
				return nil, false
			}
		case int:
			arr, ok := v.([]any)
			if !ok || key >= len(arr) {
				return nil, false
			}
			v = arr[key]
		}
	}
	return v, true
}

func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	got, ok := digOK(v, path...)
	if !ok {
		t.Fatalf("the seed has no %v", path)
	}
	return got
}

func wantValid(t *testing.T, what string, schema map[string]any, raw []byte) {
	t.Helper()
	if violations := validate(schema, decodeJSON(t, raw)); len(violations) > 0 {
		t.Errorf("%s does not conform to the seed:\n  %s\nbody: %s", what, strings.Join(violations, "\n  "), raw)
	}
}

func TestResponsesConformToSeedSchema(t *testing.T) {
	s := loadSeedSchemas(t)
	emu := startEmulator(t, testOptions())
	c := newClient(t, emu)
	ca := testcerts.NewCA("emulator test CA")
	leaf := ca.Issue("leaf")

	upload := c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM, Name: "example_ca_cert"})
	wantOK(t, upload)
	id := upload.certificate(t).ID
	leafID := c.upload(testAccount, uploadBody{Certificates: leaf.PEM, PrivateKey: leaf.KeyPEM}).ID
	emu.SetAssociations(testAccount, id, []Association{{Service: "gateway", Status: "pending_deployment"}})

	// Objects: the full 200 schema of DELETE, whose result is a certificate.
	get := c.do(http.MethodGet, certPath(testAccount, id), nil)
	wantValid(t, "upload 200", s.success, upload.raw)
	wantValid(t, "get 200", s.success, get.raw)

	// Lists: the shared envelope, and each item as a certificate.
	list := c.do(http.MethodGet, certsPath(testAccount), nil)
	wantValid(t, "list 200", s.envelope, list.raw)
	for i, item := range decodeJSON(t, list.raw).(map[string]any)["result"].([]any) {
		if v := validate(s.certificate, item); len(v) > 0 {
			t.Errorf("list item %d: %v", i, v)
		}
	}
	wantValid(t, "associations 200", s.envelope, c.do(http.MethodGet, certPath(testAccount, id)+"/associations", nil).raw)

	// Hostname associations: the shared envelope, and a result shaped as
	// the SDK's HostnameAssociationGetResponse and UpdateResponse, which the
	// seed does not cover.
	hostnamesSchema := map[string]any{"type": "object", "required": []any{"hostnames"}, "properties": map[string]any{
		"hostnames": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
	for name, r := range map[string]apiResponse{
		"hostnames PUT 200":        c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{"a.example.com"}, CertID: id}),
		"hostnames GET 200":        c.do(http.MethodGet, hostnamesPath(testZone)+"?mtls_certificate_id="+id, nil),
		"managed CA hostnames GET": c.do(http.MethodGet, hostnamesPath(testZone), nil),
	} {
		wantValid(t, name, s.envelope, r.raw)
		wantValid(t, name+" result", hostnamesSchema, r.env.Result)
	}

	// Failures: the failure member of the 4XX schema.
	failures := map[string]apiResponse{
		"delete in use":      c.do(http.MethodDelete, certPath(testAccount, id), nil),
		"delete 404":         c.do(http.MethodDelete, certPath(testAccount, "6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e"), nil),
		"get 404":            c.do(http.MethodGet, certPath(testAccount, "missing"), nil),
		"upload duplicate":   c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: ca.PEM}),
		"upload bad PEM":     c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: "x"}),
		"upload bad JSON":    c.do(http.MethodPost, certsPath(testAccount), "{"),
		"invalid account":    c.do(http.MethodGet, certsPath("acct"), nil),
		"no route":           c.do(http.MethodGet, "/zones", nil),
		"method not allowed": c.do(http.MethodPut, certsPath(testAccount), nil),
		"hostnames bad name": c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{"https://a.example.com"}, CertID: id}),
		"hostnames not a CA": c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{}, CertID: leafID}),
		"hostnames bad zone": c.do(http.MethodGet, hostnamesPath("zone"), nil),
	}
	emu.InjectFault(Fault{Route: RouteList, Status: http.StatusTooManyRequests, RetryAfter: "1"})
	failures["injected 429"] = c.do(http.MethodGet, certsPath(testAccount), nil)
	wantOK(t, controlClient(t, emu).do(http.MethodPatch, "/settings", `{"ca_limit":1}`))
	failures["CA quota"] = c.do(http.MethodPost, certsPath(testAccount), uploadBody{CA: true, Certificates: testcerts.NewCA("second CA").PEM})
	c.auth = noAuth
	failures["no credentials"] = c.do(http.MethodGet, certsPath(testAccount), nil)
	c.auth = bearer("wrong")
	failures["wrong credentials"] = c.do(http.MethodGet, certsPath(testAccount), nil)
	c.auth = bearer(testToken)
	for name, r := range failures {
		if r.status < 400 {
			t.Fatalf("%s: HTTP %d is not a failure", name, r.status)
		}
		wantValid(t, name, s.failure, r.raw)
	}

	emu.ClearAssociations()
	wantOK(t, c.do(http.MethodPut, hostnamesPath(testZone), hostnamesBody{Hostnames: []string{}, CertID: id}))
	del := c.do(http.MethodDelete, certPath(testAccount, id), nil)
	wantOK(t, del)
	wantValid(t, "delete 200", s.success, del.raw)

	// The schema marks no certificate property required; the emulator
	// sends all of them anyway, as clients read every one.
	result := decodeJSON(t, del.raw).(map[string]any)["result"].(map[string]any)
	props := dig(t, s.certificate, "allOf", 0, "properties").(map[string]any)
	for _, name := range sortedKeys(props) {
		if _, ok := result[name]; !ok {
			t.Errorf("delete result lacks %q, which the seed defines", name)
		}
	}
}

// TestSeed4XXSchemaIsContradictory pins a defect of the seed: its 4XX schema
// is allOf[the 200 envelope, the failure envelope], so it demands success to
// be both true and false and no response can satisfy it. If a new seed fixes
// this, this test fails and the conformance test should use the whole
// schema again.
func TestSeed4XXSchemaIsContradictory(t *testing.T) {
	s := loadSeedSchemas(t)
	failure := []byte(`{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"messages":[],"result":null}`)
	wantValid(t, "a failure", s.failure, failure)

	violations := validate(s.failure4XX, decodeJSON(t, failure))
	joined := strings.Join(violations, "\n")
	if !strings.Contains(joined, "$.success: boolean false is not one of [true]") {
		t.Errorf("the whole 4XX schema no longer contradicts itself; violations:\n%s", joined)
	}
}

func TestSchemaCheckerCatchesViolations(t *testing.T) {
	s := loadSeedSchemas(t)
	goodSuccess := `{"success":true,"errors":[],"messages":[],"result":{"id":"6f1b3b47-7b8e-4d6e-9f3a-2f8a3b9c0d1e","name":"","ca":true,` +
		`"certificates":"-----BEGIN CERTIFICATE-----","issuer":"CN=x","serial_number":"1","signature":"Ed25519",` +
		`"expires_on":"2122-10-29T16:59:47Z","uploaded_on":"2022-11-22T17:32:30.467938Z"}}`
	goodFailure := `{"success":false,"errors":[{"code":1472,"message":"Certificate not found"}],"messages":[],"result":null}`
	wantValid(t, "the good success sample", s.success, []byte(goodSuccess))
	wantValid(t, "the good failure sample", s.failure, []byte(goodFailure))

	for _, tc := range []struct {
		name, schema, body, violation string
	}{
		{"success is a string", "success", strings.Replace(goodSuccess, `"success":true`, `"success":"yes"`, 1), "$.success: want boolean"},
		{"success false in a 200", "success", strings.Replace(goodSuccess, `"success":true`, `"success":false`, 1), "not one of [true]"},
		{"messages missing", "success", strings.Replace(goodSuccess, `"messages":[],`, ``, 1), `required property "messages"`},
		{"result is a list", "success", strings.TrimSuffix(strings.Replace(goodSuccess, `"result":{`, `"result":[{`, 1), "}") + "]}", "matches no anyOf branch"},
		{"ca is a string", "success", strings.Replace(goodSuccess, `"ca":true`, `"ca":"true"`, 1), "$.result.ca: want boolean"},
		{"serial is a number", "success", strings.Replace(goodSuccess, `"serial_number":"1"`, `"serial_number":1`, 1), "$.result.serial_number: want string"},
		{"uploaded_on is not a date", "success", strings.Replace(goodSuccess, `"2022-11-22T17:32:30.467938Z"`, `"yesterday"`, 1), "not an RFC 3339"},
		{"error code below 1000", "failure", strings.Replace(goodFailure, `1472`, `999`, 1), "below the minimum 1000"},
		{"error code not an integer", "failure", strings.Replace(goodFailure, `1472`, `1472.5`, 1), "want integer"},
		{"error without message", "failure", strings.Replace(goodFailure, `,"message":"Certificate not found"`, ``, 1), `required property "message"`},
		{"no errors", "failure", strings.Replace(goodFailure, `[{"code":1472,"message":"Certificate not found"}]`, `[]`, 1), "0 items, want at least 1"},
		{"failure with a result", "failure", strings.Replace(goodFailure, `"result":null`, `"result":{}`, 1), "$.result: an object is not one of [<nil>]"},
		{"failure with success true", "failure", strings.Replace(goodFailure, `"success":false`, `"success":true`, 1), "not one of [false]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := map[string]map[string]any{"success": s.success, "failure": s.failure}[tc.schema]
			violations := validate(schema, decodeJSON(t, []byte(tc.body)))
			if !slices.ContainsFunc(violations, func(v string) bool { return strings.Contains(v, tc.violation) }) {
				t.Errorf("want a violation containing %q, got %q", tc.violation, violations)
			}
		})
	}

	t.Run("unknown keyword", func(t *testing.T) {
		schema := map[string]any{"type": "string", "pattern": "^x$"}
		if v := validate(schema, "y"); len(v) != 1 || !strings.Contains(v[0], `"pattern" is not supported`) {
			t.Errorf("an unsupported keyword passed silently: %q", v)
		}
	})
}
