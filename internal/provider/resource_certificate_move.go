package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var _ resource.ResourceWithMoveState = (*certificateResource)(nil)

// The resource type, and the provider type, of the official Cloudflare
// provider's resource that manages the same API objects as mtls_certificate.
const (
	officialTypeName     = "cloudflare_mtls_certificate"
	officialProviderType = "cloudflare"
)

// MoveState lets a `moved` block (Terraform 1.8+, OpenTofu 1.10+) adopt a
// certificate from cloudflare_mtls_certificate without uploading it again.
func (r *certificateResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{{StateMover: moveFromOfficial}}
}

func moveFromOfficial(ctx context.Context, req resource.MoveStateRequest, resp *resource.MoveStateResponse) {
	const summary = "Unable to Move mTLS Certificate"
	if req.SourceTypeName != officialTypeName || !isOfficialProvider(req.SourceProviderAddress) {
		resp.Diagnostics.AddError(summary, fmt.Sprintf(
			"mtls_certificate can be moved only from %s of the %s provider (such as "+
				"registry.terraform.io/cloudflare/cloudflare); the moved block names %s of %s. "+
				"Use an import block instead.",
			officialTypeName, officialProviderType, req.SourceTypeName, req.SourceProviderAddress))
		return
	}
	if req.SourceRawState == nil || len(req.SourceRawState.JSON) == 0 {
		resp.Diagnostics.AddError(summary, "The state of "+officialTypeName+" is in the legacy flat format, "+
			"which this provider cannot read. Run `apply` (or `apply -refresh-only`) once with the cloudflare "+
			"provider to rewrite the state, then move it.")
		return
	}
	source, err := decodeOfficialState(req.SourceSchemaVersion, req.SourceRawState.JSON)
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Could not read the state of %s from %s: %s. "+
			"Import the certificate instead (see the import blocks of the mtls_certificates data source).",
			officialTypeName, req.SourceProviderAddress, err))
		return
	}

	model := source.model()
	// Null timeouts: the target schema's null object has the right type.
	resp.Diagnostics.Append(resp.TargetState.GetAttribute(ctx, path.Root("timeouts"), &model.Timeouts)...)
	resp.Diagnostics.Append(resp.TargetState.Set(ctx, &model)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.TargetIdentity, model.AccountID, model.ID)...)
	// The official provider may not have a key in state (none was
	// configured). Mark the certificate as imported, so that a key in the
	// configuration is recorded in place instead of replacing it.
	resp.Diagnostics.Append(resp.TargetPrivate.SetKey(ctx, privateImported, []byte("true"))...)
	if !resp.Diagnostics.HasError() {
		tflog.Info(ctx, "Moved mTLS certificate state", map[string]any{
			"source_provider": req.SourceProviderAddress, "source_schema_version": req.SourceSchemaVersion,
			"layout": source.layout, "account_id": model.AccountID.ValueString(), "id": model.ID.ValueString(),
		})
	}
}

// isOfficialProvider accepts HOSTNAME/NAMESPACE/cloudflare, whatever the
// registry (Terraform's, OpenTofu's, a mirror) or namespace (tests serve
// every provider as hashicorp/<type>). OpenTofu before 1.12.4 and 1.11.12
// sent the bare type instead of the address, so that is accepted too.
func isOfficialProvider(address string) bool {
	parts := strings.Split(address, "/")
	return len(parts) <= 3 && parts[len(parts)-1] == officialProviderType && !slices.Contains(parts, "")
}

// Layouts of cloudflare_mtls_certificate state. The attribute names are the
// same in both; they differ in updated_at, in how unset strings and times
// are written, and in the schema version.
const (
	// layoutV4 is the SDKv2 provider (v4.x): schema version 0, no
	// updated_at, "" for an unset name or private_key, times in RFC 3339
	// with as many fraction digits as the time has.
	layoutV4 = "v4"
	// layoutV5 is the framework provider (v5.x): schema version 0 (early
	// v5), 1 (v5.0 to v5.18) or 500 (later), with updated_at, and times as
	// the API wrote them.
	layoutV5 = "v5"
)

var v5SchemaVersions = []int64{0, 1, 500}

// officialState is the part of cloudflare_mtls_certificate state that
// mtls_certificate keeps. Pointers tell a missing or null value from an
// empty one.
type officialState struct {
	layout string

	ID           *string `json:"id"`
	AccountID    *string `json:"account_id"`
	Name         *string `json:"name"`
	CA           *bool   `json:"ca"`
	Certificates *string `json:"certificates"`
	PrivateKey   *string `json:"private_key"`
	Issuer       *string `json:"issuer"`
	SerialNumber *string `json:"serial_number"`
	Signature    *string `json:"signature"`
	ExpiresOn    *string `json:"expires_on"`
	UploadedOn   *string `json:"uploaded_on"`
}

// decodeOfficialState reads the state JSON of cloudflare_mtls_certificate
// at schemaVersion. Errors name what was found, never a value: the state
// holds the private key.
func decodeOfficialState(schemaVersion int64, raw []byte) (*officialState, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &attrs); err != nil {
		return nil, fmt.Errorf("the state is not a JSON object (%v)", jsonErrorKind(err))
	}
	_, hasUpdatedAt := attrs["updated_at"]
	layout := layoutV4
	if hasUpdatedAt {
		layout = layoutV5
	}
	switch {
	case layout == layoutV4 && schemaVersion == 0:
	case layout == layoutV5 && slices.Contains(v5SchemaVersions, schemaVersion):
	default:
		return nil, fmt.Errorf("schema version %d with attributes %s is not a layout this provider knows "+
			"(v4: schema version 0 without updated_at; v5: schema version 0, 1 or 500 with updated_at)",
			schemaVersion, strings.Join(sortedKeys(attrs), ", "))
	}

	var s officialState
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("the %s layout (schema version %d) holds an attribute of an unexpected type (%v)",
			layout, schemaVersion, jsonErrorKind(err))
	}
	s.layout = layout
	for _, required := range []struct {
		name    string
		missing bool
	}{
		{"id", s.ID == nil || *s.ID == ""},
		{"account_id", s.AccountID == nil || *s.AccountID == ""},
		{"ca", s.CA == nil},
		{"certificates", s.Certificates == nil || *s.Certificates == ""},
	} {
		if required.missing {
			return nil, fmt.Errorf("the %s layout (schema version %d) has no %s", layout, schemaVersion, required.name)
		}
	}
	return &s, nil
}

// jsonErrorKind describes a decoding error without the text it quotes.
func jsonErrorKind(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s is a JSON %s, expected %s", typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return "malformed JSON"
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// model is the mtls_certificate state for the moved certificate, as a read
// of it would write it. type is left null: the source does not have it,
// and the refresh that follows the move reads it.
func (s *officialState) model() certificateModel {
	m := certificateModel{
		AccountID:    types.StringValue(*s.AccountID),
		ID:           types.StringValue(*s.ID),
		Name:         nonEmptyString(s.Name),
		CA:           types.BoolValue(*s.CA),
		Certificates: newPEMCertificates(*s.Certificates),
		PrivateKey:   pemValue{StringValue: types.StringNull(), kind: pemPrivateKey},
		reportedValues: reportedValues{
			Issuer:       nonEmptyString(s.Issuer),
			SerialNumber: nonEmptyString(s.SerialNumber),
			Signature:    nonEmptyString(s.Signature),
			ExpiresOn:    normalizeTime(s.ExpiresOn, time.RFC3339),
			UploadedOn:   normalizeTime(s.UploadedOn, time.RFC3339Nano),
			Type:         types.StringNull(),
		},
	}
	if key := nonEmptyString(s.PrivateKey); !key.IsNull() {
		m.PrivateKey = pemValue{StringValue: key, kind: pemPrivateKey}
	}
	m.refreshDetails()
	return m
}

// nonEmptyString is null for a missing, null or empty value: v4 wrote ""
// for an unset optional argument, where mtls_certificate has null.
func nonEmptyString(v *string) types.String {
	if v == nil || *v == "" {
		return types.StringNull()
	}
	return types.StringValue(*v)
}

// normalizeTime rewrites an RFC 3339 time in the layout applyAPI writes (UTC,
// via formatTime), so the move changes nothing a read would change back.
// Text that is not RFC 3339 is kept: the refresh after the move replaces it.
func normalizeTime(v *string, layout string) types.String {
	if v == nil || *v == "" {
		return types.StringNull()
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return types.StringValue(*v)
	}
	return formatTime(t, layout)
}
