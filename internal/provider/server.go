package provider

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// releaseEvery is how many RPCs may leave their context with the framework
// before the server tries to release them.
const releaseEvery = 64

// NewProtocol6Server returns the provider's protocol 6 server: the
// framework's (providerserver.NewProtocol6), wrapped only so that memory
// stays flat over long runs. Every RPC is the framework's, whatever the
// options.
//
// The wrapper works around a framework bug, written up in CONTRIBUTING.md
// ("Upstream: the framework keeps every RPC's context"), reproduced by
// TestFrameworkKeepsEveryRPCContext: terraform-plugin-framework v1.19.0
// keeps each RPC's cancel function, and so its context, until StopProvider.
func NewProtocol6Server(version string, opts ...ServerOption) func() tfprotov6.ProviderServer {
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	return func() tfprotov6.ProviderServer {
		p := &mtlsProvider{version: version, withoutRequestLog: o.withoutRequestLog}
		return newContextReleasingServer(providerserver.NewProtocol6(p)())
	}
}

// ServerOption changes what NewProtocol6Server logs, never what it runs.
type ServerOption func(*serverOptions)

type serverOptions struct{ withoutRequestLog bool }

// WithoutRequestLog leaves out the API client's request log (each request
// and answer, decoded and redacted), for a process whose logs nobody reads
// (LogsUnread).
func WithoutRequestLog() ServerOption {
	return func(o *serverOptions) { o.withoutRequestLog = true }
}

// LogsUnread is true when environ has no TF_LOG* variable (TF_LOG,
// TF_LOG_PATH, TF_LOG_PROVIDER, TF_LOG_SDK..., TF_LOG_CORE): then nobody
// reads the provider's logs.
func LogsUnread(environ []string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "TF_LOG") {
			return false
		}
	}
	return true
}

// DefaultServerOptions are the options main.go serves with in environ:
// WithoutRequestLog when LogsUnread. Tests that serve the provider
// in-process use them too.
func DefaultServerOptions(environ []string) []ServerOption {
	if LogsUnread(environ) {
		return []ServerOption{WithoutRequestLog()}
	}
	return nil
}

type contextReleasingServer struct {
	inner tfprotov6.ProviderServer

	// gate is held shared by every RPC and exclusively by a release.
	gate sync.RWMutex
	// sinceRelease counts RPCs since the last release.
	sinceRelease atomic.Int64
	// releases counts releases, for tests.
	releases atomic.Int64
}

func newContextReleasingServer(inner tfprotov6.ProviderServer) *contextReleasingServer {
	return &contextReleasingServer{inner: inner}
}

// enter marks an RPC in flight and gives the framework a context it can
// keep without keeping the RPC's: once the RPC ends, the context lets go of
// its parent. The returned function ends the RPC and, when enough contexts
// are held and nothing else is in flight, releases them.
func (s *contextReleasingServer) enter(ctx context.Context) (context.Context, func()) {
	s.gate.RLock()
	rc := newRPCContext(ctx)
	return rc, func() {
		rc.detach()
		s.gate.RUnlock()
		if s.sinceRelease.Add(1) < releaseEvery || !s.gate.TryLock() {
			return
		}
		defer s.gate.Unlock()
		s.sinceRelease.Store(0)
		s.releases.Add(1)
		// Nothing is in flight: this cancels only contexts of finished RPCs.
		_, _ = s.inner.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{})
	}
}

// rpcContext is an RPC's context until detach, and after it a small,
// canceled context that refers to nothing of the RPC (its values, such as
// the per-request loggers, can then be collected).
type rpcContext struct {
	parent   atomic.Pointer[context.Context]
	done     <-chan struct{}
	deadline time.Time
	hasDL    bool
}

func newRPCContext(parent context.Context) *rpcContext {
	c := &rpcContext{done: parent.Done()}
	c.deadline, c.hasDL = parent.Deadline()
	c.parent.Store(&parent)
	return c
}

func (c *rpcContext) detach() { c.parent.Store(nil) }

func (c *rpcContext) Deadline() (time.Time, bool) { return c.deadline, c.hasDL }

func (c *rpcContext) Done() <-chan struct{} { return c.done }

func (c *rpcContext) Err() error {
	if p := c.parent.Load(); p != nil {
		return (*p).Err()
	}
	return context.Canceled
}

func (c *rpcContext) Value(key any) any {
	if p := c.parent.Load(); p != nil {
		return (*p).Value(key)
	}
	return nil
}

// AfterFunc lets contexts derived from this one follow its cancellation
// without a goroutine each (see context.AfterFunc).
func (c *rpcContext) AfterFunc(f func()) func() bool {
	if p := c.parent.Load(); p != nil {
		return context.AfterFunc(*p, f)
	}
	go f()
	return func() bool { return false }
}

// StopProvider is the CLI's interrupt: it must reach RPCs in flight, so it
// does not wait for them.
func (s *contextReleasingServer) StopProvider(ctx context.Context, req *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return s.inner.StopProvider(ctx, req)
}

func (s *contextReleasingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ApplyResourceChange(ctx, req)
}

func (s *contextReleasingServer) CallFunction(ctx context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.CallFunction(ctx, req)
}

func (s *contextReleasingServer) CloseEphemeralResource(ctx context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.CloseEphemeralResource(ctx, req)
}

func (s *contextReleasingServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ConfigureProvider(ctx, req)
}

func (s *contextReleasingServer) GenerateResourceConfig(ctx context.Context, req *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.GenerateResourceConfig(ctx, req)
}

func (s *contextReleasingServer) GetFunctions(ctx context.Context, req *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.GetFunctions(ctx, req)
}

func (s *contextReleasingServer) GetMetadata(ctx context.Context, req *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.GetMetadata(ctx, req)
}

func (s *contextReleasingServer) GetProviderSchema(ctx context.Context, req *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.GetProviderSchema(ctx, req)
}

func (s *contextReleasingServer) GetResourceIdentitySchemas(ctx context.Context, req *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.GetResourceIdentitySchemas(ctx, req)
}

func (s *contextReleasingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ImportResourceState(ctx, req)
}

func (s *contextReleasingServer) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.MoveResourceState(ctx, req)
}

func (s *contextReleasingServer) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.OpenEphemeralResource(ctx, req)
}

func (s *contextReleasingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.PlanResourceChange(ctx, req)
}

func (s *contextReleasingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ReadDataSource(ctx, req)
}

func (s *contextReleasingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ReadResource(ctx, req)
}

func (s *contextReleasingServer) RenewEphemeralResource(ctx context.Context, req *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.RenewEphemeralResource(ctx, req)
}

func (s *contextReleasingServer) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.UpgradeResourceIdentity(ctx, req)
}

func (s *contextReleasingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.UpgradeResourceState(ctx, req)
}

func (s *contextReleasingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ValidateDataResourceConfig(ctx, req)
}

func (s *contextReleasingServer) ValidateEphemeralResourceConfig(ctx context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ValidateEphemeralResourceConfig(ctx, req)
}

func (s *contextReleasingServer) ValidateProviderConfig(ctx context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ValidateProviderConfig(ctx, req)
}

func (s *contextReleasingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	ctx, end := s.enter(ctx)
	defer end()
	return s.inner.ValidateResourceConfig(ctx, req)
}
