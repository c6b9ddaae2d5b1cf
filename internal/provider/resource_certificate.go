package provider

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

const (
	defaultCreateTimeout = 5 * time.Minute
	defaultReadTimeout   = 2 * time.Minute
	defaultDeleteTimeout = 2 * time.Minute
)

var (
	_ resource.ResourceWithConfigure   = (*certificateResource)(nil)
	_ resource.ResourceWithImportState = (*certificateResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*certificateResource)(nil)

	_ resource.ResourceWithValidateConfig = (*certificateResource)(nil)
)

type certificateResource struct {
	data *providerData
}

func newCertificateResource() resource.Resource { return &certificateResource{} }

type certificateModel struct {
	AccountID    types.String `tfsdk:"account_id"`
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	CA           types.Bool   `tfsdk:"ca"`
	Certificates pemValue     `tfsdk:"certificates"`
	PrivateKey   pemValue     `tfsdk:"private_key"`

	PrivateKeyWO        types.String   `tfsdk:"private_key_wo"`
	PrivateKeyWOVersion types.Int64    `tfsdk:"private_key_wo_version"`
	Issuer              types.String   `tfsdk:"issuer"`
	SerialNumber        types.String   `tfsdk:"serial_number"`
	Signature           types.String   `tfsdk:"signature"`
	ExpiresOn           types.String   `tfsdk:"expires_on"`
	UploadedOn          types.String   `tfsdk:"uploaded_on"`
	Type                types.String   `tfsdk:"type"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`

	certificateDetails
}

// certificateDetails are read from the configured PEM, so they are known in
// the plan and can be used in preconditions and check blocks.
type certificateDetails struct {
	FingerprintSHA256 types.String `tfsdk:"fingerprint_sha256"`
	Subject           types.String `tfsdk:"subject"`
	NotBefore         types.String `tfsdk:"not_before"`
	NotAfter          types.String `tfsdk:"not_after"`
	CertificateCount  types.Int64  `tfsdk:"certificate_count"`
}

func (r *certificateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (r *certificateResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	fromAPI := func(description string) schema.StringAttribute {
		return schema.StringAttribute{
			Computed:      true,
			Description:   description,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		}
	}
	fromPEM := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: description + knownAtPlan}
	}
	resp.Schema = schema.Schema{
		Description: "An mTLS certificate uploaded to a Cloudflare account: a CA bundle that Cloudflare uses to " +
			"verify client certificates, or a leaf certificate (with its private key) for Workers and Zero Trust. " +
			"The API cannot change a certificate, so every change to an argument replaces it.",
		Attributes: map[string]schema.Attribute{
			"account_id": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Description: "Cloudflare account ID (32 lowercase hexadecimal characters). Defaults to the " +
					"provider's `account_id`. Changing it replaces the certificate.",
				Validators:    []validator.String{accountIDValidator()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"id": fromAPI("Identifier of the certificate, assigned by Cloudflare."),
			"name": schema.StringAttribute{
				Optional:      true,
				Description:   "Human-readable name. Cloudflare does not enforce that names are unique. Changing it replaces the certificate.",
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"ca": schema.BoolAttribute{
				Required: true,
				Description: "`true` for a CA certificate or bundle that Cloudflare uses to verify client " +
					"certificates; `false` for a leaf certificate. Changing it replaces the certificate.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"certificates": schema.StringAttribute{
				Required:   true,
				CustomType: pemCertificatesType,
				Description: "PEM text of one or more certificates (a CA bundle or a chain). Compared by the " +
					"certificates it holds, not as text: line endings, wrapping, indentation and blank lines do " +
					"not cause a change. Changing the certificates replaces the resource.",
				Validators: []validator.String{pemCertificatesValidator{}},
				PlanModifiers: []planmodifier.String{
					keepPriorWhenSame{kind: pemCertificates},
					stringplanmodifier.RequiresReplace(),
				},
			},
			"private_key": schema.StringAttribute{
				Optional:   true,
				Sensitive:  true,
				CustomType: pemPrivateKeyType,
				Description: "PEM private key of the first certificate, for leaf certificates used by Workers " +
					"mTLS bindings or Zero Trust. Cloudflare never returns it: it is kept from the configuration. " +
					"Compared by the key it holds, not as text. Changing it replaces the certificate, except " +
					"right after an import, when a key that matches the certificate is recorded in place.",
				PlanModifiers: []planmodifier.String{
					keepPriorWhenSame{kind: pemPrivateKey},
					requiresReplaceUnlessImported(),
				},
			},
			"private_key_wo": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				Description: "Write-only alternative to `private_key` (Terraform 1.11+, OpenTofu 1.11+): the key is " +
					"sent to Cloudflare at upload and is never stored in the plan or the state. Because it is not " +
					"stored, a change to it alone is not seen: change `private_key_wo_version` to upload the " +
					"certificate again with the new key. Checked against the first certificate like `private_key`. " +
					"Conflicts with `private_key`.",
				Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("private_key"))},
			},
			"private_key_wo_version": schema.Int64Attribute{
				Optional: true,
				Description: "Any number that you change when `private_key_wo` changes; a change replaces the " +
					"certificate, which uploads it again with the current `private_key_wo`.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Validators:    []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("private_key_wo"))},
			},
			"issuer":        fromAPI("Issuer of the certificate as Cloudflare reports it, e.g. `O=Example Inc.,L=California,ST=San Francisco,C=US`."),
			"serial_number": fromAPI("Serial number of the certificate, as a decimal string."),
			"signature":     fromAPI("Signature algorithm of the certificate as Cloudflare names it, e.g. `SHA256WithRSA`."),
			"expires_on":    fromAPI("When the certificate expires (RFC 3339)."),
			"uploaded_on":   fromAPI("When the certificate was uploaded (RFC 3339)."),
			"type":          fromAPI("Kind of certificate: `custom` for uploads, `gateway_managed` or `access_managed` for ones Cloudflare manages."),

			"fingerprint_sha256": fromPEM("SHA-256 fingerprint of the first certificate's DER encoding, in lowercase hexadecimal."),
			"subject":            fromPEM("Subject of the first certificate, e.g. `CN=client-ca,O=Example`."),
			"not_before":         fromPEM("Start of the first certificate's validity (RFC 3339, UTC)."),
			"not_after":          fromPEM("End of the first certificate's validity (RFC 3339, UTC). Unlike `expires_on`, which Cloudflare reports after the upload."),
			"certificate_count": schema.Int64Attribute{
				Computed:    true,
				Description: "Number of certificates in `certificates`." + knownAtPlan,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Delete: true}),
		},
	}
}

const knownAtPlan = " Read from the configured PEM, so it is known at plan time."

func (r *certificateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a defect in the provider.", req.ProviderData))
		return
	}
	r.data = data
}

// ValidateConfig checks the private key (either attribute) against the
// certificate before any API call. The certificates attribute validates
// itself.
func (r *certificateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var pemText pemValue
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("certificates"), &pemText)...)
	certificatesText := "" // unknown yet: only the key itself is checked
	if !pemText.IsUnknown() {
		certificatesText = pemText.ValueString()
	}
	var key pemValue
	var keyWO types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key"), &key)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key_wo"), &keyWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for attr, v := range map[string]types.String{"private_key": key.StringValue, "private_key_wo": keyWO} {
		if v.IsNull() || v.IsUnknown() {
			continue
		}
		resp.Diagnostics.Append(checkPrivateKey(path.Root(attr), v.ValueString(), certificatesText)...)
	}
}

// ModifyPlan completes the plan from what the provider knows: the default
// account, and the certificate details read from the configured PEM. It
// also raises the checks that depend on the provider's settings or on
// whether the certificate is about to be uploaded. Values unknown now are
// checked when they are known: at apply, Terraform validates and plans the
// resource again before it asks for the upload.
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
	var state *certificateModel
	if !req.State.Raw.IsNull() {
		state = &certificateModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}

	if plan.Certificates.IsUnknown() {
		plan.certificateDetails = unknownDetails()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	parsed, err := certs.ParseCertificates(plan.Certificates.ValueString())
	if err != nil {
		return // the attribute's validator has said why
	}
	plan.certificateDetails = detailsOf(parsed)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)

	imported, diags := isImported(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	upload := state == nil || replaces(plan, *state, imported)
	warnDays := defaultExpiryWarningDays
	if r.data != nil {
		warnDays = r.data.expiryWarningDays
	}
	resp.Diagnostics.Append(checkValidity(parsed, upload, warnDays, time.Now())...)
	if upload && plan.CA.ValueBool() {
		resp.Diagnostics.Append(checkCA(parsed[0])...)
	}
}

// replaces reports whether the plan changes an argument that makes
// Cloudflare store a new certificate, by the same rules as the attributes'
// plan modifiers. Semantically equal PEM has already been planned as the
// prior text, so plain equality is right here.
func replaces(plan, state certificateModel, imported bool) bool {
	return !plan.AccountID.Equal(state.AccountID) || !plan.Name.Equal(state.Name) || !plan.CA.Equal(state.CA) ||
		!plan.Certificates.Equal(state.Certificates) ||
		(!plan.PrivateKey.Equal(state.PrivateKey) && !keyRecordedInPlace(state.PrivateKey.StringValue, imported)) ||
		!plan.PrivateKeyWOVersion.Equal(state.PrivateKeyWOVersion)
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
	if req.State.Raw.IsNull() {
		return
	}
	var stateAccount types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("account_id"), &stateAccount)...)
	if stateAccount.ValueString() != r.data.accountID {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("account_id"))
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

// startOperation returns the API client and a context bounded by the
// operation's timeout. The client is nil, with an error in diags, when the
// operation cannot run.
func (r *certificateResource) startOperation(
	ctx context.Context,
	summary string,
	timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	defaultTimeout time.Duration,
	diags *diag.Diagnostics,
) (context.Context, context.CancelFunc, *cfapi.Client) {
	if r.data == nil {
		diags.AddError(summary, unconfiguredDetail)
		return ctx, func() {}, nil
	}
	d, timeoutDiags := timeout(ctx, defaultTimeout)
	diags.Append(timeoutDiags...)
	if diags.HasError() {
		return ctx, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, r.data.client
}

const unconfiguredDetail = "The provider configuration depends on values that were not known when it was " +
	"configured, so the Cloudflare API client could not be set up. Apply the resources it depends on first " +
	"(for example with -target), then run again."

func (r *certificateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan certificateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := r.startOperation(ctx, "Unable to Create mTLS Certificate", plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	// A write-only key is only in the configuration, never in the plan.
	var keyWO types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key_wo"), &keyWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	key := plan.PrivateKey.ValueString()
	if !keyWO.IsNull() {
		key = keyWO.ValueString()
	}

	uploaded, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{
		AccountID:    plan.AccountID.ValueString(),
		Name:         plan.Name.ValueString(),
		CA:           plan.CA.ValueBool(),
		Certificates: plan.Certificates.ValueString(),
		PrivateKey:   key,
	})
	resp.Diagnostics.Append(diags...)
	if uploaded == nil {
		return
	}

	// State comes from the upload response alone (or, when that answer was
	// lost, from the listed certificate that upload stored): a read-back
	// would cost a request per certificate and tell us nothing new.
	plan.applyAPI(uploaded)
	plan.refreshDetails()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.AccountID, plan.ID)...)
}

func (r *certificateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Set before the request, so that it is there even when the certificate
	// is gone: the framework requires an identity from every Read, and state
	// written before identity existed (or by a CLI older than 1.12) has none.
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, state.AccountID, state.ID)...)
	ctx, cancel, client := r.startOperation(ctx, "Unable to Read mTLS Certificate", state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	var got *cfapi.Certificate
	var err error
	if r.data.batch != nil {
		got, err = r.data.batch.get(ctx, state.AccountID.ValueString(), state.ID.ValueString())
	} else {
		got, err = client.Get(ctx, state.AccountID.ValueString(), state.ID.ValueString())
	}
	if cfapi.IsNotFound(err) {
		tflog.Warn(ctx, "mTLS certificate no longer exists; removing it from state so it is planned for creation",
			map[string]any{"account_id": state.AccountID.ValueString(), "id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read mTLS Certificate", apiErrorDetail(
			fmt.Sprintf("Could not read certificate %s in account %s.", state.ID.ValueString(), state.AccountID.ValueString()), err))
		return
	}
	state.applyAPI(got)
	state.refreshDetails()
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called with a real change: every argument replaces the
// certificate. It exists for changes to timeouts, which live only in state.
func (r *certificateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan certificateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.AccountID, plan.ID)...)
}

func (r *certificateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := r.startOperation(ctx, "Unable to Delete mTLS Certificate", state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	resp.Diagnostics.Append(deleteWithAssociationCheck(ctx, client, state.AccountID.ValueString(), state.ID.ValueString())...)
	if r.data.batch != nil {
		r.data.batch.forget(state.AccountID.ValueString())
	}
}

// ImportState takes an import ID (the import command, or an import block's
// id) or, from Terraform or OpenTofu 1.12 on, an import block's identity.
func (r *certificateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var accountID, id string
	if req.ID == "" && req.Identity != nil && !req.Identity.Raw.IsNull() {
		accountID, id, resp.Diagnostics = importIdentity(ctx, req.Identity)
		if resp.Diagnostics.HasError() {
			return
		}
	} else {
		defaultAccount := ""
		if r.data != nil {
			defaultAccount = r.data.accountID
		}
		var err error
		accountID, id, err = parseImportID(req.ID, defaultAccount)
		if err != nil {
			resp.Diagnostics.AddError("Invalid Import ID", err.Error())
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), accountID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, types.StringValue(accountID), types.StringValue(id))...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("true"))...)
}

// privateImported marks, in private state, a certificate that came in by
// import: the API never returns a private key, so a key in the
// configuration is recorded in place instead of replacing the certificate.
const privateImported = "imported"

// requiresReplaceUnlessImported replaces the certificate when private_key
// changes, except when an imported certificate gets its first key in state:
// the key was checked against the certificate at validate time, and
// Cloudflare already holds whatever key was uploaded with it.
func requiresReplaceUnlessImported() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(
		func(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
			imported, diags := isImported(ctx, req.Private)
			resp.Diagnostics.Append(diags...)
			resp.RequiresReplace = !keyRecordedInPlace(req.StateValue, imported)
		},
		"Replaces the certificate when the key changes, except to record a key for an imported certificate.",
		"Replaces the certificate when the key changes, except to record a key for an imported certificate.",
	)
}

// keyRecordedInPlace is the one exception to "a new key replaces the
// certificate": the first key of an imported certificate.
func keyRecordedInPlace(stateKey types.String, imported bool) bool {
	return stateKey.IsNull() && imported
}

// isImported reads the private-state mark that ImportState leaves. The
// framework's private data answers nil for a missing key, also when the
// data itself is nil.
func isImported(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) (bool, diag.Diagnostics) {
	v, diags := private.GetKey(ctx, privateImported)
	return string(v) == "true", diags
}

const importFormat = "<account_id>/<certificate_id>, or <certificate_id> alone when the provider sets account_id " +
	"(for example: terraform import mtls_certificate.ca 0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10)"

// parseImportID accepts "<account_id>/<certificate_id>" or, with a provider
// default account, "<certificate_id>".
func parseImportID(raw, defaultAccount string) (accountID, id string, err error) {
	parts := strings.Split(strings.TrimSpace(raw), "/")
	switch len(parts) {
	case 1:
		if defaultAccount == "" {
			return "", "", fmt.Errorf("the import ID %q has no account and the provider sets no account_id; expected %s", raw, importFormat)
		}
		accountID, id = defaultAccount, parts[0]
	case 2:
		accountID, id = parts[0], parts[1]
	default:
		return "", "", fmt.Errorf("the import ID %q has too many parts; expected %s", raw, importFormat)
	}
	for _, err := range []error{checkAccountID(accountID), checkCertificateID(id)} {
		if err != nil {
			return "", "", fmt.Errorf("in import ID %q, %w; expected %s", raw, err, importFormat)
		}
	}
	return accountID, id, nil
}

// checkAccountID and checkCertificateID check the ids that name a
// certificate, wherever they come from: an import ID or an import identity.
func checkAccountID(accountID string) error {
	if !accountIDPattern.MatchString(accountID) {
		return fmt.Errorf("the account ID %q is not 32 lowercase hexadecimal characters", accountID)
	}
	return nil
}

func checkCertificateID(id string) error {
	if !certificateIDPattern.MatchString(id) {
		return fmt.Errorf("the certificate ID %q is not a Cloudflare certificate identifier (hexadecimal digits and dashes, at most 36 characters)", id)
	}
	return nil
}

// applyAPI copies what the API reports into the model. Arguments the API
// echoes are taken from it too, so drift and imports are seen; the
// certificates type keeps the configured text when it holds the same
// certificates, and private_key is never returned so it is left alone.
func (m *certificateModel) applyAPI(c *cfapi.Certificate) {
	m.ID = types.StringValue(c.ID)
	if c.Name != "" || !m.Name.IsNull() {
		m.Name = types.StringValue(c.Name)
	}
	if c.Name == "" && m.Name.ValueString() == "" {
		m.Name = types.StringNull()
	}
	m.CA = types.BoolValue(c.CA)
	if c.Certificates != "" {
		m.Certificates = newPEMCertificates(c.Certificates)
	}
	m.Issuer = types.StringValue(c.Issuer)
	m.SerialNumber = types.StringValue(c.SerialNumber)
	m.Signature = types.StringValue(c.Signature)
	m.ExpiresOn = formatTime(c.ExpiresOn, time.RFC3339)
	m.UploadedOn = formatTime(c.UploadedOn, time.RFC3339Nano)
	m.Type = types.StringValue(c.Type)
}

func formatTime(t time.Time, layout string) types.String {
	if t.IsZero() {
		return types.StringValue("")
	}
	return types.StringValue(t.UTC().Format(layout))
}
