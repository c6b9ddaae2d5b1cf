package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// TestMain enables `go test -sweep=all` for the live API, and removes the
// provider binary that binary workspaces built.
func TestMain(m *testing.M) {
	resource.TestMain(runThenClean{m})
}

type runThenClean struct{ m *testing.M }

func (r runThenClean) Run() int {
	defer acctest.RemoveProviderBinary()
	return r.m.Run()
}

func init() {
	resource.AddTestSweepers("mtls_certificate", &resource.Sweeper{
		Name: "mtls_certificate",
		F:    sweepCertificates,
	})
}

// sweepCertificates deletes what interrupted live test runs left behind:
// only certificates whose name starts with the tests' prefix.
func sweepCertificates(string) error {
	client, accountID, err := acctest.LiveClient()
	if err != nil {
		return err
	}
	ctx := context.Background()
	certs, err := client.ListAll(ctx, accountID, cfapi.ListOptions{})
	if err != nil {
		return err
	}
	var failed []string
	for _, c := range certs {
		if !strings.HasPrefix(c.Name, acctest.NamePrefix) {
			continue
		}
		if err := client.Delete(ctx, accountID, c.ID); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", c.ID, c.Name, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not sweep %d certificate(s): %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}
