package cfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
	"github.com/cloudflare/cloudflare-go/v7/shared"
)

// Every answer is decoded once, by the SDK, into its own envelope and
// result types (a call passes its envelope with option.WithResponseBodyInto;
// an error status comes back as the SDK's *Error). What the SDK does not do
// is judge what it decoded: it ignores the envelope's `success`, turns a
// value of the wrong type into a zero value, and reads only the first JSON
// value of a body. So the client judges every answer from the SDK's field
// metadata (each field's raw JSON, and whether it was missing or invalid)
// and from the body the retrier kept, never from a second decode.

// answer is the last answer to one call, as the retrier received it: the
// body is kept whole, so that an answer the SDK dropped (it drops one that
// arrives as the call's context ends) can still be judged, and so that what
// the SDK's decoder forgives (a second JSON value, bytes that are not
// UTF-8) is not forgiven.
type answer struct {
	// request is the method and URL of the call's last attempt, for
	// errors that must say what was asked of which server.
	request     string
	status      int
	contentType string
	body        []byte
}

// field is the SDK's metadata of one decoded JSON field.
type field interface {
	Raw() string
	IsMissing() bool
	IsInvalid() bool
}

// envelopeFields are the envelope's fields a call's outcome depends on.
type envelopeFields struct {
	success, errors, result field
}

// failed turns an error of the SDK into an *APIError. An error status whose
// body is not a JSON object, and a success status whose body the SDK could
// not decode, are unreadable answers rather than the API's own refusal: a
// proxy's 404 page must not read as "certificate not found".
func (a *answer) failed(operation, subject string, err error) error {
	out := &APIError{Operation: operation, Request: a.request, StatusCode: a.status, Message: err.Error(), cause: err}
	if a.status == 0 || isContextEnd(err) {
		return out
	}
	var sdkErr *mtls_certificates.Error
	isRefusal := errors.As(err, &sdkErr)
	reason := a.bodyProblem()
	if isRefusal && reason == "" {
		// The SDK turns entries of the wrong type into "code 0" entries;
		// only entries that read as the API's own are kept. A refusal is
		// well formed or it says nothing sure: for an upload, only a
		// readable refusal means that nothing was stored.
		out.Message = ""
		for _, d := range sdkErr.Errors {
			if detail, ok := readableError(d); ok {
				out.Errors = append(out.Errors, detail)
			}
		}
		switch {
		case rawIs(sdkErr.JSON.ExtraFields["success"], "true"):
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

// readableError is an entry of an envelope's errors list with a whole
// number as its code and a string as its message.
func readableError(d shared.ErrorData) (ErrorDetail, bool) {
	if jsonKind([]byte(d.JSON.Message.Raw())) != "a string" {
		return ErrorDetail{}, false
	}
	code, err := strconv.ParseInt(strings.TrimSpace(d.JSON.Code.Raw()), 10, 64)
	return ErrorDetail{Code: code, Message: d.Message}, err == nil
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

// bodyProblem says why the body is not one JSON object, or returns "".
func (a *answer) bodyProblem() string {
	mediaType, _, _ := mime.ParseMediaType(a.contentType)
	if !strings.Contains(mediaType, "application/json") && !strings.HasSuffix(mediaType, "+json") {
		const next = "; check that the base URL is Cloudflare's API, or try again if a proxy or an outage answered"
		switch {
		case a.contentType == "":
			return "the response has no Content-Type, so it is not JSON" + next
		case mediaType == "":
			if len(a.contentType) > 64 {
				return "the response has an unreadable Content-Type, not JSON" + next
			}
			return fmt.Sprintf("the response's Content-Type %q is not JSON", a.contentType) + next
		}
		return fmt.Sprintf("the response is %s, not JSON", mediaType) + next
	}
	switch {
	case len(bytes.TrimSpace(a.body)) == 0:
		return "the body is empty"
	case !utf8.Valid(a.body):
		return "the body is not UTF-8 text"
	case !json.Valid(a.body):
		// Only an invalid body is decoded again, for the decoder's words.
		var v any
		err := json.Unmarshal(a.body, &v)
		return fmt.Sprintf("the body is not valid JSON (%v)", err)
	case jsonKind(a.body) != "an object":
		return fmt.Sprintf("the body is %s, not an API envelope", jsonKind(a.body))
	case repeatsAKey(a.body):
		return "an object in the body names one key twice, which decoders read differently (the SDK's takes the first)"
	}
	return ""
}

// repeatsAKey reports whether an object in the valid JSON text body names
// a key twice: such an answer contradicts itself.
func repeatsAKey(body []byte) bool {
	type level struct {
		keys map[string]struct{} // nil in a list
		key  bool                // an object's key comes next
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{keys: map[string]struct{}{}, key: true})
				continue
			case '[':
				stack = append(stack, level{})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if top := len(stack) - 1; top >= 0 && stack[top].key {
				if _, seen := stack[top].keys[t]; seen {
					return true
				}
				stack[top].keys[t], stack[top].key = struct{}{}, false
				continue
			}
		}
		// A value ended; in an object, a key comes next.
		if top := len(stack) - 1; top >= 0 && stack[top].keys != nil {
			stack[top].key = true
		}
	}
}

// succeeded checks the envelope of a call the SDK took for a success. An
// envelope with `success: false` under a success status contradicts it:
// whether the operation happened is unknown, so it is an unreadable answer
// (for an upload, the certificate may have been stored), not a refusal.
func (a *answer) succeeded(operation, subject string, env envelopeFields) error {
	if reason := a.bodyProblem(); reason != "" {
		return a.unreadable(operation, subject, reason, nil)
	}
	switch {
	case env.success.IsMissing():
		return a.unreadable(operation, subject, `"success" is missing`, nil)
	case rawIs(env.success, "false"):
		reason := fmt.Sprintf(`"success" is false although the status is %d`, a.status)
		if details := a.bodyErrors(env.errors); len(details) > 0 {
			reason += fmt.Sprintf(" (%s)", (&APIError{Errors: details}).Details())
		}
		return a.unreadable(operation, subject, reason, nil)
	case !rawIs(env.success, "true"):
		return a.unreadable(operation, subject, fmt.Sprintf(`"success" is %s, not true or false`, jsonKind([]byte(env.success.Raw()))), nil)
	}
	return nil
}

// bodyErrors reads the errors list of a 2XX envelope that failed, for the
// message only: such an answer is unreadable whatever it says.
func (a *answer) bodyErrors(errs field) []ErrorDetail {
	var list []json.RawMessage
	_ = json.Unmarshal([]byte(errs.Raw()), &list)
	var out []ErrorDetail
	for _, item := range list {
		var d shared.ErrorData
		if json.Unmarshal(item, &d) != nil {
			continue
		}
		if detail, ok := readableError(d); ok {
			out = append(out, detail)
		}
	}
	return out
}

// result checks the envelope of a call the SDK took for a success, and
// that its result is there and not null.
func (a *answer) result(operation, subject string, env envelopeFields) error {
	if err := a.succeeded(operation, subject, env); err != nil {
		return err
	}
	if raw := env.result.Raw(); env.result.IsMissing() || isNull([]byte(raw)) {
		return a.unreadable(operation, subject, fmt.Sprintf(`"result" is %s although "success" is true`, jsonKind([]byte(raw))), nil)
	}
	return nil
}

// done is the outcome of a call whose result is not used: sdkErr as an
// *APIError, or the envelope's own verdict.
func (a *answer) done(operation, subject string, env envelopeFields, sdkErr error) error {
	if sdkErr != nil {
		return a.failed(operation, subject, sdkErr)
	}
	return a.succeeded(operation, subject, env)
}

// certificate is the outcome of a call whose result is one certificate:
// the certificate, or why there is none.
func (a *answer) certificate(operation, subject string, env envelopeFields, check func(path string) (*Certificate, string), sdkErr error) (*Certificate, error) {
	if sdkErr != nil {
		return nil, a.failed(operation, subject, sdkErr)
	}
	if err := a.result(operation, subject, env); err != nil {
		return nil, err
	}
	out, reason := check("result")
	if reason != "" {
		return nil, a.unreadable(operation, subject, reason, nil)
	}
	return out, nil
}

// hostnames is the outcome of a call whose result is an object holding a
// list of hostnames: the list the SDK decoded, once its raw JSON shows
// that every item is a non-empty string (the SDK's decoder turns a number
// into a string). A null list is none, like an empty result list.
func (a *answer) hostnames(operation, subject string, env envelopeFields, list field, decoded []string, sdkErr error) ([]string, error) {
	if sdkErr != nil {
		return nil, a.failed(operation, subject, sdkErr)
	}
	if err := a.result(operation, subject, env); err != nil {
		return nil, err
	}
	if kind := jsonKind([]byte(env.result.Raw())); kind != "an object" {
		return nil, a.unreadable(operation, subject, fmt.Sprintf(`"result" is %s, not an object with hostnames`, kind), nil)
	}
	raw := []byte(list.Raw())
	switch {
	case list.IsMissing():
		return nil, a.unreadable(operation, subject, `"result.hostnames" is missing`, nil)
	case isNull(raw):
		return []string{}, nil
	case jsonKind(raw) != "a list":
		return nil, a.unreadable(operation, subject, fmt.Sprintf(`"result.hostnames" is %s, not a list of hostnames`, jsonKind(raw)), nil)
	}
	// Only the items' kinds are read here; their values are the SDK's.
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || len(items) != len(decoded) {
		return nil, a.unreadable(operation, subject, `"result.hostnames" could not be read as a list`, err)
	}
	for i, item := range items {
		if jsonKind(item) != "a string" || decoded[i] == "" {
			return nil, a.unreadable(operation, subject, fmt.Sprintf(`"result.hostnames[%d]" is %s, not a hostname`, i, describeValue(item)), nil)
		}
	}
	return decoded, nil
}

// list is the outcome of a call whose result is a list of noun: nil when
// it is one, or why it is not. Each item is checked by its caller.
func (a *answer) list(operation, subject, noun string, env envelopeFields, sdkErr error) error {
	if sdkErr != nil {
		return a.failed(operation, subject, sdkErr)
	}
	if err := a.succeeded(operation, subject, env); err != nil {
		return err
	}
	raw := []byte(env.result.Raw())
	switch {
	case env.result.IsMissing() || isNull(raw):
		// Whether the API answers an empty list with [] or null is not
		// documented; both mean no items.
		return nil
	case jsonKind(raw) != "a list":
		return a.unreadable(operation, subject, fmt.Sprintf(`"result" is %s, not a list of %s`, jsonKind(raw), noun), nil)
	}
	return nil
}

// notAn says that the item at path is not an object, or returns "".
func notAn(path, raw, noun string) string {
	if kind := jsonKind([]byte(raw)); kind != "an object" {
		return fmt.Sprintf(`"%s" is %s, not %s`, path, kind, noun)
	}
	return ""
}

// storedCertificate is the certificate that a well-formed 2XX answer to an
// upload holds, when the SDK dropped the answer because the call's context
// ended as it arrived. The SDK never decoded it, so it is decoded here.
func (a *answer) storedCertificate() (*Certificate, bool) {
	if a.status < 200 || a.status > 299 || a.bodyProblem() != "" {
		return nil, false
	}
	var env mtls_certificates.MTLSCertificateNewResponseEnvelope
	if json.Unmarshal(a.body, &env) != nil {
		return nil, false
	}
	cert, err := a.certificate("upload", "", envelopeFields{env.JSON.Success, env.JSON.Errors, env.JSON.Result},
		func(path string) (*Certificate, string) { return fromNewResponse(path, &env.Result) }, nil)
	return cert, err == nil
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

// certificateFieldNames are a certificate's fields, in the order
// checkCertificate takes their metadata.
var certificateFieldNames = [...]string{"id", "ca", "name", "certificates", "issuer", "serial_number", "signature", "type", "expires_on", "uploaded_on"}

// fromSDK checks a certificate the SDK decoded and returns it, or says
// what is wrong with it.
func fromSDK(path string, c *mtls_certificates.MTLSCertificate) (*Certificate, string) {
	m := c.JSON
	return checkCertificate(path, m.RawJSON(), Certificate{
		ID: c.ID, Name: c.Name, CA: c.CA, Certificates: c.Certificates, Issuer: c.Issuer,
		SerialNumber: c.SerialNumber, Signature: c.Signature, Type: string(c.Type),
	}, m.ID, m.CA, m.Name, m.Certificates, m.Issuer, m.SerialNumber, m.Signature, m.Type, m.ExpiresOn, m.UploadedOn)
}

// fromNewResponse is fromSDK for the upload's result, a distinct SDK type
// of the same shape.
func fromNewResponse(path string, c *mtls_certificates.MTLSCertificateNewResponse) (*Certificate, string) {
	m := c.JSON
	return checkCertificate(path, m.RawJSON(), Certificate{
		ID: c.ID, Name: c.Name, CA: c.CA, Certificates: c.Certificates, Issuer: c.Issuer,
		SerialNumber: c.SerialNumber, Signature: c.Signature, Type: string(c.Type),
	}, m.ID, m.CA, m.Name, m.Certificates, m.Issuer, m.SerialNumber, m.Signature, m.Type, m.ExpiresOn, m.UploadedOn)
}

// checkCertificate returns cert with its times, or says what is wrong with
// it, from its raw JSON (an object) and the metadata of its fields (in
// certificateFieldNames' order):
// the fields the provider relies on must be there, and every known field
// must have its type, so that a value of the wrong type never reaches
// state as a zero value (the SDK's decoder turns a number into a string).
func checkCertificate[F field](path, raw string, cert Certificate, meta ...F) (*Certificate, string) {
	if reason := notAn(path, raw, "a certificate"); reason != "" {
		return nil, reason
	}
	id, ca := meta[0], meta[1]
	for i, f := range []F{id, ca} {
		if f.IsMissing() {
			return nil, fmt.Sprintf(`"%s.%s" is missing`, path, certificateFieldNames[i])
		}
	}
	if raw := []byte(id.Raw()); jsonKind(raw) != "a string" || cert.ID == "" {
		return nil, fmt.Sprintf(`"%s.id" is %s, not a certificate id`, path, describeValue(raw))
	}
	if kind := jsonKind([]byte(ca.Raw())); kind != "a boolean" {
		return nil, fmt.Sprintf(`"%s.ca" is %s, not true or false`, path, kind)
	}
	for i := 2; i < len(meta); i++ {
		if reason := optionalString(path, certificateFieldNames[i], meta[i]); reason != "" {
			return nil, reason
		}
	}
	var ok bool
	if cert.ExpiresOn, ok = rfc3339(meta[8]); !ok {
		return nil, fmt.Sprintf(`"%s.expires_on" is not an RFC 3339 time`, path)
	}
	if cert.UploadedOn, ok = rfc3339(meta[9]); !ok {
		return nil, fmt.Sprintf(`"%s.uploaded_on" is not an RFC 3339 time`, path)
	}
	return &cert, ""
}

// rfc3339 reads a time field: missing, null or "" is the zero time. The
// SDK's decoder also takes other layouts (a date alone, no zone), which the
// API does not send, so the field's raw text is read instead. A time needs
// no JSON escape: a string holding one is refused.
func rfc3339[F field](f F) (time.Time, bool) {
	raw := strings.TrimSpace(f.Raw())
	if f.IsMissing() || raw == "null" || raw == `""` {
		return time.Time{}, true
	}
	if len(raw) < 2 || raw[0] != '"' || strings.ContainsRune(raw, '\\') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, raw[1:len(raw)-1])
	return t, err == nil
}

// association returns the association, or says what is wrong with it.
func association(path string, a *mtls_certificates.CertificateAsssociation) (Association, string) {
	if reason := notAn(path, a.JSON.RawJSON(), "an association"); reason != "" {
		return Association{}, reason
	}
	if a.JSON.Service.IsMissing() {
		return Association{}, fmt.Sprintf(`"%s.service" is missing`, path)
	}
	if raw := []byte(a.JSON.Service.Raw()); jsonKind(raw) != "a string" || a.Service == "" {
		return Association{}, fmt.Sprintf(`"%s.service" is %s, not a service name`, path, describeValue(raw))
	}
	if reason := optionalString(path, "status", a.JSON.Status); reason != "" {
		return Association{}, reason
	}
	return Association{Service: a.Service, Status: a.Status}, ""
}

// optionalString accepts a missing field, null, or a string.
func optionalString[F field](path, name string, f F) string {
	raw := []byte(f.Raw())
	if f.IsMissing() || isNull(raw) {
		return ""
	}
	if kind := jsonKind(raw); kind != "a string" {
		return fmt.Sprintf(`"%s.%s" is %s, not a string`, path, name, kind)
	}
	return ""
}

// rawIs reports whether the field's raw JSON is exactly literal.
func rawIs(f field, literal string) bool {
	return f != nil && strings.TrimSpace(f.Raw()) == literal
}

func isNull(raw []byte) bool {
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
func describeValue(raw []byte) string {
	if string(bytes.TrimSpace(raw)) == `""` {
		return "an empty string"
	}
	return jsonKind(raw)
}

// isContextEnd reports whether err is the call's context ending: the
// caller gave up or ran out of time, and no answer counts.
func isContextEnd(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
