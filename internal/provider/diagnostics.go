package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// Diagnostics are worded here, in one voice: a Title Case summary naming
// the operation, then what happened, what to do next, and the API's own
// words last.

const (
	createSummary = "Unable to Create mTLS Certificate"
	readSummary   = "Unable to Read mTLS Certificate"
	deleteSummary = "Unable to Delete mTLS Certificate"
)

const (
	hostnameCreateSummary = "Unable to Create mTLS Hostname Association"
	hostnameReadSummary   = "Unable to Read mTLS Hostname Association"
	hostnameUpdateSummary = "Unable to Update mTLS Hostname Association"
	hostnameDeleteSummary = "Unable to Delete mTLS Hostname Association"
)

const unconfiguredDetail = "The provider configuration depends on values that were not known when it was " +
	"configured, so the Cloudflare API client could not be set up. Apply the resources it depends on first " +
	"(for example with -target), then run again."

// apiErrorDetail is the one place that turns an API failure into diagnostic
// text: what happened and what to do first, then the API's own words.
func apiErrorDetail(lead string, err error) string {
	if cfapi.IsAuthError(err) {
		lead += "\n\nCheck that the credentials are valid and that the API token has the \"SSL and Certificates\" " +
			"permission (edit for uploads and deletes) on this account."
	}
	return lead + "\n\nCloudflare API: " + err.Error()
}

// permissionDetail explains a 401 or 403: the credentials, not the
// certificate, are the problem, and which permission the call needs.
func permissionDetail(lead, level string, err error) string {
	return fmt.Sprintf("%s Cloudflare answers HTTP 401 or 403 when the API token or key is not valid, or lacks the "+
		"\"SSL and Certificates\" %s permission (ssl:%s) on this account. Check the credentials and the token's "+
		"permissions and account resources, then run again. Nothing was deleted: the certificate is still in "+
		"Cloudflare and in state.\n\nCloudflare API: %s", lead, level, strings.ToLower(level), err)
}

// goneUnconfirmedDetail explains a 404 that did not prove a certificate
// gone; kept says what was left as it was because of it.
func goneUnconfirmedDetail(accountID, id string, err error, kept string) string {
	return fmt.Sprintf("Could not tell whether certificate %s in account %s still exists: %s.\n\n%s Check "+
		"base_url (and any proxy or gateway between here and Cloudflare), then run again.", id, accountID, err, kept)
}

const keptInState = "The certificate is kept in state unchanged."

func inUseDetail(accountID, id string, associations []cfapi.Association, err error, why string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Certificate %s in account %s is still used by %s:\n", id, accountID, countServices(associations))
	writeAssociations(&b, associations)
	b.WriteString("\n" + why + " Remove the certificate from these services, or point them at another certificate, " +
		"then run destroy again. Nothing was deleted: the certificate is still in Cloudflare and in state.")
	return apiErrorDetail(b.String(), err)
}

func countServices(associations []cfapi.Association) string {
	if len(associations) == 1 {
		return "1 Cloudflare service"
	}
	return fmt.Sprintf("%d Cloudflare services", len(associations))
}

// writeAssociations lists each service and its status, one a line.
func writeAssociations(b *strings.Builder, associations []cfapi.Association) {
	for _, a := range associations {
		status := a.Status
		if status == "" {
			status = "unknown"
		}
		fmt.Fprintf(b, "  - service %q (status %q)\n", a.Service, status)
	}
}

// replacedBecause names the arguments whose change replaces a certificate.
func replacedBecause(replaced []path.Path) string {
	names := make([]string, 0, len(replaced))
	for _, p := range replaced {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

// replacedInUseDetail warns, at plan time, that a certificate to be
// replaced is in use. The provider cannot see the lifecycle block, so it
// says what happens with create_before_destroy and without it.
func replacedInUseDetail(accountID, id string, replaced []path.Path, associations []cfapi.Association, deleteTimeout time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This plan replaces certificate %s in account %s (changed: %s), and Cloudflare reports that %s "+
		"use it:\n", id, accountID, replacedBecause(replaced), countServices(associations))
	writeAssociations(&b, associations)
	fmt.Fprintf(&b, "\nCloudflare refuses to delete a certificate while a service uses it. Without lifecycle "+
		"{ create_before_destroy = true } on this resource, the old certificate is deleted first, so the delete "+
		"will be refused until these services let go of it: the provider then waits while their associations "+
		"change, up to the delete timeout (%s), and fails, deleting nothing, once they have not changed for %s. "+
		"With create_before_destroy, the new certificate is uploaded first and resources that refer to this one's "+
		"id move to it before the old one is deleted; a service that still uses the old one holds up that delete "+
		"the same way. Point these services at the new certificate, or remove them from this one, before the "+
		"apply reaches the delete.", deleteTimeout, roundSecond(drainStall))
	return b.String()
}

// inUseUncheckedDetail warns that whether a certificate to be replaced is
// in use could not be learned; the plan goes on.
func inUseUncheckedDetail(accountID, id string, replaced []path.Path, err error) string {
	return fmt.Sprintf("This plan replaces certificate %s in account %s (changed: %s), and asking Cloudflare which "+
		"services use it failed, so the plan cannot say whether its delete will be refused. If a service uses it, "+
		"the delete waits for the service to let go, up to the delete timeout, and then fails, deleting nothing."+
		"\n\nCloudflare API: %s", id, accountID, replacedBecause(replaced), err)
}

func invalidCertificatesDiag(p path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(p, "Invalid Certificate PEM",
		"The certificates value must be PEM text holding one or more CERTIFICATE blocks "+
			"(\"-----BEGIN CERTIFICATE-----\"), such as tls_self_signed_cert.example.cert_pem or file(\"ca.pem\"): "+
			err.Error()+".")
}

func invalidPrivateKeyDiag(p path.Path, err error) diag.Diagnostic {
	if errors.Is(err, certs.ErrEncryptedKey) {
		return diag.NewAttributeErrorDiagnostic(p, "Private Key Is Encrypted",
			"The "+p.String()+" value is passphrase-protected (an \"ENCRYPTED PRIVATE KEY\" block, or a key with "+
				"\"Proc-Type: 4,ENCRYPTED\"). Cloudflare needs the key itself, so decrypt it first:\n\n"+
				"  openssl pkey -in key.pem -out key-plain.pem\n\n"+
				"and pass the decrypted file (openssl asks for the passphrase). Keep the decrypted key out of version "+
				"control; private_key_wo also keeps it out of the plan and the state.")
	}
	return diag.NewAttributeErrorDiagnostic(p, "Invalid Private Key",
		"The "+p.String()+" value must be a PEM private key (PKCS#8 \"PRIVATE KEY\", PKCS#1 \"RSA PRIVATE KEY\" "+
			"or SEC 1 \"EC PRIVATE KEY\"), such as tls_private_key.example.private_key_pem: "+err.Error()+".")
}

func keyMismatchDiag(p path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(p, "Private Key Does Not Match Certificate",
		"The "+p.String()+" must belong to the first certificate in certificates (the leaf, when a chain is "+
			"given): "+err.Error()+". Check that the key and the certificate come from the same pair.")
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
	b.WriteString("\nIt may belong to another configuration or have been uploaded by hand, so the provider does not " +
		"take it over. To manage it with this resource, import it with\n\n")
	writeImportCommands(&b, req.AccountID+"/"+first.ID)
	if first.Name != req.Name || first.CA != req.CA {
		b.WriteString(" Its name or ca differs from this configuration, so the plan after the import replaces it.")
	}
	b.WriteString(" Otherwise delete it from the account, or upload other certificates.")
	return b.String()
}

// caQuotaDetail explains Cloudflare's refusal of a CA over the account's
// quota (code 1489): the limit, the CA certificates that count toward it
// (cas, or why they could not be listed), and how to make room.
func caQuotaDetail(accountID string, cas []cfapi.Certificate, listErr, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Cloudflare refused to upload this CA certificate: account %s holds as many CA certificates as it "+
		"may. The limit is 5 CA certificates per account unless Cloudflare raised it for the account, and API Shield, "+
		"Workers mTLS and Gateway share it. Nothing was created.\n\n", accountID)
	switch {
	case listErr != nil:
		fmt.Fprintf(&b, "Listing the account's certificates, to show which CA certificates count toward the limit, "+
			"failed: %s\n\n", listErr)
	case len(cas) == 0:
		b.WriteString("The account's certificate list shows no CA certificate that counts toward the limit; check " +
			"the account in the Cloudflare dashboard.\n\n")
	default:
		fmt.Fprintf(&b, "The account's CA certificates (%d):\n", len(cas))
		for _, c := range cas {
			name := "no name"
			if c.Name != "" {
				name = fmt.Sprintf("name %q", c.Name)
			}
			if c.Type != "" && c.Type != "custom" {
				name += ", type " + c.Type
			}
			fmt.Fprintf(&b, "  - certificate %s (%s)\n", c.ID, name)
		}
		b.WriteString("\n")
	}
	b.WriteString("To make room, delete a CA certificate that nothing uses any more: terraform state list shows the " +
		"mtls_certificate resources of this configuration, and the mtls_certificates data source (with ca = true) or " +
		"the Cloudflare dashboard shows every one in the account. Remove the one you no longer need from its " +
		"configuration and apply, or delete it in the dashboard; then run apply again. Or ask your Cloudflare account " +
		"team to raise the limit. A replacement with lifecycle { create_before_destroy = true } uploads the new CA " +
		"before it deletes the old one, so it needs one free slot.")
	// Not apiErrorDetail: whatever its status (a 403 included), this
	// refusal is about the quota, not the credentials.
	return b.String() + "\n\nCloudflare API: " + err.Error()
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

// lookupErrorDetail explains a data source's failed call about one
// certificate; lead says what could not be done.
func lookupErrorDetail(lead, accountID, id string, err error) string {
	var unconfirmed *cfapi.UnconfirmedNotFoundError
	if errors.As(err, &unconfirmed) {
		return goneUnconfirmedDetail(accountID, id, err, "Nothing was read.")
	}
	return apiErrorDetail(fmt.Sprintf("%s certificate %s in account %s.", lead, id, accountID), err)
}

// writeImportCommands shows both ways to adopt the certificate importID.
func writeImportCommands(b *strings.Builder, importID string) {
	writeImportForms(b, "<resource address>", importID)
	b.WriteString("where <resource address> is this resource's address, such as mtls_certificate.example.")
}

// writeImportForms shows the import command and the import block that
// adopt importID at address.
func writeImportForms(b *strings.Builder, address, importID string) {
	fmt.Fprintf(b, "  terraform import %s %s\n\n", address, importID)
	fmt.Fprintf(b, "(tofu import with OpenTofu), or with an import block:\n\n  import {\n    to = %s\n    id = %q\n  }\n\n", address, importID)
}

// recoveredDetail says that an upload whose answer was lost is recorded
// from the listing, and why the answer was missing.
func recoveredDetail(ctx context.Context, req cfapi.UploadRequest, twin *cfapi.Certificate, err error) string {
	return fmt.Sprintf("The answer to the upload was lost (%s), but Cloudflare had stored it: account %s holds "+
		"certificate %s, with these certificates, name and ca, uploaded %s, which Cloudflare's own clock places "+
		"after this apply's first upload attempt was sent. It is recorded in state as this resource, as if the "+
		"answer had arrived, instead of being uploaded again; no other certificate matched.\n\nCloudflare API: %s",
		unknownOutcomeReason(ctx, err), req.AccountID, twin.ID, twin.UploadedOn.UTC().Format(time.RFC3339Nano), err)
}

// unplacedTwinDetail explains why a certificate that a lost upload may
// have stored is not recorded: Cloudflare's clock cannot place it after
// the upload's first attempt, so it may have been there before.
func unplacedTwinDetail(ctx context.Context, req cfapi.UploadRequest, c *cfapi.Certificate, firstSent time.Time, offset cfapi.ClockOffset, clockKnown bool, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Whether Cloudflare stored the upload was unknown (%s). Account %s holds certificate %s, with these "+
		"certificates, name and ca, uploaded %s by Cloudflare's clock. ", unknownOutcomeReason(ctx, err), req.AccountID,
		c.ID, c.UploadedOn.UTC().Format(time.RFC3339Nano))
	if clockKnown {
		fmt.Fprintf(&b, "This apply's first upload attempt was sent at %s by Cloudflare's clock, as the Date of its "+
			"answers gives it to the second; the certificate cannot be placed after that, so it may have been in the "+
			"account before this upload.", formatBetween(firstSent.Add(offset.Min), firstSent.Add(offset.Max)))
	} else {
		b.WriteString("None of Cloudflare's answers carried a readable Date, so the provider cannot tell whether the " +
			"certificate was uploaded before or after this upload was sent.")
	}
	b.WriteString(" It may be this upload's, or belong to another configuration, so the provider does not take it " +
		"over. If it is this configuration's certificate, import it with\n\n")
	writeImportCommands(&b, req.AccountID+"/"+c.ID)
	b.WriteString(" Otherwise delete it from the account, or upload other certificates.")
	return b.String()
}

// formatBetween shows a moment known to lie between from and to.
func formatBetween(from, to time.Time) string {
	return fmt.Sprintf("between %s and %s", from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
}

// ambiguousTwinsDetail lists the certificates that a lost upload may have
// stored when there is more than one.
func ambiguousTwinsDetail(req cfapi.UploadRequest, twins []cfapi.Certificate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The answer to the upload was lost, and account %s holds %d certificates with these "+
		"certificates, name and ca that Cloudflare's clock does not place before this apply's first upload "+
		"attempt:\n", req.AccountID, len(twins))
	for _, c := range twins {
		fmt.Fprintf(&b, "  - certificate %s (uploaded %s)\n", c.ID, c.UploadedOn.UTC().Format(time.RFC3339))
	}
	b.WriteString("\nOne of them may be this upload's, but another process may have uploaded the others, so the " +
		"provider records none rather than take someone else's. Decide which one this resource manages and import " +
		"it with\n\n")
	writeImportCommands(&b, req.AccountID+"/"+twins[0].ID)
	b.WriteString(" Use the id of the certificate you chose in place of " + twins[0].ID + ". The import commands " +
		"for the others:\n")
	for _, c := range twins[1:] {
		fmt.Fprintf(&b, "\n  terraform import <resource address> %s/%s", req.AccountID, c.ID)
	}
	return b.String()
}

// longRateLimitWait is how long an operation may wait for a rate limit
// before it says so in a warning: a pause of a few seconds is the client's
// pace at work, one of this length is worth knowing about.
const longRateLimitWait = 10 * time.Second

// withRateLimitWarning returns a context that adds up the operation's rate
// limit waits, and a function to call as the operation ends: it adds a
// warning to diags when the waits were long, so that an apply that took
// minutes says why.
func withRateLimitWarning(ctx context.Context, summary string, diags *diag.Diagnostics) (context.Context, func()) {
	ctx, waits := cfapi.WithRateLimitWaits(ctx)
	return ctx, func() {
		if waits.Total() < longRateLimitWait {
			return
		}
		diags.AddWarning("Waited for Cloudflare's Rate Limit",
			fmt.Sprintf("This operation (%s) waited for the API token's rate limit: %s. "+
				"Cloudflare allows each token 1,200 requests per 5 minutes, shared by every process that uses it, "+
				"and blocks the token for 5 minutes after a refusal; the provider follows the count Cloudflare reports "+
				"and holds requests near the end of it rather than be refused. Other pipelines on the same token, or a "+
				"high -parallelism, use up the count sooner.",
				strings.TrimPrefix(summary, "Unable to "), waits.Summary()))
	}
}

// credentialDiag refuses a credential of the provider without quoting it.
// env names the environment variable it came from, or is "" for the
// provider block.
func credentialDiag(c credential, env, flaw string) diag.Diagnostic {
	summary := "Invalid " + c.title
	if flaw == flawEmpty {
		return diag.NewAttributeErrorDiagnostic(path.Root(c.attribute), summary, fmt.Sprintf(
			"%s is set to an empty string in the provider block. Remove the argument, or set it to null, to use "+
				"the %s environment variable; or set it to the %s.", c.attribute, c.env, c.noun))
	}
	source, where := c.attribute, "Trim it where it is set"
	if env != "" {
		source, where = "The "+env+" environment variable", "Remove it where "+env+" is set, or set "+c.attribute+
			" in the provider block instead"
	}
	reach := "trimspace() removes whitespace, line breaks included, at either end."
	if strings.HasPrefix(flaw, "contains") {
		reach = "trimspace() removes whitespace at either end only: remove a control character inside the value where it is written."
	}
	return diag.NewAttributeErrorDiagnostic(path.Root(c.attribute), summary, fmt.Sprintf(
		"%s %s. Cloudflare credentials have no whitespace at either end and no control characters, and a "+
			"request carrying this one would fail, so none was sent. %s, for example:\n\n"+
			"  %s = trimspace(file(%q))\n\n%s The value is not shown here.",
		source, flaw, where, c.attribute, strings.TrimPrefix(c.attribute, "api_")+".txt", reach))
}

// hostnameCallDetail explains a failed call about the hostnames of certID
// in zoneID; lead says what could not be done, kept what was left as it was.
func hostnameCallDetail(lead, zoneID, certID string, err error, kept string) string {
	text := fmt.Sprintf("%s certificate %s in zone %s. %s", lead, certID, zoneID, kept)
	switch {
	case cfapi.IsCertificateNotFound(err):
		text += " Cloudflare says the certificate does not exist: check mtls_certificate_id."
	case cfapi.IsStatusNotFound(err):
		text += " The 404 is not Cloudflare's \"Certificate not found\" (code 1472), so it says nothing about the " +
			"certificate: check zone_id and base_url (and any proxy or gateway between here and Cloudflare), then run again."
	}
	return apiErrorDetail(text, err)
}

// hostnamesExistDetail refuses to take over the hostnames that certID
// already has in zoneID, and shows how to import them.
func hostnamesExistDetail(zoneID, certID string, existing []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Certificate %s already verifies client certificates for these hostnames in zone %s:\n", certID, zoneID)
	for _, h := range existing {
		fmt.Fprintf(&b, "  - %s\n", h)
	}
	b.WriteString("\nThey may belong to another configuration or have been set by hand, and this resource manages every " +
		"hostname of its certificate in its zone (its destroy removes them all), so the provider does not take them over; " +
		"nothing was changed. To manage them with this resource, import them with\n\n")
	writeImportForms(&b, "mtls_hostname_association.NAME", hostnameAssociationID(zoneID, certID))
	b.WriteString("where NAME is this resource's name. The plan after the import sets the configured hostnames in place. " +
		"Otherwise remove the hostnames from the certificate, or use another certificate.")
	return b.String()
}

// hostnameReplaceFailedDetail explains a failed replace of certID's
// hostnames: a full refusal changed nothing; anything else may have. next
// says what the state holds and what the next apply does.
func hostnameReplaceFailedDetail(ctx context.Context, zoneID, certID string, err error, next string) string {
	if hostnameReplaceRefused(err) {
		return hostnameCallDetail("Cloudflare refused to set the hostnames of", zoneID, certID, err, "Nothing was changed. "+next)
	}
	reason := "the connection failed, or Cloudflare's answer was an error or could not be understood"
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = "the operation ran out of time (see the timeouts block) before Cloudflare answered"
	case ctx.Err() != nil:
		reason = "the operation was interrupted before Cloudflare answered"
	}
	return apiErrorDetail(fmt.Sprintf("Setting the hostnames of certificate %s in zone %s may or may not have happened: %s. %s",
		certID, zoneID, reason, next), err)
}

// answeredOtherHostnamesDetail: Cloudflare answered a replace with other
// hostnames than it was sent.
func answeredOtherHostnamesDetail(zoneID, certID string, sent, answered []string) string {
	return fmt.Sprintf("Cloudflare was asked to associate certificate %s in zone %s with %q and answered that it holds "+
		"%q. The state records the configured hostnames; the next refresh reads what Cloudflare holds and plans the "+
		"difference.", certID, zoneID, sent, answered)
}

// oldCertificateNotClearedDetail: a change of certificate associated the
// new one, and removing the hostnames from the old one failed.
func oldCertificateNotClearedDetail(zoneID, oldCert, newCert string, old []string, err error) string {
	return apiErrorDetail(fmt.Sprintf("The hostnames are now associated with certificate %s in zone %s, and the state "+
		"records that. Removing them from the old certificate %s then failed, so it still verifies client certificates "+
		"for %q too (Cloudflare uses the most recently associated certificate). No hostname was left without a CA.\n\n"+
		"Nothing in the configuration manages the old certificate's hostnames any more, so remove them by hand, with an "+
		"API token that has \"SSL and Certificates\" edit permission:\n\n"+
		"  curl -X PUT \"https://api.cloudflare.com/client/v4/zones/%s/certificate_authorities/hostname_associations\" \\\n"+
		"    -H \"Authorization: Bearer $CLOUDFLARE_API_TOKEN\" -H \"Content-Type: application/json\" \\\n"+
		"    --data '{\"hostnames\":[],\"mtls_certificate_id\":\"%s\"}'\n\n"+
		"(with your base_url in place of Cloudflare's API, if you set one).", newCert, zoneID, oldCert, old, zoneID, oldCert), err)
}
