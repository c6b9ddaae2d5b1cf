package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
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
	AccountID    types.String         `tfsdk:"account_id"`
	ID           types.String         `tfsdk:"id"`
	Name         types.String         `tfsdk:"name"`
	CA           types.Bool           `tfsdk:"ca"`
	Certificates pemCertificatesValue `tfsdk:"certificates"`
	PrivateKey   types.String         `tfsdk:"private_key"`
	Issuer       types.String         `tfsdk:"issuer"`
	SerialNumber types.String         `tfsdk:"serial_number"`
	Signature    types.String         `tfsdk:"signature"`
	ExpiresOn    types.String         `tfsdk:"expires_on"`
	UploadedOn   types.String         `tfsdk:"uploaded_on"`
	Type         types.String         `tfsdk:"type"`
	Timeouts     timeouts.Value       `tfsdk:"timeouts"`
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
				CustomType: pemCertificatesType{},
				Description: "PEM text of one or more certificates (a CA bundle or a chain). Compared by the " +
					"certificates it holds, not as text: line endings, wrapping, indentation and blank lines do " +
					"not cause a change. Changing the certificates replaces the resource.",
				Validators: []validator.String{pemCertificatesValidator{}},
				PlanModifiers: []planmodifier.String{
					keepPriorCertificatesWhenSame{},
					stringplanmodifier.RequiresReplace(),
				},
			},
			"private_key": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				Description: "PEM private key of the first certificate, for leaf certificates used by Workers " +
					"mTLS bindings or Zero Trust. Cloudflare never returns it: it is kept from the configuration. " +
					"Changing it replaces the certificate.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"issuer":        fromAPI("Issuer of the certificate as Cloudflare reports it, e.g. `O=Example Inc.,L=California,ST=San Francisco,C=US`."),
			"serial_number": fromAPI("Serial number of the certificate, as a decimal string."),
			"signature":     fromAPI("Signature algorithm of the certificate as Cloudflare names it, e.g. `SHA256WithRSA`."),
			"expires_on":    fromAPI("When the certificate expires (RFC 3339)."),
			"uploaded_on":   fromAPI("When the certificate was uploaded (RFC 3339)."),
			"type":          fromAPI("Kind of certificate: `custom` for uploads, `gateway_managed` or `access_managed` for ones Cloudflare manages."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Delete: true}),
		},
	}
}

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

// ValidateConfig checks the private key against the certificate before any
// API call. The certificates attribute validates itself; a key error is
// reported only when the certificates are usable, so one mistake gives one
// diagnostic.
func (r *certificateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var key types.String
	var pemText pemCertificatesValue
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key"), &key)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("certificates"), &pemText)...)
	if resp.Diagnostics.HasError() || key.IsNull() || key.IsUnknown() {
		return
	}
	if _, err := certs.ParsePrivateKey(key.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("private_key"), "Invalid Private Key",
			"The private_key value must be a PEM private key (PKCS#8 \"PRIVATE KEY\", PKCS#1 \"RSA PRIVATE KEY\" "+
				"or SEC 1 \"EC PRIVATE KEY\"), such as tls_private_key.example.private_key_pem: "+err.Error()+".")
		return
	}
	if pemText.IsNull() || pemText.IsUnknown() {
		return
	}
	if _, err := certs.ParseCertificates(pemText.ValueString()); err != nil {
		return
	}
	if err := certs.KeyMatchesFirstCertificate(key.ValueString(), pemText.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("private_key"), "Private Key Does Not Match Certificate",
			"The private_key must belong to the first certificate in certificates (the leaf, when a chain is "+
				"given): "+err.Error()+". Check that the key and the certificate come from the same pair.")
	}
}

// ModifyPlan fills account_id from the provider when the configuration
// leaves it out, so the plan shows the account and a change of the
// provider's account replaces the certificate instead of orphaning it.
func (r *certificateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
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

	uploaded, err := client.Upload(ctx, cfapi.UploadRequest{
		AccountID:    plan.AccountID.ValueString(),
		Name:         plan.Name.ValueString(),
		CA:           plan.CA.ValueBool(),
		Certificates: plan.Certificates.ValueString(),
		PrivateKey:   plan.PrivateKey.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.AddError("Unable to Create mTLS Certificate", apiErrorDetail(
			"Cloudflare did not accept the upload; nothing was created.", err))
		return
	}
	tflog.Info(ctx, "Uploaded mTLS certificate", map[string]any{"account_id": plan.AccountID.ValueString(), "id": uploaded.ID})

	// State comes from the upload response alone: a read-back would cost a
	// request per certificate and tell us nothing new.
	plan.applyAPI(uploaded)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *certificateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := r.startOperation(ctx, "Unable to Read mTLS Certificate", state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	got, err := client.Get(ctx, state.AccountID.ValueString(), state.ID.ValueString())
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
}

func (r *certificateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	defaultAccount := ""
	if r.data != nil {
		defaultAccount = r.data.accountID
	}
	accountID, id, err := parseImportID(req.ID, defaultAccount)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), accountID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
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
	if !accountIDPattern.MatchString(accountID) {
		return "", "", fmt.Errorf("the account ID %q in import ID %q is not 32 lowercase hexadecimal characters; expected %s", accountID, raw, importFormat)
	}
	if !certificateIDPattern.MatchString(id) {
		return "", "", fmt.Errorf("the certificate ID %q in import ID %q is not a Cloudflare certificate identifier (hexadecimal digits and dashes, at most 36 characters); expected %s", id, raw, importFormat)
	}
	return accountID, id, nil
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
