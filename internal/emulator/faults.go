package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Fault makes upcoming requests to one route misbehave, to test a client's
// retries, timeouts and recovery from half-finished operations.
//
// Its parts apply in this order: Delay first; then DropConnection, else
// CommitThenDrop, else Body, else Status; a Fault with only a Delay then
// serves the request normally.
//
// Dropping needs a connection to hijack (HTTP/1.x); elsewhere the handler
// aborts with http.ErrAbortHandler. Note that Go's transport silently
// replays an idempotent request (GET) once when a reused keep-alive
// connection drops; use Times: 2, or a client without keep-alives, to make a
// GET see the error.
type Fault struct {
	// Route is one of the Route* constants; InjectFault panics otherwise.
	Route string
	// Method, when set, restricts the fault to requests with this method.
	Method string
	// Status, when non-zero, is sent instead of running the operation, as
	// an error envelope with Code and Message.
	Status int
	// Code defaults to CodeInjectedFault, Message to the status text.
	Code    int
	Message string
	// RetryAfter, when set, is sent as the Retry-After header with Status
	// or Body.
	RetryAfter string
	// Delay holds the request before anything else happens; it ends early
	// when the client gives up.
	Delay time.Duration
	// DropConnection closes the connection without any response and
	// without performing the operation.
	DropConnection bool
	// CommitThenDrop performs the operation, then closes the connection
	// without a response: the client cannot know it succeeded.
	CommitThenDrop bool
	// Body, when not nil (an empty body included), is sent as the whole
	// response instead of running the operation, with Status (200 when
	// unset; any status from 200 to 599) and ContentType: an answer the
	// real API would never give, such as truncated JSON or a proxy's page.
	Body []byte
	// ContentType goes with Body; it defaults to application/json.
	ContentType string
	// CommitThenBody performs the operation first and sends Body in place
	// of its response: the operation happened, but its answer is unreadable.
	CommitThenBody bool
	// Times is how many matching requests the fault applies to; 0 means 1.
	Times int
}

type pendingFault struct {
	fault     Fault
	remaining int
}

// faultQueue holds injected faults per route, oldest first.
type faultQueue struct {
	mu      sync.Mutex
	byRoute map[string][]*pendingFault
}

func newFaultQueue() *faultQueue {
	return &faultQueue{byRoute: map[string][]*pendingFault{}}
}

// take consumes one use of the oldest fault that matches the request.
func (q *faultQueue) take(route, method string) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	queue := q.byRoute[route]
	for i, p := range queue {
		if p.fault.Method != "" && p.fault.Method != method {
			continue
		}
		p.remaining--
		if p.remaining == 0 {
			q.byRoute[route] = slices.Delete(queue, i, i+1)
		}
		return p.fault, true
	}
	return Fault{}, false
}

// InjectFault queues f behind any faults already queued for its route. It
// panics on an unknown route or a nonsensical fault, since either is a
// mistake in the calling test.
func (s *Server) InjectFault(f Fault) {
	if err := f.validate(); err != nil {
		panic("emulator: InjectFault: " + err.Error())
	}
	times := max(f.Times, 1)
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.byRoute[f.Route] = append(s.faults.byRoute[f.Route], &pendingFault{fault: f, remaining: times})
}

// validate reports what makes f unusable: an unknown route or parts that
// contradict each other. The control API answers its error as a 400, so
// each names the fields in the control API's spelling too.
func (f Fault) validate() error {
	if !slices.Contains(allRoutes, f.Route) {
		return fmt.Errorf("unknown route %q (want one of %v)", f.Route, allRoutes)
	}
	switch {
	case f.Body == nil && f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d is not an HTTP error status", f.Status)
	case f.Body != nil && f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status %d cannot carry a body", f.Status)
	case f.Body != nil && (f.DropConnection || f.CommitThenDrop):
		return errors.New("a dropped connection (drop_connection, commit_then_drop) sends no body")
	case f.Body == nil && (f.ContentType != "" || f.CommitThenBody):
		return errors.New("content_type and commit_then_body need a body")
	case f.Times < 0 || f.Delay < 0:
		return errors.New("times and delay must not be negative")
	}
	return nil
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	clear(s.faults.byRoute)
}

// serveWithFault applies f to a request that serve would otherwise answer.
func serveWithFault(w http.ResponseWriter, r *http.Request, f Fault, serve func(http.ResponseWriter)) {
	if !sleepUnlessCanceled(r.Context(), f.Delay) {
		return
	}
	switch {
	case f.DropConnection:
		dropConnection(w)
	case f.CommitThenDrop:
		serve(discardResponse{header: http.Header{}})
		dropConnection(w)
	case f.Body != nil:
		if f.CommitThenBody {
			serve(discardResponse{header: http.Header{}})
		}
		writeRaw(w, f)
	case f.Status != 0:
		code, message := f.Code, f.Message
		if code == 0 {
			code = CodeInjectedFault
		}
		if message == "" {
			message = http.StatusText(f.Status)
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, &Error{Status: f.Status, Code: code, Message: message})
	default:
		serve(w)
	}
}

// writeRaw sends a Fault's Body as it is.
func writeRaw(w http.ResponseWriter, f Fault) {
	contentType, status := f.ContentType, f.Status
	if contentType == "" {
		contentType = "application/json"
	}
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(f.Body)
}

// dropConnection closes the client's connection with nothing written, the
// way a crashed proxy or a network cut looks to a client.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 and recorders cannot be hijacked; aborting the handler is
		// the closest equivalent net/http offers.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// discardResponse swallows the response of an operation whose connection
// is about to be dropped.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}

// sleepUnlessCanceled waits d and reports whether the request is still
// wanted, so latency and delays never outlive a client that gave up.
func sleepUnlessCanceled(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
