package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

// pemCertificatesType is the type of the certificates attribute. Its values
// compare by the certificates they decode to, not by text, so the framework
// keeps the user's text in the plan and state whenever the API (or the user)
// only changed line endings, wrapping or whitespace.
type pemCertificatesType struct {
	basetypes.StringType
}

var _ basetypes.StringTypable = pemCertificatesType{}

func (t pemCertificatesType) Equal(o attr.Type) bool {
	other, ok := o.(pemCertificatesType)
	return ok && t.StringType.Equal(other.StringType)
}

func (t pemCertificatesType) String() string { return "pemCertificatesType" }

func (t pemCertificatesType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return pemCertificatesValue{StringValue: in}, nil
}

func (t pemCertificatesType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return pemCertificatesValue{StringValue: s}, nil
}

func (t pemCertificatesType) ValueType(context.Context) attr.Value { return pemCertificatesValue{} }

// pemCertificatesValue is a PEM bundle of certificates.
type pemCertificatesValue struct {
	basetypes.StringValue
}

var _ basetypes.StringValuableWithSemanticEquals = pemCertificatesValue{}

func newPEMCertificates(text string) pemCertificatesValue {
	return pemCertificatesValue{StringValue: basetypes.NewStringValue(text)}
}

func (v pemCertificatesValue) Equal(o attr.Value) bool {
	other, ok := o.(pemCertificatesValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

func (v pemCertificatesValue) Type(context.Context) attr.Type { return pemCertificatesType{} }

// StringSemanticEquals is where the provider decides that two PEM texts are
// the same certificates; nothing else compares certificate text.
func (v pemCertificatesValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := newValuable.(pemCertificatesValue)
	if !ok {
		return false, nil
	}
	return certs.SameCertificates(v.ValueString(), other.ValueString()), nil
}

// keepPriorCertificatesWhenSame is a plan modifier: the framework applies
// semantic equality when reading and applying, but not when planning, so
// without it a trailing newline added in the configuration would plan a
// replacement. It must run before RequiresReplace.
type keepPriorCertificatesWhenSame struct{}

func (keepPriorCertificatesWhenSame) Description(context.Context) string {
	return "keeps the prior text when the configured PEM holds the same certificates"
}

func (m keepPriorCertificatesWhenSame) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (keepPriorCertificatesWhenSame) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	same, diags := newPEMCertificates(req.StateValue.ValueString()).StringSemanticEquals(ctx, newPEMCertificates(req.PlanValue.ValueString()))
	resp.Diagnostics.Append(diags...)
	if same {
		resp.PlanValue = req.StateValue
	}
}
