// Command terraform-provider-mtls serves the mtls Terraform/OpenTofu provider,
// which manages Cloudflare account-level mTLS certificates.
package main

import (
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// version is set by the release build (goreleaser -ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	flag.Parse()

	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	// Served as providerserver.Serve would, with the framework's server
	// wrapped to keep memory flat (see provider.NewProtocol6Server).
	if err := tf6server.Serve(provider.RegistryAddress, provider.NewProtocol6Server(version), opts...); err != nil {
		log.Fatal(err.Error())
	}
}
