package acctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Feature is a CLI capability that some tests need, with the first
// Terraform and OpenTofu releases that have it. OpenTofu numbers its own
// releases, so each product has its own minimum; nil is none yet.
type Feature struct {
	Name      string
	Terraform *version.Version
	OpenTofu  *version.Version
}

// The features the suite gates on. OpenTofu's first release was 1.6, so a
// 1.6 minimum there means every OpenTofu.
var (
	TerraformData       = Feature{"the terraform_data resource", version.Must(version.NewVersion("1.4.0")), version.Must(version.NewVersion("1.6.0"))}
	ImportBlocks        = Feature{"import blocks", version.Must(version.NewVersion("1.5.0")), version.Must(version.NewVersion("1.6.0"))}
	ImportForEach       = Feature{"for_each in import blocks", version.Must(version.NewVersion("1.7.0")), version.Must(version.NewVersion("1.7.0"))}
	ProviderFunctions   = Feature{"provider-defined functions", version.Must(version.NewVersion("1.8.0")), version.Must(version.NewVersion("1.7.0"))}
	MovedFromProvider   = Feature{"moved blocks between resource types of different providers", version.Must(version.NewVersion("1.8.0")), version.Must(version.NewVersion("1.10.0"))}
	WriteOnlyAttributes = Feature{"write-only attributes", version.Must(version.NewVersion("1.11.0")), version.Must(version.NewVersion("1.11.0"))}
	ResourceIdentity    = Feature{"resource identity", version.Must(version.NewVersion("1.12.0")), version.Must(version.NewVersion("1.12.0"))}
	ListResources       = Feature{"list resources (terraform query)", version.Must(version.NewVersion("1.14.0")), nil}
)

// Minimums names the first release of each product with the feature.
func (f Feature) Minimums() string {
	if f.OpenTofu == nil {
		return fmt.Sprintf("Terraform %s or later; OpenTofu has none yet", f.Terraform)
	}
	return fmt.Sprintf("Terraform %s or later, OpenTofu %s or later", f.Terraform, f.OpenTofu)
}

// Product names of the first line of `<cli> version`.
const (
	ProductTerraform = "Terraform"
	ProductOpenTofu  = "OpenTofu"
)

// CLI is the product and version of a Terraform-compatible CLI.
type CLI struct {
	Product string
	Version *version.Version
}

func (c CLI) String() string { return c.Product + " " + c.Version.String() }

// Has reports whether the CLI has f. Prereleases count as their release,
// as in tfversion.
func (c CLI) Has(f Feature) bool {
	minimum := f.Terraform
	if c.Product == ProductOpenTofu {
		minimum = f.OpenTofu
	}
	return minimum != nil && !c.Version.Core().LessThan(minimum)
}

// skipWithout is the skip message for a CLI without f.
func (c CLI) skipWithout(f Feature) string {
	return fmt.Sprintf("%s lacks %s (%s): skipping test", c, f.Name, f.Minimums())
}

// SkipWithout is a plugin-testing version check that skips the test when
// the CLI lacks f. plugin-testing reports OpenTofu's version as if it were
// Terraform's, so the product comes from the CLI in TF_ACC_TERRAFORM_PATH.
func SkipWithout(f Feature) tfversion.TerraformVersionCheck { return skipWithoutCheck{f} }

type skipWithoutCheck struct{ feature Feature }

func (s skipWithoutCheck) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	cli := CLI{Product: ProductTerraform, Version: req.TerraformVersion}
	if path := os.Getenv(envCLIPath); path != "" {
		detected, err := detectCLI(path)
		if err != nil {
			resp.Error = err
			return
		}
		cli.Product = detected.Product
	}
	if !cli.Has(s.feature) {
		resp.Skip = cli.skipWithout(s.feature)
	}
}

// RequireCLI skips a test when the CLI in TF_ACC_TERRAFORM_PATH, which
// Workspace and plugin-testing both run, lacks f.
func RequireCLI(t *testing.T, f Feature) {
	t.Helper()
	cli := CLIUnderTest(t)
	if !cli.Has(f) {
		t.Skip(cli.skipWithout(f))
	}
}

// CLIVersion is the product and version of the workspace's CLI.
func (w *Workspace) CLIVersion() CLI {
	w.t.Helper()
	cli, err := detectCLI(w.cli)
	if err != nil {
		w.t.Fatal(err)
	}
	return cli
}

// CLIUnderTest is the product and version of the CLI in
// TF_ACC_TERRAFORM_PATH, for a test whose configuration depends on it. It
// skips the test as NewWorkspace does when there is no CLI to run.
func CLIUnderTest(t *testing.T) CLI {
	t.Helper()
	cli, err := detectCLI(cliPathOrSkip(t))
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

var (
	detectedMu  sync.Mutex
	detectedCLI = map[string]CLI{}
	// versionLine is the first line of `version`: "Terraform v1.5.7",
	// "OpenTofu v1.12.6".
	versionLine = regexp.MustCompile(`^(\S+) v(\S+)`)
)

// detectCLI runs `<path> version` once per path and parses its first line.
// terraform-exec's Version reads `version -json`, which does not name the
// product: OpenTofu reports its version as terraform_version too.
func detectCLI(path string) (CLI, error) {
	detectedMu.Lock()
	defer detectedMu.Unlock()
	if cli, ok := detectedCLI[path]; ok {
		return cli, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version") //nolint:gosec // G204: the CLI a developer chose, run on purpose
	cmd.Env = append(inheritedEnv(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	out, err := cmd.Output()
	if err != nil {
		return CLI{}, fmt.Errorf("running %s version: %w", path, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	m := versionLine.FindStringSubmatch(first)
	if m == nil {
		return CLI{}, fmt.Errorf("%s version: unexpected first line %q", path, first)
	}
	v, err := version.NewVersion(m[2])
	if err != nil {
		return CLI{}, fmt.Errorf("%s version: %q is not a version: %w", path, m[2], err)
	}
	cli := CLI{Product: m[1], Version: v}
	detectedCLI[path] = cli
	return cli, nil
}
