package provider_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestAccCertificate_writeOnlyKeyRefusedWithoutCLISupport: a CLI without
// write-only attributes (Terraform or OpenTofu before 1.11) would store
// private_key_wo in the plan and the state like any other value, so the
// framework refuses it at validate. validate, plan and apply all fail with
// that error, and the key reaches neither the API nor a state file.
func TestAccCertificate_writeOnlyKeyRefusedWithoutCLISupport(t *testing.T) {
	t.Parallel()
	ws := acctest.NewWorkspace(t)
	if cli := ws.CLIVersion(); cli.Has(acctest.WriteOnlyAttributes) {
		t.Skipf("%s has write-only attributes (%s); this test is for CLIs without them",
			cli, acctest.WriteOnlyAttributes.Minimums())
	}
	env := acctest.New(t)
	leaf := testcerts.NewCA("write-only refused root").Issue("wo-refused.example.com")
	name := acctest.UniqueName(t)
	ws.WriteFile("leaf-key.pem", leaf.KeyPEM)
	ws.SetConfig(env.ProviderConfig() + fmt.Sprintf(`
resource "mtls_certificate" "leaf" {
  name                   = %q
  ca                     = false
  certificates           = %q
  private_key_wo         = file("${path.module}/leaf-key.pem")
  private_key_wo_version = 1
}
`, name, leaf.PEM))
	ws.Init()
	keyBody := pemBody(leaf.KeyPEM)

	validate := ws.Run("validate", "-json", "-no-color")
	var doc struct {
		Valid       bool
		Diagnostics []struct{ Severity, Summary, Detail string }
	}
	if err := json.Unmarshal([]byte(validate.Stdout), &doc); err != nil {
		t.Fatalf("decoding validate -json (exit %d): %v\n%s%s", validate.ExitCode, err, validate.Stdout, validate.Stderr)
	}
	if validate.ExitCode == 0 || doc.Valid {
		t.Fatalf("validate accepted private_key_wo on a CLI without write-only attributes:\n%s", validate.Stdout)
	}
	if len(doc.Diagnostics) != 1 {
		t.Fatalf("validate reported %d diagnostics, want the one write-only error: %+v", len(doc.Diagnostics), doc.Diagnostics)
	}
	d := doc.Diagnostics[0]
	if d.Severity != "error" || d.Summary != "WriteOnly Attribute Not Allowed" ||
		!strings.Contains(d.Detail, "private_key_wo") || !strings.Contains(d.Detail, "1.11 and later") {
		t.Errorf("validate's diagnostic = %+v, want the error that write-only attributes need 1.11", d)
	}

	for _, args := range [][]string{
		{"plan", "-input=false", "-no-color", "-out=tfplan"},
		{"apply", "-auto-approve", "-input=false", "-no-color"},
	} {
		r := ws.Run(args...)
		if r.ExitCode == 0 {
			t.Fatalf("%s succeeded on a CLI without write-only attributes:\n%s", args[0], r.Stdout)
		}
		if !acctest.ExpectErrorFragments("WriteOnly Attribute Not Allowed", "private_key_wo").MatchString(r.Stderr) {
			t.Errorf("%s failed without the write-only error:\n%s", args[0], r.Stderr)
		}
		if strings.Contains(r.Stdout+r.Stderr, keyBody) {
			t.Errorf("%s printed the private key", args[0])
		}
	}

	if env.Emulator != nil {
		if n := env.Emulator.RequestCount(emulator.RouteUpload); n != 0 {
			t.Errorf("the emulator saw %d upload(s); the refusal must come before any request", n)
		}
		if stored := env.Emulator.Certificates(env.AccountID); len(stored) != 0 {
			t.Errorf("the emulator holds %d certificate(s), want none", len(stored))
		}
	} else if left := env.CertificatesNamed(t, name); len(left) != 0 {
		t.Errorf("%d certificate(s) named %s were uploaded", len(left), name)
	}
	for _, file := range []string{"terraform.tfstate", "terraform.tfstate.backup", "tfplan"} {
		data, err := os.ReadFile(filepath.Join(ws.Dir, file)) //nolint:gosec // G304: a file of the test's own workspace.
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			t.Fatal(err)
		}
		if strings.Contains(string(data), keyBody) {
			t.Errorf("%s holds the private key", file)
		}
		if file != "tfplan" && strings.Contains(string(data), "mtls_certificate") {
			t.Errorf("%s holds a certificate although nothing was applied:\n%s", file, data)
		}
	}
}

// TestAccCertificate_writeOnlyNullVariableRefusedWithoutCLISupport pins
// what the resource's docs tell users of CLIs before 1.11: even a variable
// that turns out null (private_key_wo = var.key, default null) is refused,
// before any request, because such a CLI validates the variable as a value
// not yet known, which terraform-plugin-framework counts as set. The same
// literal null plans. When this test fails, the framework or the CLI has
// changed: update the docs of private_key_wo.
func TestAccCertificate_writeOnlyNullVariableRefusedWithoutCLISupport(t *testing.T) {
	t.Parallel()
	ws := acctest.NewWorkspace(t)
	if cli := ws.CLIVersion(); cli.Has(acctest.WriteOnlyAttributes) {
		t.Skipf("%s has write-only attributes (%s); this test is for CLIs without them",
			cli, acctest.WriteOnlyAttributes.Minimums())
	}
	env := acctest.New(t)
	env.RequireEmulator(t)
	ca := testcerts.NewCA("write-only null root")
	config := func(key string) string {
		return env.ProviderConfig() + fmt.Sprintf(`
variable "key" {
  type    = string
  default = null
}

resource "mtls_certificate" "ca" {
  ca             = true
  certificates   = %q
  private_key_wo = %s
}
`, ca.PEM, key)
	}
	ws.SetConfig(config("null"))
	ws.Init()
	if r := ws.Run("plan", "-input=false", "-no-color"); r.ExitCode != 0 {
		t.Fatalf("private_key_wo = null did not plan (exit %d):\n%s", r.ExitCode, r.Stderr)
	}
	ws.SetConfig(config("var.key"))
	env.Emulator.ResetCounts()
	r := ws.Run("plan", "-input=false", "-no-color")
	if r.ExitCode == 0 || !acctest.ExpectErrorFragments("WriteOnly Attribute Not Allowed", "private_key_wo").MatchString(r.Stderr) {
		t.Errorf("private_key_wo = var.key (null) on a CLI without write-only attributes: exit %d, want the write-only error; "+
			"if it now plans, update the docs of private_key_wo:\n%s", r.ExitCode, r.Stderr)
	}
	if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
		t.Errorf("the refusal sent requests %v", counts)
	}
}
