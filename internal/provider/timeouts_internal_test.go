package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestPositiveDuration(t *testing.T) {
	at := path.Root("timeouts").AtName("create")
	for value, refused := range map[string]bool{
		"0s": true, "0": true, "-1s": true, "-5m": true, "-0.5h": true,
		"1s": false, "1ns": false, "5m": false, "2h45m": false,
		"soon": false, // the timeouts package's own validator refuses it
	} {
		var resp validator.StringResponse
		positiveDuration{def: 5 * time.Minute}.ValidateString(context.Background(),
			validator.StringRequest{Path: at, ConfigValue: types.StringValue(value)}, &resp)
		if got := resp.Diagnostics.HasError(); got != refused {
			t.Errorf("%q: refused = %t, want %t", value, got, refused)
			continue
		}
		if !refused {
			continue
		}
		d := resp.Diagnostics[0]
		if d.Summary() != "Invalid Timeout" || !strings.Contains(d.Detail(), `timeouts.create is "`+value+`"`) || !strings.Contains(d.Detail(), "5m0s") {
			t.Errorf("%q: %q: %s", value, d.Summary(), d.Detail())
		}
	}
	for _, v := range []types.String{types.StringNull(), types.StringUnknown()} {
		var resp validator.StringResponse
		positiveDuration{}.ValidateString(context.Background(), validator.StringRequest{Path: at, ConfigValue: v}, &resp)
		if resp.Diagnostics.HasError() {
			t.Errorf("%v was refused", v)
		}
	}
}
