// Package acctest holds what the acceptance tests share: the switch between
// the local emulator and the live Cloudflare API, provider factories, and
// certificates generated at test time.
package acctest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// NamePrefix starts the name of every certificate a test creates, so the
// sweeper can find leftovers on a live account.
const NamePrefix = "tf-acc-test-"

// IsLive reports whether the tests run against the real API: they do when
// both CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are set.
func IsLive() bool {
	return os.Getenv(provider.EnvAPIToken) != "" && os.Getenv(provider.EnvAccountID) != ""
}

// Env is one test's view of the API it runs against.
type Env struct {
	// AccountID is the account the test's certificates go to.
	AccountID string
	// Emulator is the test's own emulator; nil against the live API.
	Emulator *emulator.Running
	// Token is the emulator's accepted API token (empty when live).
	Token string
	// Email and Key are the emulator's accepted global API key credentials.
	Email, Key string
}

// New starts a private emulator for t, or, when IsLive, points at the real
// API. The emulator is closed when t ends.
func New(t *testing.T) *Env {
	t.Helper()
	return NewWithOptions(t, emulator.Options{})
}

// NewWithOptions is New with emulator options (ignored when live). Missing
// credentials in opts are filled with random ones.
func NewWithOptions(t *testing.T, opts emulator.Options) *Env {
	t.Helper()
	if IsLive() {
		return &Env{AccountID: os.Getenv(provider.EnvAccountID)}
	}
	if opts.APIToken == "" {
		opts.APIToken = "test-token-" + randomHex(t, 8)
	}
	if opts.APIEmail == "" {
		opts.APIEmail = "tester@example.com"
	}
	if opts.APIKey == "" {
		opts.APIKey = randomHex(t, 16)
	}
	running, err := emulator.Start(opts)
	if err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(running.Close)
	return &Env{
		AccountID: randomHex(t, 16),
		Emulator:  running,
		Token:     opts.APIToken,
		Email:     opts.APIEmail,
		Key:       opts.APIKey,
	}
}

// RequireEmulator skips tests that need the emulator's controls (setting
// associations, counting requests, deleting out of band by id).
func (e *Env) RequireEmulator(t *testing.T) {
	t.Helper()
	if e.Emulator == nil {
		t.Skip("needs the local emulator's test controls; skipped against the live API")
	}
}

// ProviderConfig is a provider block for this environment: token auth and
// the default account. Against the live API the environment supplies both.
func (e *Env) ProviderConfig() string {
	if e.Emulator == nil {
		return "provider \"mtls\" {}\n"
	}
	return fmt.Sprintf(`
provider "mtls" {
  base_url   = %q
  api_token  = %q
  account_id = %q
}
`, e.Emulator.URL(), e.Token, e.AccountID)
}

// ProviderConfigPerCertificateRefresh is ProviderConfig with batch_refresh
// off, for tests of what a refresh does with a certificate's own GET.
func (e *Env) ProviderConfigPerCertificateRefresh() string {
	if e.Emulator == nil {
		return "provider \"mtls\" {\n  batch_refresh = false\n}\n"
	}
	return e.ProviderConfigWith(fmt.Sprintf("  api_token     = %q\n  account_id    = %q\n  batch_refresh = false", e.Token, e.AccountID))
}

// ProviderConfigWith is a provider block with the given HCL body lines
// instead of the default credentials; base_url points at the emulator.
func (e *Env) ProviderConfigWith(body string) string {
	base := ""
	if e.Emulator != nil {
		base = fmt.Sprintf("  base_url = %q\n", e.Emulator.URL())
	}
	return "provider \"mtls\" {\n" + base + body + "\n}\n"
}

// Factories returns provider factories for resource.TestCase.
func Factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"mtls": func() (tfprotov6.ProviderServer, error) {
			return provider.NewProtocol6Server("acctest", provider.DefaultServerOptions(os.Environ())...)(), nil
		},
	}
}

// UniqueName is a certificate name that the sweeper recognizes.
func UniqueName(t *testing.T) string {
	t.Helper()
	return NamePrefix + randomHex(t, 6)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// ExpectErrorFragments matches CLI error output holding each fragment in
// order. The CLI wraps long lines, so any run of spaces in a fragment also
// matches a line break.
func ExpectErrorFragments(fragments ...string) *regexp.Regexp {
	parts := make([]string, 0, len(fragments))
	for _, f := range fragments {
		words := strings.Fields(f)
		for i, w := range words {
			words[i] = regexp.QuoteMeta(w)
		}
		parts = append(parts, strings.Join(words, `\s+`))
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
