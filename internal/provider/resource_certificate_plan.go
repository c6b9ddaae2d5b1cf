package provider

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

var _ resource.ResourceWithModifyPlan = (*certificateResource)(nil)

// ModifyPlan completes the plan from what the provider knows: the default
// account, the prior PEM text where the configured one holds the same
// certificates or key, the certificate details read from the PEM, and
// whether the change replaces the certificate (replacedBy). It also raises
// the checks that depend on the provider's settings or on whether the
// certificate is about to be uploaded. Values unknown now are checked when
// they are known: at apply, Terraform validates and plans the resource
// again before it asks for the upload. It reads the plan, the config and
// the state once each (resource_certificate_values.go), and parses the
// certificates once.
func (r *certificateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config certificateModel
	resp.Diagnostics.Append(readModel(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(readModel(ctx, req.Config.Raw, &config)...)
	var state *certificateModel
	if !req.State.Raw.IsNull() {
		state = &certificateModel{}
		resp.Diagnostics.Append(readModel(ctx, req.State.Raw, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.planAccount(config.AccountID, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	var parsed []*x509.Certificate // nil while unknown or invalid
	if known(plan.Certificates.StringValue) {
		parsed, _ = certs.ParseCertificates(plan.Certificates.ValueString()) // ValidateConfig has said why not
	}
	upload := true
	if state != nil {
		plan.keepPriorPEM(*state, parsed)
		imported, importDiags := isImported(ctx, req.Private)
		resp.Diagnostics.Append(importDiags...)
		replaced := replacedBy(plan, *state, config.PrivateKeyWO.ValueString(), imported)
		resp.RequiresReplace = append(resp.RequiresReplace, replaced...)
		if len(replaced) > 0 {
			r.warnIfInUse(ctx, *state, replaced, &resp.Diagnostics)
		}
		if upload = len(replaced) > 0; !upload {
			// In place: Cloudflare keeps the certificate, so everything it
			// reported stays as it is, null values included.
			plan.keepAPIValues(*state)
		}
	}
	switch {
	case plan.Certificates.IsUnknown():
		plan.certificateDetails = unknownDetails()
	case parsed != nil:
		plan.certificateDetails = detailsOf(parsed)
	}
	var diags diag.Diagnostics
	resp.Plan.Raw, diags = writeModel(ctx, &plan, req.Plan.Raw.Type())
	if resp.Diagnostics.Append(diags...); parsed == nil || diags.HasError() {
		return
	}
	warnDays := defaultExpiryWarningDays
	if r.data != nil {
		warnDays = r.data.expiryWarningDays
	}
	resp.Diagnostics.Append(checkValidity(parsed, upload, warnDays, time.Now())...)
	if upload && plan.CA.ValueBool() {
		resp.Diagnostics.Append(checkCA(parsed[0])...)
	}
}

// warnIfInUse asks Cloudflare which services use a certificate that the
// plan replaces, and warns when any does: its delete will be refused while
// they do. It costs one associations listing per replaced certificate, and
// none for any other plan; a failed listing is a warning too, never an
// error, since the plan itself does not depend on it.
func (r *certificateResource) warnIfInUse(ctx context.Context, state certificateModel, replaced []path.Path, diags *diag.Diagnostics) {
	if r.data == nil || r.data.client == nil || !known(state.ID) || !known(state.AccountID) {
		return // no client yet, or nothing in Cloudflare to ask about
	}
	accountID, id := state.AccountID.ValueString(), state.ID.ValueString()
	// As a refresh of the certificate, the listing is bounded by its read
	// timeout; the delete that would be refused by its delete timeout.
	readTimeout, timeoutDiags := state.Timeouts.Read(ctx, defaultReadTimeout)
	if timeoutDiags.HasError() {
		readTimeout = defaultReadTimeout
	}
	deleteTimeout, timeoutDiags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	if timeoutDiags.HasError() {
		deleteTimeout = defaultDeleteTimeout
	}
	listCtx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	held, err := r.data.client.AssociationsAll(listCtx, accountID, id)
	switch {
	case err != nil:
		diags.AddWarning("Could Not Check Whether the Replaced mTLS Certificate Is in Use", inUseUncheckedDetail(accountID, id, replaced, err))
	case len(held) > 0:
		diags.AddWarning("Replaced mTLS Certificate Is in Use", replacedInUseDetail(accountID, id, replaced, held, deleteTimeout))
	}
}

// keepPriorPEM plans the prior text of certificates and private_key when
// the configured text holds the same certificates (parsed) or the same key:
// a new trailing newline or line ending is no change, and certainly no
// replacement.
func (m *certificateModel) keepPriorPEM(state certificateModel, parsed []*x509.Certificate) {
	if prior := state.Certificates; known(prior.StringValue) && !m.Certificates.Equal(prior) && parsed != nil &&
		certs.SameCertificatesAs(parsed, prior.ValueString()) {
		m.Certificates = prior
	}
	if prior := state.PrivateKey; known(prior.StringValue) && known(m.PrivateKey.StringValue) && !m.PrivateKey.Equal(prior) &&
		pemPrivateKey.same(prior.ValueString(), m.PrivateKey.ValueString()) {
		m.PrivateKey = prior
	}
}

// replacedBy is the one statement of what replaces a certificate: the API
// cannot change one, so every argument that Cloudflare stores is uploaded
// anew when it changes. Some changes are recorded in place instead:
//   - a name going between null and "", which Cloudflare stores alike;
//   - a change of private_key or private_key_wo_version that keeps the key
//     Cloudflare holds: the first key (or key version) of a certificate
//     adopted by import or a moved block, since Cloudflare already holds
//     whatever key it was uploaded with and the key was checked against the
//     certificate at validate time; or the key in state moving to
//     private_key_wo (keyWO, "" when not set or not known) unchanged.
//
// Semantically equal PEM has already been planned as the prior text, so
// plain equality is right here.
func replacedBy(plan, state certificateModel, keyWO string, imported bool) []path.Path {
	var paths []path.Path
	replaces := func(name string, changed bool) {
		if changed {
			paths = append(paths, path.Root(name))
		}
	}
	stateKey := state.PrivateKey.StringValue
	keyKept := (imported && stateKey.IsNull() && state.PrivateKeyWOVersion.IsNull()) ||
		(keyWO != "" && !stateKey.IsNull() && !stateKey.IsUnknown() && certs.SamePrivateKey(stateKey.ValueString(), keyWO))
	replaces("account_id", !plan.AccountID.Equal(state.AccountID))
	replaces("name", !sameName(plan.Name, state.Name))
	replaces("ca", !plan.CA.Equal(state.CA))
	replaces("certificates", !plan.Certificates.Equal(state.Certificates))
	replaces("private_key", !plan.PrivateKey.Equal(state.PrivateKey) && !keyKept)
	replaces("private_key_wo_version", !plan.PrivateKeyWOVersion.Equal(state.PrivateKeyWOVersion) && !keyKept)
	return paths
}

// sameName treats an absent name and an empty one as the same: Cloudflare
// answers an upload without a name with "" (the official provider's own
// tests upload name = ""), and neither is a name.
func sameName(a, b types.String) bool {
	unnamed := func(v types.String) bool { return v.IsNull() || (!v.IsUnknown() && v.ValueString() == "") }
	return a.Equal(b) || (unnamed(a) && unnamed(b))
}

// keepAPIValues copies what Cloudflare reported about a certificate that
// the plan keeps.
func (m *certificateModel) keepAPIValues(state certificateModel) {
	m.ID = state.ID
	m.reportedValues = state.reportedValues
}

// planAccount fills account_id from the provider when the configuration
// leaves it out, so the plan shows the account and a change of the
// provider's account replaces the certificate instead of orphaning it.
func (r *certificateResource) planAccount(configured types.String, plan *certificateModel, diags *diag.Diagnostics) {
	switch {
	case !configured.IsNull():
	case r.data == nil:
		// Provider configuration not known yet: the account stays unknown.
	case r.data.accountID == "":
		diags.AddAttributeError(path.Root("account_id"), "Missing Account ID",
			"No Cloudflare account is set for this certificate. Set account_id here, or account_id in the "+
				"provider block, or the "+EnvAccountID+" environment variable.")
	default:
		plan.AccountID = types.StringValue(r.data.accountID)
	}
}

func detailsOf(parsed []*x509.Certificate) certificateDetails {
	info := certs.DescribeParsed(parsed)
	return certificateDetails{
		FingerprintSHA256: types.StringValue(info.FingerprintSHA256),
		Subject:           types.StringValue(info.Subject),
		NotBefore:         types.StringValue(info.NotBefore.Format(time.RFC3339)),
		NotAfter:          types.StringValue(info.NotAfter.Format(time.RFC3339)),
		CertificateCount:  types.Int64Value(int64(info.CertificateCount)),
	}
}

// refreshDetails derives the details from the certificates the model holds.
// Text that does not parse leaves them as they were.
func (m *certificateModel) refreshDetails() {
	if m.Certificates.IsNull() || m.Certificates.IsUnknown() {
		return
	}
	if parsed, err := certs.ParseCertificates(m.Certificates.ValueString()); err == nil {
		m.certificateDetails = detailsOf(parsed)
	}
}

func unknownDetails() certificateDetails {
	return certificateDetails{
		FingerprintSHA256: types.StringUnknown(),
		Subject:           types.StringUnknown(),
		NotBefore:         types.StringUnknown(),
		NotAfter:          types.StringUnknown(),
		CertificateCount:  types.Int64Unknown(),
	}
}
