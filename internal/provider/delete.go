package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

var certificateIDPattern = regexp.MustCompile(`^[0-9a-fA-F-]{1,36}$`)

// deleteWithAssociationCheck deletes a certificate and, when Cloudflare
// refuses, asks which services still use it. The "in use" error code is not
// documented, so any 4XX other than 404 is treated as "maybe in use" and the
// associations endpoint, not the error text, decides what to report.
func deleteWithAssociationCheck(ctx context.Context, client *cfapi.Client, accountID, id string) diag.Diagnostics {
	var diags diag.Diagnostics
	err := client.Delete(ctx, accountID, id)
	if err == nil {
		tflog.Info(ctx, "Deleted mTLS certificate", map[string]any{"account_id": accountID, "id": id})
		return nil
	}
	if cfapi.IsNotFound(err) {
		tflog.Info(ctx, "mTLS certificate was already gone", map[string]any{"account_id": accountID, "id": id})
		return nil
	}
	const summary = "Unable to Delete mTLS Certificate"
	if !cfapi.IsClientError(err) {
		diags.AddError(summary, apiErrorDetail(
			fmt.Sprintf("Cloudflare could not delete certificate %s in account %s; it is still in state, so the next destroy will try again.", id, accountID), err))
		return diags
	}

	associations, assocErr := client.AssociationsAll(ctx, accountID, id)
	switch {
	case assocErr != nil:
		diags.AddError(summary, apiErrorDetail(
			fmt.Sprintf("Cloudflare refused to delete certificate %s in account %s, and its associations could not be "+
				"listed to tell whether a service still uses it (%s). The certificate is still in state.", id, accountID, assocErr), err))
	case len(associations) > 0:
		diags.AddError(summary, inUseDetail(accountID, id, associations, err))
	default:
		diags.AddError(summary, apiErrorDetail(
			fmt.Sprintf("Cloudflare refused to delete certificate %s in account %s, and no service is using it. The certificate is still in state.", id, accountID), err))
	}
	return diags
}

func inUseDetail(accountID, id string, associations []cfapi.Association, err error) string {
	var b strings.Builder
	noun := "service"
	if len(associations) != 1 {
		noun = "services"
	}
	fmt.Fprintf(&b, "Certificate %s in account %s is still used by %d Cloudflare %s:\n", id, accountID, len(associations), noun)
	for _, a := range associations {
		status := a.Status
		if status == "" {
			status = "unknown"
		}
		fmt.Fprintf(&b, "  - service %q (status %q)\n", a.Service, status)
	}
	b.WriteString("\nRemove the certificate from these services, or point them at another certificate, then run " +
		"destroy again. Nothing was deleted: the certificate is still in Cloudflare and in state.")
	return apiErrorDetail(b.String(), err)
}

// apiErrorDetail is the one place that turns an API failure into diagnostic
// text: what happened and what to do first, then the API's own words.
func apiErrorDetail(lead string, err error) string {
	if cfapi.IsAuthError(err) {
		lead += "\n\nCheck that the credentials are valid and that the API token has the \"SSL and Certificates\" " +
			"permission (edit for uploads and deletes) on this account."
	}
	return lead + "\n\nCloudflare API: " + err.Error()
}
