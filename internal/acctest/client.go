package acctest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
	"github.com/tf-mtls/terraform-provider-mtls/internal/provider"
)

// Client is an API client for this environment, for steps that act out of
// band (deleting a certificate behind Terraform's back) and for checks.
func (e *Env) Client(t *testing.T) *cfapi.Client {
	t.Helper()
	cfg := cfapi.Config{APIToken: os.Getenv(provider.EnvAPIToken), BaseURL: os.Getenv(provider.EnvBaseURL), MaxRetries: 2}
	if e.Emulator != nil {
		cfg = cfapi.Config{APIToken: e.Token, BaseURL: e.Emulator.URL()}
	}
	c, err := cfapi.New(cfg)
	if err != nil {
		t.Fatalf("building API client: %v", err)
	}
	return c
}

// LiveClient is a client for the live API from the environment, for the
// sweeper.
func LiveClient() (*cfapi.Client, string, error) {
	if !IsLive() {
		return nil, "", fmt.Errorf("set %s and %s to sweep the live API", provider.EnvAPIToken, provider.EnvAccountID)
	}
	c, err := cfapi.New(cfapi.Config{APIToken: os.Getenv(provider.EnvAPIToken), BaseURL: os.Getenv(provider.EnvBaseURL), MaxRetries: 2})
	return c, os.Getenv(provider.EnvAccountID), err
}

// CertificatesNamed lists the account's certificates whose name starts with prefix.
func (e *Env) CertificatesNamed(t *testing.T, prefix string) []cfapi.Certificate {
	t.Helper()
	all, err := e.Client(t).ListAll(context.Background(), e.AccountID, cfapi.ListOptions{})
	if err != nil {
		t.Fatalf("listing certificates: %v", err)
	}
	var out []cfapi.Certificate
	for _, c := range all {
		if strings.HasPrefix(c.Name, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// DeleteNamed deletes, out of band, every certificate named name.
func (e *Env) DeleteNamed(t *testing.T, name string) {
	t.Helper()
	found := 0
	for _, c := range e.CertificatesNamed(t, name) {
		if c.Name != name {
			continue
		}
		found++
		if err := e.Client(t).Delete(context.Background(), e.AccountID, c.ID); err != nil {
			t.Fatalf("deleting certificate %s out of band: %v", c.ID, err)
		}
	}
	if found == 0 {
		t.Fatalf("no certificate named %q to delete out of band", name)
	}
}
