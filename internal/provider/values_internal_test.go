package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Values as the CLI sends them, for the tests of the protocol server; the
// external tests reach them through export_test.go.

// objectWith is a value of the object type typ with the given attributes
// and every other attribute (or block) null.
func objectWith(tb testing.TB, typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	tb.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		tb.Fatalf("%v is not an object type", typ)
	}
	vals := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, t := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(t, nil)
	}
	for name, v := range set {
		if _, ok := obj.AttributeTypes[name]; !ok {
			tb.Fatalf("the schema has no attribute %q", name)
		}
		vals[name] = v
	}
	return tftypes.NewValue(obj, vals)
}

func dynamicValue(tb testing.TB, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	tb.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		tb.Fatalf("encoding %v: %v", typ, err)
	}
	return &dv
}

func decode(tb testing.TB, typ tftypes.Type, dv *tfprotov6.DynamicValue) tftypes.Value {
	tb.Helper()
	if dv == nil {
		tb.Fatal("no value in the response")
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		tb.Fatalf("decoding %v: %v", typ, err)
	}
	return v
}
