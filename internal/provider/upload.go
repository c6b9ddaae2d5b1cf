package provider

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// twinLookupTimeout bounds the look for a certificate that an upload may
// have stored. The look runs on a context of its own, since it is most
// needed when the operation's context has just ended.
const twinLookupTimeout = 15 * time.Second

// uploadExactlyOnce uploads a certificate so that one Create stores it at
// most once and never loses one it stored. The client retries transient
// failures, so an attempt whose answer was lost (a dropped connection, a
// timeout, a 5XX) may have stored the certificate: its retry then meets
// 1471 "This certificate already exists", and an interrupted or timed-out
// Create may leave it stored with no answer at all; so may an answer that
// contradicts itself (a success status with "success": false, or no
// certificate id). In all these cases the account is listed for a
// certificate with the same certificates, name and ca, and one that
// Cloudflare's clock places after this upload's first attempt was sent is
// taken as this upload's own, exactly as if its answer had arrived.
//
// A match that this Create cannot have stored (no attempt can have stored
// anything, or it is older than the first attempt) belongs to someone
// else, and one that the clock cannot place either way may: the upload
// fails and the diagnostic names it and how to import it.
func uploadExactlyOnce(ctx context.Context, client *cfapi.Client, req cfapi.UploadRequest) (*cfapi.Certificate, diag.Diagnostics) {
	var diags diag.Diagnostics
	started := time.Now()
	ctx = cfapi.WithAttemptLog(ctx)
	uploaded, err := client.Upload(ctx, req)
	if err == nil {
		tflog.Info(ctx, "Uploaded mTLS certificate", map[string]any{"account_id": req.AccountID, "id": uploaded.ID})
		return uploaded, nil
	}
	attempts := cfapi.Attempts(ctx)
	// An attempt may have stored the certificate without this Create
	// learning of it: its answer was lost, or the answer arrived just as
	// the operation ended (an interrupt) and was dropped with it.
	// An answer that cannot be understood may also hide a stored
	// certificate.
	mayBeStored := cfapi.IsUnreadableAnswer(err) || slices.ContainsFunc(attempts, func(a cfapi.Attempt) bool {
		return a.OutcomeUnknown() || (ctx.Err() != nil && a.Succeeded())
	})
	exists := cfapi.IsAlreadyExists(err)
	// A readable 1489 refusal stored nothing (the retrier recorded its
	// attempt as a refusal, even at a 5XX); the quota is still named when
	// an earlier attempt's fate is unknown and no twin turns up below.
	quota := cfapi.IsCAQuotaExceeded(err)
	if !exists && !mayBeStored {
		if quota {
			diags.AddError(createSummary, caQuotaDiagnostic(ctx, client, req.AccountID, err))
			return nil, diags
		}
		lead := "Cloudflare did not accept the upload; nothing was created."
		if ctx.Err() != nil {
			lead = "The operation " + describeContextEnd(ctx) + " before Cloudflare accepted the upload; nothing was created."
		}
		diags.AddError(createSummary, apiErrorDetail(lead, err))
		return nil, diags
	}

	lookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), twinLookupTimeout)
	defer cancel()
	lookCtx = cfapi.WithAttemptLog(lookCtx)
	holders, listErr := certificatesHolding(lookCtx, client, req)
	if listErr != nil {
		diags.AddError(createSummary, apiErrorDetail(lookupFailedDetail(req.AccountID, exists, listErr), err))
		return nil, diags
	}
	// The first attempt may have been sent later than started (the rate
	// limiter can hold it). Cloudflare's clock, read from the Date of its
	// answers, places each match before or after it.
	firstSent := started
	if len(attempts) > 0 && !attempts[0].Sent.IsZero() {
		firstSent = attempts[0].Sent
	}
	offset, clockKnown := cfapi.ServerClockOffset(append(attempts, cfapi.Attempts(lookCtx)...))
	twins, unplaced := ownTwins(holders, req, firstSent, time.Now(), offset, clockKnown)
	fields := map[string]any{
		"account_id":          req.AccountID,
		"attempts":            len(attempts),
		"may_be_stored":       mayBeStored,
		"already_exists":      exists,
		"matching_in_account": len(holders),
		"candidates":          len(twins),
		"unplaced":            len(unplaced),
		"clock_known":         clockKnown,
		"clock_offset_min":    offset.Min.String(),
		"clock_offset_max":    offset.Max.String(),
	}
	switch {
	case mayBeStored && len(twins) == 1 && len(unplaced) == 0:
		twin := &twins[0]
		fields["id"] = twin.ID
		tflog.Info(ctx, "An upload whose answer was lost had stored the mTLS certificate; recording that one instead of uploading it again", fields)
		diags.AddWarning("mTLS Certificate Recorded After a Lost Answer", recoveredDetail(ctx, req, twin, err))
		return twin, diags
	case mayBeStored && len(twins)+len(unplaced) > 1:
		tflog.Warn(ctx, "Several certificates could be the one a lost upload stored; recording none", fields)
		diags.AddError("Several mTLS Certificates Match a Lost Upload", apiErrorDetail(ambiguousTwinsDetail(req, append(twins, unplaced...)), err))
		return nil, diags
	case mayBeStored && len(unplaced) == 1:
		tflog.Warn(ctx, "A certificate matches a lost upload, but Cloudflare's clock cannot place it after the upload; recording none", fields)
		diags.AddError("mTLS Certificate May Predate This Upload",
			apiErrorDetail(unplacedTwinDetail(ctx, req, &unplaced[0], firstSent, offset, clockKnown, err), err))
		return nil, diags
	}
	tflog.Debug(ctx, "No certificate stored by this upload was found", fields)
	if len(holders) > 0 || exists {
		diags.AddError("mTLS Certificate Already Exists", apiErrorDetail(alreadyExistsDetail(req, holders), err))
		return nil, diags
	}
	if quota {
		diags.AddError(createSummary, caQuotaDiagnostic(ctx, client, req.AccountID, err))
		return nil, diags
	}
	diags.AddError(createSummary, apiErrorDetail(fmt.Sprintf(
		"Whether Cloudflare stored the certificate was unknown (%s), and account %s holds no certificate with these "+
			"certificates, so as far as the provider can tell nothing was stored. The next apply uploads it again.",
		unknownOutcomeReason(ctx, err), req.AccountID), err))
	return nil, diags
}

// caQuotaDiagnostic explains a 1489 refusal with the account's CA
// certificates. It costs one listing, made only for this refusal, on a
// context of its own: the refusal may have come as the operation ran out
// of time.
func caQuotaDiagnostic(ctx context.Context, client *cfapi.Client, accountID string, err error) string {
	listCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), twinLookupTimeout)
	defer cancel()
	listed, listErr := client.ListAll(listCtx, accountID, cfapi.ListOptions{})
	var cas []cfapi.Certificate
	for _, c := range listed {
		// Access keeps its CAs apart from the quota.
		if c.CA && c.Type != "access_managed" {
			cas = append(cas, c)
		}
	}
	return caQuotaDetail(accountID, cas, listErr, err)
}

// certificatesHolding lists the account's uploaded certificates that hold
// the same certificates as req, compared as certificates, not as text.
func certificatesHolding(ctx context.Context, client *cfapi.Client, req cfapi.UploadRequest) ([]cfapi.Certificate, error) {
	listed, err := client.ListAll(ctx, req.AccountID, cfapi.ListOptions{Types: []string{"custom"}})
	if err != nil {
		return nil, err
	}
	var out []cfapi.Certificate
	for _, c := range listed {
		if certs.SameCertificates(c.Certificates, req.Certificates) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ownTwins sorts the holders with this upload's name and ca by when
// Cloudflare's clock (its offset from this machine's, as measured) says
// they were uploaded: twins surely after the first attempt was sent, which
// this upload can have stored; unplaced ones that the clock cannot put
// before or after it, or that claim a time still to come. The rest were in
// the account before this upload was sent and are never its own. Without
// a clock reading nothing can be placed.
func ownTwins(holders []cfapi.Certificate, req cfapi.UploadRequest, firstSent, now time.Time, offset cfapi.ClockOffset, clockKnown bool) (twins, unplaced []cfapi.Certificate) {
	for _, c := range holders {
		if c.Name != req.Name || c.CA != req.CA {
			continue
		}
		switch {
		case !clockKnown || c.UploadedOn.IsZero():
			unplaced = append(unplaced, c)
		case c.UploadedOn.Before(firstSent.Add(offset.Min)):
			// Before the earliest moment the server can have received it.
		case !c.UploadedOn.Before(firstSent.Add(offset.Max)) && !c.UploadedOn.After(now.Add(offset.Max)):
			twins = append(twins, c)
		default:
			unplaced = append(unplaced, c)
		}
	}
	return twins, unplaced
}
