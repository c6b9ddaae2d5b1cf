package main

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
)

// apiServer is the emulator on a loopback port, behind a counter of the
// requests in flight: the most seen at once during an operation shows
// directly whether the provider keeps the CLI's parallelism busy or
// serializes its calls.
type apiServer struct {
	*emulator.Server
	http     *http.Server
	url      string
	inFlight atomic.Int64
	peak     atomic.Int64
}

// startTokenAPIServer starts an emulator that accepts a fresh random
// token, and returns it with the token.
func startTokenAPIServer(opts emulator.Options) (*apiServer, string, error) {
	token, err := randomToken()
	if err != nil {
		return nil, "", err
	}
	opts.APIToken = token
	em, err := startAPIServer(opts)
	return em, token, err
}

func startAPIServer(opts emulator.Options) (*apiServer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &apiServer{Server: emulator.New(opts), url: "http://" + ln.Addr().String() + emulator.PathPrefix}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// ServeHTTP counts the request in flight around the emulator's answer.
func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		peak := s.peak.Load()
		if n <= peak || s.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	s.Server.ServeHTTP(w, r)
}

// resetOperation starts the counts of a new operation.
func (s *apiServer) resetOperation() {
	s.ResetCounts()
	s.peak.Store(0)
}

func (s *apiServer) peakInFlight() int { return int(s.peak.Load()) }

// close cuts open connections at once, so requests held by the latency end.
func (s *apiServer) close() { _ = s.http.Close() }
