package provider_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// movedUploadedAt stamps the emulator's uploads in the move tests. Its
// fraction has trailing zeros, which Cloudflare (and so the v5 provider)
// writes and mtls_certificate does not, so the tests see the move
// normalize the time.
var movedUploadedAt = time.Date(2026, 3, 4, 5, 6, 7, 120_000_000, time.UTC)

const (
	movedFrom = "cloudflare_mtls_certificate.ca"
	movedTo   = "mtls_certificate.ca"
)

// officialConfig is the configuration a user of the official provider has.
// An empty name or key is left out, as such a user would.
func officialConfig(env *acctest.Env, name string, ca bool, certificates, key string) string {
	return env.ProviderConfig() + fmt.Sprintf(`
resource "cloudflare_mtls_certificate" "ca" {
  account_id   = %q
  ca           = %t
  certificates = %q
%s}
`, env.AccountID, ca, certificates, optionalArgs(name, key))
}

// movedConfig moves the official resource to mtls_certificate, whose
// arguments hold the same certificates in other text.
func movedConfig(env *acctest.Env, name string, ca bool, certificates, key string) string {
	return env.ProviderConfig() + fmt.Sprintf(`
moved {
  from = %s
  to   = %s
}

resource "mtls_certificate" "ca" {
  ca           = %t
  certificates = %s
%s}
`, movedFrom, movedTo, ca, heredoc(certificates), optionalArgs(name, key))
}

func optionalArgs(name, key string) string {
	args := ""
	if name != "" {
		args += fmt.Sprintf("  name         = %q\n", name)
	}
	if key != "" {
		args += fmt.Sprintf("  private_key  = %q\n", key)
	}
	return args
}

func fingerprint(c *testcerts.Certificate) string {
	sum := sha256.Sum256(c.X509.Raw)
	return hex.EncodeToString(sum[:])
}

// TestAccCertificate_moveFromOfficial: a certificate managed by
// cloudflare_mtls_certificate (v4 or v5 state) is adopted with a `moved`
// block. The plan neither creates nor destroys anything, the certificate
// keeps its id and is never uploaded again, the state holds what a read
// of mtls_certificate would, and the next plan is empty.
func TestAccCertificate_moveFromOfficial(t *testing.T) {
	t.Parallel()
	root := testcerts.NewCA("move root")
	second := testcerts.NewCA("move second root")
	cases := []struct {
		name   string
		layout officialLayout
		first  *testcerts.Certificate
		// certificates and key in the official configuration; the moved
		// configuration has them in other text, and key (when set) also
		// when sourceKey is empty.
		certificates, sourceKey, key string
		ca, named                    bool
		// wantAction is what the plan does to the moved resource: nothing,
		// or record the key that the official state did not have.
		wantAction plancheck.ResourceActionType
	}{
		{
			name: "v5 CA bundle", layout: officialV5, first: root,
			certificates: testcerts.Bundle(root, second), ca: true, named: true,
			wantAction: plancheck.ResourceActionNoop,
		},
		{
			name: "v5 later schema version, leaf with key", layout: officialV5Later,
			certificates: "leaf", sourceKey: "leaf", key: "leaf", named: true,
			wantAction: plancheck.ResourceActionNoop,
		},
		{
			name: "v4 unnamed leaf, key added with the move", layout: officialV4,
			certificates: "leaf", key: "leaf",
			wantAction: plancheck.ResourceActionUpdate,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The API's rendering of the PEM differs from every text in
			// the configurations, so the state shows where its text came
			// from: the official state, as a read would keep it.
			env := acctest.NewWithOptions(t, emulator.Options{
				PEMStyle: emulator.PEMRewrapped,
				Now:      func() time.Time { return movedUploadedAt },
			})
			name := ""
			if tc.named {
				name = acctest.UniqueName(t)
			} else {
				// The sweeper finds leftovers on a live account by name.
				env.RequireEmulator(t)
			}
			first, certificates := tc.first, tc.certificates
			sourceKey, key := "", ""
			if certificates == "leaf" {
				leaf := root.Issue("move-leaf.example.com")
				first, certificates = leaf, leaf.PEM
				if tc.sourceKey != "" {
					sourceKey = leaf.KeyPEM
				}
				if tc.key != "" {
					key = crlf(leaf.KeyPEM)
				}
			}
			var uploadedOn knownvalue.Check = knownvalue.StringExact("2026-03-04T05:06:07.12Z")
			if env.Emulator == nil {
				uploadedOn = knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$`))
			}
			var wantKey knownvalue.Check = knownvalue.Null()
			if key != "" {
				wantKey = knownvalue.StringExact(key)
				if sourceKey != "" {
					wantKey = knownvalue.StringExact(sourceKey) // the same key: state keeps its text
				}
			}
			var wantName knownvalue.Check = knownvalue.Null()
			if name != "" {
				wantName = knownvalue.StringExact(name)
			}
			ids := statecheck.CompareValue(compare.ValuesSame())

			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: factoriesWithOfficial(t, env, tc.layout),
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.MovedFromProvider)},
				CheckDestroy:             checkAllDeleted(t, env, name),
				Steps: []resource.TestStep{
					{
						Config:            officialConfig(env, name, tc.ca, certificates, sourceKey),
						ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue(movedFrom, tfjsonpath.New("id"))},
					},
					{
						Config: movedConfig(env, name, tc.ca, crlf(certificates), key),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(movedTo, tc.wantAction),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							ids.AddStateValue(movedTo, tfjsonpath.New("id")),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("account_id"), knownvalue.StringExact(env.AccountID)),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("name"), wantName),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("ca"), knownvalue.Bool(tc.ca)),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("certificates"), knownvalue.StringExact(certificates)),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("private_key"), wantKey),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("type"), knownvalue.StringExact("custom")),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("serial_number"), knownvalue.StringExact(first.X509.SerialNumber.String())),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("expires_on"), knownvalue.StringExact(first.X509.NotAfter.UTC().Format(time.RFC3339))),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("uploaded_on"), uploadedOn),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("fingerprint_sha256"), knownvalue.StringExact(fingerprint(first))),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("subject"), knownvalue.StringExact(first.X509.Subject.String())),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("not_after"), knownvalue.StringExact(first.X509.NotAfter.UTC().Format(time.RFC3339))),
							statecheck.ExpectKnownValue(movedTo, tfjsonpath.New("certificate_count"), knownvalue.Int64Exact(int64(strings.Count(certificates, "BEGIN CERTIFICATE")))),
						},
					},
					{
						PreConfig: expectUploads(t, env, 1),
						Config:    movedConfig(env, name, tc.ca, crlf(certificates), key),
						PlanOnly:  true,
					},
				},
			})
		})
	}
}

// TestAccCertificate_moveFromUnknownLayout: state of a schema version the
// provider does not know is refused with an error naming what was found,
// and nothing changes: the official configuration still plans empty.
func TestAccCertificate_moveFromUnknownLayout(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	ca := testcerts.NewCA("move unknown layout root")
	name := acctest.UniqueName(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factoriesWithOfficial(t, env, officialLayout{schemaVersion: 7}),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{acctest.SkipWithout(acctest.MovedFromProvider)},
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps: []resource.TestStep{
			{Config: officialConfig(env, name, true, ca.PEM, "")},
			{
				Config: movedConfig(env, name, true, ca.PEM, ""),
				ExpectError: acctest.ExpectErrorFragments("Unable to Move mTLS Certificate",
					"schema version 7 with attributes", "updated_at", "is not a layout this provider knows"),
			},
			{
				Config:   officialConfig(env, name, true, ca.PEM, ""),
				PlanOnly: true,
			},
		},
	})
}
