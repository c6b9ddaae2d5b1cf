package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// hostnameAssociationIdentity names one association across configurations:
// the zone and the certificate whose hostnames it holds. Terraform and
// OpenTofu 1.12 and later store it and accept it in import blocks. An
// update may change the certificate, so the identity is mutable.
type hostnameAssociationIdentity struct {
	ZoneID            types.String `tfsdk:"zone_id"`
	MTLSCertificateID types.String `tfsdk:"mtls_certificate_id"`
}

func (r *hostnameAssociationResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"zone_id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Cloudflare zone ID of the hostnames (32 lowercase hexadecimal characters).",
			},
			"mtls_certificate_id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "ID of the CA certificate the hostnames are associated with.",
			},
		},
	}
}

// setHostnameIdentity records the identity; identity is nil when the
// framework does not track one for the operation.
func setHostnameIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, zoneID, certID types.String) diag.Diagnostics {
	if identity == nil {
		return nil
	}
	return identity.Set(ctx, hostnameAssociationIdentity{ZoneID: zoneID, MTLSCertificateID: certID})
}

const hostnameImportFormat = "<zone_id>/<mtls_certificate_id> (for example: terraform import " +
	"mtls_hostname_association.api 0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10)"

const hostnameIdentityExample = `identity = { zone_id = "0123456789abcdef0123456789abcdef", mtls_certificate_id = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10" }`

// ImportState takes an import ID <zone_id>/<mtls_certificate_id> or, from
// Terraform or OpenTofu 1.12 on, an import block's identity. The hostnames
// come from the Read that follows; a certificate without hostnames in the
// zone has nothing to import, and the CLI says so.
func (r *hostnameAssociationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var zoneID, certID string
	if req.ID == "" && req.Identity != nil && !req.Identity.Raw.IsNull() {
		zoneID, certID, resp.Diagnostics = hostnameImportIdentity(ctx, req.Identity)
	} else {
		var err error
		if zoneID, certID, err = parseHostnameImportID(req.ID); err != nil {
			resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("zone_id"), zoneID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("mtls_certificate_id"), certID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), hostnameAssociationID(zoneID, certID))...)
	resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, types.StringValue(zoneID), types.StringValue(certID))...)
}

// parseHostnameImportID accepts "<zone_id>/<mtls_certificate_id>".
func parseHostnameImportID(raw string) (zoneID, certID string, err error) {
	parts := strings.Split(strings.TrimSpace(raw), "/")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("the import ID %q is not two parts separated by \"/\"; expected %s", raw, hostnameImportFormat)
	}
	zoneID, certID = parts[0], parts[1]
	for _, err := range []error{checkZoneID(zoneID), checkCertificateID(certID)} {
		if err != nil {
			return "", "", fmt.Errorf("in import ID %q, %w; expected %s", raw, err, hostnameImportFormat)
		}
	}
	return zoneID, certID, nil
}

// hostnameImportIdentity reads and checks an import block's identity; the
// errors are on the identity attribute at fault.
func hostnameImportIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity) (zoneID, certID string, diags diag.Diagnostics) {
	var got hostnameAssociationIdentity
	if diags.Append(identity.Get(ctx, &got)...); diags.HasError() {
		return "", "", diags
	}
	diags.Append(checkImportIdentity(hostnameIdentityExample,
		identityPart{"zone_id", got.ZoneID, checkZoneID},
		identityPart{"mtls_certificate_id", got.MTLSCertificateID, checkCertificateID})...)
	return got.ZoneID.ValueString(), got.MTLSCertificateID.ValueString(), diags
}

func checkZoneID(zoneID string) error {
	if !zoneIDPattern.MatchString(zoneID) {
		return fmt.Errorf("the zone ID %q is not 32 lowercase hexadecimal characters", zoneID)
	}
	return nil
}
