package emulator

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Running is an emulator listening on a real socket. The embedded Server
// carries the test controls.
type Running struct {
	*Server
	httpServer *http.Server
	baseURL    string
	served     chan struct{}
}

// Start serves a new emulator on a free loopback port, like
// httptest.NewServer. Call Close when done.
func Start(opts Options) (*Running, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return ServeListener(ln, opts)
}

// ServeListener serves a new emulator on ln, which it owns from then on: it
// is closed on error and by Close or Shutdown.
func ServeListener(ln net.Listener, opts Options) (*Running, error) {
	if err := opts.Validate(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	srv := New(opts)
	r := &Running{
		Server: srv,
		httpServer: &http.Server{
			Handler:           srv,
			ReadHeaderTimeout: 10 * time.Second,
		},
		baseURL: "http://" + ln.Addr().String() + PathPrefix,
		served:  make(chan struct{}),
	}
	go func() {
		defer close(r.served)
		// Serve returns ErrServerClosed after Close or Shutdown. Any other
		// error means the listener broke; requests then fail on the client
		// side, which is where a test looks.
		_ = r.httpServer.Serve(ln)
	}()
	return r, nil
}

// URL is the client base URL, including PathPrefix, with no trailing slash.
func (r *Running) URL() string { return r.baseURL }

// Close stops at once: open connections are cut, so a request held by
// Latency or a Fault's Delay ends instead of keeping a test waiting.
func (r *Running) Close() {
	_ = r.httpServer.Close()
	<-r.served
}

// Shutdown stops accepting requests and waits for those in flight; when
// ctx ends first it cuts the rest as Close does and returns ctx's error.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.httpServer.Shutdown(ctx)
	if err != nil {
		_ = r.httpServer.Close()
	}
	<-r.served
	return err
}
