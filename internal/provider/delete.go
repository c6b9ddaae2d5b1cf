package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// Draining: services let go of a certificate over time (an association
// may be pending deletion). While the associations keep changing toward
// removal, delete waits for them, up to the delete timeout; when they stop
// changing for drainStall, it gives up.
const (
	drainStall    = 30 * time.Second
	drainFirstGap = time.Second
	drainMaxGap   = 8 * time.Second
)

// deleteCertificate deletes a certificate, and reports it deleted only when
// Cloudflare did so or proves it gone. A refusal is classified before any
// service is blamed: credentials and permissions are said to be that, and
// answers the retry layer gave up on are errors as they stand. Only another
// 4XX asks the associations endpoint, since Cloudflare does not document
// its "in use" answer. While services still use the certificate, it waits
// for them to let go (see drainStall); once none does but Cloudflare still
// refuses, which its check lagging the associations endpoint can cause, it
// tries again with backoff until the delete timeout.
func deleteCertificate(ctx context.Context, client *cfapi.Client, accountID, id string) diag.Diagnostics {
	var diags diag.Diagnostics
	start := time.Now()
	lastProgress := start
	gap := drainFirstGap
	var refusal error
	var held []cfapi.Association // the associations last seen; nil before the first refusal
	deleteNow := true            // DELETE first, then again only once no service holds it
	drained := false             // no service holds it, and Cloudflare still refused
	for {
		if deleteNow {
			refusal = client.Delete(ctx, accountID, id)
			if refusal == nil {
				tflog.Info(ctx, "Deleted mTLS certificate", map[string]any{"account_id": accountID, "id": id})
				return nil
			}
			if ctx.Err() != nil && held != nil {
				diags.Append(drainStopped(ctx, accountID, id, held, refusal, time.Since(start), drained))
				return diags
			}
			if done, stop := deleteEnded(ctx, client, accountID, id, refusal); done {
				return stop
			}
		}

		current, err := client.AssociationsAll(ctx, accountID, id)
		if err != nil {
			gone, goneErr := client.ConfirmGone(ctx, accountID, id, err)
			switch {
			case gone:
				tflog.Info(ctx, "mTLS certificate was gone while its associations were read", map[string]any{"account_id": accountID, "id": id})
				return nil
			case ctx.Err() != nil && held != nil:
				diags.Append(drainStopped(ctx, accountID, id, held, refusal, time.Since(start), drained))
			default:
				diags.AddError(deleteSummary, apiErrorDetail(fmt.Sprintf("Cloudflare refused to delete certificate %s in "+
					"account %s, and its associations could not be listed to tell whether a service still uses it (%s). "+
					"The certificate is still in state.", id, accountID, goneErr), refusal))
			}
			return diags
		}
		switch {
		case len(current) == 0 && held == nil:
			diags.AddError(deleteSummary, apiErrorDetail(fmt.Sprintf("Cloudflare refused to delete certificate %s in "+
				"account %s, and no service is using it. The certificate is still in state.", id, accountID), refusal))
			return diags
		case len(current) == 0 && !deleteNow:
			// The services just let go: delete at once.
			held, deleteNow = current, true
			continue
		case len(current) == 0 && !drained:
			tflog.Info(ctx, "No service uses the mTLS certificate any more, but Cloudflare still refuses to delete it; trying again",
				map[string]any{"account_id": accountID, "id": id})
			drained, gap = true, drainFirstGap
		case len(current) == 0:
			gap = min(2*gap, drainMaxGap)
		case len(held) == 0 || drainProgress(held, current):
			lastProgress, gap, drained = time.Now(), drainFirstGap, false
		default:
			gap, drained = min(2*gap, drainMaxGap), false
		}
		held, deleteNow = current, len(current) == 0
		if len(held) > 0 && time.Since(lastProgress) >= drainStall {
			diags.AddError(deleteSummary, inUseDetail(accountID, id, held, refusal,
				fmt.Sprintf("The associations have not changed for %s, so they are not going away on their own.", roundSecond(drainStall))))
			return diags
		}
		tflog.Info(ctx, "Waiting before trying to delete the mTLS certificate again", map[string]any{
			"account_id": accountID, "id": id, "associations": len(held), "waited": time.Since(start).String(),
		})
		if cfapi.Sleep(ctx, gap) != nil {
			diags.Append(drainStopped(ctx, accountID, id, held, refusal, time.Since(start), drained))
			return diags
		}
	}
}

// deleteEnded decides what a refused DELETE means before anyone is told
// "in use": done is false only for a 4XX that the associations must
// explain. When done, stop is nil for a certificate proved gone.
func deleteEnded(ctx context.Context, client *cfapi.Client, accountID, id string, refusal error) (done bool, stop diag.Diagnostics) {
	gone, err := client.ConfirmGone(ctx, accountID, id, refusal)
	var unconfirmed *cfapi.UnconfirmedNotFoundError
	switch {
	case gone:
		tflog.Info(ctx, "mTLS certificate was already gone", map[string]any{"account_id": accountID, "id": id})
		return true, nil
	case errors.As(err, &unconfirmed):
		stop.AddError(deleteSummary, fmt.Sprintf("Certificate %s in account %s may not have been deleted: %s. "+
			"Nothing was removed from state; check base_url and run destroy again.", id, accountID, err))
	case cfapi.IsAuthError(refusal):
		stop.AddError(deleteSummary, permissionDetail(fmt.Sprintf("Cloudflare refused to delete certificate %s in account %s "+
			"because of the credentials.", id, accountID), "Edit", refusal))
	case !cfapi.IsClientError(refusal) || cfapi.IsTransient(refusal):
		stop.AddError(deleteSummary, apiErrorDetail(fmt.Sprintf("Cloudflare could not delete certificate %s in account %s; "+
			"it is still in state, so the next destroy will try again.", id, accountID), refusal))
	default:
		return false, nil
	}
	return true, stop
}

// drainStopped is the error when the delete timeout, or an interrupt, ends
// the wait.
func drainStopped(ctx context.Context, accountID, id string, held []cfapi.Association, refusal error, waited time.Duration, drained bool) diag.Diagnostic {
	ended := "The delete timeout ran out"
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		ended = "The operation was interrupted"
	}
	if drained {
		return diag.NewErrorDiagnostic(deleteSummary, apiErrorDetail(fmt.Sprintf("No Cloudflare service uses certificate %s "+
			"in account %s any more, but Cloudflare kept refusing to delete it. %s after %s of trying again. Nothing was "+
			"deleted: the certificate is still in Cloudflare and in state; run destroy again.", id, accountID, ended, roundSecond(waited)), refusal))
	}
	return diag.NewErrorDiagnostic(deleteSummary, inUseDetail(accountID, id, held, refusal,
		fmt.Sprintf("%s after waiting %s for these services to let go of it.", ended, roundSecond(waited))))
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

func roundSecond(d time.Duration) time.Duration { return d.Round(time.Second) }
