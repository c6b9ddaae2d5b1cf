package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ControlPrefix is where the control API is served, beside PathPrefix. It
// lets a person or a script drive the emulator over HTTP the way tests drive
// it through the Server's methods: set or drain a certificate's
// associations, queue a fault, read the request counts, reset. No Cloudflare
// path starts with it, so it can never shadow a route of the real API, and
// every other path keeps the API's answers (404 with code 7000 for a path it
// does not serve).
//
// Every endpoint takes and answers JSON, in the API's envelope
// ({"success", "errors", "messages", "result"}):
//
//	PUT    /__emulator/accounts/{account_id}/mtls_certificates/{id}/associations
//	       {"associations": [{"service": "gateway", "status": "active"}], "drain_after": "5s"}
//	       sets the certificate's associations (404 when it does not exist);
//	       with drain_after, they are cleared once that long has passed.
//	DELETE the same path: clears (drains) them now.
//	POST   /__emulator/faults
//	       {"route": "delete", "status": 503, "retry_after": "2", "times": 2}
//	       queues a Fault; see faultRequest for the fields.
//	GET    /__emulator/requests
//	       request counts by route, and the rate limit's stats when one is set.
//	POST   /__emulator/reset
//	       Reset: no certificates, associations, faults, counts or rate-limit
//	       windows, and the settings below as the options set them.
//	GET    /__emulator/certificates?account_id={account_id}
//	       the account's certificates with their associations.
//	GET    /__emulator/coverage
//	       Coverage: {"zone_id/hostname": fewest CAs that covered it}.
//	GET    /__emulator/settings
//	PATCH  the same path, {"ca_limit": 5, "ca_limit_status": 409,
//	       "hostname_service": "api_shield", "hostname_lag": "30s"}
//	       reads or changes the options of the same names (CALimit...);
//	       a PATCH sets only the fields it carries, and Reset restores them.
//
// The control API needs the same credentials as the API (Authorization:
// Bearer <token>, or X-Auth-Email and X-Auth-Key) and answers 403 without
// them, rather than being open behind a command-line flag. The emulator
// binds to loopback only, but other local users and processes can reach
// loopback too, and an open control API would let any of them clear a
// certificate's associations or fail someone's requests. The token is
// something the user of the emulator already has: it is in their Terraform
// configuration (or CLOUDFLARE_API_TOKEN), and mtls-emulator prints it at
// start-up; so requiring it costs them nothing and keeps everyone else out.
//
// Control requests are not API requests: they are not counted, delayed by
// Options.Latency, rate limited or touched by faults.
const ControlPrefix = "/__emulator"

// maxControlBytes bounds a control request body; a fault's body is the
// largest thing one carries.
const maxControlBytes = 1 << 20

// ControlURL is the control API's base URL, with no trailing slash.
func (r *Running) ControlURL() string {
	return strings.TrimSuffix(r.baseURL, PathPrefix) + ControlPrefix
}

// isControlPath reports whether a request is for the control API.
func isControlPath(path string) bool {
	return path == ControlPrefix || strings.HasPrefix(path, ControlPrefix+"/")
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if apiErr := s.authenticate(r.Header); apiErr != nil {
		writeError(w, newError(http.StatusForbidden, CodeAuthentication,
			"Authentication error: the control API needs the API's credentials "+
				"(an Authorization: Bearer header with the API token, or X-Auth-Email and X-Auth-Key)"))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, ControlPrefix)
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	var byMethod map[string]func()
	switch {
	case rest == "/faults":
		byMethod = map[string]func(){http.MethodPost: func() { s.controlFault(w, r) }}
	case rest == "/requests":
		byMethod = map[string]func(){http.MethodGet: func() { s.controlRequests(w) }}
	case rest == "/reset":
		byMethod = map[string]func(){http.MethodPost: func() { s.controlReset(w) }}
	case rest == "/certificates":
		byMethod = map[string]func(){http.MethodGet: func() { s.controlCertificates(w, r) }}
	case rest == "/settings":
		handle := func() { s.controlSettings(w, r) }
		byMethod = map[string]func(){http.MethodGet: handle, http.MethodPatch: handle}
	case rest == "/coverage":
		byMethod = map[string]func(){http.MethodGet: func() { writeResult(w, s.Coverage(), nil) }}
	case len(parts) == 5 && parts[0] == "accounts" && parts[1] != "" && parts[2] == "mtls_certificates" &&
		parts[3] != "" && parts[4] == "associations":
		byMethod = map[string]func(){
			http.MethodPut:    func() { s.controlSetAssociations(w, r, parts[1], parts[3]) },
			http.MethodDelete: func() { s.controlDrainAssociations(w, r, parts[1], parts[3]) },
		}
	default:
		writeError(w, newError(http.StatusNotFound, CodeNoRouteForURI,
			"No control endpoint at %s (see the documentation of mtls-emulator)", r.URL.Path))
		return
	}
	handle, ok := byMethod[r.Method]
	if !ok {
		allow := slices.Sorted(maps.Keys(byMethod))
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"Method %s not allowed for %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	handle()
}

// decodeControl reads a control request's single JSON object into v,
// refusing unknown fields so a misspelled one is not silently ignored.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) *Error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body is empty; expected a JSON object")
		case errors.As(err, &tooLarge):
			return newError(http.StatusRequestEntityTooLarge, CodeInvalidRequestBody, "Request body is larger than %d bytes", tooLarge.Limit)
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return newError(http.StatusBadRequest, CodeInvalidRequestBody, "%s must be a JSON %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
		default:
			// Unknown fields come here as `json: unknown field "x"`.
			return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body is not the expected JSON object: %s",
				strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, CodeInvalidRequestBody, "Request body must hold a single JSON object")
	}
	return nil
}

// parseControlDuration reads a Go duration such as "5s" or "1m30s".
func parseControlDuration(field, text string) (time.Duration, *Error) {
	d, err := time.ParseDuration(text)
	if err != nil || d < 0 {
		return 0, newError(http.StatusBadRequest, CodeInvalidRequestBody,
			"%s %q is not a duration such as \"5s\" or \"1m30s\"", field, text)
	}
	return d, nil
}

type associationsRequest struct {
	Associations *[]Association `json:"associations"`
	// DrainAfter is a Go duration; empty means the associations stay.
	DrainAfter string `json:"drain_after"`
}

// associationsResult answers the associations endpoints.
type associationsResult struct {
	AccountID     string        `json:"account_id"`
	CertificateID string        `json:"certificate_id"`
	Associations  []Association `json:"associations"`
	// DrainsAt is when the associations will be cleared, if they will.
	DrainsAt string `json:"drains_at,omitempty"`
}

func (s *Server) controlSetAssociations(w http.ResponseWriter, r *http.Request, accountID, certID string) {
	if !validIdentifier(accountID) {
		writeError(w, invalidIdentifier(r.URL.Path))
		return
	}
	var req associationsRequest
	if apiErr := decodeControl(w, r, &req); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if req.Associations == nil {
		writeError(w, newError(http.StatusBadRequest, CodeMissingField,
			`associations is required: a list such as [{"service": "gateway", "status": "active"}], or [] for none`))
		return
	}
	assoc := *req.Associations
	for i, a := range assoc {
		if strings.TrimSpace(a.Service) == "" {
			writeError(w, newError(http.StatusBadRequest, CodeMissingField, "associations[%d].service is required, such as \"gateway\"", i))
			return
		}
		if strings.TrimSpace(a.Status) == "" {
			writeError(w, newError(http.StatusBadRequest, CodeMissingField,
				"associations[%d].status is required, such as \"active\" or \"pending_deletion\"", i))
			return
		}
	}
	var drainAfter time.Duration
	if req.DrainAfter != "" {
		d, apiErr := parseControlDuration("drain_after", req.DrainAfter)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		if d == 0 {
			writeError(w, newError(http.StatusBadRequest, CodeInvalidRequestBody,
				"drain_after must be above 0; leave it out to keep the associations, or DELETE them to drain now"))
			return
		}
		drainAfter = d
	}
	drainsAt, err := s.setAssociationsDraining(accountID, certID, assoc, drainAfter)
	if err != nil {
		writeError(w, certificateNotFound())
		return
	}
	result := associationsResult{AccountID: accountID, CertificateID: certID, Associations: slices.Clone(assoc)}
	if result.Associations == nil {
		result.Associations = []Association{}
	}
	if !drainsAt.IsZero() {
		result.DrainsAt = drainsAt.UTC().Format(time.RFC3339Nano)
	}
	writeResult(w, result, nil)
}

func (s *Server) controlDrainAssociations(w http.ResponseWriter, r *http.Request, accountID, certID string) {
	if !validIdentifier(accountID) {
		writeError(w, invalidIdentifier(r.URL.Path))
		return
	}
	if _, err := s.setAssociationsDraining(accountID, certID, nil, 0); err != nil {
		writeError(w, certificateNotFound())
		return
	}
	writeResult(w, associationsResult{AccountID: accountID, CertificateID: certID, Associations: []Association{}}, nil)
}

// drainKey names one certificate's pending drain.
type drainKey struct{ accountID, certID string }

// pendingDrain is a timer that clears one certificate's associations. The
// timer's function checks it is still the pending one, so a drain replaced
// or canceled just as it fires does nothing.
type pendingDrain struct {
	timer *time.Timer
	at    time.Time
}

// setAssociationsDraining sets a stored certificate's associations, cancels
// any drain pending for it, and, when drainAfter is above zero, schedules
// their removal; it returns when that will be. errNotFound when the
// certificate does not exist.
func (s *Server) setAssociationsDraining(accountID, certID string, assoc []Association, drainAfter time.Duration) (time.Time, error) {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	if err := s.store.setExistingAssociations(accountID, certID, assoc); err != nil {
		return time.Time{}, err
	}
	key := drainKey{accountID, certID}
	s.cancelDrainLocked(key)
	if drainAfter <= 0 || len(assoc) == 0 {
		return time.Time{}, nil
	}
	p := &pendingDrain{at: time.Now().Add(drainAfter)}
	p.timer = time.AfterFunc(drainAfter, func() {
		s.drainMu.Lock()
		defer s.drainMu.Unlock()
		if s.drains[key] != p {
			return
		}
		delete(s.drains, key)
		// The certificate may be gone by now (Reset); that is fine.
		_ = s.store.setExistingAssociations(accountID, certID, nil)
	})
	s.drains[key] = p
	return p.at, nil
}

// cancelDrainLocked stops the drain pending for key, if any; the caller
// holds s.drainMu.
func (s *Server) cancelDrainLocked(key drainKey) {
	if p := s.drains[key]; p != nil {
		p.timer.Stop()
		delete(s.drains, key)
	}
}

// cancelDrains stops every pending drain.
func (s *Server) cancelDrains() {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	for key := range s.drains {
		s.cancelDrainLocked(key)
	}
}

// faultRequest is a Fault as the control API takes it: the same fields in
// snake_case, durations as Go duration text ("500ms", "2s") and the body as
// a string.
type faultRequest struct {
	Route          string  `json:"route"`
	Method         string  `json:"method"`
	Status         int     `json:"status"`
	Code           int     `json:"code"`
	Message        string  `json:"message"`
	RetryAfter     string  `json:"retry_after"`
	Delay          string  `json:"delay"`
	DropConnection bool    `json:"drop_connection"`
	CommitThenDrop bool    `json:"commit_then_drop"`
	Body           *string `json:"body"`
	ContentType    string  `json:"content_type"`
	CommitThenBody bool    `json:"commit_then_body"`
	Times          int     `json:"times"`
}

// routeMethods is the one method each route serves.
var routeMethods = map[string]string{
	RouteList:         http.MethodGet,
	RouteUpload:       http.MethodPost,
	RouteGet:          http.MethodGet,
	RouteDelete:       http.MethodDelete,
	RouteAssociations: http.MethodGet,

	RouteHostnameAssociationsGet: http.MethodGet,
	RouteHostnameAssociationsPut: http.MethodPut,
}

func (req faultRequest) fault() (Fault, *Error) {
	bad := func(format string, args ...any) (Fault, *Error) {
		return Fault{}, newError(http.StatusBadRequest, CodeInvalidRequestBody, format, args...)
	}
	f := Fault{
		Route: req.Route, Method: strings.ToUpper(req.Method), Status: req.Status, Code: req.Code, Message: req.Message,
		RetryAfter: req.RetryAfter, DropConnection: req.DropConnection, CommitThenDrop: req.CommitThenDrop,
		ContentType: req.ContentType, CommitThenBody: req.CommitThenBody, Times: req.Times,
	}
	if req.Body != nil {
		f.Body = []byte(*req.Body)
	}
	if req.Delay != "" {
		d, apiErr := parseControlDuration("delay", req.Delay)
		if apiErr != nil {
			return Fault{}, apiErr
		}
		f.Delay = d
	}
	if f.Route == "" {
		return bad("route is required: one of %s", strings.Join(allRoutes, ", "))
	}
	if want, ok := routeMethods[f.Route]; ok && f.Method != "" && f.Method != want {
		return bad("method %s never reaches route %s, which is %s only", f.Method, f.Route, want)
	}
	if f.Code != 0 && f.Code < 1000 {
		return bad("code %d is below 1000, which Cloudflare error codes never are", f.Code)
	}
	if f.Status == 0 && f.Body == nil && f.Delay == 0 && !f.DropConnection && !f.CommitThenDrop {
		return bad("the fault does nothing: set status, body, delay, drop_connection or commit_then_drop")
	}
	if err := f.validate(); err != nil {
		return bad("%s", err)
	}
	return f, nil
}

func (s *Server) controlFault(w http.ResponseWriter, r *http.Request) {
	var req faultRequest
	if apiErr := decodeControl(w, r, &req); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	f, apiErr := req.fault()
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	s.InjectFault(f)
	writeResult(w, req, nil)
}

// requestsResult answers GET /__emulator/requests.
type requestsResult struct {
	// Counts has every route, zero included.
	Counts    map[string]int   `json:"counts"`
	RateLimit *rateLimitResult `json:"rate_limit,omitempty"`
}

type rateLimitResult struct {
	Quota           int    `json:"quota"`
	Window          string `json:"window"`
	Refused         int    `json:"refused"`
	LowestRemaining int    `json:"lowest_remaining"`
	Blocks          int    `json:"blocks"`
}

func (s *Server) controlRequests(w http.ResponseWriter) {
	counts := s.RequestCounts()
	for _, route := range allRoutes {
		counts[route] += 0
	}
	result := requestsResult{Counts: counts}
	if s.opts.RateLimit != nil {
		stats := s.RateLimitStats()
		result.RateLimit = &rateLimitResult{
			Quota: s.opts.RateLimit.Quota, Window: s.opts.RateLimit.Window.String(),
			Refused: stats.Refused, LowestRemaining: stats.LowestRemaining, Blocks: stats.Blocks,
		}
	}
	writeResult(w, result, nil)
}

func (s *Server) controlReset(w http.ResponseWriter) {
	s.Reset()
	writeResult(w, map[string]bool{"reset": true}, nil)
}

// controlCertificate is one certificate in GET /__emulator/certificates.
type controlCertificate struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	CA           bool          `json:"ca"`
	Type         string        `json:"type"`
	Associations []Association `json:"associations"`
	DrainsAt     string        `json:"drains_at,omitempty"`
}

func (s *Server) controlCertificates(w http.ResponseWriter, r *http.Request) {
	accountID := r.URL.Query().Get("account_id")
	if !validIdentifier(accountID) {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidQuery,
			"account_id must be an account id of 32 lowercase hex digits, got %q", accountID))
		return
	}
	out := []controlCertificate{}
	for _, c := range s.store.list(accountID, nil) {
		assoc, err := s.store.associations(accountID, c.ID, s.opts.Now(), s.currentSettings().hostnameService)
		if err != nil {
			continue // deleted since the list
		}
		if assoc == nil {
			assoc = []Association{}
		}
		out = append(out, controlCertificate{ID: c.ID, Name: c.Name, CA: c.CA, Type: c.Type, Associations: assoc,
			DrainsAt: s.drainsAt(accountID, c.ID)})
	}
	writeResult(w, out, nil)
}

// drainsAt is when a pending drain clears a certificate's associations, ""
// when none is pending.
func (s *Server) drainsAt(accountID, certID string) string {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	if p := s.drains[drainKey{accountID, certID}]; p != nil {
		return p.at.UTC().Format(time.RFC3339Nano)
	}
	return ""
}
