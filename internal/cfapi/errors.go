package cfapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
)

// APIError is a failed call, with the API's own codes and messages when it
// sent any. Transport failures (no HTTP response) have StatusCode 0.
type APIError struct {
	Operation  string
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

// IsNotFound reports whether err is the API saying the object does not exist.
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

// IsClientError reports whether err is a 4XX answer from the API.
func IsClientError(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500
}

// IsAuthError reports whether err says the credentials were refused.
func IsAuthError(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden)
}

func wrapError(operation string, err error) error {
	if err == nil {
		return nil
	}
	out := &APIError{Operation: operation, cause: err}
	var sdkErr *mtls_certificates.Error
	if errors.As(err, &sdkErr) {
		if sdkErr.Response != nil {
			out.StatusCode = sdkErr.Response.StatusCode
		} else {
			out.StatusCode = sdkErr.StatusCode
		}
		for _, d := range sdkErr.Errors {
			out.Errors = append(out.Errors, ErrorDetail{Code: d.Code, Message: d.Message})
		}
		if len(out.Errors) == 0 {
			out.Message = "the API returned no error details"
		}
		return out
	}
	out.Message = err.Error()
	return out
}
