package provider_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// plannedActions maps each resource address of a saved plan to its actions.
func plannedActions(t *testing.T, ws *acctest.Workspace, planFile string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rc := range ws.SavedPlan(planFile).ResourceChanges {
		out[rc.Address] = fmt.Sprint(rc.Change.Actions)
	}
	return out
}

// TestAccProvider_batchRefreshMatchesPerCertificateRefresh: with
// batch_refresh a refresh costs one list request per 50 certificates
// instead of one GET each, and plans exactly what per-certificate refresh
// plans, including drift and deletions made outside Terraform.
func TestAccProvider_batchRefreshMatchesPerCertificateRefresh(t *testing.T) {
	t.Parallel()
	pems := []string{testcerts.NewCA("batch a").PEM, testcerts.NewCA("batch b").PEM, testcerts.NewCA("batch c").PEM}
	plans := map[bool]map[string]string{}
	for _, batch := range []bool{false, true} {
		env := acctest.New(t)
		env.RequireEmulator(t)
		ws := acctest.NewWorkspace(t)
		config := env.ProviderConfigWith(fmt.Sprintf("  api_token     = %q\n  account_id    = %q\n  batch_refresh = %t", env.Token, env.AccountID, batch))
		for i, name := range []string{"a", "b", "c"} {
			config += fmt.Sprintf("\nresource \"mtls_certificate\" %q {\n  name         = %q\n  ca           = true\n  certificates = %q\n}\n", name, "batch-"+name, pems[i])
		}
		ws.SetConfig(config)
		ws.Init()
		t.Cleanup(func() { ws.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
		ws.MustRun("apply", "-auto-approve", "-input=false", "-no-color")

		counts := func() (lists, gets int) {
			return env.Emulator.RequestCount(emulator.RouteList), env.Emulator.RequestCount(emulator.RouteGet)
		}
		env.Emulator.ResetCounts()
		if plan := ws.Run("plan", "-detailed-exitcode", "-input=false", "-no-color"); plan.ExitCode != 0 {
			t.Fatalf("batch_refresh=%t: plan after apply is not empty (exit %d):\n%s%s", batch, plan.ExitCode, plan.Stdout, plan.Stderr)
		}
		lists, gets := counts()
		if want := map[bool][2]int{false: {0, 3}, true: {1, 0}}[batch]; lists != want[0] || gets != want[1] {
			t.Errorf("batch_refresh=%t: refresh of 3 certificates made %d list and %d GET requests, want %d and %d", batch, lists, gets, want[0], want[1])
		}

		// Drift made outside Terraform: b renamed, c deleted.
		ids := map[string]string{}
		for _, c := range env.Emulator.Certificates(env.AccountID) {
			ids[c.Name] = c.ID
		}
		env.Emulator.Rename(env.AccountID, ids["batch-b"], "renamed outside")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := env.Client(t).Delete(ctx, env.AccountID, ids["batch-c"]); err != nil {
			t.Fatal(err)
		}
		cancel()
		env.Emulator.ResetCounts()
		ws.MustRun("plan", "-input=false", "-no-color", "-out=drift")
		lists, gets = counts()
		if want := map[bool][2]int{false: {0, 3}, true: {1, 1}}[batch]; lists != want[0] || gets != want[1] {
			t.Errorf("batch_refresh=%t: refresh after drift made %d list and %d GET requests, want %d and %d", batch, lists, gets, want[0], want[1])
		}
		plans[batch] = plannedActions(t, ws, "drift")
	}
	want := map[string]string{
		"mtls_certificate.a": "[no-op]",
		"mtls_certificate.b": "[delete create]",
		"mtls_certificate.c": "[create]",
	}
	if !maps.Equal(plans[false], want) {
		t.Errorf("per-certificate refresh planned %v, want %v", plans[false], want)
	}
	if !maps.Equal(plans[true], plans[false]) {
		t.Errorf("batch refresh planned %v, per-certificate refresh %v", plans[true], plans[false])
	}
}
