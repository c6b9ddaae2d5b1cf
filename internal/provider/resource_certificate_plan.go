package provider

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

var _ resource.ResourceWithModifyPlan = (*certificateResource)(nil)

// ModifyPlan completes the plan from what the provider knows: the default
// account, the certificate details read from the configured PEM, and
// whether the change replaces the certificate (replacedBy). It also raises
// the checks that depend on the provider's settings or on whether the
// certificate is about to be uploaded. Values unknown now are checked when
// they are known: at apply, Terraform validates and plans the resource
// again before it asks for the upload.
func (r *certificateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	r.planAccount(ctx, req, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	var plan certificateModel
	resp.Diagnostics.Append(resp.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	upload := true
	if !req.State.Raw.IsNull() {
		var state certificateModel
		var keyWO types.String
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key_wo"), &keyWO)...)
		imported, diags := isImported(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		replaced := replacedBy(plan, state, keyWO.ValueString(), imported)
		resp.RequiresReplace = append(resp.RequiresReplace, replaced...)
		if upload = len(replaced) > 0; !upload {
			// In place: Cloudflare keeps the certificate, so everything it
			// reported stays as it is, null values included.
			plan.keepAPIValues(state)
		}
	}

	if plan.Certificates.IsUnknown() {
		plan.certificateDetails = unknownDetails()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	parsed, err := certs.ParseCertificates(plan.Certificates.ValueString())
	if err != nil {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return // the attribute's validator has said why
	}
	plan.certificateDetails = detailsOf(parsed)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)

	warnDays := defaultExpiryWarningDays
	if r.data != nil {
		warnDays = r.data.expiryWarningDays
	}
	resp.Diagnostics.Append(checkValidity(parsed, upload, warnDays, time.Now())...)
	if upload && plan.CA.ValueBool() {
		resp.Diagnostics.Append(checkCA(parsed[0])...)
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
func (r *certificateResource) planAccount(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var configAccount types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("account_id"), &configAccount)...)
	if resp.Diagnostics.HasError() || !configAccount.IsNull() {
		return
	}
	if r.data == nil {
		// Provider configuration not known yet: the account stays unknown.
		return
	}
	if r.data.accountID == "" {
		resp.Diagnostics.AddAttributeError(path.Root("account_id"), "Missing Account ID",
			"No Cloudflare account is set for this certificate. Set account_id here, or account_id in the "+
				"provider block, or the "+EnvAccountID+" environment variable.")
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("account_id"), r.data.accountID)...)
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
