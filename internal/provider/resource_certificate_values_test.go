package provider

import (
	"context"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func certificateSchemaType(t *testing.T) tftypes.Object {
	t.Helper()
	var resp resource.SchemaResponse
	(&certificateResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	typ, ok := resp.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
	if !ok {
		t.Fatal("the schema's type is not an object")
	}
	return typ
}

// TestModelValueParity: every attribute of the schema is read and written
// by the model's own conversion, and a value goes through unchanged, with
// known, null and unknown attributes alike.
func TestModelValueParity(t *testing.T) {
	ctx := context.Background()
	typ := certificateSchemaType(t)
	for _, fill := range []string{"known", "null", "unknown"} {
		attrs := map[string]tftypes.Value{}
		for name, attrType := range typ.AttributeTypes {
			switch {
			case fill == "null":
				attrs[name] = tftypes.NewValue(attrType, nil)
			case fill == "unknown" && name != "timeouts":
				attrs[name] = tftypes.NewValue(attrType, tftypes.UnknownValue)
			case attrType.Is(tftypes.String):
				attrs[name] = tftypes.NewValue(attrType, name+" value")
			case attrType.Is(tftypes.Bool):
				attrs[name] = tftypes.NewValue(attrType, true)
			case attrType.Is(tftypes.Number):
				attrs[name] = tftypes.NewValue(attrType, big.NewFloat(7))
			case name == "timeouts":
				timeouts := map[string]tftypes.Value{}
				for k, kt := range attrType.(tftypes.Object).AttributeTypes {
					timeouts[k] = tftypes.NewValue(kt, "3m")
				}
				attrs[name] = tftypes.NewValue(attrType, timeouts)
			default:
				t.Fatalf("attribute %q has type %s, which the parity test does not know", name, attrType)
			}
		}
		in := tftypes.NewValue(typ, attrs)
		var m certificateModel
		if diags := readModel(ctx, in, &m); diags.HasError() {
			t.Fatalf("%s: readModel: %v", fill, diags)
		}
		out, diags := writeModel(ctx, &m, typ)
		if diags.HasError() {
			t.Fatalf("%s: writeModel: %v", fill, diags)
		}
		if !out.Equal(in) {
			diffs, _ := out.Diff(in)
			t.Errorf("%s: the value changed through the model: %v", fill, diffs)
		}
	}
}

// TestModelValueRefusesOtherTypes: a value that does not fit the schema is
// an error, not a zero value.
func TestModelValueRefusesOtherTypes(t *testing.T) {
	var m certificateModel
	bad := tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"ca": tftypes.String}},
		map[string]tftypes.Value{"ca": tftypes.NewValue(tftypes.String, "yes")})
	if diags := readModel(context.Background(), bad, &m); !diags.HasError() {
		t.Error("a string ca was read without an error")
	}
	narrower := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String, "extra": tftypes.String}}
	if _, diags := writeModel(context.Background(), &m, narrower); !diags.HasError() {
		t.Error("a type with an attribute the model does not have was written without an error")
	}
}
