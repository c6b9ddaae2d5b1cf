package provider_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// The benchmarks send the protocol 6 server the requests a CLI sends, so each
// RPC's CPU and allocations show in review (go test -bench . -benchmem).

// The value helpers are shared with the package's internal tests
// (values_internal_test.go).
var (
	objectWith   = provider.ObjectWith
	dynamicValue = provider.DynamicValue
	decode       = provider.Decode
)

const certificateType = "mtls_certificate"

// rpcLogging is the loggers an RPC's context carries: tf6server builds them
// per RPC in a plugin; a direct call has none, and tflog then does nothing.
type rpcLogging struct {
	name  string
	level hclog.Level // NoLevel: no loggers at all
}

var rpcLoggings = []rpcLogging{
	{"loggers=none", hclog.NoLevel},
	// main.go turns every level OFF when no TF_LOG* variable is set.
	{"loggers=off", hclog.Off},
	// terraform-plugin-log's default, and TF_LOG=TRACE: every line is
	// formatted as JSON and sent to the CLI.
	{"loggers=trace", hclog.Trace},
}

// serverOptions are how main.go serves with these loggers: with the log
// levels OFF, it serves WithoutRequestLog.
func (l rpcLogging) serverOptions() []provider.ServerOption {
	if l.level == hclog.Off {
		return []provider.ServerOption{provider.WithoutRequestLog()}
	}
	return nil
}

// context is a new RPC's context with loggers built as tf6server builds
// them; tf6server's own protocol lines are not written.
func (l rpcLogging) context(rpc string) context.Context {
	ctx := context.Background()
	if l.level == hclog.NoLevel {
		return ctx
	}
	ctx = tfsdklog.NewRootSDKLogger(ctx, tfsdklog.WithLevel(l.level))
	ctx = tfsdklog.NewSubsystem(ctx, "proto", tfsdklog.WithAdditionalLocationOffset(1), tfsdklog.WithLevel(l.level))
	ctx = tfsdklog.NewRootProviderLogger(ctx, tfsdklog.WithLogName("mtls"), tflog.WithLevel(l.level))
	fields := map[string]any{
		"tf_req_id":        requestID(),
		"tf_provider_addr": provider.RegistryAddress,
		"tf_rpc":           rpc,
		"tf_resource_type": certificateType,
	}
	for k, v := range fields {
		ctx = tfsdklog.SetField(ctx, k, v)
		ctx = tfsdklog.SubsystemSetField(ctx, "proto", k, v)
		ctx = tflog.SetField(ctx, k, v)
	}
	return tfsdklog.SubsystemSetField(ctx, "proto", "tf_proto_version", "6.11")
}

// requestID is shaped like tf6server's per-RPC UUID, so log lines are as long.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// captureStderr sends os.Stderr, which loggers write to when built, down a
// drained pipe until the returned function reports the bytes written.
func captureStderr(tb testing.TB) func() int64 {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	var written int64
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		written, _ = io.Copy(io.Discard, r)
	}()
	stopped := false
	stop := func() int64 {
		if !stopped {
			stopped = true
			os.Stderr = saved
			_ = w.Close()
			<-drained
			_ = r.Close()
		}
		return written
	}
	tb.Cleanup(func() { stop() })
	return stop
}

// rpcFixture is a configured provider server with its own emulator, and the
// configuration of one leaf certificate with its key.
type rpcFixture struct {
	server       tfprotov6.ProviderServer
	api          *emulator.Running
	schema       *tfprotov6.Schema
	typ          tftypes.Type
	identityType tftypes.Type
	provider     *tfprotov6.DynamicValue
	accountID    string
	name         string
	leafDER      []byte
	config       tftypes.Value
	// requests counts API requests since the last ConfigureProvider.
	requests int
}

func newRPCFixture(tb testing.TB, l rpcLogging) *rpcFixture {
	tb.Helper()
	return newRPCFixtureWith(tb, l, emulator.Options{})
}

// newRPCFixtureWith is newRPCFixture with an emulator of these options; its
// token is set here.
func newRPCFixtureWith(tb testing.TB, l rpcLogging, opts emulator.Options) *rpcFixture {
	tb.Helper()
	token := "bench-token-" + randomHexTB(tb, 8)
	opts.APIToken = token
	api, err := emulator.Start(opts)
	if err != nil {
		tb.Fatalf("starting the emulator: %v", err)
	}
	tb.Cleanup(api.Close)
	f := &rpcFixture{
		server:    provider.NewProtocol6Server("bench", l.serverOptions()...)(),
		api:       api,
		accountID: randomHexTB(tb, 16),
		name:      "bench-leaf",
	}
	ctx := context.Background()
	schemas, err := f.server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	requireNoErrors(tb, "GetProviderSchema", schemas, err)
	if f.schema = schemas.ResourceSchemas[certificateType]; f.schema == nil {
		tb.Fatalf("GetProviderSchema has no %s", certificateType)
	}
	f.typ = f.schema.ValueType()
	identities, err := f.server.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	requireNoErrors(tb, "GetResourceIdentitySchemas", identities, err)
	if identity := identities.IdentitySchemas[certificateType]; identity != nil {
		f.identityType = identity.ValueType()
	}

	providerType := schemas.Provider.ValueType()
	f.provider = dynamicValue(tb, providerType, objectWith(tb, providerType, map[string]tftypes.Value{
		"base_url":   tftypes.NewValue(tftypes.String, api.URL()),
		"api_token":  tftypes.NewValue(tftypes.String, token),
		"account_id": tftypes.NewValue(tftypes.String, f.accountID),
		// One GET per ReadResource: with batch refresh, reads after the
		// first would be served from a listing and measure a map lookup.
		"batch_refresh": tftypes.NewValue(tftypes.Bool, false),
	}))
	f.configure(tb)

	// A leaf and its key as openssl wrote them (internal/fixtures).
	certPEM, keyPEM := fixtures.Read("leaf-cert.pem"), fixtures.Read("leaf-key.pem")
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		tb.Fatal("the leaf fixture is not PEM")
	}
	f.leafDER = block.Bytes
	f.config = objectWith(tb, f.typ, map[string]tftypes.Value{
		"name":         tftypes.NewValue(tftypes.String, f.name),
		"ca":           tftypes.NewValue(tftypes.Bool, false),
		"certificates": tftypes.NewValue(tftypes.String, certPEM),
		"private_key":  tftypes.NewValue(tftypes.String, keyPEM),
	})
	return f
}

// configure sends ConfigureProvider, which also gives the provider a new
// client with a full rate-limit bucket.
func (f *rpcFixture) configure(tb testing.TB) {
	tb.Helper()
	resp, err := f.server.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion:   "1.12.2",
		Config:             f.provider,
		ClientCapabilities: &tfprotov6.ConfigureProviderClientCapabilities{},
	})
	requireNoErrors(tb, "ConfigureProvider", resp, err)
	f.requests = 0
}

// checkRequests fails unless want requests reached route since the last
// check. Past half the client's burst it configures a fresh client, so no
// call waits on the 4-a-second rate limit. Call it with the timer stopped.
func (f *rpcFixture) checkRequests(tb testing.TB, route string, want int) {
	tb.Helper()
	if got := f.api.RequestCount(route); got != want {
		tb.Fatalf("%d %s requests reached the emulator, want %d", got, route, want)
	}
	for _, n := range f.api.RequestCounts() {
		f.requests += n
	}
	f.api.ResetCounts()
	if f.requests > cfapi.RateLimitBurst/2 {
		f.configure(tb)
	}
}

// proposedNew is Terraform's proposed new state: the configuration, with each
// computed attribute it leaves null taken from prior, or unknown on create.
func (f *rpcFixture) proposedNew(tb testing.TB, prior tftypes.Value) tftypes.Value {
	tb.Helper()
	config := attributes(tb, f.config)
	vals := maps.Clone(config)
	var old map[string]tftypes.Value
	if !prior.IsNull() {
		old = attributes(tb, prior)
	}
	for _, a := range f.schema.Block.Attributes {
		if !a.Computed || !config[a.Name].IsNull() {
			continue
		}
		if old == nil {
			vals[a.Name] = tftypes.NewValue(a.ValueType(), tftypes.UnknownValue)
		} else {
			vals[a.Name] = old[a.Name]
		}
	}
	return tftypes.NewValue(f.typ, vals)
}

func (f *rpcFixture) validateRequest(tb testing.TB) *tfprotov6.ValidateResourceConfigRequest {
	return &tfprotov6.ValidateResourceConfigRequest{
		TypeName:           certificateType,
		Config:             dynamicValue(tb, f.typ, f.config),
		ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
	}
}

func (f *rpcFixture) planCreateRequest(tb testing.TB) *tfprotov6.PlanResourceChangeRequest {
	none := tftypes.NewValue(f.typ, nil)
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:           certificateType,
		PriorState:         dynamicValue(tb, f.typ, none),
		ProposedNewState:   dynamicValue(tb, f.typ, f.proposedNew(tb, none)),
		Config:             dynamicValue(tb, f.typ, f.config),
		ClientCapabilities: &tfprotov6.PlanResourceChangeClientCapabilities{},
		PriorIdentity:      f.nullIdentity(tb),
	}
}

func (f *rpcFixture) applyCreateRequest(tb testing.TB, plan *tfprotov6.PlanResourceChangeResponse) *tfprotov6.ApplyResourceChangeRequest {
	return &tfprotov6.ApplyResourceChangeRequest{
		TypeName:        certificateType,
		PriorState:      dynamicValue(tb, f.typ, tftypes.NewValue(f.typ, nil)),
		PlannedState:    plan.PlannedState,
		Config:          dynamicValue(tb, f.typ, f.config),
		PlannedPrivate:  plan.PlannedPrivate,
		PlannedIdentity: plan.PlannedIdentity,
	}
}

// planNoOpRequest is the plan of an unchanged configuration after applied.
func (f *rpcFixture) planNoOpRequest(tb testing.TB, applied *tfprotov6.ApplyResourceChangeResponse) *tfprotov6.PlanResourceChangeRequest {
	prior := decode(tb, f.typ, applied.NewState)
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:           certificateType,
		PriorState:         applied.NewState,
		ProposedNewState:   dynamicValue(tb, f.typ, f.proposedNew(tb, prior)),
		Config:             dynamicValue(tb, f.typ, f.config),
		PriorPrivate:       applied.Private,
		ClientCapabilities: &tfprotov6.PlanResourceChangeClientCapabilities{},
		PriorIdentity:      applied.NewIdentity,
	}
}

// readRequest is the refresh of the state applied left.
func (f *rpcFixture) readRequest(applied *tfprotov6.ApplyResourceChangeResponse) *tfprotov6.ReadResourceRequest {
	return &tfprotov6.ReadResourceRequest{
		TypeName:           certificateType,
		CurrentState:       applied.NewState,
		Private:            applied.Private,
		ClientCapabilities: &tfprotov6.ReadResourceClientCapabilities{},
		CurrentIdentity:    applied.NewIdentity,
	}
}

// nullIdentity is the identity Terraform 1.12+ sends before a create; nil
// when the resource has no identity schema.
func (f *rpcFixture) nullIdentity(tb testing.TB) *tfprotov6.ResourceIdentityData {
	if f.identityType == nil {
		return nil
	}
	return &tfprotov6.ResourceIdentityData{IdentityData: dynamicValue(tb, f.identityType, tftypes.NewValue(f.identityType, nil))}
}

// create plans and applies the certificate, for calls that need it to exist.
func (f *rpcFixture) create(tb testing.TB) (*tfprotov6.PlanResourceChangeResponse, *tfprotov6.ApplyResourceChangeResponse) {
	tb.Helper()
	ctx := context.Background()
	plan, err := f.server.PlanResourceChange(ctx, f.planCreateRequest(tb))
	requireNoErrors(tb, "PlanResourceChange", plan, err)
	applied, err := f.server.ApplyResourceChange(ctx, f.applyCreateRequest(tb, plan))
	requireNoErrors(tb, "ApplyResourceChange", applied, err)
	if applied.NewState == nil {
		tb.Fatal("ApplyResourceChange returned no state")
	}
	return plan, applied
}

// benchEachLogging runs bench under each rpcLogging; bench sets up, resets
// the timer and loops, taking each RPC's context from rpcCtx.
func benchEachLogging(b *testing.B, rpc string, bench func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context)) {
	for _, l := range rpcLoggings {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			f := newRPCFixture(b, l)
			var logged func() int64
			if l.level != hclog.NoLevel {
				logged = captureStderr(b)
			}
			bench(b, f, func() context.Context { return l.context(rpc) })
			b.StopTimer()
			if logged != nil {
				// Setup runs without loggers, so every byte is from the loop.
				b.ReportMetric(float64(logged())/float64(b.N), "log-B/op")
			}
		})
	}
}

func BenchmarkValidateResourceConfig(b *testing.B) {
	benchEachLogging(b, "ValidateResourceConfig", func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context) {
		req := f.validateRequest(b)
		b.ResetTimer()
		for range b.N {
			resp, err := f.server.ValidateResourceConfig(rpcCtx(), req)
			requireNoErrors(b, "ValidateResourceConfig", resp, err)
		}
	})
}

func BenchmarkPlanResourceChangeCreate(b *testing.B) {
	benchEachLogging(b, "PlanResourceChange", func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context) {
		req := f.planCreateRequest(b)
		b.ResetTimer()
		for range b.N {
			resp, err := f.server.PlanResourceChange(rpcCtx(), req)
			requireNoErrors(b, "PlanResourceChange", resp, err)
		}
	})
}

func BenchmarkPlanResourceChangeNoOp(b *testing.B) {
	benchEachLogging(b, "PlanResourceChange", func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context) {
		_, applied := f.create(b)
		req := f.planNoOpRequest(b, applied)
		b.ResetTimer()
		for range b.N {
			resp, err := f.server.PlanResourceChange(rpcCtx(), req)
			requireNoErrors(b, "PlanResourceChange", resp, err)
			if len(resp.RequiresReplace) > 0 {
				b.Fatalf("the unchanged configuration plans a replacement: %v", resp.RequiresReplace)
			}
		}
	})
}

// Each create uploads the same certificate, which the emulator refuses
// twice (1471), so its store is emptied between calls.
func BenchmarkApplyResourceChangeCreate(b *testing.B) {
	benchEachLogging(b, "ApplyResourceChange", func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context) {
		plan, err := f.server.PlanResourceChange(context.Background(), f.planCreateRequest(b))
		requireNoErrors(b, "PlanResourceChange", plan, err)
		req := f.applyCreateRequest(b, plan)
		b.ResetTimer()
		for range b.N {
			resp, err := f.server.ApplyResourceChange(rpcCtx(), req)
			requireNoErrors(b, "ApplyResourceChange", resp, err)
			b.StopTimer()
			f.checkRequests(b, emulator.RouteUpload, 1)
			f.api.Reset()
			b.StartTimer()
		}
	})
}

// Each refresh GETs the certificate from the emulator.
func BenchmarkReadResource(b *testing.B) {
	benchEachLogging(b, "ReadResource", func(b *testing.B, f *rpcFixture, rpcCtx func() context.Context) {
		_, applied := f.create(b)
		req := f.readRequest(applied)
		f.api.ResetCounts()
		const checkEvery = 500
		b.ResetTimer()
		for i := range b.N {
			resp, err := f.server.ReadResource(rpcCtx(), req)
			requireNoErrors(b, "ReadResource", resp, err)
			if resp.NewState == nil {
				b.Fatal("ReadResource returned no state")
			}
			if done := i + 1; done%checkEvery == 0 || done == b.N {
				b.StopTimer()
				f.checkRequests(b, emulator.RouteGet, (done-1)%checkEvery+1)
				b.StartTimer()
			}
		}
	})
}

// TestRPCBenchmarkRequests sends each benchmarked request once per
// rpcLogging, so a benchmark cannot quietly measure a failing call.
func TestRPCBenchmarkRequests(t *testing.T) {
	for _, l := range rpcLoggings {
		t.Run(l.name, func(t *testing.T) {
			f := newRPCFixture(t, l)
			var logged func() int64
			if l.level != hclog.NoLevel {
				logged = captureStderr(t)
			}
			str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
			sum := sha256.Sum256(f.leafDER)
			fingerprint := hex.EncodeToString(sum[:])

			validated, err := f.server.ValidateResourceConfig(l.context("ValidateResourceConfig"), f.validateRequest(t))
			requireNoErrors(t, "ValidateResourceConfig", validated, err)

			plan, err := f.server.PlanResourceChange(l.context("PlanResourceChange"), f.planCreateRequest(t))
			requireNoErrors(t, "PlanResourceChange (create)", plan, err)
			planned := attributes(t, decode(t, f.typ, plan.PlannedState))
			wantAttributes(t, "planned create", planned, map[string]tftypes.Value{
				"name":               str(f.name),
				"account_id":         str(f.accountID),
				"fingerprint_sha256": str(fingerprint),
				"certificate_count":  tftypes.NewValue(tftypes.Number, 1),
			})
			if planned["id"].IsKnown() {
				t.Errorf("planned create: id = %v, want unknown", planned["id"])
			}

			applied, err := f.server.ApplyResourceChange(l.context("ApplyResourceChange"), f.applyCreateRequest(t, plan))
			requireNoErrors(t, "ApplyResourceChange", applied, err)
			f.checkRequests(t, emulator.RouteUpload, 1)
			state := decode(t, f.typ, applied.NewState)
			if !state.IsFullyKnown() {
				t.Errorf("applied state has unknown values: %v", state)
			}
			stateAttrs := attributes(t, state)
			wantAttributes(t, "applied", stateAttrs, map[string]tftypes.Value{
				"name":               str(f.name),
				"fingerprint_sha256": str(fingerprint),
			})
			var id string
			if err := stateAttrs["id"].As(&id); err != nil || id == "" {
				t.Fatalf("applied state has no id: %v", stateAttrs["id"])
			}

			noOp, err := f.server.PlanResourceChange(l.context("PlanResourceChange"), f.planNoOpRequest(t, applied))
			requireNoErrors(t, "PlanResourceChange (no-op)", noOp, err)
			if len(noOp.RequiresReplace) > 0 {
				t.Errorf("no-op plan requires replacement of %v", noOp.RequiresReplace)
			}
			if plannedNoOp := decode(t, f.typ, noOp.PlannedState); !plannedNoOp.Equal(state) {
				t.Errorf("no-op plan changes the state:\nplanned %v\nprior   %v", plannedNoOp, state)
			}

			read, err := f.server.ReadResource(l.context("ReadResource"), f.readRequest(applied))
			requireNoErrors(t, "ReadResource", read, err)
			f.checkRequests(t, emulator.RouteGet, 1)
			refreshed := decode(t, f.typ, read.NewState)
			wantAttributes(t, "refreshed", attributes(t, refreshed), map[string]tftypes.Value{"id": str(id)})
			if !refreshed.Equal(state) {
				t.Errorf("refresh changes the state:\nread    %v\napplied %v", refreshed, state)
			}

			if logged != nil {
				n := logged()
				if l.level == hclog.Trace && n == 0 {
					t.Error("TRACE loggers wrote nothing: the benchmark would not measure logging")
				}
				if l.level == hclog.Off && n != 0 {
					t.Errorf("loggers at OFF wrote %d bytes", n)
				}
				t.Logf("%s: %d bytes of logs for the five RPCs", l.name, n)
			}
		})
	}
}

func wantAttributes(t *testing.T, what string, got, want map[string]tftypes.Value) {
	t.Helper()
	for name, w := range want {
		if !got[name].Equal(w) {
			t.Errorf("%s: %s = %v, want %v", what, name, got[name], w)
		}
	}
}

// response is every protocol response these tests check.
type response interface {
	*tfprotov6.GetProviderSchemaResponse | *tfprotov6.GetResourceIdentitySchemasResponse |
		*tfprotov6.ConfigureProviderResponse | *tfprotov6.ValidateResourceConfigResponse |
		*tfprotov6.PlanResourceChangeResponse | *tfprotov6.ApplyResourceChangeResponse |
		*tfprotov6.ReadResourceResponse
}

// requireNoErrors stops the test or benchmark at a failed call: a benchmark
// of a failing call measures nothing of interest.
func requireNoErrors[R response](tb testing.TB, rpc string, resp R, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", rpc, err)
	}
	var diags []*tfprotov6.Diagnostic
	switch r := any(resp).(type) {
	case *tfprotov6.GetProviderSchemaResponse:
		diags = r.Diagnostics
	case *tfprotov6.GetResourceIdentitySchemasResponse:
		diags = r.Diagnostics
	case *tfprotov6.ConfigureProviderResponse:
		diags = r.Diagnostics
	case *tfprotov6.ValidateResourceConfigResponse:
		diags = r.Diagnostics
	case *tfprotov6.PlanResourceChangeResponse:
		diags = r.Diagnostics
	case *tfprotov6.ApplyResourceChangeResponse:
		diags = r.Diagnostics
	case *tfprotov6.ReadResourceResponse:
		diags = r.Diagnostics
	}
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			tb.Fatalf("%s: error diagnostic at %v: %s: %s", rpc, d.Attribute, d.Summary, d.Detail)
		}
	}
}

func attributes(tb testing.TB, v tftypes.Value) map[string]tftypes.Value {
	tb.Helper()
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		tb.Fatalf("not an object: %v", err)
	}
	return m
}

func randomHexTB(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}
