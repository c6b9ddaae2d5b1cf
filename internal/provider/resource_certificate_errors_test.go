package provider_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func caConfig(providerBlock, name, pemText string) string {
	return providerBlock + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  name         = %q
  ca           = true
  certificates = %q
}
`, name, strings.TrimSpace(pemText))
}

// expectErrorBeforeUpload runs a single step that must fail with an error
// holding fragments, and checks that the emulator received no upload: the
// error has to come from validation or configuration, not from the API.
func expectErrorBeforeUpload(t *testing.T, env *acctest.Env, config string, fragments ...string) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: acctest.ExpectErrorFragments(fragments...),
		}},
	})
	if env.Emulator != nil {
		if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 0 {
			t.Fatalf("emulator saw %d upload(s); this error must stop before any request", n)
		}
	}
}

// TestAccCertificate_destroyInUse: Cloudflare refuses to delete a
// certificate a service uses. Destroy must name the service and status,
// keep the certificate in state and in the account, and succeed once the
// service lets go.
func TestAccCertificate_destroyInUse(t *testing.T) {
	t.Parallel()
	env := acctest.NewWithOptions(t, emulator.Options{InUseStatus: 400, InUseCode: 1499})
	env.RequireEmulator(t)
	ca := testcerts.NewCA("in use root")
	name := acctest.UniqueName(t)
	// A short delete timeout: associations that never change would
	// otherwise be waited for (see the drain tests).
	config := strings.Replace(caConfig(env.ProviderConfig(), name, ca.PEM), "  ca           = true\n",
		"  ca           = true\n  timeouts {\n    delete = \"8s\"\n  }\n", 1)
	stored := func() emulator.Certificate {
		certs := env.Emulator.Certificates(env.AccountID)
		if len(certs) != 1 {
			t.Fatalf("emulator holds %d certificates, want 1", len(certs))
		}
		return certs[0]
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					env.Emulator.SetAssociations(env.AccountID, stored().ID, []emulator.Association{
						{Service: "gateway", Status: "pending_deployment"},
						{Service: "access", Status: "active"},
					})
				},
				Config:      config,
				Destroy:     true,
				ExpectError: acctest.ExpectErrorFragments("Unable to Delete mTLS Certificate", "still used by 2 Cloudflare services", `service "gateway" (status "pending_deployment")`, `service "access" (status "active")`, "delete timeout ran out after waiting", "Nothing was deleted"),
			},
			{
				// Nothing was lost: the certificate is still in the account
				// and in state, with the same id.
				PreConfig: func() {
					stored()
					env.Emulator.ClearAssociations()
				},
				Config: config,
				Check: func(s *terraform.State) error {
					if got, want := s.RootModule().Resources["mtls_certificate.ca"].Primary.ID, stored().ID; got != want {
						return fmt.Errorf("state id %q, emulator id %q", got, want)
					}
					return nil
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("name"), knownvalue.StringExact(name)),
				},
			},
		},
	})
}

// TestAccCertificate_destroyRefusedNotInUse: a refused delete with no
// associations shows the API's own code and message.
func TestAccCertificate_destroyRefusedNotInUse(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("refused root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteDelete, Status: 400, Code: 1420, Message: "Certificate cannot be deleted"})
				},
				Config:      config,
				Destroy:     true,
				ExpectError: acctest.ExpectErrorFragments("no service is using it", "code 1420: Certificate cannot be deleted"),
			},
		},
	})
}

// TestAccCertificate_destroyRefusalsNeverBlameServices: a refused delete
// is classified before the associations are asked. Each case gives the
// certificate a service, so a provider that asked would report it "in use"
// and wait; none may.
func TestAccCertificate_destroyRefusalsNeverBlameServices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault emulator.Fault
		want  []string
	}{
		{"403 permission", emulator.Fault{Status: 403, Code: 9109, Message: "Unauthorized to access requested resource"},
			[]string{"because of the credentials", `"SSL and Certificates" Edit permission (ssl:edit)`, "Nothing was deleted", "code 9109"}},
		{"401 token", emulator.Fault{Status: 401, Code: 10000, Message: "Authentication error"},
			[]string{"because of the credentials", "code 10000: Authentication error"}},
		// Refusals for the rate limit are waited out beyond max_retries,
		// until the timeout: this one asks for more than the 2 minutes.
		{"429 past the timeout", emulator.Fault{Status: 429, RetryAfter: "600", Code: 971, Message: "Please wait"},
			[]string{"Cloudflare could not delete certificate", "HTTP 429", "asked to wait 10m0s", "timeouts block", "code 971: Please wait"}},
		{"408 after retries", emulator.Fault{Status: 408}, []string{"Cloudflare could not delete certificate", "HTTP 408"}},
		{"503 after retries", emulator.Fault{Status: 503}, []string{"Cloudflare could not delete certificate", "HTTP 503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.RequireEmulator(t)
			ca := testcerts.NewCA("refusal root")
			name := acctest.UniqueName(t)
			config := caConfig(env.ProviderConfigWith(fmt.Sprintf("  api_token = %q\n  account_id = %q\n  max_retries = 1", env.Token, env.AccountID)), name, ca.PEM)
			var started time.Time
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(),
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps: []resource.TestStep{
					{Config: config},
					{
						PreConfig: func() {
							stored := env.Emulator.Certificates(env.AccountID)
							env.Emulator.SetAssociations(env.AccountID, stored[0].ID, []emulator.Association{{Service: "gateway", Status: "active"}})
							f := tc.fault
							f.Route, f.Times = emulator.RouteDelete, max(f.Times, 2)
							env.Emulator.InjectFault(f)
							env.Emulator.ResetCounts()
							started = time.Now()
						},
						Config:      config,
						Destroy:     true,
						ExpectError: acctest.ExpectErrorFragments(append([]string{"Unable to Delete mTLS Certificate"}, tc.want...)...),
					},
					{
						PreConfig: func() {
							if n := env.Emulator.RequestCount(emulator.RouteAssociations); n != 0 {
								t.Errorf("%d associations requests: this refusal is no sign of use", n)
							}
							if waited := time.Since(started); waited > 20*time.Second {
								t.Errorf("the refused destroy took %s; it must not wait for services", waited.Round(time.Second))
							}
							if n := env.Emulator.CertificateCount(env.AccountID); n != 1 {
								t.Errorf("emulator holds %d certificates after the refused destroy, want 1", n)
							}
							env.Emulator.ClearAssociations()
							env.Emulator.ClearFaults()
						},
						Config:             config,
						PlanOnly:           true,
						ExpectNonEmptyPlan: false,
					},
				},
			})
		})
	}
}

func TestAccCertificate_apiKeyAuth(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("api key root")
	name := acctest.UniqueName(t)
	providerBlock := env.ProviderConfigWith(fmt.Sprintf("  api_key = %q\n  api_email = %q\n  account_id = %q", env.Key, env.Email, env.AccountID))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{
				Config: caConfig(providerBlock, name, ca.PEM),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("type"), knownvalue.StringExact("custom")),
				},
			},
		},
	})
}

func TestAccCertificate_wrongCredentials(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("wrong credentials root")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		Steps: []resource.TestStep{
			{
				Config:      caConfig(env.ProviderConfigWith(fmt.Sprintf("  api_token = \"not-the-token\"\n  account_id = %q", env.AccountID)), "x", ca.PEM),
				ExpectError: acctest.ExpectErrorFragments("Unable to Create mTLS Certificate", "Check that the credentials are valid", "HTTP 403", "code 10000: Authentication error"),
			},
		},
	})
	if n := env.Emulator.CertificateCount(env.AccountID); n != 0 {
		t.Fatalf("emulator holds %d certificates after a refused upload", n)
	}
}

func TestAccProvider_configurationErrors(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("provider config root")
	cases := map[string]struct {
		body string
		want []string
	}{
		"conflicting schemes":   {`api_token = "a"` + "\n" + `api_key = "b"` + "\n" + `api_email = "c@example.com"`, []string{"Conflicting Cloudflare Credentials"}},
		"key without email":     {`api_key = "b"`, []string{`Incomplete Cloudflare Credentials`, `api_email`}},
		"no credentials":        {``, []string{`Missing Cloudflare Credentials`, `CLOUDFLARE_API_TOKEN`}},
		"http to a remote host": {`api_token = "a"` + "\n" + `base_url = "http://api.example.com/client/v4"`, []string{`Invalid Cloudflare API Base URL`, `only https is allowed`}},
		"bad account id":        {`api_token = "a"` + "\n" + `account_id = "ACCOUNT"`, []string{`Invalid Attribute Value Match`, `32 lowercase hexadecimal`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "no credentials" && acctest.IsLive() {
				t.Skip("credentials come from the environment when live")
			}
			block := "provider \"mtls\" {\n" + tc.body + "\n}\n"
			if !strings.Contains(tc.body, "base_url") {
				block = env.ProviderConfigWith(tc.body)
			}
			expectErrorBeforeUpload(t, env, caConfig(block, "x", ca.PEM), tc.want...)
		})
	}
}

func TestAccCertificate_missingAccount(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("missing account root")
	expectErrorBeforeUpload(t, env, caConfig(env.ProviderConfigWith(fmt.Sprintf("  api_token = %q", env.Token)), "x", ca.PEM),
		"Missing Account ID", "CLOUDFLARE_ACCOUNT_ID")
}

func TestAccCertificate_invalidPEMStopsBeforeUpload(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("invalid pem root")
	expired := testcerts.ExpiredCA("expired root", 49*time.Hour)
	cases := map[string]struct {
		text string
		want []string
	}{
		"public key":          {"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----", []string{`Invalid Certificate PEM`, `this is a public key`, `pass the certificate instead`}},
		"csr":                 {"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----", []string{`Invalid Certificate PEM`, `signing request (CSR)`}},
		"text inside a block": {strings.Replace(ca.PEM, "-----\n", "-----\nSerial Number: 01\n", 1), []string{`Invalid Certificate PEM`, `PEM block 1 is not valid PEM`}},
		"not pem":             {"hello", []string{`Invalid Certificate PEM`, `no PEM data found`}},
		"key in certificates": {ca.PEM + ca.KeyPEM, []string{`Invalid Certificate PEM`, `"PRIVATE KEY"`, `belongs in private_key`}},
		"empty":               {" \n ", []string{`Invalid Certificate PEM`, `the text is empty`}},
		"does not parse":      {"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", []string{`Invalid Certificate PEM`, `certificate 1 of 1 does not parse`}},
		"expired":             {expired.PEM, []string{`Certificate Expired`, `Certificate 1 of 1 (subject "CN=expired root`, `expired on ` + expired.X509.NotAfter.UTC().Format(time.RFC3339), `(2 days ago)`, `Pass a renewed certificate`}},
		"expired first":       {expired.PEM + ca.PEM, []string{`Certificate Expired`, `Certificate 1 of 2 (subject "CN=expired root`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expectErrorBeforeUpload(t, env, caConfig(env.ProviderConfig(), "x", tc.text), tc.want...)
		})
	}
}

func TestAccCertificate_invalidPrivateKeyStopsBeforeUpload(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("private key root")
	leaf := root.Issue("key.example.com")
	other := root.Issue("other.example.com")
	cases := map[string]struct {
		key  string
		want []string
	}{
		"key of another certificate": {other.KeyPEM, []string{"Private Key Does Not Match Certificate", "does not match the public key of the first certificate"}},
		"not a key":                  {"hello", []string{"Invalid Private Key", "no PEM data found"}},
		"certificate as key":         {leaf.PEM, []string{"Invalid Private Key", "belongs in certificates"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  ca           = false
  certificates = %q
  private_key  = %q
}
`, leaf.PEM, tc.key)
			expectErrorBeforeUpload(t, env, config, tc.want...)
		})
	}
}

func TestAccCertificate_malformedImportID(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("import id root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)
	steps := []resource.TestStep{{Config: config}}
	for _, id := range []string{"a/b/c", "not-an-account/0123", env.AccountID + "/has spaces"} {
		steps = append(steps, resource.TestStep{
			Config:        config,
			ResourceName:  "mtls_certificate.ca",
			ImportState:   true,
			ImportStateId: id,
			ExpectError:   acctest.ExpectErrorFragments("Invalid Import ID", "expected <account_id>/<certificate_id>"),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps:                    steps,
	})
}

// TestAccProvider_unknownConfigurationAtPlan: provider arguments that come
// from other resources are unknown at plan time. That is not an error; the
// client is set up at apply, once they are known.
func TestAccProvider_unknownConfigurationAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("unknown provider config root")
	name := acctest.UniqueName(t)
	config := fmt.Sprintf(`
resource "terraform_data" "credentials" {
  input = %q
}

provider "mtls" {
  base_url   = %q
  api_token  = terraform_data.credentials.output
  account_id = %q
}
`, env.Token, env.Emulator.URL(), env.AccountID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.TerraformData)},
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{{
			Config: caConfig(config, name, ca.PEM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("mtls_certificate.ca", tfjsonpath.New("account_id"), knownvalue.StringExact(env.AccountID)),
			},
		}},
	})
}

// TestAccCertificate_unknownAtPlanCheckedBeforeUpload: values that come
// from other resources are unknown at plan time, so their checks run at
// apply, still before the upload.
func TestAccCertificate_unknownAtPlanCheckedBeforeUpload(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("unknown at plan root")
	leaf := root.Issue("unknown.example.com")
	other := root.Issue("other-unknown.example.com")
	expired := testcerts.ExpiredCA("expired unknown", time.Hour)
	cases := map[string]struct {
		certificates, key string
		want              []string
	}{
		"public key":      {"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----", "", []string{"Invalid Certificate PEM", "this is a public key"}},
		"key mismatch":    {leaf.PEM, other.KeyPEM, []string{"Private Key Does Not Match Certificate"}},
		"key not parsing": {leaf.PEM, "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", []string{"Invalid Private Key", "does not parse"}},
		"expired":         {expired.PEM, "", []string{"Certificate Expired", "expired unknown"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			key := "null"
			if tc.key != "" {
				key = "terraform_data.input.output.key"
			}
			config := env.ProviderConfig() + fmt.Sprintf(`
resource "terraform_data" "input" {
  input = {
    certificates = %q
    key          = %q
  }
}

resource "mtls_certificate" "leaf" {
  ca           = false
  certificates = terraform_data.input.output.certificates
  private_key  = %s
}
`, tc.certificates, tc.key, key)
			expectErrorBeforeUpload(t, env, config, tc.want...)
		})
	}
}

// TestAccCertificate_postconditionFailsAtPlan: the details are known at plan
// time, so a postcondition on them stops the plan before any upload.
func TestAccCertificate_postconditionFailsAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("postcondition root") // valid for a year
	config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "ca" {
  ca           = true
  certificates = %q

  lifecycle {
    postcondition {
      condition     = timecmp(self.not_after, timeadd(plantimestamp(), "9600h")) > 0
      error_message = "The CA ${self.subject} expires within 400 days."
    }
  }
}
`, ca.PEM)
	expectErrorBeforeUpload(t, env, config, "Resource postcondition failed", "The CA CN=postcondition root,O=tf-mtls tests expires within 400 days")
}
