package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

const createSummary = "Unable to Create mTLS Certificate"

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
	twin := ownTwin(holders, req, started)
	fields := map[string]any{
		"account_id":          req.AccountID,
		"attempts":            len(attempts),
		"may_be_stored":       mayBeStored,
		"already_exists":      exists,
		"matching_in_account": len(holders),
	}
	if mayBeStored && twin != nil {
		fields["id"] = twin.ID
		tflog.Info(ctx, "An upload whose answer was lost had stored the mTLS certificate; recording that one instead of uploading it again", fields)
		if ctx.Err() != nil {
			diags.AddWarning("mTLS Certificate Created Despite Interruption", fmt.Sprintf(
				"The operation %s while certificate %s was being uploaded to account %s, but Cloudflare had "+
					"already stored it, so it is recorded in state rather than left outside it.",
				describeContextEnd(ctx), twin.ID, req.AccountID))
		}
		return twin, diags
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

// ownTwin returns the holder that this upload can have stored: same name
// and ca, uploaded no earlier than started allows.
func ownTwin(holders []cfapi.Certificate, req cfapi.UploadRequest, started time.Time) *cfapi.Certificate {
	for i := range holders {
		c := &holders[i]
		if c.Name == req.Name && c.CA == req.CA && !c.UploadedOn.IsZero() && !c.UploadedOn.Before(started.Add(-uploadClockSkew)) {
			return c
		}
	}
	return nil
}

func alreadyExistsDetail(req cfapi.UploadRequest, holders []cfapi.Certificate) string {
	var b strings.Builder
	if len(holders) == 0 {
		fmt.Fprintf(&b, "Cloudflare says account %s already holds these certificates, but no uploaded (custom) "+
			"certificate in its list holds them. Check the account in the Cloudflare dashboard.", req.AccountID)
		return b.String()
	}
	fmt.Fprintf(&b, "Account %s already holds these certificates, and this apply did not upload them:\n", req.AccountID)
	for _, c := range holders {
		fmt.Fprintf(&b, "  - certificate %s (name %q, ca = %t, uploaded %s)\n", c.ID, c.Name, c.CA, c.UploadedOn.UTC().Format(time.RFC3339))
	}
	first := holders[0]
	importID := req.AccountID + "/" + first.ID
	b.WriteString("\nIt may belong to another configuration or have been uploaded by hand, so the provider does not " +
		"take it over. To manage it with this resource, import it with\n\n")
	fmt.Fprintf(&b, "  terraform import <resource address> %s\n\n", importID)
	fmt.Fprintf(&b, "(tofu import with OpenTofu), or with an import block:\n\n  import {\n    to = <resource address>\n    id = %q\n  }\n\n", importID)
	b.WriteString("where <resource address> is this resource's address, such as mtls_certificate.example.")
	if first.Name != req.Name || first.CA != req.CA {
		b.WriteString(" Its name or ca differs from this configuration, so the plan after the import replaces it.")
	}
	b.WriteString(" Otherwise delete it from the account, or upload other certificates.")
	return b.String()
}

func lookupFailedDetail(accountID string, exists bool, listErr error) string {
	if exists {
		return fmt.Sprintf("Cloudflare says account %s already holds these certificates, and listing its "+
			"certificates to find which one failed: %s. If an earlier attempt of this upload stored them, the next "+
			"apply finds and records that certificate.", accountID, listErr)
	}
	return fmt.Sprintf("The upload's answer was lost, so Cloudflare may have stored the certificate, and listing "+
		"account %s to check failed: %s. If it was stored, the next apply reports it as already existing, with the "+
		"command that imports it.", accountID, listErr)
}

// unknownOutcomeReason says why an upload's outcome was unknown, in words
// for a diagnostic.
func unknownOutcomeReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "the operation " + describeContextEnd(ctx) + " before Cloudflare answered"
	}
	var apiErr *cfapi.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode >= 500 {
		return "Cloudflare answered with a server error, which does not say"
	}
	return "the connection failed or timed out before an answer arrived"
}

func describeContextEnd(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "ran out of time (see the create timeout)"
	}
	return "was interrupted"
}
