package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
)

// RandomFaults makes a share of requests fail the ways a real network and
// a busy API do, to test a client's retries under load. Each request that
// passes authentication and the rate limit, and that no injected Fault
// claims, draws once: with probability ServerError it is answered with a
// 500, 502 or 503 and not performed; with Reset its connection is dropped
// before it is performed; with ResetAfterCommit it is performed (an upload
// is stored, a delete deletes) and then its connection is dropped, so the
// client cannot know it succeeded. The three must add up to at most 1.
//
// Draws come from a generator seeded with Seed, so one run's sequence of
// draws is repeatable; which request gets which draw depends on the order
// in which concurrent requests arrive.
type RandomFaults struct {
	Seed             uint64
	ServerError      float64
	Reset            float64
	ResetAfterCommit float64
}

func (f RandomFaults) validate() error {
	for _, p := range []float64{f.ServerError, f.Reset, f.ResetAfterCommit} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("emulator: RandomFaults probabilities must be between 0 and 1, got %+v", f)
		}
	}
	if f.ServerError+f.Reset+f.ResetAfterCommit > 1 {
		return fmt.Errorf("emulator: RandomFaults probabilities add up to more than 1: %+v", f)
	}
	return nil
}

// RandomFaultCounts is how many requests each kind of random fault hit.
type RandomFaultCounts struct {
	ServerErrors      int
	Resets            int
	ResetsAfterCommit int
	// UploadsCommittedThenReset is the part of ResetsAfterCommit that hit
	// an upload which then stored its certificate.
	UploadsCommittedThenReset int
}

type randomFaults struct {
	odds RandomFaults

	mu     sync.Mutex
	rng    *rand.Rand
	counts RandomFaultCounts
}

func newRandomFaults(odds RandomFaults) *randomFaults {
	// A seeded generator on purpose: a run's draws must be repeatable.
	//nolint:gosec // G404: test faults need repeatability, not secrecy.
	return &randomFaults{odds: odds, rng: rand.New(rand.NewPCG(odds.Seed, odds.Seed^0x9e3779b97f4a7c15))}
}

var randomServerErrors = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// draw picks the fate of one request to route: a Fault to apply, or none.
func (r *randomFaults) draw(route string) (Fault, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.rng.Float64()
	switch {
	case p < r.odds.ServerError:
		r.counts.ServerErrors++
		return Fault{Route: route, Status: randomServerErrors[r.rng.IntN(len(randomServerErrors))], Message: "Injected random server error"}, true
	case p < r.odds.ServerError+r.odds.Reset:
		r.counts.Resets++
		return Fault{Route: route, DropConnection: true}, true
	case p < r.odds.ServerError+r.odds.Reset+r.odds.ResetAfterCommit:
		r.counts.ResetsAfterCommit++
		return Fault{Route: route, CommitThenDrop: true}, true
	}
	return Fault{}, false
}

// RandomFaultCounts reports what Options.RandomFaults has done so far.
func (s *Server) RandomFaultCounts() RandomFaultCounts {
	if s.random == nil {
		return RandomFaultCounts{}
	}
	s.random.mu.Lock()
	defer s.random.mu.Unlock()
	return s.random.counts
}

// serveRandomFault applies a random fault, when the draw gives one, and
// reports whether it did.
func (s *Server) serveRandomFault(w http.ResponseWriter, r *http.Request, route string, serve func(http.ResponseWriter)) bool {
	if s.random == nil {
		return false
	}
	f, ok := s.random.draw(route)
	if !ok {
		return false
	}
	if f.CommitThenDrop && route == RouteUpload {
		inner := serve
		serve = func(w http.ResponseWriter) {
			rec := &statusRecorder{ResponseWriter: w}
			inner(rec)
			if rec.status == http.StatusOK {
				s.random.mu.Lock()
				s.random.counts.UploadsCommittedThenReset++
				s.random.mu.Unlock()
			}
		}
	}
	serveWithFault(w, r, f, serve)
	return true
}

// statusRecorder notes the status a handler sends.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}
