package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/protobuf/types/known/emptypb"
)

// getProviderSchemaMethod is the gRPC method of tfplugin6 that a CLI calls
// first. Its request has no fields, so an empty message encodes it; the
// reply is kept as unknown fields of an Empty, enough to see what it names.
const getProviderSchemaMethod = "/tfplugin6.Provider/GetProviderSchema"

// startupStats are the timed start-ups, sorted.
type startupStats []time.Duration

// measureStartups launches the provider as a CLI does (go-plugin handshake,
// automatic mTLS, gRPC) and times each launch from exec to the
// GetProviderSchema reply, which must describe mtls_certificate.
func measureStartups(ctx context.Context, binary string, runs int) (startupStats, error) {
	var times startupStats
	for range runs {
		d, err := timeOneStartup(ctx, binary)
		if err != nil {
			return nil, fmt.Errorf("provider start-up: %w", err)
		}
		times = append(times, d)
	}
	slices.Sort(times)
	return times, nil
}

func timeOneStartup(ctx context.Context, binary string) (time.Duration, error) {
	client, _ := newPluginClient(ctx, binary, true) // as Terraform and OpenTofu launch providers
	defer client.Kill()
	start := time.Now()
	rpc, err := client.Client()
	if err != nil {
		return 0, err
	}
	conn, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		return 0, fmt.Errorf("unexpected plugin client %T", rpc)
	}
	var reply emptypb.Empty
	if err := conn.Conn.Invoke(ctx, getProviderSchemaMethod, &emptypb.Empty{}, &reply); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	if !bytes.Contains(reply.ProtoReflect().GetUnknown(), []byte("mtls_certificate")) {
		return 0, errors.New("the GetProviderSchema reply does not describe mtls_certificate")
	}
	return elapsed, nil
}

// median of sorted values.
func median[T ~int64](sorted []T) T {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
