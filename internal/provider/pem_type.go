package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

// pemKind says what a PEM attribute holds, and so what "the same value"
// means for it.
type pemKind int

const (
	// pemCertificates values are equal when they decode to the same
	// sequence of DER certificates.
	pemCertificates pemKind = iota
	// pemPrivateKey values are equal when they hold the same private key,
	// in whichever PEM encoding.
	pemPrivateKey
)

func (k pemKind) same(a, b string) bool {
	if a == b {
		return true // the common case, a value compared with itself: no decoding
	}
	if k == pemPrivateKey {
		return certs.SamePrivateKey(a, b)
	}
	return certs.SameCertificates(a, b)
}

// pemType is the type of the certificates and private_key attributes. Its
// values compare by what they decode to, not by text, so the framework keeps
// the user's text in the plan and state whenever the API (or the user) only
// changed line endings, wrapping, indentation or blank lines.
type pemType struct {
	basetypes.StringType
	kind pemKind
}

var (
	pemCertificatesType = pemType{kind: pemCertificates}
	pemPrivateKeyType   = pemType{kind: pemPrivateKey}
)

var _ basetypes.StringTypable = pemType{}

func (t pemType) Equal(o attr.Type) bool {
	other, ok := o.(pemType)
	return ok && t.kind == other.kind && t.StringType.Equal(other.StringType)
}

func (t pemType) String() string {
	if t.kind == pemPrivateKey {
		return "pemPrivateKeyType"
	}
	return "pemCertificatesType"
}

func (t pemType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return pemValue{StringValue: in, kind: t.kind}, nil
}

func (t pemType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return pemValue{StringValue: s, kind: t.kind}, nil
}

func (t pemType) ValueType(context.Context) attr.Value { return pemValue{kind: t.kind} }

// pemValue is PEM text of the kind its type says.
type pemValue struct {
	basetypes.StringValue
	kind pemKind
}

var _ basetypes.StringValuableWithSemanticEquals = pemValue{}

func newPEMCertificates(text string) pemValue {
	return pemValue{StringValue: basetypes.NewStringValue(text), kind: pemCertificates}
}

func (v pemValue) Equal(o attr.Value) bool {
	other, ok := o.(pemValue)
	return ok && v.kind == other.kind && v.StringValue.Equal(other.StringValue)
}

func (v pemValue) Type(context.Context) attr.Type { return pemType{kind: v.kind} }

// String keeps a private key out of anything that prints the value: the
// framework logs String() of every value whose semantic equality it checks.
func (v pemValue) String() string {
	if v.kind == pemPrivateKey && !v.IsNull() && !v.IsUnknown() {
		return "<sensitive private key>"
	}
	return v.StringValue.String()
}

// StringSemanticEquals is where the provider decides that two PEM texts hold
// the same certificates or key; nothing else compares their text.
func (v pemValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := newValuable.(pemValue)
	if !ok || other.kind != v.kind {
		return false, nil
	}
	return v.kind.same(v.ValueString(), other.ValueString()), nil
}
