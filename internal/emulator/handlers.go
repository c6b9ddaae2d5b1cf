package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	defaultCertificatesPerPage = 50
	defaultAssociationsPerPage = 20
	maxPerPage                 = 1000
	// maxUploadBytes bounds an upload body; a large bundle is a few tens
	// of kilobytes, so this only stops runaway clients.
	maxUploadBytes = 1 << 20
)

// certificateView is the certificate object as the API sends it. It is
// built field by field from a Certificate so that the private key cannot
// slip into a response.
type certificateView struct {
	ID string `json:"id"`
	// Name is raw so that an unnamed certificate can be answered as
	// Options.Unnamed says: "", null, or no field at all.
	Name         json.RawMessage `json:"name,omitempty"`
	CA           bool            `json:"ca"`
	Certificates string          `json:"certificates"`
	Issuer       string          `json:"issuer"`
	SerialNumber string          `json:"serial_number"`
	Signature    string          `json:"signature"`
	ExpiresOn    string          `json:"expires_on"`
	UploadedOn   string          `json:"uploaded_on"`
	Type         string          `json:"type"`
	// UpdatedAt appears only in the upload response, as with Cloudflare.
	UpdatedAt string `json:"updated_at,omitempty"`
}

func (s *Server) viewOf(c Certificate) certificateView {
	return certificateView{
		ID:           c.ID,
		Name:         s.opts.Unnamed.name(c.Name),
		CA:           c.CA,
		Certificates: c.Certificates,
		Issuer:       c.Issuer,
		SerialNumber: c.SerialNumber,
		Signature:    c.Signature,
		ExpiresOn:    c.ExpiresOn.UTC().Format(expiresOnLayout),
		UploadedOn:   c.UploadedOn.UTC().Format(uploadedOnLayout),
		Type:         c.Type,
	}
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, accountID string) {
	query := r.URL.Query()
	types, apiErr := parseTypeFilter(query["type"])
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	page, perPage, apiErr := parsePaging(query, defaultCertificatesPerPage)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	certs := s.store.list(accountID, types)
	lo, hi, info := s.paginate(len(certs), page, perPage, defaultCertificatesPerPage)
	views := make([]certificateView, 0, hi-lo)
	for _, c := range certs[lo:hi] {
		views = append(views, s.viewOf(c))
	}
	writeResult(w, views, &info)
}

// uploadRequest uses pointers so that an absent field can be told from a
// zero value: `"ca": false` is a valid answer, a missing ca is not.
type uploadRequest struct {
	CA           *bool   `json:"ca"`
	Certificates *string `json:"certificates"`
	Name         *string `json:"name"`
	PrivateKey   *string `json:"private_key"`
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, accountID string) {
	req, apiErr := decodeUpload(w, r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	c, apiErr := s.newCertificate(name, *req.CA, *req.Certificates, req.PrivateKey, TypeCustom)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	// A duplicate is refused before the quota: the upload would not add a
	// CA. Which check Cloudflare makes first is unknown.
	st := s.currentSettings()
	switch err := s.store.insert(accountID, c, st.caLimit); {
	case errors.Is(err, errCALimit):
		writeError(w, caLimitReached(st.caLimitStatus))
		return
	case err != nil:
		writeError(w, duplicateCertificate())
		return
	}
	view := s.viewOf(*c)
	view.UpdatedAt = view.UploadedOn
	writeResult(w, view, nil)
}

func decodeUpload(w http.ResponseWriter, r *http.Request) (uploadRequest, *Error) {
	var req uploadRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		return req, apiErr
	}
	if req.CA == nil {
		return req, newError(http.StatusBadRequest, CodeMissingField,
			"ca is required: true to upload a CA certificate, false for a leaf certificate")
	}
	if req.Certificates == nil {
		return req, newError(http.StatusBadRequest, CodeMissingField,
			"certificates is required: the PEM text of one or more certificates")
	}
	return req, nil
}

// decodeBody reads a request body that must be a single JSON object into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *Error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUploadBytes))
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, CodeInvalidRequestBody,
			"Request body must hold a single JSON object")
	}
	return nil
}

// bodyFieldTypes names the JSON type of body fields that are not strings.
var bodyFieldTypes = map[string]string{"ca": "boolean", "hostnames": "list of strings"}

func bodyError(err error) *Error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body is empty; expected a JSON object")
	case errors.As(err, &tooLarge):
		return newError(http.StatusRequestEntityTooLarge, CodeInvalidRequestBody,
			"Request body is larger than %d bytes", tooLarge.Limit)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		want := bodyFieldTypes[typeErr.Field]
		if want == "" {
			want = "string"
		}
		return newError(http.StatusBadRequest, CodeInvalidRequestBody,
			"%s must be a JSON %s, not %s", typeErr.Field, want, typeErr.Value)
	case errors.As(err, &typeErr):
		return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body must be a JSON object")
	default:
		return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body is not valid JSON: %v", err)
	}
}

func duplicateCertificate() *Error {
	return newError(http.StatusBadRequest, CodeDuplicateCertificate, MessageDuplicateCertificate)
}

func certificateNotFound() *Error {
	return newError(http.StatusNotFound, CodeCertificateNotFound, MessageCertificateNotFound)
}

func (s *Server) handleGet(w http.ResponseWriter, accountID, certID string) {
	c, err := s.store.get(accountID, certID)
	if err != nil {
		writeError(w, certificateNotFound())
		return
	}
	writeResult(w, s.viewOf(c), nil)
}

func (s *Server) handleDelete(w http.ResponseWriter, accountID, certID string) {
	c, err := s.store.deleteUnlessInUse(accountID, certID, s.opts.Now())
	switch {
	case errors.Is(err, errInUse):
		writeError(w, &Error{Status: s.opts.InUseStatus, Code: s.opts.InUseCode, Message: MessageInUse})
	case err != nil:
		writeError(w, certificateNotFound())
	default:
		writeResult(w, s.viewOf(c), nil)
	}
}

func (s *Server) handleAssociations(w http.ResponseWriter, r *http.Request, accountID, certID string) {
	page, perPage, apiErr := parsePaging(r.URL.Query(), defaultAssociationsPerPage)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	assoc, err := s.store.associations(accountID, certID, s.opts.Now(), s.currentSettings().hostnameService)
	if err != nil {
		writeError(w, certificateNotFound())
		return
	}
	lo, hi, info := s.paginate(len(assoc), page, perPage, defaultAssociationsPerPage)
	writeResult(w, append([]Association{}, assoc[lo:hi]...), &info)
}

// parseTypeFilter accepts the `type` query parameter as a comma list, and
// repeated, since clients differ in how they encode lists.
func parseTypeFilter(values []string) ([]string, *Error) {
	var types []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !validType(t) {
				return nil, newError(http.StatusBadRequest, CodeInvalidQuery,
					"type %q is not one of %s, %s, %s", t, TypeCustom, TypeGatewayManaged, TypeAccessManaged)
			}
			types = append(types, t)
		}
	}
	return types, nil
}

// parsePaging rejects bad values instead of clamping them: whether
// Cloudflare clamps is unknown, and a client must not depend on it.
func parsePaging(query url.Values, defaultPerPage int) (page, perPage int, apiErr *Error) {
	page, apiErr = positiveParam(query, "page", 1)
	if apiErr != nil {
		return 0, 0, apiErr
	}
	perPage, apiErr = positiveParam(query, "per_page", defaultPerPage)
	if apiErr != nil {
		return 0, 0, apiErr
	}
	if perPage > maxPerPage {
		return 0, 0, newError(http.StatusBadRequest, CodeInvalidQuery,
			"per_page must be at most %d, got %d", maxPerPage, perPage)
	}
	return page, perPage, nil
}

func positiveParam(query url.Values, name string, fallback int) (int, *Error) {
	raw := query.Get(name)
	if raw == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, newError(http.StatusBadRequest, CodeInvalidQuery, "%s must be a positive integer, got %q", name, raw)
	}
	return n, nil
}

// paginate is pageBounds bent by Options.Paging: which page is served, and
// what result_info claims about the rest.
func (s *Server) paginate(total, page, perPage, defaultPerPage int) (lo, hi int, info resultInfo) {
	switch s.opts.Paging {
	case PagingIgnored:
		return pageBounds(total, 1, defaultPerPage)
	case PagingInconsistentTotals:
		lo, hi, info = pageBounds(total, page, perPage)
		info.TotalPages = max(2*info.TotalPages, info.TotalPages+1)
		info.TotalCount = info.TotalPages * perPage
		return lo, hi, info
	case PagingShrinkingTotals:
		lo, hi, info = pageBounds(total, page, perPage)
		info.TotalPages = min(info.TotalPages, 1)
		return lo, hi, info
	default:
		return pageBounds(total, page, perPage)
	}
}

// pageBounds returns the slice bounds of one page and its truthful
// result_info. An empty collection has zero pages.
func pageBounds(total, page, perPage int) (lo, hi int, info resultInfo) {
	lo = total
	if page-1 < (total+perPage-1)/perPage {
		lo = (page - 1) * perPage
	}
	hi = min(lo+perPage, total)
	return lo, hi, resultInfo{
		Page:       page,
		PerPage:    perPage,
		Count:      hi - lo,
		TotalCount: total,
		TotalPages: (total + perPage - 1) / perPage,
	}
}
