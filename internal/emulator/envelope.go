package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes the emulator sends. Those marked "documented" are the ones
// Cloudflare's reference names; the rest are the emulator's own picks for
// cases whose real code is unknown, exported so tests can assert on them
// without clients ever having to.
const (
	// CodeInvalidRequestBody: the upload body is not a JSON object of the
	// expected shape.
	CodeInvalidRequestBody = 1400
	// CodeMissingField: a required upload field (ca, certificates) is absent.
	CodeMissingField = 1401
	// CodeInvalidQuery: a query parameter (type, page, per_page) is invalid.
	CodeInvalidQuery = 1402
	// CodeUnparsableCertificate: "Unable to parse certificate" is documented,
	// its code is not.
	CodeUnparsableCertificate = 1412
	// CodeUnparsablePrivateKey: private_key is not a PEM private key.
	CodeUnparsablePrivateKey = 1413
	// CodeKeyMismatch: private_key does not belong to the first certificate.
	CodeKeyMismatch = 1414
	// CodeNotCA: hostnames associated with a certificate that is not a CA.
	CodeNotCA = 1415
	// CodeInvalidHostname: a hostname that is not a lowercase DNS name
	// (a scheme, port, path, space or capital letter in it).
	CodeInvalidHostname = 1416
	// CodeDuplicateCertificate (documented): the same certificates are already
	// stored in the account.
	CodeDuplicateCertificate = 1471
	// CodeCertificateNotFound (documented): unknown certificate id.
	CodeCertificateNotFound = 1472
	// CodeCALimit (documented): an upload of a CA certificate over the
	// account's quota (Options.CALimit).
	CodeCALimit = 1489
	// DefaultCALimitStatus is the HTTP status paired with CodeCALimit unless
	// Options.CALimitStatus says otherwise; the real one is undocumented.
	DefaultCALimitStatus = http.StatusBadRequest
	// DefaultInUseCode is sent when deleting a certificate that has
	// associations, unless Options.InUseCode says otherwise. The real code is
	// undocumented, which is why it is configurable.
	DefaultInUseCode = 1473
	// DefaultInUseStatus is the HTTP status paired with DefaultInUseCode.
	DefaultInUseStatus = http.StatusBadRequest
	// CodeInvalidHeaders (documented): no credentials at all.
	CodeInvalidHeaders = 6003
	// CodeNoRouteForURI (documented): a path the API does not serve, as
	// under a base URL with a wrong prefix; answered with HTTP 404.
	CodeNoRouteForURI = 7000
	// CodeNoRoute (documented): "Could not route to ...", an account id
	// that is not an identifier.
	CodeNoRoute = 7003
	// CodeRateLimited answers HTTP 429. The API reference documents the
	// status and Retry-After but not the body; 971 with MessageRateLimited
	// is what clients report receiving, although it is below the 1000 that
	// the reference gives as the least error code. Clients should key on
	// the status.
	CodeRateLimited = 971
	// CodeAuthentication (documented): credentials present but not accepted.
	CodeAuthentication = 10000
	// CodeMethodNotAllowed: the path exists but not for this method.
	CodeMethodNotAllowed = 10405
	// CodeInjectedFault is used by a Fault that sets a Status but no Code.
	CodeInjectedFault = 10999
)

// Messages shared between the server and its callers' assertions.
const (
	MessageUnparsableCertificate = "Unable to parse certificate"
	MessageDuplicateCertificate  = "This certificate already exists"
	MessageCertificateNotFound   = "Certificate not found"
	MessageInUse                 = "The certificate is in use by one or more Cloudflare services"
	MessageRateLimited           = "Please wait and consider throttling your request speed"
	MessageCALimit               = "Hit maximum CA cert allocation."
)

// Error is one failed API call as the emulator reports it: an HTTP status and
// a single Cloudflare-style error. AddCertificate returns it too, so seeding
// code can tell a duplicate from a parse failure with errors.As.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("emulator: HTTP %d, code %d: %s", e.Status, e.Code, e.Message)
}

func newError(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiMessage is one entry of an envelope's errors or messages list.
type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// envelope is the wrapper every Cloudflare v4 response uses. Errors and
// Messages are always lists, never null, because the seed schema types them
// as arrays and clients index them without nil checks.
type envelope struct {
	Success    bool         `json:"success"`
	Errors     []apiMessage `json:"errors"`
	Messages   []apiMessage `json:"messages"`
	Result     any          `json:"result"`
	ResultInfo *resultInfo  `json:"result_info,omitempty"`
}

func writeResult(w http.ResponseWriter, result any, info *resultInfo) {
	writeEnvelope(w, http.StatusOK, envelope{
		Success:    true,
		Errors:     []apiMessage{},
		Messages:   []apiMessage{},
		Result:     result,
		ResultInfo: info,
	})
}

func writeError(w http.ResponseWriter, e *Error) {
	writeEnvelope(w, e.Status, envelope{
		Success:  false,
		Errors:   []apiMessage{{Code: e.Code, Message: e.Message}},
		Messages: []apiMessage{},
		Result:   nil,
	})
}

func writeEnvelope(w http.ResponseWriter, status int, body envelope) {
	payload, err := json.Marshal(body)
	if err != nil {
		// Only the emulator's own types are marshaled, so this is a bug in
		// the emulator; a 500 makes it visible to the test that hit it.
		http.Error(w, "emulator: cannot encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(payload, '\n'))
}
