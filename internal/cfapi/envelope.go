package cfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
	"github.com/cloudflare/cloudflare-go/v7/option"
)

// answer is the raw response to one call. The SDK ignores the envelope's
// `success`, turns values of the wrong type into zero values and decodes
// only the first JSON value of a body, so every call keeps its response
// here and checks it before trusting what the SDK made of it.
type answer struct {
	// request is the method and URL of the call's last attempt, for
	// errors that must say what was asked of which server.
	request     string
	status      int
	contentType string
	body        []byte
}

// keep returns a request option that records the response of the call's
// last attempt into a.
func (a *answer) keep() option.RequestOption {
	return option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		*a = answer{request: req.Method + " " + redactedURL(req.URL)}
		res, err := next(req)
		if err != nil || res == nil || res.Body == nil {
			return res, err
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			// A body cut short is a transport failure, not an answer.
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		a.status, a.contentType, a.body = res.StatusCode, res.Header.Get("Content-Type"), body
		return res, nil
	})
}

// failed turns an error of the SDK into an *APIError. An error status whose
// body is not a JSON object, and a success status whose body the SDK could
// not decode, are unreadable answers rather than the API's own refusal: a
// proxy's 404 page must not read as "certificate not found".
func (a *answer) failed(operation, subject string, err error) error {
	out := wrapError(operation, err)
	out.Request = a.request
	if a.status == 0 || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return out
	}
	var sdkErr *mtls_certificates.Error
	isRefusal := errors.As(err, &sdkErr)
	env, reason := a.envelope()
	if isRefusal && reason == "" {
		// The SDK turns entries of the wrong type into "code 0" entries;
		// only entries that read as the API's own are kept. A refusal is
		// well formed or it says nothing sure: for an upload, only a
		// readable refusal means that nothing was stored.
		var success bool
		_ = json.Unmarshal(env["success"], &success)
		out.Errors = readableErrors(env["errors"])
		switch {
		case success:
			reason = fmt.Sprintf(`"success" is true although the status is %d`, a.status)
		case len(out.Errors) == 0:
			reason = `the error envelope's "errors" holds no readable error`
		default:
			return out
		}
	}
	if reason == "" {
		reason = err.Error()
	}
	return a.unreadable(operation, subject, reason, err)
}

// readableErrors returns the entries of an envelope's errors list that have
// a numeric code and a string message.
func readableErrors(raw json.RawMessage) []ErrorDetail {
	var list []json.RawMessage
	_ = json.Unmarshal(raw, &list)
	var out []ErrorDetail
	for _, item := range list {
		var d struct {
			Code    *int64  `json:"code"`
			Message *string `json:"message"`
		}
		if json.Unmarshal(item, &d) == nil && d.Code != nil && d.Message != nil {
			out = append(out, ErrorDetail{Code: *d.Code, Message: *d.Message})
		}
	}
	return out
}

func (a *answer) unreadable(operation, subject, reason string, cause error) *APIError {
	what := "the API's answer"
	if subject != "" {
		what += " for " + subject
	}
	wrapped := ErrUnreadableAnswer
	if cause != nil {
		wrapped = fmt.Errorf("%w: %w", ErrUnreadableAnswer, cause)
	}
	return &APIError{
		Operation:  operation,
		Request:    a.request,
		StatusCode: a.status,
		Message:    fmt.Sprintf("%s could not be understood: %s", what, reason),
		cause:      wrapped,
	}
}

// envelope decodes the body as a JSON object, or says why it is not one.
func (a *answer) envelope() (map[string]json.RawMessage, string) {
	mediaType, _, _ := mime.ParseMediaType(a.contentType)
	if !strings.Contains(mediaType, "application/json") && !strings.HasSuffix(mediaType, "+json") {
		const next = "; check that the base URL is Cloudflare's API, or try again if a proxy or an outage answered"
		switch {
		case a.contentType == "":
			return nil, "the response has no Content-Type, so it is not JSON" + next
		case mediaType == "":
			if len(a.contentType) > 64 {
				return nil, "the response has an unreadable Content-Type, not JSON" + next
			}
			return nil, fmt.Sprintf("the response's Content-Type %q is not JSON", a.contentType) + next
		}
		return nil, fmt.Sprintf("the response is %s, not JSON", mediaType) + next
	}
	if len(bytes.TrimSpace(a.body)) == 0 {
		return nil, "the body is empty"
	}
	if !utf8.Valid(a.body) {
		return nil, "the body is not UTF-8 text"
	}
	if !json.Valid(a.body) {
		var v any
		err := json.Unmarshal(a.body, &v)
		return nil, fmt.Sprintf("the body is not valid JSON (%v)", err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &env); err != nil || env == nil {
		return nil, fmt.Sprintf("the body is %s, not an API envelope", jsonKind(a.body))
	}
	return env, ""
}

// succeeded checks the envelope of a call the SDK took for a success. An
// envelope with `success: false` under a success status contradicts it:
// whether the operation happened is unknown, so it is an unreadable answer
// (for an upload, the certificate may have been stored), not a refusal.
func (a *answer) succeeded(operation, subject string) (map[string]json.RawMessage, error) {
	env, reason := a.envelope()
	if reason != "" {
		return nil, a.unreadable(operation, subject, reason, nil)
	}
	var success bool
	raw, ok := env["success"]
	switch {
	case !ok:
		return nil, a.unreadable(operation, subject, `"success" is missing`, nil)
	case isNull(raw) || json.Unmarshal(raw, &success) != nil:
		return nil, a.unreadable(operation, subject, fmt.Sprintf(`"success" is %s, not true or false`, jsonKind(raw)), nil)
	case !success:
		reason := fmt.Sprintf(`"success" is false although the status is %d`, a.status)
		if details := readableErrors(env["errors"]); len(details) > 0 {
			reason += fmt.Sprintf(" (%s)", (&APIError{Errors: details}).Details())
		}
		return nil, a.unreadable(operation, subject, reason, nil)
	}
	return env, nil
}

// result checks the envelope of a call the SDK took for a success and
// returns its result, which must not be null.
func (a *answer) result(operation, subject string) (json.RawMessage, error) {
	env, err := a.succeeded(operation, subject)
	if err != nil {
		return nil, err
	}
	res, ok := env["result"]
	if !ok || isNull(res) {
		return nil, a.unreadable(operation, subject, fmt.Sprintf(`"result" is %s although "success" is true`, jsonKind(res)), nil)
	}
	return res, nil
}

// done is the outcome of a call whose result is not used: sdkErr as an
// *APIError, or the envelope's own verdict.
func (a *answer) done(operation, subject string, sdkErr error) error {
	if sdkErr != nil {
		return a.failed(operation, subject, sdkErr)
	}
	_, err := a.succeeded(operation, subject)
	return err
}

// certificate is the outcome of a call whose result is one certificate.
func (a *answer) certificate(operation, subject string, sdkErr error) error {
	if sdkErr != nil {
		return a.failed(operation, subject, sdkErr)
	}
	res, err := a.result(operation, subject)
	if err != nil {
		return err
	}
	if reason := certificateProblem("result", res); reason != "" {
		return a.unreadable(operation, subject, reason, nil)
	}
	return nil
}

// list is the outcome of a call whose result is a list of noun, each item
// checked by item.
func (a *answer) list(operation, subject, noun string, item func(path string, raw json.RawMessage) string, sdkErr error) error {
	if sdkErr != nil {
		return a.failed(operation, subject, sdkErr)
	}
	env, err := a.succeeded(operation, subject)
	if err != nil {
		return err
	}
	res, ok := env["result"]
	if !ok || isNull(res) {
		// Whether the API answers an empty list with [] or null is not
		// documented; both mean no items.
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(res, &items) != nil {
		return a.unreadable(operation, subject, fmt.Sprintf(`"result" is %s, not a list of %s`, jsonKind(res), noun), nil)
	}
	for i, raw := range items {
		if reason := item(fmt.Sprintf("result[%d]", i), raw); reason != "" {
			return a.unreadable(operation, subject, reason, nil)
		}
	}
	return nil
}

// storedCertificate is the certificate that a well-formed 2XX answer holds.
func (a *answer) storedCertificate() (*Certificate, bool) {
	if a.status < 200 || a.status > 299 || a.certificate("upload", "", nil) != nil {
		return nil, false
	}
	res, _ := a.result("upload", "")
	var c mtls_certificates.MTLSCertificate
	if json.Unmarshal(res, &c) != nil || c.ID == "" {
		return nil, false
	}
	return fromSDK(&c), true
}

// uploadOutcomeUnknown adds to an unreadable answer to an upload that the
// upload may have happened: only the answer was lost.
func uploadOutcomeUnknown(err error) error {
	var apiErr *APIError
	if IsUnreadableAnswer(err) && errors.As(err, &apiErr) {
		apiErr.Message += "; Cloudflare may have stored the certificate even so"
	}
	return err
}

// certificateProblem says what is wrong with a certificate object: fields
// the provider relies on must be there, and every known field must have its
// type, so that a value of the wrong type never reaches state as a zero
// value.
func certificateProblem(path string, raw json.RawMessage) string {
	fields, reason := object(path, raw, "a certificate")
	if reason != "" {
		return reason
	}
	if reason := requireField(path, fields, "id"); reason != "" {
		return reason
	}
	if reason := requireField(path, fields, "ca"); reason != "" {
		return reason
	}
	var id string
	if json.Unmarshal(fields["id"], &id) != nil || id == "" {
		return fmt.Sprintf(`"%s.id" is %s, not a certificate id`, path, describeValue(fields["id"]))
	}
	var ca bool
	if json.Unmarshal(fields["ca"], &ca) != nil || isNull(fields["ca"]) {
		return fmt.Sprintf(`"%s.ca" is %s, not true or false`, path, jsonKind(fields["ca"]))
	}
	for _, name := range []string{"name", "certificates", "issuer", "serial_number", "signature", "type"} {
		if reason := optionalString(path, fields, name); reason != "" {
			return reason
		}
	}
	for _, name := range []string{"expires_on", "uploaded_on"} {
		if reason := optionalString(path, fields, name); reason != "" {
			return reason
		}
		var s string
		_ = json.Unmarshal(fields[name], &s)
		if s == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return fmt.Sprintf(`"%s.%s" is not an RFC 3339 time`, path, name)
		}
	}
	return ""
}

// associationProblem says what is wrong with an association object.
func associationProblem(path string, raw json.RawMessage) string {
	fields, reason := object(path, raw, "an association")
	if reason != "" {
		return reason
	}
	if reason := requireField(path, fields, "service"); reason != "" {
		return reason
	}
	var service string
	if json.Unmarshal(fields["service"], &service) != nil || service == "" {
		return fmt.Sprintf(`"%s.service" is %s, not a service name`, path, describeValue(fields["service"]))
	}
	return optionalString(path, fields, "status")
}

func object(path string, raw json.RawMessage, noun string) (map[string]json.RawMessage, string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return nil, fmt.Sprintf(`"%s" is %s, not %s`, path, jsonKind(raw), noun)
	}
	return fields, ""
}

func requireField(path string, fields map[string]json.RawMessage, name string) string {
	if _, ok := fields[name]; !ok {
		return fmt.Sprintf(`"%s.%s" is missing`, path, name)
	}
	return ""
}

// optionalString accepts a missing field, null, or a string.
func optionalString(path string, fields map[string]json.RawMessage, name string) string {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return fmt.Sprintf(`"%s.%s" is %s, not a string`, path, name, jsonKind(raw))
	}
	return ""
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// jsonKind names the type of a JSON value for a message; it never quotes
// the value, which could be anything a server sent.
func jsonKind(raw []byte) string {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return "missing"
	}
	switch trimmed[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '[':
		return "a list"
	case '{':
		return "an object"
	default:
		return "a number"
	}
}

// describeValue is jsonKind, except that an empty string is called one.
func describeValue(raw json.RawMessage) string {
	if string(bytes.TrimSpace(raw)) == `""` {
		return "an empty string"
	}
	return jsonKind(raw)
}
