package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The protocol library finds the optional RPCs (list resources, actions,
// state stores) by type assertion on the server it serves, so the wrapper
// must have them all or they vanish behind it. It forwards each to the
// framework, and keeps a list request's context attached until its results
// have been read: the framework lists lazily, while the stream is read.

// With ProviderServer, these make the protocol library's (deprecated,
// temporary) ProviderServerWithListResource, ...WithActions and
// ...WithStateStores, which it asserts.
var (
	_ tfprotov6.ListResourceServer = (*contextReleasingServer)(nil)
	_ tfprotov6.ActionServer       = (*contextReleasingServer)(nil)
	_ tfprotov6.StateStoreServer   = (*contextReleasingServer)(nil)
)

// optional returns the wrapped server as the optional interface T, or an
// error naming the RPC when it does not serve it.
func optional[T any](s *contextReleasingServer, rpc string) (T, error) {
	inner, ok := s.inner.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("the provider's server does not serve %s (%T)", rpc, s.inner)
	}
	return inner, nil
}

func (s *contextReleasingServer) ValidateListResourceConfig(ctx context.Context, req *tfprotov6.ValidateListResourceConfigRequest) (*tfprotov6.ValidateListResourceConfigResponse, error) {
	inner, err := optional[tfprotov6.ListResourceServer](s, "ValidateListResourceConfig")
	if err != nil {
		return nil, err
	}
	ctx, end := s.enter(ctx)
	defer end()
	return inner.ValidateListResourceConfig(ctx, req)
}

func (s *contextReleasingServer) ListResource(ctx context.Context, req *tfprotov6.ListResourceRequest) (*tfprotov6.ListResourceServerStream, error) {
	inner, err := optional[tfprotov6.ListResourceServer](s, "ListResource")
	if err != nil {
		return nil, err
	}
	ctx, end := s.enter(ctx)
	stream, err := inner.ListResource(ctx, req)
	if err != nil || stream == nil || stream.Results == nil {
		end()
		return stream, err
	}
	results := stream.Results
	stream.Results = func(yield func(tfprotov6.ListResourceResult) bool) {
		defer end()
		results(yield)
	}
	return stream, nil
}

// Actions and state stores: the provider has none, so the framework answers
// with its own diagnostics; the requests go through as they came.

func (s *contextReleasingServer) ValidateActionConfig(ctx context.Context, req *tfprotov6.ValidateActionConfigRequest) (*tfprotov6.ValidateActionConfigResponse, error) {
	inner, err := optional[tfprotov6.ActionServer](s, "ValidateActionConfig")
	if err != nil {
		return nil, err
	}
	return inner.ValidateActionConfig(ctx, req)
}

func (s *contextReleasingServer) PlanAction(ctx context.Context, req *tfprotov6.PlanActionRequest) (*tfprotov6.PlanActionResponse, error) {
	inner, err := optional[tfprotov6.ActionServer](s, "PlanAction")
	if err != nil {
		return nil, err
	}
	return inner.PlanAction(ctx, req)
}

func (s *contextReleasingServer) InvokeAction(ctx context.Context, req *tfprotov6.InvokeActionRequest) (*tfprotov6.InvokeActionServerStream, error) {
	inner, err := optional[tfprotov6.ActionServer](s, "InvokeAction")
	if err != nil {
		return nil, err
	}
	return inner.InvokeAction(ctx, req)
}

func (s *contextReleasingServer) ValidateStateStoreConfig(ctx context.Context, req *tfprotov6.ValidateStateStoreConfigRequest) (*tfprotov6.ValidateStateStoreConfigResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "ValidateStateStoreConfig")
	if err != nil {
		return nil, err
	}
	return inner.ValidateStateStoreConfig(ctx, req)
}

func (s *contextReleasingServer) ConfigureStateStore(ctx context.Context, req *tfprotov6.ConfigureStateStoreRequest) (*tfprotov6.ConfigureStateStoreResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "ConfigureStateStore")
	if err != nil {
		return nil, err
	}
	return inner.ConfigureStateStore(ctx, req)
}

func (s *contextReleasingServer) ReadStateBytes(ctx context.Context, req *tfprotov6.ReadStateBytesRequest) (*tfprotov6.ReadStateBytesStream, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "ReadStateBytes")
	if err != nil {
		return nil, err
	}
	return inner.ReadStateBytes(ctx, req)
}

func (s *contextReleasingServer) WriteStateBytes(ctx context.Context, req *tfprotov6.WriteStateBytesStream) (*tfprotov6.WriteStateBytesResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "WriteStateBytes")
	if err != nil {
		return nil, err
	}
	return inner.WriteStateBytes(ctx, req)
}

func (s *contextReleasingServer) GetStates(ctx context.Context, req *tfprotov6.GetStatesRequest) (*tfprotov6.GetStatesResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "GetStates")
	if err != nil {
		return nil, err
	}
	return inner.GetStates(ctx, req)
}

func (s *contextReleasingServer) DeleteState(ctx context.Context, req *tfprotov6.DeleteStateRequest) (*tfprotov6.DeleteStateResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "DeleteState")
	if err != nil {
		return nil, err
	}
	return inner.DeleteState(ctx, req)
}

func (s *contextReleasingServer) LockState(ctx context.Context, req *tfprotov6.LockStateRequest) (*tfprotov6.LockStateResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "LockState")
	if err != nil {
		return nil, err
	}
	return inner.LockState(ctx, req)
}

func (s *contextReleasingServer) UnlockState(ctx context.Context, req *tfprotov6.UnlockStateRequest) (*tfprotov6.UnlockStateResponse, error) {
	inner, err := optional[tfprotov6.StateStoreServer](s, "UnlockState")
	if err != nil {
		return nil, err
	}
	return inner.UnlockState(ctx, req)
}
