package provider

import (
	"context"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The resource's plan, state and configuration are read and written here,
// straight from and to the protocol's values, instead of through the
// framework's reflection (tfsdk Get, Set, GetAttribute), which on every call
// walks the schema for each path and compiles a regular expression for each
// struct field: a fifth of the provider's CPU per certificate. The parity
// test keeps this in step with the schema.

// readModel reads raw, a plan, state or configuration value, into m.
func readModel(ctx context.Context, raw tftypes.Value, m *certificateModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if err := m.fromValue(ctx, raw); err != nil {
		diags.AddError("Unexpected mtls_certificate Value", "The provider could not read a value the CLI sent: "+err.Error()+
			". The value does not fit the resource's schema; check that the CLI and the provider versions go together.")
	}
	return diags
}

// writeModel returns m as a value of typ, the schema's object type.
func writeModel(ctx context.Context, m *certificateModel, typ tftypes.Type) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	v, err := m.value(ctx, typ)
	if err != nil {
		diags.AddError("Unexpected mtls_certificate Value", "The provider could not write the resource's value: "+err.Error()+".")
	}
	return v, diags
}

// fromValue reads an object value of the resource's schema into m.
func (m *certificateModel) fromValue(ctx context.Context, v tftypes.Value) error {
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return fmt.Errorf("reading the mtls_certificate object: %w", err)
	}
	var errs []error
	str := func(name string) types.String {
		s, err := stringFrom(attrs[name])
		errs = append(errs, err)
		return s
	}
	num := func(name string) types.Int64 {
		n, err := int64From(attrs[name])
		errs = append(errs, err)
		return n
	}
	ca, err := boolFrom(attrs["ca"])
	errs = append(errs, err)
	*m = certificateModel{
		AccountID:           str("account_id"),
		ID:                  str("id"),
		Name:                str("name"),
		CA:                  ca,
		Certificates:        pemValue{StringValue: str("certificates"), kind: pemCertificates},
		PrivateKey:          pemValue{StringValue: str("private_key"), kind: pemPrivateKey},
		PrivateKeyWO:        str("private_key_wo"),
		PrivateKeyWOVersion: num("private_key_wo_version"),
		reportedValues: reportedValues{
			Issuer:       str("issuer"),
			SerialNumber: str("serial_number"),
			Signature:    str("signature"),
			ExpiresOn:    str("expires_on"),
			UploadedOn:   str("uploaded_on"),
			Type:         str("type"),
		},
		certificateDetails: certificateDetails{
			FingerprintSHA256: str("fingerprint_sha256"),
			Subject:           str("subject"),
			NotBefore:         str("not_before"),
			NotAfter:          str("not_after"),
			CertificateCount:  num("certificate_count"),
		},
	}
	m.Timeouts, err = timeoutsFrom(ctx, attrs["timeouts"])
	errs = append(errs, err)
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("reading the mtls_certificate object: %w", err)
		}
	}
	return nil
}

// value writes m as an object value of typ, the resource schema's type.
func (m *certificateModel) value(ctx context.Context, typ tftypes.Type) (tftypes.Value, error) {
	obj, ok := typ.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("writing the mtls_certificate object: %s is not an object type", typ)
	}
	vals := map[string]tftypes.Value{
		"account_id":             stringValue(m.AccountID),
		"id":                     stringValue(m.ID),
		"name":                   stringValue(m.Name),
		"ca":                     boolValue(m.CA),
		"certificates":           stringValue(m.Certificates.StringValue),
		"private_key":            stringValue(m.PrivateKey.StringValue),
		"private_key_wo":         stringValue(m.PrivateKeyWO),
		"private_key_wo_version": int64Value(m.PrivateKeyWOVersion),
		"issuer":                 stringValue(m.Issuer),
		"serial_number":          stringValue(m.SerialNumber),
		"signature":              stringValue(m.Signature),
		"expires_on":             stringValue(m.ExpiresOn),
		"uploaded_on":            stringValue(m.UploadedOn),
		"type":                   stringValue(m.Type),
		"fingerprint_sha256":     stringValue(m.FingerprintSHA256),
		"subject":                stringValue(m.Subject),
		"not_before":             stringValue(m.NotBefore),
		"not_after":              stringValue(m.NotAfter),
		"certificate_count":      int64Value(m.CertificateCount),
	}
	timeoutsType := obj.AttributeTypes["timeouts"]
	switch {
	case m.Timeouts.IsNull():
		vals["timeouts"] = tftypes.NewValue(timeoutsType, nil)
	case m.Timeouts.IsUnknown():
		vals["timeouts"] = tftypes.NewValue(timeoutsType, tftypes.UnknownValue)
	default:
		v, err := m.Timeouts.ToTerraformValue(ctx)
		if err != nil {
			return tftypes.Value{}, fmt.Errorf("writing the mtls_certificate timeouts: %w", err)
		}
		vals["timeouts"] = v
	}
	for name := range obj.AttributeTypes {
		if _, ok := vals[name]; !ok {
			return tftypes.Value{}, fmt.Errorf("writing the mtls_certificate object: the model has no %q", name)
		}
	}
	if err := tftypes.ValidateValue(typ, vals); err != nil {
		return tftypes.Value{}, fmt.Errorf("writing the mtls_certificate object: %w", err)
	}
	return tftypes.NewValue(typ, vals), nil
}

func stringFrom(v tftypes.Value) (types.String, error) {
	switch {
	case v.Type() == nil || v.IsNull():
		return types.StringNull(), nil
	case !v.IsKnown():
		return types.StringUnknown(), nil
	}
	var s string
	if err := v.As(&s); err != nil {
		return types.String{}, err
	}
	return types.StringValue(s), nil
}

func boolFrom(v tftypes.Value) (types.Bool, error) {
	switch {
	case v.Type() == nil || v.IsNull():
		return types.BoolNull(), nil
	case !v.IsKnown():
		return types.BoolUnknown(), nil
	}
	var b bool
	if err := v.As(&b); err != nil {
		return types.Bool{}, err
	}
	return types.BoolValue(b), nil
}

func int64From(v tftypes.Value) (types.Int64, error) {
	switch {
	case v.Type() == nil || v.IsNull():
		return types.Int64Null(), nil
	case !v.IsKnown():
		return types.Int64Unknown(), nil
	}
	var f big.Float
	if err := v.As(&f); err != nil {
		return types.Int64{}, err
	}
	n, accuracy := f.Int64()
	if accuracy != big.Exact {
		return types.Int64{}, fmt.Errorf("%s is not a whole number that fits in 64 bits", f.String())
	}
	return types.Int64Value(n), nil
}

func timeoutsFrom(ctx context.Context, v tftypes.Value) (timeouts.Value, error) {
	obj, ok := v.Type().(tftypes.Object)
	if !ok {
		return timeouts.Value{}, fmt.Errorf("timeouts is %v, not an object", v.Type())
	}
	attrTypes := make(map[string]attr.Type, len(obj.AttributeTypes))
	for name := range obj.AttributeTypes {
		attrTypes[name] = types.StringType
	}
	got, err := timeouts.Type{ObjectType: types.ObjectType{AttrTypes: attrTypes}}.ValueFromTerraform(ctx, v)
	if err != nil {
		return timeouts.Value{}, err
	}
	t, _ := got.(timeouts.Value)
	return t, nil
}

func stringValue(s types.String) tftypes.Value {
	switch {
	case s.IsNull():
		return tftypes.NewValue(tftypes.String, nil)
	case s.IsUnknown():
		return tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	}
	return tftypes.NewValue(tftypes.String, s.ValueString())
}

func boolValue(b types.Bool) tftypes.Value {
	switch {
	case b.IsNull():
		return tftypes.NewValue(tftypes.Bool, nil)
	case b.IsUnknown():
		return tftypes.NewValue(tftypes.Bool, tftypes.UnknownValue)
	}
	return tftypes.NewValue(tftypes.Bool, b.ValueBool())
}

func int64Value(n types.Int64) tftypes.Value {
	switch {
	case n.IsNull():
		return tftypes.NewValue(tftypes.Number, nil)
	case n.IsUnknown():
		return tftypes.NewValue(tftypes.Number, tftypes.UnknownValue)
	}
	return tftypes.NewValue(tftypes.Number, new(big.Float).SetInt64(n.ValueInt64()))
}
