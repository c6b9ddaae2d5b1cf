// Command terraform-provider-mtls serves the mtls Terraform/OpenTofu provider,
// which manages Cloudflare account-level mTLS certificates.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// version is set by the release build (goreleaser -ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	flag.Parse()

	tuneGC(os.LookupEnv)
	var opts []tf6server.ServeOpt
	var serverOpts []provider.ServerOption
	if silence := unreadLogs(os.Environ()); silence != nil {
		for _, name := range silence {
			_ = os.Setenv(name, "OFF")
		}
		// go-plugin's own start-up lines go to the CLI the same way.
		opts = append(opts, tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
		serverOpts = append(serverOpts, provider.WithoutRequestLog())
	}
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	} else {
		go exitWhenOrphaned(os.Getppid, orphanCheckInterval, func() { os.Exit(1) })
	}
	// Served as providerserver.Serve would, with the framework's server
	// wrapped to keep memory flat (see provider.NewProtocol6Server).
	if err := tf6server.Serve(provider.RegistryAddress, provider.NewProtocol6Server(version, serverOpts...), opts...); err != nil {
		log.Fatal(err.Error())
	}
}

// orphanCheckInterval is how often the provider checks that its CLI is
// still there: a syscall, cheap enough to bound the requests sent after
// the CLI is gone to a fraction of a second.
const orphanCheckInterval = 250 * time.Millisecond

// exitWhenOrphaned calls exit once the process that started this one (the
// CLI) is gone, checking every interval: a CLI killed with SIGKILL cannot
// stop its providers, whose operations would go on reaching Cloudflare with
// nobody to take their results. Gone means reparented; where a process is
// never reparented (Windows), this never fires, and an RPC's context still
// ends with the CLI's connection.
func exitWhenOrphaned(getppid func() int, interval time.Duration, exit func()) {
	parent := getppid()
	if parent <= 1 {
		return // started by init, or no parent to watch
	}
	for range time.Tick(interval) {
		if getppid() != parent {
			exit()
			return
		}
	}
}

// logLevelVariables set the levels of the protocol's, the framework's and
// the provider's own loggers (terraform-plugin-go names the last after the
// provider: TF_LOG_PROVIDER_MTLS). Unset, terraform-plugin-log runs them at
// TRACE: every line is formatted and sent to the CLI, which drops it unless
// TF_LOG is set. That cost a quarter of the provider's CPU at 1,000
// certificates.
var logLevelVariables = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_MTLS"}

// unreadLogs returns the log level variables to turn off: all of them when
// environ has no TF_LOG* variable (TF_LOG, TF_LOG_PATH, TF_LOG_PROVIDER,
// TF_LOG_SDK..., TF_LOG_CORE), so nobody reads the logs; none otherwise, so
// any log setting keeps its behavior untouched.
func unreadLogs(environ []string) []string {
	if !provider.LogsUnread(environ) {
		return nil
	}
	return logLevelVariables
}

// The garbage collector's settings, chosen with make bench (BENCHMARKS.md):
// at the default GOGC=100 the provider spent a sixth of its CPU collecting
// a heap of about 10 MB. A larger GOGC collects less often; the soft memory
// limit collects sooner when the heap nears it, so peak RSS stays bounded.
const (
	gcPercent   = 400
	memoryLimit = 48 << 20
)

// tuneGC applies gcPercent and memoryLimit unless the user set GOGC or
// GOMEMLIMIT, whose settings then stand as the runtime read them.
func tuneGC(lookup func(string) (string, bool)) (applied bool) {
	_, gogc := lookup("GOGC")
	_, limit := lookup("GOMEMLIMIT")
	if gogc || limit {
		return false
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(memoryLimit)
	return true
}
