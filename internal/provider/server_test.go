package provider

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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

// TestContextReleasingServerServesEveryFrameworkMethod: the protocol
// library finds optional RPCs (list resources, actions, state stores) by
// type assertion on the server it is given, so a method of the framework's
// server that the wrapper lacks would vanish behind it. A framework release
// that adds one fails this test until the wrapper forwards it.
func TestContextReleasingServerServesEveryFrameworkMethod(t *testing.T) {
	framework := reflect.TypeOf(providerserver.NewProtocol6(New("test")())())
	wrapper := reflect.TypeFor[*contextReleasingServer]()
	for i := range framework.NumMethod() {
		want := framework.Method(i)
		got, ok := wrapper.MethodByName(want.Name)
		switch {
		case !ok:
			t.Errorf("the framework's server has %s, which the wrapper does not forward", want.Name)
		case got.Type.NumIn() != want.Type.NumIn() || got.Type.NumOut() != want.Type.NumOut():
			t.Errorf("%s: the wrapper's signature %v differs from the framework's %v", want.Name, got.Type, want.Type)
		default:
			// Past the receiver, the same parameters and results.
			for j := 1; j < want.Type.NumIn(); j++ {
				if got.Type.In(j) != want.Type.In(j) {
					t.Errorf("%s: parameter %d is %v, the framework's %v", want.Name, j, got.Type.In(j), want.Type.In(j))
				}
			}
			for j := range want.Type.NumOut() {
				if got.Type.Out(j) != want.Type.Out(j) {
					t.Errorf("%s: result %d is %v, the framework's %v", want.Name, j, got.Type.Out(j), want.Type.Out(j))
				}
			}
		}
	}
	if framework.NumMethod() < 30 {
		t.Fatalf("the framework's server has only %d methods; the reflection does not see it", framework.NumMethod())
	}
}

// probeProvider is a framework provider with one data source, whose Read
// hands its context to the test and may wait for it.
type probeProvider struct {
	contexts chan context.Context
	// release, when set, holds each Read until it is closed.
	release chan struct{}
}

func (p *probeProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "probe"
}

func (p *probeProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (p *probeProvider) Configure(_ context.Context, _ provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	resp.DataSourceData = "configured"
}

func (p *probeProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *probeProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &probeDataSource{p: p} }}
}

type probeDataSource struct {
	p    *probeProvider
	data any
}

func (d *probeDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "probe"
}

func (d *probeDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = dsschema.Schema{Attributes: map[string]dsschema.Attribute{"id": dsschema.StringAttribute{Computed: true}}}
}

func (d *probeDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, _ *datasource.ConfigureResponse) {
	d.data = req.ProviderData
}

func (d *probeDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data != "configured" {
		resp.Diagnostics.AddError("Not Configured", "the data source has no provider data")
		return
	}
	d.p.contexts <- ctx
	if d.p.release != nil {
		<-d.p.release
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), "probe")...)
}

// TestFrameworkKeepsEveryRPCContext reproduces the framework bug that the
// wrapper works around (CONTRIBUTING.md, "Upstream: the framework keeps
// every RPC's context") and pins the behavior the wrapper relies on:
//   - an RPC's context stays live after the RPC returns, until StopProvider
//     (the bug: it, and all it refers to, is kept);
//   - StopProvider cancels the context of an RPC in flight (so the wrapper
//     releases only while nothing is in flight);
//   - StopProvider does nothing else: the provider stays configured and
//     later RPCs run as before.
//
// When the first point fails, upstream has fixed the bug: remove the
// wrapper. When the last fails, releasing would break later RPCs: stop
// releasing.
func TestFrameworkKeepsEveryRPCContext(t *testing.T) {
	p := &probeProvider{contexts: make(chan context.Context, 16)}
	s := providerserver.NewProtocol6(p)()
	ctx := context.Background()
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}}
	emptyProvider := dynamicValue(t, tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}, tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}, map[string]tftypes.Value{}))
	config := dynamicValue(t, typ, tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, nil)}))
	read := func() (*tfprotov6.ReadDataSourceResponse, error) {
		return s.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "probe", Config: config})
	}
	if resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("GetProviderSchema: %v %v", err, resp.Diagnostics)
	}
	if resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: emptyProvider}); err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
	}
	ok := func(resp *tfprotov6.ReadDataSourceResponse, err error) {
		t.Helper()
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Fatalf("ReadDataSource: %v %v", err, resp.Diagnostics)
		}
	}

	ok(read())
	finished := <-p.contexts
	if finished.Err() != nil {
		t.Fatal("the framework canceled a finished RPC's context before StopProvider; " +
			"if it also no longer keeps it, the bug is fixed upstream and the wrapper can go")
	}

	p.release = make(chan struct{})
	inFlight := make(chan struct{})
	go func() {
		defer close(inFlight)
		ok(read())
	}()
	running := <-p.contexts
	if _, err := s.StopProvider(ctx, &tfprotov6.StopProviderRequest{}); err != nil {
		t.Fatal(err)
	}
	if finished.Err() == nil || running.Err() == nil {
		t.Errorf("after StopProvider: finished RPC's context err %v, running RPC's %v; want both canceled", finished.Err(), running.Err())
	}
	close(p.release)
	<-inFlight

	// Nothing else changed: still configured, and new RPCs get live contexts.
	p.release = nil
	ok(read())
	if after := <-p.contexts; after.Err() != nil {
		t.Errorf("an RPC after StopProvider got a canceled context: %v", after.Err())
	}
}
