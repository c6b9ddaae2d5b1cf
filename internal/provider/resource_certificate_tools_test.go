package provider_test

import (
	"encoding/pem"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

// Keys and certificates as openssl writes them (internal/fixtures), read
// with file() as a configuration would.

// fixtureFile is the absolute path of a fixture, for file() in a
// configuration that plugin-testing runs in a directory of its own.
func fixtureFile(t *testing.T, name string) string {
	t.Helper()
	fixtures.Read(name) // fails loudly on a name that is not a fixture
	abs, err := filepath.Abs(filepath.Join("..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func fileConfig(env *acctest.Env, name string, ca bool, certFile, keyAttr, keyFile string) string {
	key := ""
	if keyFile != "" {
		key = fmt.Sprintf("  %s = file(%q)\n", keyAttr, keyFile)
		if keyAttr == "private_key_wo" {
			key += "  private_key_wo_version = 1\n"
		}
	}
	return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "this" {
  name         = %q
  ca           = %t
  certificates = file(%q)
%s}
`, name, ca, certFile, key)
}

// TestAccCertificate_keysAsOpensslWritesThem: every key form openssl writes
// (PKCS#1, PKCS#8, SEC 1, SEC 1 after EC PARAMETERS, Ed25519) and files saved
// on Windows (byte-order mark, CRLF) upload with their certificate and plan
// empty after. Cloudflare gets the key block alone.
func TestAccCertificate_keysAsOpensslWritesThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, cert string }{
		{"rsa-pkcs1-key.pem", "rsa-pkcs1-cert.pem"},             // openssl genrsa -traditional
		{"rsa-pkcs1-topk8-key.pem", "rsa-pkcs1-cert.pem"},       // openssl pkcs8 -topk8
		{"rsa-genpkey-key.pem", "rsa-genpkey-cert.pem"},         // openssl genpkey -algorithm RSA
		{"rsa-genrsa-key.pem", "rsa-genrsa-cert.pem"},           // openssl genrsa (PKCS#8 since 3.0)
		{"ec-p256-ecparam-key.pem", "ec-p256-ecparam-cert.pem"}, // openssl ecparam -genkey: EC PARAMETERS first
		{"ec-p256-noout-key.pem", "ec-p256-noout-cert.pem"},     // openssl ecparam -genkey -noout
		{"ec-p256-genpkey-key.pem", "ec-p256-genpkey-cert.pem"}, // openssl genpkey -algorithm EC
		{"ec-p384-ecparam-key.pem", "ec-p384-ecparam-cert.pem"},
		{"ed25519-key.pem", "ed25519-cert.pem"},
		{"leaf-key.pem", "leaf-cert.pem"}, // signed by ca-cert.pem
		{"leaf-bom-key.pem", "leaf-bom-cert.pem"},
		{"leaf-crlf-key.pem", "leaf-crlf-cert.pem"},
		{"leaf-bom-crlf-key.pem", "leaf-bom-crlf-cert.pem"},
	} {
		t.Run(strings.TrimSuffix(tc.key, "-key.pem"), func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.RequireEmulator(t) // the same fixture certificate in every run: no twin on a live account
			name := acctest.UniqueName(t)
			keyPEM := fixtures.Read(tc.key)
			config := fileConfig(env, name, false, fixtureFile(t, tc.cert), "private_key", fixtureFile(t, tc.key))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps: []resource.TestStep{
					{
						Config: config,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						Check: func(*terraform.State) error {
							return checkUploadedKeyBlock(env, keyPEM)
						},
					},
					{PreConfig: expectUploads(t, env, 1), Config: config, PlanOnly: true},
				},
			})
		})
	}
}

// checkUploadedKeyBlock checks that the emulator got exactly one PEM block,
// the key, and none of what surrounds it in the file.
func checkUploadedKeyBlock(env *acctest.Env, file string) error {
	stored := env.Emulator.Certificates(env.AccountID)
	if len(stored) != 1 {
		return fmt.Errorf("the emulator holds %d certificates, want 1", len(stored))
	}
	sent := stored[0].PrivateKey
	block, rest := pem.Decode([]byte(sent))
	switch {
	case block == nil:
		return fmt.Errorf("the uploaded key is not PEM")
	case strings.TrimSpace(string(rest)) != "" || strings.HasPrefix(sent, "\uFEFF") || strings.Contains(sent, "\r"):
		return fmt.Errorf("the uploaded key holds more than its key block:\n%s", sent)
	case block.Type == "EC PARAMETERS" || !strings.HasSuffix(block.Type, "PRIVATE KEY"):
		return fmt.Errorf("the uploaded block is %q, want the private key", block.Type)
	case !strings.Contains(file, pemBodyLine(block)):
		return fmt.Errorf("the uploaded key is not the key of the file")
	}
	return nil
}

// pemBodyLine is the first base64 line of a block, as encoding/pem writes it.
func pemBodyLine(b *pem.Block) string {
	body := string(pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes}))
	lines := strings.Split(body, "\n")
	return lines[1]
}

// TestAccCertificate_bundleAsOpensslWritesIt: two CA certificates joined by
// cat, as a CA bundle file usually is.
func TestAccCertificate_bundleAsOpensslWritesIt(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	name := acctest.UniqueName(t)
	config := fileConfig(env, name, true, fixtureFile(t, "ca-bundle.pem"), "", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: resource.TestCheckResourceAttr("mtls_certificate.this", "certificate_count", "2"),
		}},
	})
}

// TestAccCertificate_encryptedKeyStopsAtPlan: a passphrase-protected key
// is refused before any upload, with the command that decrypts it, in
// private_key and in private_key_wo.
func TestAccCertificate_encryptedKeyStopsAtPlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, cert, attr string }{
		{"rsa-genpkey-encrypted-key.pem", "rsa-genpkey-cert.pem", "private_key"},         // ENCRYPTED PRIVATE KEY
		{"rsa-pkcs1-encrypted-key.pem", "rsa-pkcs1-cert.pem", "private_key"},             // Proc-Type: 4,ENCRYPTED
		{"ec-p256-ecparam-encrypted-key.pem", "ec-p256-ecparam-cert.pem", "private_key"}, // legacy EC, after EC PARAMETERS
		{"rsa-genpkey-encrypted-key.pem", "rsa-genpkey-cert.pem", "private_key_wo"},
	} {
		t.Run(strings.TrimSuffix(tc.key, "-key.pem")+" in "+tc.attr, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.RequireEmulator(t)
			config := fileConfig(env, acctest.UniqueName(t), false, fixtureFile(t, tc.cert), tc.attr, fixtureFile(t, tc.key))
			if tc.attr == "private_key_wo" {
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: acctest.Factories(),
					TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.WriteOnlyAttributes)},
					Steps:                    []resource.TestStep{{Config: config, ExpectError: encryptedKeyError(tc.attr)}},
				})
				return
			}
			expectErrorBeforeUpload(t, env, config, "Private Key Is Encrypted", "The "+tc.attr+" value is passphrase-protected",
				"openssl pkey -in key.pem -out key-plain.pem")
		})
	}
}

func encryptedKeyError(attr string) *regexp.Regexp {
	return acctest.ExpectErrorFragments("Private Key Is Encrypted", "The "+attr+" value is passphrase-protected",
		"openssl pkey -in key.pem -out key-plain.pem")
}
