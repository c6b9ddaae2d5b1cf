package provider_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// drainCase creates one CA certificate, gives it associations, and runs a
// destroy while schedule changes them in the background.
func drainCase(t *testing.T, env *acctest.Env, schedule func(id string), destroy resource.TestStep, after ...resource.TestStep) {
	t.Helper()
	ca := testcerts.NewCA("drain root")
	name := acctest.UniqueName(t)
	config := caConfig(env.ProviderConfig(), name, ca.PEM)
	destroy.Config, destroy.Destroy = config, true
	destroy.PreConfig = func() {
		stored := env.Emulator.Certificates(env.AccountID)
		if len(stored) != 1 {
			t.Fatalf("emulator holds %d certificates, want 1", len(stored))
		}
		env.Emulator.SetAssociations(env.AccountID, stored[0].ID, []emulator.Association{
			{Service: "gateway", Status: "active"},
			{Service: "access", Status: "active"},
		})
		schedule(stored[0].ID)
	}
	for i := range after {
		after[i].Config = config
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(),
		CheckDestroy:             checkAllDeleted(t, env, name),
		Steps:                    append([]resource.TestStep{{Config: config}, destroy}, after...),
	})
}

func drainEnv(t *testing.T) *acctest.Env {
	t.Helper()
	env := acctest.New(t)
	env.RequireEmulator(t)
	return env
}

// TestAccCertificate_destroyWaitsForAssociationsToDrain: services that let
// go of the certificate a few seconds after the first refused delete.
func TestAccCertificate_destroyWaitsForAssociationsToDrain(t *testing.T) {
	t.Parallel()
	env := drainEnv(t)
	drainCase(t, env, func(string) {
		time.AfterFunc(3*time.Second, env.Emulator.ClearAssociations)
	}, resource.TestStep{})
	if n := env.Emulator.RequestCount(emulator.RouteDelete); n != 2 {
		t.Errorf("emulator saw %d deletes, want 2: one refused, one after the associations went away", n)
	}
}

// TestAccCertificate_destroyWaitsWhileAssociationsProgress: associations
// that change every 18 seconds keep the delete waiting past the 30-second
// stall limit, because each change is progress.
func TestAccCertificate_destroyWaitsWhileAssociationsProgress(t *testing.T) {
	t.Parallel()
	env := drainEnv(t)
	drainCase(t, env, func(id string) {
		time.AfterFunc(18*time.Second, func() {
			env.Emulator.SetAssociations(env.AccountID, id, []emulator.Association{{Service: "access", Status: "pending_deletion"}})
		})
		time.AfterFunc(36*time.Second, env.Emulator.ClearAssociations)
	}, resource.TestStep{})
}

// TestAccCertificate_destroyGivesUpOnStuckAssociations: associations that
// do not change for 30 seconds fail the destroy well before the 2-minute
// delete timeout, naming the services; nothing is lost.
func TestAccCertificate_destroyGivesUpOnStuckAssociations(t *testing.T) {
	t.Parallel()
	env := drainEnv(t)
	drainCase(t, env, func(string) {}, resource.TestStep{
		ExpectError: acctest.ExpectErrorFragments("Unable to Delete mTLS Certificate", "still used by 2 Cloudflare services",
			`service "gateway" (status "active")`, "have not changed for 30s", "Nothing was deleted"),
	}, resource.TestStep{
		// Still in state and in the account; once the services let go, the
		// final destroy of the test succeeds.
		Check: func(s *terraform.State) error {
			stored := env.Emulator.Certificates(env.AccountID)
			if len(stored) != 1 || stored[0].ID != s.RootModule().Resources["mtls_certificate.ca"].Primary.ID {
				return fmt.Errorf("after the refused destroy the emulator holds %d certificates, and state and emulator ids must match", len(stored))
			}
			env.Emulator.ClearAssociations()
			return nil
		},
	})
}

// TestAccCertificate_destroyRetriesWhileCloudflareLags: the associations
// are gone but Cloudflare refuses the next deletes anyway (its check lags
// the associations endpoint); the destroy tries again with backoff and
// succeeds.
func TestAccCertificate_destroyRetriesWhileCloudflareLags(t *testing.T) {
	t.Parallel()
	env := drainEnv(t)
	drainCase(t, env, func(string) {
		time.AfterFunc(2*time.Second, func() {
			env.Emulator.InjectFault(emulator.Fault{Route: emulator.RouteDelete, Status: emulator.DefaultInUseStatus,
				Code: emulator.DefaultInUseCode, Message: emulator.MessageInUse, Times: 2})
			env.Emulator.ClearAssociations()
		})
	}, resource.TestStep{})
	if n := env.Emulator.RequestCount(emulator.RouteDelete); n != 4 {
		t.Errorf("emulator saw %d deletes, want 4: refused in use, refused twice with no service left, then done", n)
	}
}
