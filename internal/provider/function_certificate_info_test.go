package provider_test

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// The function needs no provider block: plugin-testing adds the provider to
// required_providers, and functions run on an unconfigured provider, so these
// tests hold no credentials and start no emulator.

// functionTestCase runs steps on a CLI that has provider functions.
func functionTestCase(steps ...resource.TestStep) resource.TestCase {
	return resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.ProviderFunctions)},
		Steps:                    steps,
	}
}

// pemLocal is a locals block with text in local.pem, as a heredoc so the
// PEM needs no escaping. Callers never pass text with ${ or %{.
func pemLocal(text string) string {
	return fmt.Sprintf("locals {\n  pem = <<EOT\n%s\nEOT\n}\n", strings.TrimRight(text, "\n"))
}

// certificateInfoOutput is a configuration with output "info" set to the
// function's result for text.
func certificateInfoOutput(text string) string {
	return pemLocal(text) + `
output "info" {
  value = provider::mtls::certificate_info(local.pem)
}
`
}

// expectedInfo is what the function must return for cert, computed here from
// the parsed certificate rather than by the provider's code.
type expectedInfo struct {
	subject, issuer, keyAlgorithm string
	dnsNames                      []string
	isCA                          bool
	count                         int64
}

func (e expectedInfo) check(cert *x509.Certificate) knownvalue.Check {
	dns := make([]knownvalue.Check, 0, len(e.dnsNames))
	for _, name := range e.dnsNames {
		dns = append(dns, knownvalue.StringExact(name))
	}
	var dnsCheck knownvalue.Check = knownvalue.ListExact(dns)
	if len(dns) == 0 {
		dnsCheck = knownvalue.ListSizeExact(0)
	}
	sum := sha256.Sum256(cert.Raw)
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"subject":            knownvalue.StringExact(e.subject),
		"issuer":             knownvalue.StringExact(e.issuer),
		"serial_number":      knownvalue.StringExact(cert.SerialNumber.Text(10)),
		"not_before":         knownvalue.StringExact(cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z")),
		"not_after":          knownvalue.StringExact(cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z")),
		"is_ca":              knownvalue.Bool(e.isCA),
		"dns_names":          dnsCheck,
		"fingerprint_sha256": knownvalue.StringExact(hex.EncodeToString(sum[:])),
		"key_algorithm":      knownvalue.StringExact(e.keyAlgorithm),
		"certificate_count":  knownvalue.Int64Exact(e.count),
	})
}

func TestAccFunctionCertificateInfo_leafInBundle(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA("info root")
	leaf := testcerts.New(testcerts.Options{
		Subject:  pkix.Name{CommonName: "client.example.com"},
		DNSNames: []string{"client.example.com", "api.example.com"},
		Parent:   ca,
	})

	resource.Test(t, functionTestCase(resource.TestStep{
		// The leaf comes first: it is the one described, and the CA after it
		// only counts.
		Config: certificateInfoOutput(testcerts.Bundle(leaf, ca)),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("info", expectedInfo{
				subject:      "CN=client.example.com",
				issuer:       "CN=info root,O=tf-mtls tests",
				keyAlgorithm: "ECDSA-P-256",
				dnsNames:     []string{"client.example.com", "api.example.com"},
				isCA:         false,
				count:        2,
			}.check(leaf.X509)),
		},
	}))
}

func TestAccFunctionCertificateInfo_ca(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA("info ca")

	resource.Test(t, functionTestCase(resource.TestStep{
		Config: certificateInfoOutput(ca.PEM),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("info", expectedInfo{
				subject:      "CN=info ca,O=tf-mtls tests",
				issuer:       "CN=info ca,O=tf-mtls tests",
				keyAlgorithm: "ECDSA-P-256",
				isCA:         true,
				count:        1,
			}.check(ca.X509)),
		},
	}))
}

// With a provider block the function still works. OpenTofu configures the
// provider before calling its functions, so this block must hold working
// credentials there; Terraform calls functions on an unconfigured provider.
func TestAccFunctionCertificateInfo_withConfiguredProvider(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("info configured")

	resource.Test(t, functionTestCase(resource.TestStep{
		Config: env.ProviderConfig() + certificateInfoOutput(ca.PEM),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("info", expectedInfo{
				subject:      "CN=info configured,O=tf-mtls tests",
				issuer:       "CN=info configured,O=tf-mtls tests",
				keyAlgorithm: "ECDSA-P-256",
				isCA:         true,
				count:        1,
			}.check(ca.X509)),
		},
	}))
}

func TestAccFunctionCertificateInfo_keyAlgorithms(t *testing.T) {
	t.Parallel()
	rsaCert := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "rsa.example.com"}, Key: testcerts.RSAKey(2048)})
	edCert := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "ed25519.example.com"}, Key: testcerts.Ed25519Key()})

	resource.Test(t, functionTestCase(
		resource.TestStep{
			Config: certificateInfoOutput(rsaCert.PEM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("info", expectedInfo{
					subject:      "CN=rsa.example.com",
					issuer:       "CN=rsa.example.com",
					keyAlgorithm: "RSA-2048",
					count:        1,
				}.check(rsaCert.X509)),
			},
		},
		resource.TestStep{
			Config: certificateInfoOutput(edCert.PEM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("info", expectedInfo{
					subject:      "CN=ed25519.example.com",
					issuer:       "CN=ed25519.example.com",
					keyAlgorithm: "Ed25519",
					count:        1,
				}.check(edCert.X509)),
			},
		},
	))
}

// The argument is unknown at plan time when it comes from a resource: the
// result is unknown then, and the certificate is described at apply.
func TestAccFunctionCertificateInfo_unknownUntilApply(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA("info unknown")
	sum := sha256.Sum256(ca.X509.Raw)

	resource.Test(t, functionTestCase(resource.TestStep{
		Config: pemLocal(ca.PEM) + `
resource "terraform_data" "pem" {
  input = local.pem
}

output "fingerprint" {
  value = provider::mtls::certificate_info(terraform_data.pem.output).fingerprint_sha256
}
`,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{plancheck.ExpectUnknownOutputValue("fingerprint")},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("fingerprint", knownvalue.StringExact(hex.EncodeToString(sum[:]))),
		},
	}))
}

func TestAccFunctionCertificateInfo_invalidInput(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA("info invalid")
	publicDER, err := x509.MarshalPKIXPublicKey(ca.X509.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER}))

	resource.Test(t, functionTestCase(
		resource.TestStep{
			// The usual mix-up: tls_private_key.x.public_key_pem for cert_pem.
			Config:      certificateInfoOutput(publicPEM),
			ExpectError: acctest.ExpectErrorFragments("Invalid certificate PEM:", "public key", "Expected one or more PEM CERTIFICATE blocks"),
		},
		resource.TestStep{
			Config:      certificateInfoOutput("this is not a certificate"),
			ExpectError: acctest.ExpectErrorFragments("Invalid certificate PEM:", "no PEM data found", "Expected one or more PEM CERTIFICATE blocks"),
		},
		resource.TestStep{
			Config:      certificateInfoOutput(strings.Replace(ca.PEM, "-----\n", "-----\ngarbage inside the block\n", 1)),
			ExpectError: acctest.ExpectErrorFragments("Invalid certificate PEM:", "PEM block 1 is not valid PEM"),
		},
		resource.TestStep{
			Config: `
output "info" {
  value = provider::mtls::certificate_info(null)
}
`,
			ExpectError: acctest.ExpectErrorFragments(`"pem"`, "must not be null"),
		},
	))
}

// checkExpiryConfig is the registry example's pattern: a check block that
// warns when the certificate expires within 30 days. The output evaluates
// the same condition, so the test sees which way it went.
func checkExpiryConfig(text string) string {
	return pemLocal(text) + `
check "certificate_not_expiring" {
  assert {
    condition     = timecmp(provider::mtls::certificate_info(local.pem).not_after, timeadd(plantimestamp(), "720h")) > 0
    error_message = "The certificate expires within 30 days."
  }
}

output "valid_beyond_30_days" {
  value = timecmp(provider::mtls::certificate_info(local.pem).not_after, timeadd(plantimestamp(), "720h")) > 0
}
`
}

func TestAccFunctionCertificateInfo_checkBlock(t *testing.T) {
	t.Parallel()
	longLived := testcerts.NewCA("info long lived")
	now := time.Now().UTC().Truncate(time.Second)
	expiringSoon := testcerts.New(testcerts.Options{
		Subject:   pkix.Name{CommonName: "expiring.example.com"},
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(10 * 24 * time.Hour),
		Parent:    longLived,
	})

	resource.Test(t, functionTestCase(
		resource.TestStep{
			Config: checkExpiryConfig(longLived.PEM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("valid_beyond_30_days", knownvalue.Bool(true)),
			},
		},
		resource.TestStep{
			// A failing check block only warns: the apply goes through.
			Config: checkExpiryConfig(expiringSoon.PEM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("valid_beyond_30_days", knownvalue.Bool(false)),
			},
		},
	))
}
