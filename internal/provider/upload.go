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

const (
	// uploadClockSkew is how far before this Create started a certificate
	// may say it was uploaded and still count as this Create's own:
	// uploaded_on is Cloudflare's clock, the start is this machine's, and
	// the two can disagree. Five minutes is the customary bound on clock
	// skew between hosts that keep time (Kerberos uses it); it is short
	// enough that a certificate stored by an earlier, separate run is not
	// taken for this one's.
	uploadClockSkew = 5 * time.Minute
	// twinLookupTimeout bounds the look for a certificate that an upload
	// may have stored. The look runs on a context of its own, since it is
	// most needed when the operation's context has just ended.
	twinLookupTimeout = 15 * time.Second
)

// uploadExactlyOnce uploads a certificate so that one Create stores it at
// most once and never loses one it stored. The client retries transient
// failures, so an attempt whose answer was lost (a dropped connection, a
// timeout, a 5XX) may have stored the certificate: its retry then meets
// 1471 "This certificate already exists", and an interrupted or timed-out
// Create may leave it stored with no answer at all. In both cases the
// account is listed for a certificate with the same certificates, name
// and ca, and one uploaded since this Create began is taken as this
// upload's own, exactly as if its answer had arrived.
//
// A match that this Create cannot have stored (no attempt can have stored
// anything, or it is older than the Create) belongs to someone else: the
// upload fails and the diagnostic says how to import it.
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
	if !exists && !mayBeStored {
		lead := "Cloudflare did not accept the upload; nothing was created."
		if ctx.Err() != nil {
			lead = "The operation " + describeContextEnd(ctx) + " before Cloudflare accepted the upload; nothing was created."
		}
		diags.AddError(createSummary, apiErrorDetail(lead, err))
		return nil, diags
	}

	lookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), twinLookupTimeout)
	defer cancel()
	holders, listErr := certificatesHolding(lookCtx, client, req)
	if listErr != nil {
		diags.AddError(createSummary, apiErrorDetail(lookupFailedDetail(req.AccountID, exists, listErr), err))
		return nil, diags
	}
	// The window starts when the first attempt was sent, which may be
	// later than started (the rate limiter can hold it).
	firstSent := started
	if len(attempts) > 0 && !attempts[0].Sent.IsZero() {
		firstSent = attempts[0].Sent
	}
	twins := ownTwins(holders, req, firstSent, time.Now())
	fields := map[string]any{
		"account_id":          req.AccountID,
		"attempts":            len(attempts),
		"may_be_stored":       mayBeStored,
		"already_exists":      exists,
		"matching_in_account": len(holders),
		"candidates":          len(twins),
	}
	switch {
	case mayBeStored && len(twins) == 1:
		twin := &twins[0]
		fields["id"] = twin.ID
		tflog.Info(ctx, "An upload whose answer was lost had stored the mTLS certificate; recording that one instead of uploading it again", fields)
		diags.AddWarning("mTLS Certificate Recorded After a Lost Answer", recoveredDetail(ctx, req, twin, err))
		return twin, diags
	case mayBeStored && len(twins) > 1:
		tflog.Warn(ctx, "Several certificates could be the one a lost upload stored; recording none", fields)
		diags.AddError("Several mTLS Certificates Match a Lost Upload", apiErrorDetail(ambiguousTwinsDetail(req, twins), err))
		return nil, diags
	}
	tflog.Debug(ctx, "No certificate stored by this upload was found", fields)
	if len(holders) > 0 || exists {
		diags.AddError("mTLS Certificate Already Exists", apiErrorDetail(alreadyExistsDetail(req, holders), err))
		return nil, diags
	}
	diags.AddError(createSummary, apiErrorDetail(fmt.Sprintf(
		"Whether Cloudflare stored the certificate was unknown (%s), and account %s holds no certificate with these "+
			"certificates, so as far as the provider can tell nothing was stored. The next apply uploads it again.",
		unknownOutcomeReason(ctx, err), req.AccountID), err))
	return nil, diags
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

// ownTwins returns the holders that this upload can have stored: same name
// and ca, uploaded between its first attempt (less the clock skew allowance)
// and now (plus it). Whether Cloudflare ever holds two such is unknown; when
// it does, no one of them can be told to be this upload's.
func ownTwins(holders []cfapi.Certificate, req cfapi.UploadRequest, firstSent, now time.Time) []cfapi.Certificate {
	var out []cfapi.Certificate
	for _, c := range holders {
		if c.Name != req.Name || c.CA != req.CA || c.UploadedOn.IsZero() {
			continue
		}
		if c.UploadedOn.Before(firstSent.Add(-uploadClockSkew)) || c.UploadedOn.After(now.Add(uploadClockSkew)) {
			continue
		}
		out = append(out, c)
	}
	return out
}
