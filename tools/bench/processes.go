package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// goBuild builds the main package in dir and returns the binary's size.
// GOWORK=off keeps a workspace file above the floor from pulling it into
// another build.
func goBuild(ctx context.Context, dir, out string) (int64, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".") //nolint:gosec // G204: go build into a path of our own.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if output, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build (in %s): %w\n%s", dir, err, output)
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// cleanEnv is the caller's environment without what would change what the
// CLI or a provider does: credentials, a CLI configuration or data
// directory, log levels, and what terraform-exec sets itself (reattach
// values, extra arguments, TF_VAR_*).
func cleanEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "CLOUDFLARE_") && !strings.HasPrefix(k, "TF_LOG") && k != "TF_CLI_CONFIG_FILE" && k != "TF_DATA_DIR" {
			env[k] = v
		}
	}
	return tfexec.CleanEnv(env)
}

func envList(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// The handshake every Terraform protocol 6 provider answers (the values
// terraform-plugin-go's tf6server serves with).
var providerHandshake = plugin.HandshakeConfig{
	MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
}

// newPluginClient launches binary as a CLI launches a provider: the
// go-plugin handshake, gRPC, protocol 6, with automatic mTLS or without.
func newPluginClient(ctx context.Context, binary string, autoMTLS bool) (*plugin.Client, *exec.Cmd) {
	cmd := exec.CommandContext(ctx, binary) //nolint:gosec // G204: a provider binary this benchmark built.
	cmd.Env = envList(cleanEnv())
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  providerHandshake,
		VersionedPlugins: map[int]plugin.PluginSet{6: {}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         autoMTLS,
		Logger:           hclog.NewNullLogger(),
		StartTimeout:     30 * time.Second,
	}), cmd
}

// providerProcess is a provider that serves CLI commands through its
// reattach value until it is stopped.
type providerProcess struct {
	client   *plugin.Client
	cmd      *exec.Cmd
	reattach tfexec.ReattachInfo
}

// startProvider starts the variant's provider without automatic mTLS: a
// reattach value carries no certificates, so the CLI connects in plain gRPC
// over the Unix socket.
func (b *bench) startProvider(ctx context.Context, v variant) (*providerProcess, error) {
	binary, address := b.provider, ourAddress
	if v.floor {
		binary, address = b.floor, floorAddress
	}
	client, cmd := newPluginClient(ctx, binary, false)
	if _, err := client.Start(); err != nil {
		client.Kill()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	rc := client.ReattachConfig()
	return &providerProcess{client: client, cmd: cmd, reattach: tfexec.ReattachInfo{address: {
		Protocol: string(rc.Protocol), ProtocolVersion: client.NegotiatedVersion(), Pid: rc.Pid,
		Test: true, // the CLI leaves the process running after the command
		Addr: tfexec.ReattachConfigAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}}}, nil
}

// stop shuts the provider down over gRPC (or kills it if it lingers) and
// waits for it to exit.
func (p *providerProcess) stop() { p.client.Kill() }

// usage stops the provider and returns its peak RSS and CPU time (user +
// system) over its life, as the kernel accounted them when it exited.
func (p *providerProcess) usage() (rss int64, cpu time.Duration, err error) {
	p.stop()
	if p.cmd.ProcessState == nil {
		return 0, 0, errors.New("the provider was not waited for")
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, errors.New("no resource usage of the provider on this system")
	}
	return ru.Maxrss * 1024, time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil // Maxrss: kilobytes on Linux
}
