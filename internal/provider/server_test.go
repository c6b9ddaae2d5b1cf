package provider

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// fakeInner records what reaches the framework's side of the wrapper.
type fakeInner struct {
	tfprotov6.ProviderServer // methods the tests do not call
	inFlight                 atomic.Int64
	stops                    atomic.Int64
	stopsWhileBusy           atomic.Int64
	// gate, when set, holds the first call until it is closed.
	gate    chan struct{}
	blocked atomic.Bool
}

func (f *fakeInner) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	if f.gate != nil && f.blocked.CompareAndSwap(false, true) {
		<-f.gate
	}
	return &tfprotov6.GetMetadataResponse{}, nil
}

func (f *fakeInner) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	f.stops.Add(1)
	if f.inFlight.Load() > 0 {
		f.stopsWhileBusy.Add(1)
	}
	return &tfprotov6.StopProviderResponse{}, nil
}

func TestContextReleasingServerReleasesWhenIdle(t *testing.T) {
	inner := &fakeInner{}
	s := newContextReleasingServer(inner)
	for range 3*releaseEvery + 1 {
		if _, err := s.GetMetadata(context.Background(), &tfprotov6.GetMetadataRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := inner.stops.Load(); got != 3 {
		t.Errorf("releases = %d, want 3 for %d sequential RPCs", got, 3*releaseEvery+1)
	}
}

// An RPC in flight keeps every release away, however many others finish.
func TestContextReleasingServerNeverReleasesUnderAnRPC(t *testing.T) {
	inner := &fakeInner{gate: make(chan struct{})}
	s := newContextReleasingServer(inner)
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		_, _ = s.GetMetadata(context.Background(), &tfprotov6.GetMetadataRequest{})
	}()
	for inner.inFlight.Load() == 0 {
		runtime.Gosched()
	}
	var wg sync.WaitGroup
	for range 4 * releaseEvery {
		wg.Go(func() { _, _ = s.GetMetadata(context.Background(), &tfprotov6.GetMetadataRequest{}) })
	}
	wg.Wait()
	if got := inner.stops.Load(); got != 0 {
		t.Errorf("%d releases happened while an RPC was in flight", got)
	}
	// A real interrupt goes through at once, RPC in flight or not.
	if _, err := s.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := inner.stopsWhileBusy.Load(); got != 1 {
		t.Errorf("the CLI's StopProvider reached the framework %d times while busy, want 1", got)
	}
	close(inner.gate)
	<-slow
}

// TestContextReleasingServerKeepsFrameworkMemoryFlat measures the
// framework's own server: without the wrapper, the heap grows with every
// RPC; with it, it does not.
func TestContextReleasingServerKeepsFrameworkMemoryFlat(t *testing.T) {
	const calls = 20000
	growth := func(s tfprotov6.ProviderServer) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range calls {
			if _, err := s.GetMetadata(context.Background(), &tfprotov6.GetMetadataRequest{}); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(s)
		if after.HeapAlloc < before.HeapAlloc {
			return 0
		}
		return after.HeapAlloc - before.HeapAlloc
	}
	plain := growth(providerserver.NewProtocol6(New("test")())())
	wrapped := growth(NewProtocol6Server("test")())
	t.Logf("heap growth over %d RPCs: framework alone %d bytes, wrapped %d bytes", calls, plain, wrapped)
	// About 100 bytes per RPC are kept (measured: 1.98 to 2.0 MB over
	// 20,000); half of that still tells a leak from an upstream fix, which
	// would keep nothing, without failing on the measurement's noise.
	if plain < calls*50 {
		t.Fatalf("the framework alone grew by only %d bytes over %d RPCs; the leak this wrapper works around may be fixed upstream", plain, calls)
	}
	if wrapped > plain/10 {
		t.Errorf("wrapped server grew by %d bytes, more than a tenth of the framework alone (%d)", wrapped, plain)
	}
}

// retainingInner keeps every context it is given, as the framework does.
type retainingInner struct {
	tfprotov6.ProviderServer
	mu   sync.Mutex
	kept []context.Context
}

func (r *retainingInner) GetMetadata(ctx context.Context, _ *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	if ctx.Value(bigKey{}) == nil {
		panic("the RPC's values must be visible during the RPC")
	}
	r.mu.Lock()
	r.kept = append(r.kept, ctx)
	r.mu.Unlock()
	return &tfprotov6.GetMetadataResponse{}, nil
}

type bigKey struct{}

// Even when no release can run (an RPC is always in flight), a context the
// framework keeps no longer holds the finished RPC's values.
func TestContextReleasingServerDetachesFinishedRPCs(t *testing.T) {
	inner := &retainingInner{}
	s := newContextReleasingServer(inner)
	s.gate.RLock() // as if another RPC were always in flight
	defer s.gate.RUnlock()
	const calls, size = 200, 1 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range calls {
		ctx := context.WithValue(context.Background(), bigKey{}, make([]byte, size))
		if _, err := s.GetMetadata(ctx, &tfprotov6.GetMetadataRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(inner.kept) != calls || s.releases.Load() != 0 {
		t.Fatalf("kept %d contexts and released %d times; want %d and 0", len(inner.kept), s.releases.Load(), calls)
	}
	if after.HeapAlloc > before.HeapAlloc && after.HeapAlloc-before.HeapAlloc > size*calls/20 {
		grew := after.HeapAlloc - before.HeapAlloc
		t.Errorf("heap grew by %d bytes for %d finished RPCs of %d bytes each: their values are still held", grew, calls, size)
	}
	if v := inner.kept[0].Value(bigKey{}); v != nil || inner.kept[0].Err() == nil {
		t.Error("a finished RPC's context still answers with its values, or is not canceled")
	}
}
