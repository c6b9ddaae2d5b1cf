package provider

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// mtls_hostname_association owns the whole list of hostnames that one CA
// certificate verifies client certificates for in one zone (API Shield).
// The API replaces that list in one PUT, so every change is in place; only
// a new zone replaces the resource. A change of certificate associates the
// new one before it clears the old one, so no hostname is ever left without
// a CA.

const defaultHostnameTimeout = 2 * time.Minute

var (
	_ resource.ResourceWithConfigure   = (*hostnameAssociationResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*hostnameAssociationResource)(nil)
	_ resource.ResourceWithImportState = (*hostnameAssociationResource)(nil)
	_ resource.ResourceWithIdentity    = (*hostnameAssociationResource)(nil)
)

var zoneIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

type hostnameAssociationResource struct {
	data *providerData
}

func newHostnameAssociationResource() resource.Resource { return &hostnameAssociationResource{} }

type hostnameAssociationModel struct {
	ID                types.String   `tfsdk:"id"`
	ZoneID            types.String   `tfsdk:"zone_id"`
	MTLSCertificateID types.String   `tfsdk:"mtls_certificate_id"`
	Hostnames         types.Set      `tfsdk:"hostnames"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

// hostnameAssociationID is the resource's id and import ID.
func hostnameAssociationID(zoneID, certID string) string { return zoneID + "/" + certID }

func (r *hostnameAssociationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_hostname_association"
	// The identity names the certificate, which an update may change.
	resp.ResourceBehavior.MutableIdentity = true
}

func (r *hostnameAssociationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The hostnames of a Cloudflare zone whose client certificates an `mtls_certificate` CA " +
			"verifies (API Shield's hostname associations). The resource owns the whole list of hostnames of that " +
			"certificate in that zone: it refuses to take over a certificate that already has hostnames there (import " +
			"it instead), and its destroy removes them all. Changing the hostnames or the certificate is an in-place " +
			"update; a new certificate gets the hostnames before the old one loses them, so no hostname is left " +
			"without a CA. Enforcement also needs a WAF rule on `cf.tls_client_auth.cert_verified`, which this " +
			"provider does not manage.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<zone_id>/<mtls_certificate_id>`, the import ID. Changes with `mtls_certificate_id`.",
			},
			"zone_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Cloudflare zone ID (32 lowercase hexadecimal characters) whose hostnames are " +
					"associated. Changing it replaces the resource: the hostnames are removed from the old zone.",
				Validators:    []validator.String{stringvalidator.RegexMatches(zoneIDPattern, "must be a Cloudflare zone ID: 32 lowercase hexadecimal characters")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"mtls_certificate_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "ID of the CA certificate that verifies the client certificates, such as " +
					"`mtls_certificate.client_ca.id` (a certificate with `ca = true`). Changing it is an in-place update: " +
					"the new certificate gets the hostnames first, then the old one's are removed.",
				Validators: []validator.String{stringvalidator.RegexMatches(certificateIDPattern,
					"must be the id of an mTLS certificate, such as mtls_certificate.client_ca.id: hexadecimal digits and dashes, at most 36 characters")},
			},
			"hostnames": schema.SetAttribute{
				Required:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Hostnames of the zone, at least one: lowercase DNS names such as `api.example.com`, " +
					"or a wildcard such as `*.example.com`, without a scheme, port, path or spaces. Every hostname the " +
					"certificate has in the zone is managed here: a change replaces the whole list in place.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.NoNullValues(),
					setvalidator.ValueStringsAre(hostnameValidator{}),
				},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": hostnameAssociationTimeouts(ctx),
		},
	}
}

// hostnameAssociationTimeouts is the timeouts block, each attribute
// refusing a duration of zero or less.
func hostnameAssociationTimeouts(ctx context.Context) schema.Block {
	block := timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Update: true, Delete: true,
		CreateDescription: timeoutDescription("a create (a read of the certificate's hostnames, then a replace) and its retries", defaultHostnameTimeout),
		ReadDescription:   timeoutDescription("a refresh of the hostnames and its retries", defaultHostnameTimeout),
		UpdateDescription: timeoutDescription("an update (up to a read and two replaces) and its retries", defaultHostnameTimeout),
		DeleteDescription: timeoutDescription("a destroy (one replace that removes the hostnames) and its retries", defaultHostnameTimeout) +
			" A destroy uses the value in state, so a change reaches it only after an apply.",
	}).(schema.SingleNestedBlock)
	return refusingNotPositive(block, func(string) time.Duration { return defaultHostnameTimeout })
}

func (r *hostnameAssociationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan plans the id from the zone and the certificate, so that it is
// known whenever they are.
func (r *hostnameAssociationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var zoneID, certID types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("zone_id"), &zoneID)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("mtls_certificate_id"), &certID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := types.StringUnknown()
	if known(zoneID) && known(certID) {
		id = types.StringValue(hostnameAssociationID(zoneID.ValueString(), certID.ValueString()))
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
}

// begin is startOperation with the association's default timeout.
func (r *hostnameAssociationResource) begin(
	ctx context.Context,
	summary string,
	timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	diags *diag.Diagnostics,
) (context.Context, context.CancelFunc, *cfapi.Client) {
	return startOperation(ctx, r.data, summary, timeout, defaultHostnameTimeout, diags)
}

func (r *hostnameAssociationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan hostnameAssociationModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := r.begin(ctx, hostnameCreateSummary, plan.Timeouts.Create, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}
	zoneID, certID := plan.ZoneID.ValueString(), plan.MTLSCertificateID.ValueString()
	hostnames, diags := setStrings(ctx, plan.Hostnames)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}

	// Hostnames already there were set by someone else: this resource
	// would own them, and its destroy would remove them.
	existing, err := client.HostnameAssociations(ctx, zoneID, certID)
	if err != nil {
		resp.Diagnostics.AddError(hostnameCreateSummary, hostnameCallDetail("Could not read the hostnames of", zoneID, certID, err, "Nothing was changed."))
		return
	}
	if len(existing) > 0 {
		resp.Diagnostics.AddAttributeError(path.Root("mtls_certificate_id"), "mTLS Hostname Association Already Exists",
			hostnamesExistDetail(zoneID, certID, existing))
		return
	}

	answered, err := client.ReplaceHostnameAssociations(ctx, zoneID, certID, hostnames)
	if err != nil {
		next := ""
		if !hostnameReplaceRefused(err) {
			// The hostnames may be set: recorded, the association is
			// tainted, and the next apply removes and sets them again.
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, plan.ZoneID, plan.MTLSCertificateID)...)
			next = "The association is recorded in state as tainted, so the next apply removes whatever was set and sets the hostnames again."
		}
		resp.Diagnostics.AddError(hostnameCreateSummary, hostnameReplaceFailedDetail(ctx, zoneID, certID, err, next))
		return
	}
	resp.Diagnostics.Append(checkAnswered(hostnameCreateSummary, zoneID, certID, hostnames, answered)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, plan.ZoneID, plan.MTLSCertificateID)...)
}

func (r *hostnameAssociationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state hostnameAssociationModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	// Before the request: the framework needs an identity from every Read.
	resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, state.ZoneID, state.MTLSCertificateID)...)
	ctx, cancel, client := r.begin(ctx, hostnameReadSummary, state.Timeouts.Read, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}
	zoneID, certID := state.ZoneID.ValueString(), state.MTLSCertificateID.ValueString()
	hostnames, err := client.HostnameAssociations(ctx, zoneID, certID)
	switch {
	case cfapi.IsCertificateNotFound(err):
		tflog.Warn(ctx, "The certificate of the hostname association no longer exists; removing the association from state",
			map[string]any{"zone_id": zoneID, "mtls_certificate_id": certID})
		resp.State.RemoveResource(ctx)
		return
	case err != nil:
		resp.Diagnostics.AddError(hostnameReadSummary, hostnameCallDetail("Could not read the hostnames of", zoneID, certID, err,
			"The association is kept in state unchanged."))
		return
	case len(hostnames) == 0:
		tflog.Warn(ctx, "The certificate has no hostnames left in the zone; removing the association from state so it is planned for creation",
			map[string]any{"zone_id": zoneID, "mtls_certificate_id": certID})
		resp.State.RemoveResource(ctx)
		return
	}
	set, diags := types.SetValueFrom(ctx, types.StringType, hostnames)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	state.Hostnames = set
	state.ID = types.StringValue(hostnameAssociationID(zoneID, certID))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update sets the planned hostnames on the planned certificate. When the
// certificate changes, the new one gets them before the old one loses
// them, and state names the new one as soon as it has them.
func (r *hostnameAssociationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state hostnameAssociationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	hostnames, diags := setStrings(ctx, plan.Hostnames)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	zoneID, oldCert, newCert := plan.ZoneID.ValueString(), state.MTLSCertificateID.ValueString(), plan.MTLSCertificateID.ValueString()
	if oldCert == newCert && plan.Hostnames.Equal(state.Hostnames) {
		// Only the timeouts changed.
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, plan.ZoneID, plan.MTLSCertificateID)...)
		return
	}
	ctx, cancel, client := r.begin(ctx, hostnameUpdateSummary, plan.Timeouts.Update, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	if oldCert != newCert {
		// The new certificate's hostnames, unless they are the planned
		// ones (an earlier apply set them and stopped), belong to someone
		// else, as in Create.
		existing, err := client.HostnameAssociations(ctx, zoneID, newCert)
		if err != nil {
			resp.Diagnostics.AddError(hostnameUpdateSummary, hostnameCallDetail("Could not read the hostnames of", zoneID, newCert, err,
				"Nothing was changed: the hostnames stay on certificate "+oldCert+"."))
			return
		}
		if len(existing) > 0 && !sameStrings(existing, hostnames) {
			resp.Diagnostics.AddAttributeError(path.Root("mtls_certificate_id"), "mTLS Hostname Association Already Exists",
				hostnamesExistDetail(zoneID, newCert, existing)+" Nothing was changed: the hostnames stay on certificate "+oldCert+".")
			return
		}
	}
	answered, err := client.ReplaceHostnameAssociations(ctx, zoneID, newCert, hostnames)
	if err != nil {
		next := "The state keeps the previous hostnames; the next plan reads what Cloudflare holds and sets the configured ones again."
		if oldCert != newCert {
			next = "The state still names certificate " + oldCert + ", which keeps its hostnames, and the next apply tries again."
		}
		resp.Diagnostics.AddError(hostnameUpdateSummary, hostnameReplaceFailedDetail(ctx, zoneID, newCert, err, next))
		return
	}
	resp.Diagnostics.Append(checkAnswered(hostnameUpdateSummary, zoneID, newCert, hostnames, answered)...)
	// From here on the new certificate has the hostnames: state says so
	// whatever happens to the old one.
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setHostnameIdentity(ctx, resp.Identity, plan.ZoneID, plan.MTLSCertificateID)...)
	if oldCert == newCert {
		return
	}
	if _, err := client.ReplaceHostnameAssociations(ctx, zoneID, oldCert, []string{}); err != nil && !cfapi.IsCertificateNotFound(err) {
		old, _ := setStrings(ctx, state.Hostnames)
		resp.Diagnostics.AddError(hostnameUpdateSummary, oldCertificateNotClearedDetail(zoneID, oldCert, newCert, old, err))
		return
	}
	tflog.Info(ctx, "Moved hostname associations to another certificate",
		map[string]any{"zone_id": zoneID, "from": oldCert, "to": newCert, "hostnames": len(hostnames)})
}

// Delete removes every hostname of the certificate in the zone. A
// certificate that is gone has none.
func (r *hostnameAssociationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state hostnameAssociationModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := r.begin(ctx, hostnameDeleteSummary, state.Timeouts.Delete, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}
	zoneID, certID := state.ZoneID.ValueString(), state.MTLSCertificateID.ValueString()
	_, err := client.ReplaceHostnameAssociations(ctx, zoneID, certID, []string{})
	switch {
	case cfapi.IsCertificateNotFound(err):
		tflog.Info(ctx, "The certificate of the hostname association was already gone", map[string]any{"zone_id": zoneID, "mtls_certificate_id": certID})
	case err != nil:
		resp.Diagnostics.AddError(hostnameDeleteSummary, hostnameCallDetail("Could not remove the hostnames of", zoneID, certID, err,
			"The certificate may still verify client certificates for them; the association is kept in state, so the next destroy tries again."))
	}
}

// setStrings is a known set of strings as a sorted slice.
func setStrings(ctx context.Context, s types.Set) ([]string, diag.Diagnostics) {
	out := []string{}
	diags := s.ElementsAs(ctx, &out, false)
	slices.Sort(out)
	return out, diags
}

// sameStrings reports whether a and b hold the same strings, in any order
// and counting each once.
func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// hostnameReplaceRefused reports whether a failed replace is a refusal
// Cloudflare sent in full: only then did it change nothing for sure.
func hostnameReplaceRefused(err error) bool {
	return cfapi.IsClientError(err) && !cfapi.IsUnreadableAnswer(err)
}

// checkAnswered is an error when Cloudflare answered a replace with other
// hostnames than it was sent.
func checkAnswered(summary, zoneID, certID string, sent, answered []string) diag.Diagnostics {
	var diags diag.Diagnostics
	if !sameStrings(sent, answered) {
		diags.AddError(summary, answeredOtherHostnamesDetail(zoneID, certID, sent, answered))
	}
	return diags
}
