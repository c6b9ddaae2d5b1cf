package cfapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Codes of the API's own errors that the client acts on.
const (
	// CodeAlreadyExists: an upload of certificates the account already
	// holds ("This certificate already exists").
	CodeAlreadyExists = 1471
	// CodeCertificateNotFound: a certificate id the account does not hold
	// ("Certificate not found"). It is the only answer that proves a
	// certificate gone: a 404 alone also comes from a wrong base URL, a
	// proxy, or Cloudflare's own "No route for that URI".
	CodeCertificateNotFound = 1472
	// CodeCAQuotaExceeded: an upload of a CA certificate refused because
	// the account holds as many as it may ("Hit maximum CA cert
	// allocation."). The HTTP status it comes with is not documented, so
	// the code alone decides, and no retry changes it (finalCodes).
	CodeCAQuotaExceeded = 1489
)

// APIError is a failed call, with the API's own codes and messages when it
// sent any. Transport failures (no HTTP response) have StatusCode 0.
type APIError struct {
	Operation string
	// Request is the method and URL of the call's last attempt, such as
	// "GET https://api.cloudflare.com/client/v4/accounts/…"; empty when
	// the call never reached the HTTP layer.
	Request    string
	StatusCode int
	Errors     []ErrorDetail
	// Message describes failures that carry no API error list, such as a
	// dropped connection or an unreadable response.
	Message string
	cause   error
}

// ErrorDetail is one entry of the API's "errors" list.
type ErrorDetail struct {
	Code    int64
	Message string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed", e.Operation)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " with HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if note := attemptsNote(e.cause); note != "" {
		b.WriteString(" " + note)
	}
	if d := e.Details(); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	return b.String()
}

// Details is the API's codes and messages, or the transport failure, as one line.
func (e *APIError) Details() string {
	if len(e.Errors) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Errors))
	for _, d := range e.Errors {
		parts = append(parts, fmt.Sprintf("code %d: %s", d.Code, d.Message))
	}
	return strings.Join(parts, "; ")
}

func (e *APIError) Unwrap() error { return e.cause }

// hasCode reports whether the API's own error list holds code. Entries of
// an answer that could not be understood do not count.
func (e *APIError) hasCode(code int64) bool {
	if errors.Is(e.cause, ErrUnreadableAnswer) {
		return false
	}
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// hasFinalCode reports whether the API's own error list holds a code that
// no retry changes.
func (e *APIError) hasFinalCode() bool {
	for _, code := range finalCodes {
		if e.hasCode(code) {
			return true
		}
	}
	return false
}

// statusOf returns err's HTTP status, or 0 when err is not an *APIError
// with an answer.
func statusOf(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsCertificateNotFound reports whether err is Cloudflare saying that the
// certificate does not exist: code 1472 in a 4XX answer. Any other 404 is
// not proof; Client.ConfirmGone decides those.
func IsCertificateNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && IsClientError(err) && apiErr.hasCode(CodeCertificateNotFound)
}

// IsStatusNotFound reports whether err is an HTTP 404 of any origin: the
// API, a proxy, or a server that is not the API at all.
func IsStatusNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsClientError reports whether err is a 4XX answer.
func IsClientError(err error) bool {
	status := statusOf(err)
	return status >= 400 && status < 500
}

// IsAuthError reports whether err says the credentials were refused or lack
// a permission (HTTP 401 or 403).
func IsAuthError(err error) bool {
	status := statusOf(err)
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// IsTransient reports whether err is an answer that the retry layer
// retries (HTTP 408, 429 and most 5XX, unless it carries a code in
// finalCodes): when it reaches a caller, the retries ran out, and it says
// nothing about the certificate.
func IsTransient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.hasFinalCode() {
		return false
	}
	return transientStatus(statusOf(err))
}

// IsAlreadyExists reports whether err is the API refusing an upload because
// the account already holds the same certificates.
func IsAlreadyExists(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.hasCode(CodeAlreadyExists)
}

// IsCAQuotaExceeded reports whether err is the API refusing an upload
// because the account holds its quota of CA certificates, whatever the HTTP
// status. Only a readable refusal counts: it is the one answer to an upload
// that says for sure that nothing was stored.
func IsCAQuotaExceeded(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.hasCode(CodeCAQuotaExceeded)
}

// ErrUnreadableAnswer is the cause of every error about a response that
// arrived but could not be understood: not JSON, not an envelope, or an
// envelope whose result has the wrong shape. Test for it with
// IsUnreadableAnswer.
var ErrUnreadableAnswer = errors.New("the API's answer could not be understood")

// IsUnreadableAnswer reports whether err is about a response that arrived
// but could not be understood. For an upload, the certificate may have been
// stored even so.
func IsUnreadableAnswer(err error) bool {
	return errors.Is(err, ErrUnreadableAnswer)
}
