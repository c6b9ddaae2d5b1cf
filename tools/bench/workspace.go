package main

import (
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// generateCertificates makes n distinct self-signed CA certificates (the
// emulator refuses duplicate uploads), valid well clear of the provider's
// expiry warning.
func generateCertificates(n int) []string {
	pems := make([]string, n)
	for i := range pems {
		subject := pkix.Name{CommonName: fmt.Sprintf("Bench CA %d", i), Organization: []string{"terraform-provider-mtls bench"}}
		pems[i] = testcerts.New(testcerts.Options{Subject: subject, IsCA: true}).PEM
	}
	return pems
}

// writeWorkspace writes the configuration of one cell: len(pems) CA
// certificates from a tfvars file, and a provider block pointing at the
// emulator plus the variant's extra attributes.
func writeWorkspace(dir, baseURL, token string, v variant, pems []string) error {
	return writeWorkspaceNamed(dir, baseURL, token, v, pems, "bench")
}

// writeWorkspaceNamed is writeWorkspace with the certificates of our
// provider named <prefix>-<index>, so workspaces that share an account can
// tell theirs apart.
func writeWorkspaceNamed(dir, baseURL, token string, v variant, pems []string, prefix string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil { //nolint:gosec // G703: a folder in the benchmark's temporary directory.
		return err
	}
	config := ourConfig(baseURL, token, v.hcl, prefix)
	if v.floor {
		config = floorConfig(baseURL, token)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil { //nolint:gosec // G703: see MkdirAll above.
		return err
	}
	vars, err := json.Marshal(map[string][]string{"pems": pems})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "terraform.tfvars.json"), vars, 0o600) //nolint:gosec // G703: see MkdirAll above.
}

// ourConfig is our provider's configuration. Its source names the registry
// host so that the address matches the one the provider prints in -debug
// mode, whichever CLI runs it.
func ourConfig(baseURL, token, extraHCL, namePrefix string) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    mtls = {
      source = "registry.terraform.io/tf-mtls/mtls"
    }
  }
}

provider "mtls" {
`)
	fmt.Fprintf(&b, "  base_url   = %s\n", strconv.Quote(baseURL))
	fmt.Fprintf(&b, "  api_token  = %s\n", strconv.Quote(token))
	fmt.Fprintf(&b, "  account_id = %s\n", strconv.Quote(benchAccountID))
	if extraHCL != "" {
		b.WriteString("\n  # variant\n")
		for line := range strings.SplitSeq(strings.TrimSpace(extraHCL), "\n") {
			b.WriteString("  " + strings.TrimSpace(line) + "\n")
		}
	}
	b.WriteString(`}

variable "pems" {
  type = list(string)
}

resource "mtls_certificate" "c" {
  count        = length(var.pems)
`)
	fmt.Fprintf(&b, "  name         = \"%s-${count.index}\"\n", namePrefix)
	b.WriteString(`  ca           = true
  certificates = var.pems[count.index]
}
`)
	return b.String()
}

// floorConfig gives the floor the same certificates, under the address it
// is reattached as; it takes the account per resource, as it has no
// provider-level one.
func floorConfig(baseURL, token string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    floor = {
      source = %s
    }
  }
}

provider "floor" {
`, strconv.Quote(floorAddress))
	fmt.Fprintf(&b, "  base_url  = %s\n", strconv.Quote(baseURL))
	fmt.Fprintf(&b, "  api_token = %s\n", strconv.Quote(token))
	b.WriteString(`}

variable "pems" {
  type = list(string)
}

resource "floor_certificate" "c" {
  count        = length(var.pems)
`)
	fmt.Fprintf(&b, "  account_id   = %s\n", strconv.Quote(benchAccountID))
	b.WriteString(`  name         = "bench-${count.index}"
  ca           = true
  certificates = var.pems[count.index]
}
`)
	return b.String()
}
