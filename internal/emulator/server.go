// Package emulator is a stateful stand-in for Cloudflare's account-level mTLS
// certificate API (/accounts/{account_id}/mtls_certificates) and the zone
// hostname associations of its CAs, served over HTTP in-process for
// acceptance tests and by cmd/mtls-emulator for demos.
//
// It shares no code with the provider's API client, so the two can disagree
// and a test can notice. Where the real API's behavior is unknown, the
// emulator takes the less convenient answer (PEM text that differs from the
// upload, an undocumented in-use error code, strict input checks) so clients
// cannot come to rely on a lucky guess.
package emulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// PathPrefix is where the API is served; a client's base URL is the server's
// origin followed by it.
const PathPrefix = "/client/v4"

// Route names, used to count requests and to aim faults.
const (
	RouteList         = "list"
	RouteUpload       = "upload"
	RouteGet          = "get"
	RouteDelete       = "delete"
	RouteAssociations = "associations"
	// The zone's hostname associations, read and replaced.
	RouteHostnameAssociationsGet = "hostname_associations_get"
	RouteHostnameAssociationsPut = "hostname_associations_put"
	// RouteOther counts requests that match no route (an unknown path or
	// method), so that "no request at all" can be checked; faults cannot
	// aim at it.
	RouteOther = "other"
)

var allRoutes = []string{RouteList, RouteUpload, RouteGet, RouteDelete, RouteAssociations,
	RouteHostnameAssociationsGet, RouteHostnameAssociationsPut}

// Options configures a Server. Credentials must be set explicitly: a server
// that accepted anything could not catch a client that sends none.
type Options struct {
	// APIToken is the bearer token accepted in "Authorization: Bearer".
	// Empty turns the token scheme off.
	APIToken string
	// APIEmail and APIKey are the accepted X-Auth-Email / X-Auth-Key pair.
	// Both empty turns that scheme off.
	APIEmail string
	APIKey   string
	// PEMStyle shapes the `certificates` text in responses; the zero value
	// is PEMNormalized.
	PEMStyle PEMStyle
	// InUseStatus and InUseCode answer a DELETE of a certificate that has
	// associations. Cloudflare does not document them; 0 means
	// DefaultInUseStatus and DefaultInUseCode.
	InUseStatus int
	InUseCode   int
	// Paging chooses how the list and associations endpoints honor `page`
	// and `per_page`; the zero value is PagingHonored. The other modes
	// misbehave on purpose, so a client's paging loop can be shown to end.
	Paging PagingMode
	// Latency is added to every request, for benchmarks and for tests
	// that interrupt a client mid-request. A request whose client hangs up
	// during the wait is dropped without being performed: an upload is not
	// stored. Once the wait is over the operation runs to completion, and
	// an upload is stored whether or not its answer reaches the client.
	// Fault.Delay behaves the same way.
	Latency time.Duration
	// RateLimit, when set, limits each credential's requests like
	// Cloudflare does and adds rate-limit headers to the answers it
	// counts; CloudflareRateLimit is the real limit.
	RateLimit *RateLimit
	// RandomFaults, when set, makes a random share of requests fail with
	// server errors and dropped connections.
	RandomFaults *RandomFaults
	// AllowDuplicates stores an upload of certificates the account already
	// holds instead of refusing it with 1471. Cloudflare documents the
	// refusal; whether an account can still end up with two equal
	// certificates is unknown, and a client must not take one for the other.
	AllowDuplicates bool
	// Unnamed is how a certificate without a name shows its name in
	// answers; the zero value is UnnamedEmpty. Cloudflare's answer is
	// "" as far as is known, but null or no field would be as valid.
	Unnamed UnnamedStyle
	// Now stamps uploaded_on and the Date header of every answer; nil
	// means time.Now.
	Now func() time.Time
	// CALimit, when above 0, is how many CA certificates an account may
	// hold (Cloudflare's default is 5); an upload of one more is refused
	// with CodeCALimit. 0, the default, means no quota.
	CALimit int
	// CALimitStatus is the HTTP status of that refusal, which Cloudflare
	// does not document; 0 means DefaultCALimitStatus.
	CALimitStatus int
	// HostnameService is the service the associations endpoint names for a
	// CA's hostname associations, which make it in use. Cloudflare's name
	// is unknown; "" means DefaultHostnameService.
	HostnameService string
	// HostnameLag is how long a CA stays in use after a PUT removed its
	// last hostnames, as Cloudflare propagates the change for an unknown
	// time. 0, the default, means none.
	HostnameLag time.Duration
}

// Validate reports the first option that New would reject.
func (o Options) Validate() error {
	if o.APIToken == "" && o.APIEmail == "" && o.APIKey == "" {
		return fmt.Errorf("emulator: no credentials configured: set APIToken, or APIEmail and APIKey")
	}
	if (o.APIEmail == "") != (o.APIKey == "") {
		return fmt.Errorf("emulator: APIEmail and APIKey must be set together")
	}
	if !o.PEMStyle.known() {
		return fmt.Errorf("emulator: unknown PEMStyle %d", int(o.PEMStyle))
	}
	if !o.Unnamed.known() {
		return fmt.Errorf("emulator: unknown Unnamed style %d", int(o.Unnamed))
	}
	if !o.Paging.known() {
		return fmt.Errorf("emulator: unknown Paging mode %d", int(o.Paging))
	}
	if o.InUseStatus != 0 && (o.InUseStatus < 400 || o.InUseStatus > 499) {
		return fmt.Errorf("emulator: InUseStatus %d is not a 4XX status", o.InUseStatus)
	}
	if o.InUseCode != 0 && o.InUseCode < 1000 {
		return fmt.Errorf("emulator: InUseCode %d is below 1000, which Cloudflare error codes never are", o.InUseCode)
	}
	if o.Latency < 0 {
		return fmt.Errorf("emulator: Latency must not be negative")
	}
	if err := o.settings().validate(); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if o.RateLimit != nil {
		if err := o.RateLimit.validate(); err != nil {
			return err
		}
	}
	if o.RandomFaults != nil {
		if err := o.RandomFaults.validate(); err != nil {
			return err
		}
	}
	return nil
}

// UnnamedStyle is how answers show the name of a certificate that has none.
type UnnamedStyle int

const (
	// UnnamedEmpty answers "name": "".
	UnnamedEmpty UnnamedStyle = iota
	// UnnamedNull answers "name": null.
	UnnamedNull
	// UnnamedOmitted leaves the name field out.
	UnnamedOmitted
)

func (u UnnamedStyle) known() bool { return u >= UnnamedEmpty && u <= UnnamedOmitted }

// name is the JSON of a certificate's name in an answer; nil leaves the
// field out.
func (u UnnamedStyle) name(name string) json.RawMessage {
	switch {
	case name != "":
		raw, _ := json.Marshal(name)
		return raw
	case u == UnnamedNull:
		return json.RawMessage("null")
	case u == UnnamedOmitted:
		return nil
	}
	return json.RawMessage(`""`)
}

// PagingMode chooses how paged endpoints (list and associations) answer
// `page` and `per_page`. Cloudflare documents no paging for these endpoints,
// so a client has to survive a server that ignores the parameters or whose
// result_info is wrong.
type PagingMode int

const (
	// PagingHonored serves the requested page, and result_info describes
	// it truthfully.
	PagingHonored PagingMode = iota
	// PagingIgnored ignores `page` and `per_page` (malformed values are
	// still refused): every request gets the first page at the default
	// size, and result_info (page 1, the default per_page, the true totals)
	// still reports more pages. A client that trusts total_pages alone
	// collects the first page again and again.
	PagingIgnored
	// PagingInconsistentTotals serves the requested page, but result_info
	// claims twice as many pages (at least one more than exist) and a
	// total_count to match, so the pages past the real end come back empty.
	PagingInconsistentTotals
	// PagingShrinkingTotals serves the requested page, but result_info
	// claims a single page (none for an empty collection) while total_count
	// stays true. A client that follows total_pages reads the first page
	// only; the mismatch with total_count is its one clue.
	PagingShrinkingTotals
)

var pagingModeNames = [...]string{
	PagingHonored:            "honored",
	PagingIgnored:            "ignored",
	PagingInconsistentTotals: "inconsistent-totals",
	PagingShrinkingTotals:    "shrinking-totals",
}

// known reports whether m is one of the modes above; the names list is the
// one place a new mode has to be registered.
func (m PagingMode) known() bool {
	return m >= 0 && int(m) < len(pagingModeNames)
}

func (m PagingMode) String() string {
	if !m.known() {
		return fmt.Sprintf("PagingMode(%d)", int(m))
	}
	return pagingModeNames[m]
}

// ParsePagingMode accepts the names String returns.
func ParsePagingMode(name string) (PagingMode, error) {
	for i, n := range pagingModeNames {
		if n == name {
			return PagingMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown paging mode %q (accepted: %s)", name, strings.Join(pagingModeNames[:], ", "))
}

// Server is the emulator as an http.Handler. All its methods are safe for
// concurrent use, including the test controls.
type Server struct {
	opts   Options
	store  *store
	faults *faultQueue
	// limiter and random are nil unless their options are set.
	limiter *rateLimiter
	random  *randomFaults

	countsMu sync.Mutex
	counts   map[string]int

	// drainMu guards drains, the associations the control API is to clear
	// later; it is taken before the store's lock.
	drainMu sync.Mutex
	drains  map[drainKey]*pendingDrain

	// settingsMu guards settings, the options the control API can change.
	settingsMu sync.Mutex
	settings   settings
}

var _ http.Handler = (*Server)(nil)

// New returns an empty emulator. It panics when opts.Validate fails, as a
// misconfigured emulator is a bug in the test that builds it.
func New(opts Options) *Server {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	if opts.InUseStatus == 0 {
		opts.InUseStatus = DefaultInUseStatus
	}
	if opts.InUseCode == 0 {
		opts.InUseCode = DefaultInUseCode
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:   opts,
		store:  newStore(opts.AllowDuplicates),
		faults: newFaultQueue(),
		counts: map[string]int{},
		drains: map[drainKey]*pendingDrain{},
	}
	s.settings = opts.settings().withDefaults()
	if opts.RateLimit != nil {
		s.limiter = newRateLimiter(*opts.RateLimit)
	}
	if opts.RandomFaults != nil {
		s.random = newRandomFaults(*opts.RandomFaults)
	}
	return s
}

// ServeHTTP answers one API request. The order of the steps is part of the
// emulated behavior: credentials are checked before the route, so an
// unauthenticated client learns nothing about which paths exist.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isControlPath(r.URL.Path) {
		s.serveControl(w, r)
		return
	}
	// The server's clock, as Cloudflare's answers carry it: the same clock
	// that stamps uploaded_on, so a test can set it apart from the client's.
	w.Header().Set("Date", s.opts.Now().UTC().Format(http.TimeFormat))
	m := matchRoute(r.URL.Path, r.Method)
	if m.route != "" {
		s.countRequest(m.route)
	} else {
		s.countRequest(RouteOther)
	}
	if err := bufferBody(r); err != nil {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidRequestBody, "Cannot read the request body: %v", err))
		return
	}
	if !sleepUnlessCanceled(r.Context(), s.opts.Latency) {
		return
	}
	if apiErr := s.authenticate(r.Header); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if !m.pathKnown {
		writeError(w, newError(http.StatusNotFound, CodeNoRouteForURI, "No route for that URI"))
		return
	}
	if m.route == "" {
		w.Header().Set("Allow", m.allow)
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"Method %s not allowed for %s (allowed: %s)", r.Method, r.URL.Path, m.allow))
		return
	}
	// Rate limiting comes after authentication, as Cloudflare counts per
	// credential, and before faults and the operation, which a limited
	// request never reaches; it sets its headers first, so they are on
	// whatever answer follows. An injected fault takes precedence over a
	// random one.
	if s.rateLimited(w, r.Header) {
		return
	}
	serve := func(w http.ResponseWriter) { s.serveRoute(w, r, m) }
	if f, ok := s.faults.take(m.route, r.Method); ok {
		serveWithFault(w, r, f, serve)
		return
	}
	if s.serveRandomFault(w, r, m.route, serve) {
		return
	}
	serve(w)
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, m routeMatch) {
	owner := m.accountID
	if m.zoneID != "" {
		owner = m.zoneID
	}
	if !validIdentifier(owner) {
		writeError(w, invalidIdentifier(r.URL.Path))
		return
	}
	switch m.route {
	case RouteList:
		s.handleList(w, r, m.accountID)
	case RouteUpload:
		s.handleUpload(w, r, m.accountID)
	case RouteGet:
		s.handleGet(w, m.accountID, m.certID)
	case RouteDelete:
		s.handleDelete(w, m.accountID, m.certID)
	case RouteAssociations:
		s.handleAssociations(w, r, m.accountID, m.certID)
	case RouteHostnameAssociationsGet:
		s.handleHostnamesGet(w, r, m.zoneID)
	case RouteHostnameAssociationsPut:
		s.handleHostnamesPut(w, r, m.zoneID)
	}
}

// bufferBody reads the request body into memory before any waiting. Only
// once the body is consumed does net/http watch the connection and cancel
// the request's context when the client hangs up; without that, Latency and
// Fault.Delay would outlive a client that gave up. Bodies beyond
// maxUploadBytes are left partly unread; the upload handler refuses them.
func bufferBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadBytes+1))
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// routeMatch is what a request path says about the route it asks for.
type routeMatch struct {
	// pathKnown is set when the path has the shape of one of the routes.
	pathKnown bool
	// route is empty when the path is known but not for this method.
	route string
	// allow lists the methods the path accepts, for a 405's Allow header.
	allow     string
	accountID string
	certID    string
	// zoneID is set, and accountID empty, for the zone routes.
	zoneID string
}

func matchRoute(path, method string) routeMatch {
	if rest, ok := strings.CutPrefix(path, PathPrefix+"/zones/"); ok {
		parts := strings.Split(rest, "/")
		if len(parts) != 3 || parts[0] == "" || parts[1] != "certificate_authorities" || parts[2] != "hostname_associations" {
			return routeMatch{}
		}
		byMethod := map[string]string{http.MethodGet: RouteHostnameAssociationsGet, http.MethodPut: RouteHostnameAssociationsPut}
		return routeMatch{pathKnown: true, route: byMethod[method], allow: "GET, PUT", zoneID: parts[0]}
	}
	rest, ok := strings.CutPrefix(path, PathPrefix+"/accounts/")
	if !ok {
		return routeMatch{}
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || parts[0] == "" || parts[1] != "mtls_certificates" {
		return routeMatch{}
	}
	m := routeMatch{pathKnown: true, accountID: parts[0]}
	var byMethod map[string]string
	switch {
	case len(parts) == 2:
		byMethod = map[string]string{http.MethodGet: RouteList, http.MethodPost: RouteUpload}
		m.allow = "GET, POST"
	case len(parts) == 3 && parts[2] != "":
		byMethod = map[string]string{http.MethodGet: RouteGet, http.MethodDelete: RouteDelete}
		m.allow = "GET, DELETE"
		m.certID = parts[2]
	case len(parts) == 4 && parts[2] != "" && parts[3] == "associations":
		byMethod = map[string]string{http.MethodGet: RouteAssociations}
		m.allow = "GET"
		m.certID = parts[2]
	default:
		return routeMatch{}
	}
	m.route = byMethod[method]
	return m
}

// validIdentifier accepts what Cloudflare's account and zone identifiers
// look like: 32 lowercase hex digits.
func validIdentifier(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func invalidIdentifier(where string) *Error {
	return newError(http.StatusBadRequest, CodeNoRoute,
		"Could not route to %s, perhaps your object identifier is invalid?", where)
}

// authenticate accepts either scheme of the seed's security requirements.
// A bearer token wins when both are sent.
func (s *Server) authenticate(h http.Header) *Error {
	missing := newError(http.StatusBadRequest, CodeInvalidHeaders, "Invalid request headers")
	denied := newError(http.StatusForbidden, CodeAuthentication, "Authentication error")

	if authz := h.Get("Authorization"); authz != "" {
		scheme, token, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Bearer") || s.opts.APIToken == "" || !secretEqual(token, s.opts.APIToken) {
			return denied
		}
		return nil
	}
	email, key := h.Get("X-Auth-Email"), h.Get("X-Auth-Key")
	if email == "" || key == "" {
		return missing
	}
	if s.opts.APIEmail == "" || !secretEqual(email, s.opts.APIEmail) || !secretEqual(key, s.opts.APIKey) {
		return denied
	}
	return nil
}

func secretEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) countRequest(route string) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	s.counts[route]++
}

// RequestCount is how many requests reached route, whatever their outcome
// (failed authentication and injected faults included).
func (s *Server) RequestCount(route string) int {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	return s.counts[route]
}

// RequestCounts returns a copy of the per-route request counts.
func (s *Server) RequestCounts() map[string]int {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	return maps.Clone(s.counts)
}

// ResetCounts sets every request count back to zero.
func (s *Server) ResetCounts() {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	clear(s.counts)
}

// Reset returns the emulator to its freshly built state: no certificates,
// associations (hostnames and their coverage audit included), faults or
// counts, no rate-limit windows, blocks or counters, no associations
// waiting to be drained, and the settings of its Options.
func (s *Server) Reset() {
	s.settingsMu.Lock()
	s.settings = s.opts.settings().withDefaults()
	s.settingsMu.Unlock()
	s.cancelDrains()
	s.store.reset()
	s.ClearFaults()
	s.ResetCounts()
	if s.limiter != nil {
		s.limiter.reset()
	}
}
