package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

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
		diags.Append(drainThenDelete(ctx, client, accountID, id, associations, err)...)
	default:
		diags.AddError(summary, apiErrorDetail(
			fmt.Sprintf("Cloudflare refused to delete certificate %s in account %s, and no service is using it. The certificate is still in state.", id, accountID), err))
	}
	return diags
}

// Draining: services let go of a certificate over time (an association
// may be pending deletion). While the associations keep changing toward
// removal, delete waits for them, up to the delete timeout; when they stop
// changing for drainStall, it gives up.
const (
	drainStall    = 30 * time.Second
	drainFirstGap = time.Second
	drainMaxGap   = 8 * time.Second
)

// drainThenDelete polls the associations of a certificate Cloudflare would
// not delete, and deletes it as soon as none is left.
func drainThenDelete(ctx context.Context, client *cfapi.Client, accountID, id string, associations []cfapi.Association, refusal error) diag.Diagnostics {
	var diags diag.Diagnostics
	const summary = "Unable to Delete mTLS Certificate"
	start := time.Now()
	lastProgress := start
	gap := drainFirstGap
	for {
		tflog.Info(ctx, "mTLS certificate is in use; waiting for its associations to go away", map[string]any{
			"account_id": accountID, "id": id, "associations": len(associations), "waited": time.Since(start).String(),
		})
		stopped := func() diag.Diagnostics {
			why := fmt.Sprintf("The delete timeout ran out after waiting %s for these services to let go of it.", roundSecond(time.Since(start)))
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = fmt.Sprintf("The operation was interrupted after waiting %s for these services to let go of it.", roundSecond(time.Since(start)))
			}
			diags.AddError(summary, inUseDetail(accountID, id, associations, refusal, why))
			return diags
		}
		if !sleepCtx(ctx, gap) {
			return stopped()
		}
		current, err := client.AssociationsAll(ctx, accountID, id)
		if err != nil && ctx.Err() != nil {
			return stopped()
		}
		if err != nil {
			diags.AddError(summary, apiErrorDetail(fmt.Sprintf("Could not list the associations of certificate %s in "+
				"account %s while waiting for them to go away. The certificate is still in state.", id, accountID), err))
			return diags
		}
		if len(current) == 0 {
			return deleteWithAssociationCheck(ctx, client, accountID, id)
		}
		if drainProgress(associations, current) {
			lastProgress, gap = time.Now(), drainFirstGap
		} else {
			gap = min(2*gap, drainMaxGap)
		}
		associations = current
		if time.Since(lastProgress) >= drainStall {
			diags.AddError(summary, inUseDetail(accountID, id, associations, refusal,
				fmt.Sprintf("The associations have not changed for %s, so they are not going away on their own.", roundSecond(drainStall))))
			return diags
		}
	}
}

// drainProgress reports whether the associations moved toward removal:
// fewer of them, or any of them in a new status. More of them is not
// progress.
func drainProgress(before, after []cfapi.Association) bool {
	if len(after) != len(before) {
		return len(after) < len(before)
	}
	count := map[cfapi.Association]int{}
	for _, a := range before {
		count[a]++
	}
	for _, a := range after {
		if count[a] == 0 {
			return true
		}
		count[a]--
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func roundSecond(d time.Duration) time.Duration { return d.Round(time.Second) }

func inUseDetail(accountID, id string, associations []cfapi.Association, err error, why string) string {
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
	b.WriteString("\n" + why + " Remove the certificate from these services, or point them at another certificate, " +
		"then run destroy again. Nothing was deleted: the certificate is still in Cloudflare and in state.")
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
