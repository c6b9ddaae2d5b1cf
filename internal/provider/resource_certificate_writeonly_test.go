package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestAccCertificate_writeOnlyKey: private_key_wo reaches the API but never
// the plan or the state, and private_key_wo_version is how a new key is
// uploaded.
func TestAccCertificate_writeOnlyKey(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("write-only root")
	leaf := root.Issue("write-only.example.com")
	name := acctest.UniqueName(t)
	ws := acctest.NewWorkspace(t)
	acctest.RequireCLI(t, acctest.WriteOnlyAttributes)
	ws.WriteFile("leaf-key.pem", leaf.KeyPEM)
	config := func(version int) string {
		return env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name                   = %q
  ca                     = false
  certificates           = %q
  private_key_wo         = file("${path.module}/leaf-key.pem")
  private_key_wo_version = %d
}
`, name, leaf.PEM, version)
	}
	keyBody := pemBody(leaf.KeyPEM)
	assertNoKey := func(what, text string) {
		t.Helper()
		if strings.Contains(text, keyBody) || strings.Contains(text, keyBody[:24]) {
			t.Fatalf("the private key appears in %s", what)
		}
	}
	stateFile := func() string {
		data, err := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	uploadedKey := func() string {
		if env.Emulator == nil {
			return ""
		}
		stored := env.Emulator.Certificates(env.AccountID)
		if len(stored) != 1 {
			t.Fatalf("the emulator holds %d certificates, want 1", len(stored))
		}
		return stored[0].PrivateKey
	}

	ws.SetConfig(config(1))
	ws.Init()
	t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	ws.MustRun("plan", "-input=false", "-no-color", "-out=tfplan")
	assertNoKey("the saved plan (show -json)", ws.MustRun("show", "-json", "-no-color", "tfplan").Stdout)
	ws.MustRun("apply", "-input=false", "-no-color", "tfplan")
	assertNoKey("the state file", stateFile())
	state, ok := acctest.ResourceValues(ws.State().Values, "mtls_certificate.leaf")
	if !ok {
		t.Fatal("mtls_certificate.leaf is not in state")
	}
	if state["private_key_wo"] != nil || state["private_key"] != nil {
		t.Errorf("state holds a key: private_key_wo=%v private_key=%v", state["private_key_wo"] != nil, state["private_key"] != nil)
	}
	firstID := state["id"]
	if got := uploadedKey(); env.Emulator != nil && got != leaf.KeyPEM {
		t.Errorf("the emulator did not receive the write-only key (got %d bytes)", len(got))
	}

	// An unchanged configuration plans nothing, although the key is not in
	// state to compare with.
	if plan := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); plan.ExitCode != 0 {
		t.Fatalf("plan after apply is not empty (exit %d):\n%s%s", plan.ExitCode, plan.Stdout, plan.Stderr)
	}

	// A new version uploads the certificate again, with the key.
	ws.SetConfig(config(2))
	ws.MustRun("plan", "-input=false", "-no-color", "-out=tfplan2")
	changes := ws.SavedPlan("tfplan2").ResourceChanges
	if len(changes) != 1 {
		t.Fatalf("plan has %d resource changes, want 1", len(changes))
	}
	actions := changes[0].Change.Actions
	if !slices.Equal(actions, tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}) {
		t.Fatalf("a new private_key_wo_version plans %v, want [delete create]", actions)
	}
	ws.MustRun("apply", "-input=false", "-no-color", "tfplan2")
	assertNoKey("the state file after replacement", stateFile())
	state, _ = acctest.ResourceValues(ws.State().Values, "mtls_certificate.leaf")
	if state["id"] == firstID {
		t.Error("the certificate kept its id after a new private_key_wo_version")
	}
	if got := uploadedKey(); env.Emulator != nil && got != leaf.KeyPEM {
		t.Errorf("the replacement was not uploaded with the key")
	}
}

func TestAccCertificate_writeOnlyKeyChecks(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	root := testcerts.NewCA("write-only checks root")
	leaf := root.Issue("wo-checks.example.com")
	other := root.Issue("wo-other.example.com")
	cases := map[string]struct {
		body string
		want []string
	}{
		"both keys":           {fmt.Sprintf("private_key = %q\n  private_key_wo = %q", leaf.KeyPEM, leaf.KeyPEM), []string{"Invalid Attribute Combination", "private_key_wo", "private_key"}},
		"mismatch":            {fmt.Sprintf("private_key_wo = %q", other.KeyPEM), []string{"Private Key Does Not Match Certificate", "private_key_wo must belong"}},
		"not a key":           {`private_key_wo = "hello"`, []string{"Invalid Private Key", "The private_key_wo value must be"}},
		"version without key": {"private_key_wo_version = 1", []string{"Invalid Attribute Combination", "private_key_wo"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			config := env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  ca           = false
  certificates = %q
  %s
}
`, leaf.PEM, tc.body)
			expectErrorBeforeUpload(t, env, config, tc.want...)
		})
	}
}
