package provider_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/emulator"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

// TestAccTimeouts_notPositiveRefusedAtPlan: a timeout of zero or less on
// the resource (create, read, delete) or on any data source (read) fails
// the plan on that attribute before any request; one second plans.
func TestAccTimeouts_notPositiveRefusedAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.RequireEmulator(t)
	stored, err := env.Emulator.AddCertificate(env.AccountID, "stored", true, fixtures.Read("ca-cert.pem"), emulator.TypeCustom)
	if err != nil {
		t.Fatal(err)
	}
	ws := newNullWorkspace(t, env)
	config := func(d string) string {
		return requiredProviders(ws) + fmt.Sprintf(`
provider "mtls" {}

resource "mtls_certificate" "this" {
  ca           = true
  certificates = file("ca2.pem")
  timeouts {
    create = %[1]q
    read   = %[1]q
    delete = %[1]q
  }
}

data "mtls_certificate" "this" {
  id = %[2]q
  timeouts {
    read = %[1]q
  }
}

data "mtls_certificates" "this" {
  timeouts {
    read = %[1]q
  }
}

data "mtls_certificate_associations" "this" {
  mtls_certificate_id = %[2]q
  timeouts {
    read = %[1]q
  }
}
`, d, stored.ID)
	}
	// Each refused attribute, as the block it is in and the attribute's name.
	want := []string{
		"data.mtls_certificate.this read",
		"data.mtls_certificate_associations.this read",
		"data.mtls_certificates.this read",
		"mtls_certificate.this create",
		"mtls_certificate.this delete",
		"mtls_certificate.this read",
	}
	for _, d := range []string{"0s", "-1s", "-5m"} {
		ws.SetConfig(config(d))
		env.Emulator.ResetCounts()
		r := ws.Run("plan", "-json", "-input=false", "-no-color")
		if r.ExitCode == 0 {
			t.Errorf("timeouts of %q planned", d)
			continue
		}
		var got []string
		for _, e := range r.Errors() {
			name, _, _ := strings.Cut(strings.TrimSpace(e.Code), " ")
			if e.Summary != "Invalid Timeout" || !strings.Contains(e.Code, fmt.Sprintf("%q", d)) ||
				!strings.Contains(e.Detail, "timeouts."+name+" is ") {
				t.Errorf("%q: unexpected error %q on %s %q: %s", d, e.Summary, e.Address, e.Code, e.Detail)
				continue
			}
			got = append(got, e.Address+" "+name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("timeouts of %q: refused %v, want %v", d, got, want)
		}
		if counts := env.Emulator.RequestCounts(); len(counts) != 0 {
			t.Errorf("timeouts of %q: the provider sent requests %v", d, counts)
		}
	}

	ws.SetConfig(config("1s"))
	env.Emulator.ResetCounts()
	if r := ws.Run("plan", "-json", "-input=false", "-no-color"); r.ExitCode != 0 {
		t.Fatalf("timeouts of \"1s\" did not plan (exit %d): %+v", r.ExitCode, r.Errors())
	}
	if len(env.Emulator.RequestCounts()) == 0 {
		t.Error("with timeouts of \"1s\", the plan read no data source")
	}
}
