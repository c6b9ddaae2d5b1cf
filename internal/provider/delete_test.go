package provider

import (
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

func TestDrainProgress(t *testing.T) {
	gw := cfapi.Association{Service: "gateway", Status: "active"}
	gwGoing := cfapi.Association{Service: "gateway", Status: "pending_deletion"}
	acc := cfapi.Association{Service: "access", Status: "active"}
	for name, tc := range map[string]struct {
		before, after []cfapi.Association
		want          bool
	}{
		"unchanged":          {[]cfapi.Association{gw, acc}, []cfapi.Association{acc, gw}, false},
		"one fewer":          {[]cfapi.Association{gw, acc}, []cfapi.Association{acc}, true},
		"status changed":     {[]cfapi.Association{gw, acc}, []cfapi.Association{gwGoing, acc}, true},
		"one more":           {[]cfapi.Association{gw}, []cfapi.Association{gw, acc}, false},
		"duplicates counted": {[]cfapi.Association{gw, gw}, []cfapi.Association{gw, acc}, true},
	} {
		if got := drainProgress(tc.before, tc.after); got != tc.want {
			t.Errorf("%s: drainProgress = %v, want %v", name, got, tc.want)
		}
	}
}
