package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*certificateResource)(nil)

var certificateIDPattern = regexp.MustCompile(`^[0-9a-fA-F-]{1,36}$`)

// ImportState takes an import ID (the import command, or an import block's
// id) or, from Terraform or OpenTofu 1.12 on, an import block's identity.
func (r *certificateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var accountID, id string
	if req.ID == "" && req.Identity != nil && !req.Identity.Raw.IsNull() {
		accountID, id, resp.Diagnostics = importIdentity(ctx, req.Identity)
		if resp.Diagnostics.HasError() {
			return
		}
	} else {
		defaultAccount := ""
		if r.data != nil {
			defaultAccount = r.data.accountID
		}
		var err error
		accountID, id, err = parseImportID(req.ID, defaultAccount)
		if err != nil {
			resp.Diagnostics.AddError("Invalid Import ID", err.Error())
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), accountID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, types.StringValue(accountID), types.StringValue(id))...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("true"))...)
}

// privateImported marks, in private state, a certificate adopted by import
// or by a moved block: the API never returns a private key, so the first key
// (or key version) in the configuration is recorded in place instead of
// replacing the certificate.
const privateImported = "imported"

// isImported reads the private-state mark that ImportState and MoveState
// leave. The framework's private data answers nil for a missing key, also
// when the data itself is nil.
func isImported(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) (bool, diag.Diagnostics) {
	v, diags := private.GetKey(ctx, privateImported)
	return string(v) == "true", diags
}

const importFormat = "<account_id>/<certificate_id>, or <certificate_id> alone when the provider sets account_id " +
	"(for example: terraform import mtls_certificate.ca 0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10)"

// parseImportID accepts "<account_id>/<certificate_id>" or, with a provider
// default account, "<certificate_id>".
func parseImportID(raw, defaultAccount string) (accountID, id string, err error) {
	parts := strings.Split(strings.TrimSpace(raw), "/")
	switch len(parts) {
	case 1:
		if defaultAccount == "" {
			return "", "", fmt.Errorf("the import ID %q has no account and the provider sets no account_id; expected %s", raw, importFormat)
		}
		accountID, id = defaultAccount, parts[0]
	case 2:
		accountID, id = parts[0], parts[1]
	default:
		return "", "", fmt.Errorf("the import ID %q has too many parts; expected %s", raw, importFormat)
	}
	for _, err := range []error{checkAccountID(accountID), checkCertificateID(id)} {
		if err != nil {
			return "", "", fmt.Errorf("in import ID %q, %w; expected %s", raw, err, importFormat)
		}
	}
	return accountID, id, nil
}

// checkAccountID and checkCertificateID check the ids that name a
// certificate, wherever they come from: an import ID or an import identity.
func checkAccountID(accountID string) error {
	if !accountIDPattern.MatchString(accountID) {
		return fmt.Errorf("the account ID %q is not 32 lowercase hexadecimal characters", accountID)
	}
	return nil
}

func checkCertificateID(id string) error {
	if !certificateIDPattern.MatchString(id) {
		return fmt.Errorf("the certificate ID %q is not a Cloudflare certificate identifier (hexadecimal digits and dashes, at most 36 characters)", id)
	}
	return nil
}
