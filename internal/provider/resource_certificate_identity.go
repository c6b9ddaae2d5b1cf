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

var _ resource.ResourceWithIdentity = (*certificateResource)(nil)

// certificateIdentity names one certificate across all configurations: the
// account it lives in and the id Cloudflare gave it. Neither changes during
// the certificate's life, since every change of an argument uploads a new
// certificate. Terraform 1.12 and later and OpenTofu 1.12 and later store it
// in state and accept it in import blocks; older CLIs never ask for it.
type certificateIdentity struct {
	AccountID types.String `tfsdk:"account_id"`
	ID        types.String `tfsdk:"id"`
}

func (r *certificateResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"account_id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Cloudflare account ID that holds the certificate (32 lowercase hexadecimal characters).",
			},
			"id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Identifier of the certificate, assigned by Cloudflare.",
			},
		},
	}
}

// setIdentity records the identity of the certificate in accountID with id.
// identity is nil only when the framework does not track identity for the
// operation, and then there is nothing to record.
func setIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, accountID, id types.String) diag.Diagnostics {
	if identity == nil {
		return nil
	}
	return identity.Set(ctx, certificateIdentity{AccountID: accountID, ID: id})
}

// importIdentity reads the account and certificate ids from the identity of
// an import block, and checks them as an import ID's are checked. The
// errors are on the identity attribute at fault.
func importIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity) (accountID, id string, diags diag.Diagnostics) {
	var got certificateIdentity
	diags.Append(identity.Get(ctx, &got)...)
	if diags.HasError() {
		return "", "", diags
	}
	diags.Append(checkImportIdentity(identityExample,
		identityPart{"account_id", got.AccountID, checkAccountID},
		identityPart{"id", got.ID, checkCertificateID})...)
	return got.AccountID.ValueString(), got.ID.ValueString(), diags
}

// identityPart is one attribute of an import block's identity, and the
// check of its value that the import ID's part gets too.
type identityPart struct {
	name  string
	value types.String
	check func(string) error
}

// checkImportIdentity checks each part of an import block's identity: it
// must be set, and pass its check. Each error is on the attribute at fault
// and shows example.
func checkImportIdentity(example string, parts ...identityPart) (diags diag.Diagnostics) {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.name
	}
	for _, p := range parts {
		if !known(p.value) || p.value.ValueString() == "" {
			diags.AddAttributeError(path.Root(p.name), "Invalid Import Identity", fmt.Sprintf(
				"The import identity has no %s. Set both %s, for example: %s", p.name, strings.Join(names, " and "), example))
		} else if err := p.check(p.value.ValueString()); err != nil {
			diags.AddAttributeError(path.Root(p.name), "Invalid Import Identity", fmt.Sprintf(
				"In the import identity, %s. Expected, for example: %s", err, example))
		}
	}
	return diags
}

const identityExample = `identity = { account_id = "0123456789abcdef0123456789abcdef", id = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10" }`
