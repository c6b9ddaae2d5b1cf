package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The handshake every Terraform protocol 6 provider answers (the values
// terraform-plugin-go's tf6server serves with).
var providerHandshake = plugin.HandshakeConfig{
	MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
}

// getProviderSchemaMethod is the gRPC method of tfplugin6 that a CLI calls
// first. Its request message has no fields, so an empty message encodes it;
// the reply is kept as unknown fields of an Empty, which is enough to
// receive it in full and check what it names.
const getProviderSchemaMethod = "/tfplugin6.Provider/GetProviderSchema"

// startupStats summarizes the timed start-ups.
type startupStats struct {
	runs                int
	median, best, worst time.Duration
	schemaBytes         int
}

// measureStartups launches the provider as a CLI does (go-plugin handshake,
// automatic mTLS, gRPC) and times each launch from exec to the
// GetProviderSchema reply, which must describe resourceType.
func measureStartups(ctx context.Context, binary string, env []string, runs int, resourceType string) (startupStats, error) {
	times := make([]time.Duration, 0, runs)
	var size int
	for range runs {
		d, n, err := timeOneStartup(ctx, binary, env, resourceType)
		if err != nil {
			return startupStats{}, fmt.Errorf("provider start-up: %w", err)
		}
		times = append(times, d)
		size = n
	}
	slices.Sort(times)
	return startupStats{
		runs:        runs,
		median:      median(times),
		best:        times[0],
		worst:       times[len(times)-1],
		schemaBytes: size,
	}, nil
}

func timeOneStartup(ctx context.Context, binary string, env []string, resourceType string) (time.Duration, int, error) {
	cmd := exec.CommandContext(ctx, binary) //nolint:gosec // G702: the provider binary this benchmark just built.
	cmd.Env = env
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  providerHandshake,
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": schemaClientPlugin{}}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true, // as Terraform and OpenTofu launch providers
		Logger:           hclog.NewNullLogger(),
		StartTimeout:     30 * time.Second,
	})
	defer client.Kill()

	start := time.Now()
	rpc, err := client.Client()
	if err != nil {
		return 0, 0, err
	}
	raw, err := rpc.Dispense("provider")
	if err != nil {
		return 0, 0, err
	}
	conn, ok := raw.(*grpc.ClientConn)
	if !ok {
		return 0, 0, fmt.Errorf("unexpected plugin client %T", raw)
	}
	var reply emptypb.Empty
	if err := conn.Invoke(ctx, getProviderSchemaMethod, &emptypb.Empty{}, &reply); err != nil {
		return 0, 0, err
	}
	elapsed := time.Since(start)

	schema := reply.ProtoReflect().GetUnknown()
	if !bytes.Contains(schema, []byte(resourceType)) {
		return 0, 0, fmt.Errorf("the GetProviderSchema reply does not describe %s", resourceType)
	}
	return elapsed, len(schema), nil
}

// schemaClientPlugin hands out the raw gRPC connection to the provider.
type schemaClientPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (schemaClientPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the benchmark only acts as a client")
}

func (schemaClientPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return conn, nil
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
