package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The provider binary as users run it: built from this module and started
// by the CLI (through dev_overrides), so main.go's start-up, not the test
// process, decides how it serves.
var builtProvider struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// providerBinary builds the provider once per test process.
func providerBinary(t *testing.T) string {
	t.Helper()
	builtProvider.once.Do(func() {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			builtProvider.err = fmt.Errorf("cannot locate the module root")
			return
		}
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if builtProvider.dir, builtProvider.err = os.MkdirTemp("", "acctest-provider-"); builtProvider.err != nil {
			return
		}
		builtProvider.path = filepath.Join(builtProvider.dir, "terraform-provider-mtls")
		cmd := exec.Command("go", "build", "-o", builtProvider.path, ".") //nolint:gosec // G204: builds this module's provider.
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			builtProvider.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if builtProvider.err != nil {
		t.Fatalf("building the provider: %v", builtProvider.err)
	}
	return builtProvider.path
}

// RemoveProviderBinary deletes the binary NewBinaryWorkspace built, if any;
// TestMain calls it after the tests.
func RemoveProviderBinary() {
	if builtProvider.dir != "" {
		_ = os.RemoveAll(builtProvider.dir)
	}
}

// NewBinaryWorkspace is NewWorkspace with the provider binary built from
// this module, which the CLI starts for every command as it starts an
// installed provider, and no TF_LOG* variable in the environment of either:
// what users run in CI. The provider reads its environment from the CLI's,
// so set CLOUDFLARE_* variables with Setenv. No Init is needed.
func NewBinaryWorkspace(t *testing.T) *Workspace {
	t.Helper()
	w := newWorkspace(t, cliPathOrSkip(t))
	binary := providerBinary(t)
	rc := filepath.Join(t.TempDir(), "cli.rc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n",
		w.address, filepath.Dir(binary))
	if err := os.WriteFile(rc, []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range inheritedEnv() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "CLOUDFLARE_") || name == "TF_CLI_CONFIG_FILE" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
	return w
}

// Setenv sets a variable for the CLI commands the workspace runs from now
// on (and for a provider the CLI starts).
func (w *Workspace) Setenv(name, value string) {
	w.env = append(w.env, name+"="+value)
}
