package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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
	_ resource.ResourceWithConfigure      = (*certificateResource)(nil)
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
	Timeouts            timeouts.Value `tfsdk:"timeouts"`

	reportedValues
	certificateDetails
}

// reportedValues are what only Cloudflare knows of a certificate; the
// resource, the data sources and a moved state all hold them alike.
type reportedValues struct {
	Issuer       types.String `tfsdk:"issuer"`
	SerialNumber types.String `tfsdk:"serial_number"`
	Signature    types.String `tfsdk:"signature"`
	ExpiresOn    types.String `tfsdk:"expires_on"`
	UploadedOn   types.String `tfsdk:"uploaded_on"`
	Type         types.String `tfsdk:"type"`
}

// reportedFrom is the one mapping of an API certificate to reportedValues.
// Values the API leaves out are null, not "".
func reportedFrom(c *cfapi.Certificate) reportedValues {
	return reportedValues{
		Issuer:       stringOrNull(c.Issuer),
		SerialNumber: stringOrNull(c.SerialNumber),
		Signature:    stringOrNull(c.Signature),
		ExpiresOn:    formatTime(c.ExpiresOn, time.RFC3339),
		UploadedOn:   formatTime(c.UploadedOn, time.RFC3339Nano),
		Type:         stringOrNull(c.Type),
	}
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
	// What replaces the certificate, and which values the API set are kept
	// in the plan, is decided in ModifyPlan (replacedBy), not here.
	fromAPI := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: description}
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
				Validators: []validator.String{accountIDValidator()},
			},
			"id": fromAPI("Identifier of the certificate, assigned by Cloudflare."),
			"name": schema.StringAttribute{
				Optional: true,
				Description: "Human-readable name. Cloudflare does not enforce that names are unique. An empty name " +
					"(`\"\"`, as the official provider's configurations use) and no name are the same to Cloudflare; " +
					"state keeps whichever is configured, and going from one to the other changes nothing in " +
					"Cloudflare. Changing it to another name replaces the certificate.",
			},
			"ca": schema.BoolAttribute{
				Required: true,
				Description: "`true` for a CA certificate or bundle that Cloudflare uses to verify client " +
					"certificates; `false` for a leaf certificate. Changing it replaces the certificate. An account " +
					"may hold 5 CA certificates unless Cloudflare raised its limit, and Cloudflare's docs require a CA " +
					"signed with RSA (PKCS #1 v1.5) or ECDSA, with SHA-1 or SHA-2.",
			},
			"certificates": schema.StringAttribute{
				Required:   true,
				CustomType: pemCertificatesType,
				Description: "PEM text of one or more certificates (a CA bundle or a chain). Compared by the " +
					"certificates it holds, not as text: line endings, wrapping, indentation and blank lines do " +
					"not cause a change. Changing the certificates replaces the resource.",
			},
			"private_key": schema.StringAttribute{
				Optional:   true,
				Sensitive:  true,
				CustomType: pemPrivateKeyType,
				Description: "PEM private key of the first certificate, for leaf certificates used by Workers " +
					"mTLS bindings or Zero Trust. Cloudflare never returns it: it is kept from the configuration. " +
					"Compared by the key it holds, not as text. Changing it replaces the certificate, except " +
					"right after an import, when a key that matches the certificate is recorded in place.",
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
					"certificate, which uploads it again with the current `private_key_wo`. Right after an import " +
					"or a `moved` block, the first version is recorded in place, without a new upload.",
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("private_key_wo"))},
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
			"timeouts": certificateTimeouts(ctx),
		},
	}
}

// certificateTimeouts is the timeouts package's block with positiveDuration
// added to each attribute, so that "0s" or "-1s" fails at plan.
func certificateTimeouts(ctx context.Context) schema.Block {
	defaults := map[string]time.Duration{"create": defaultCreateTimeout, "read": defaultReadTimeout, "delete": defaultDeleteTimeout}
	block := timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Delete: true,
		CreateDescription: timeoutDescription("an upload and its retries", defaultCreateTimeout),
		ReadDescription:   timeoutDescription("a refresh of the certificate and its retries", defaultReadTimeout),
		DeleteDescription: timeoutDescription("a delete, its retries and the wait for the certificate's associations to drain", defaultDeleteTimeout) +
			" A destroy uses the value in state, so a change reaches it only after an apply.",
	}).(schema.SingleNestedBlock)
	return refusingNotPositive(block, func(name string) time.Duration { return defaults[name] })
}

// refusingNotPositive adds to each attribute of a timeouts block the
// validator that refuses a duration of zero or less; def names the
// attribute's default.
func refusingNotPositive(block schema.SingleNestedBlock, def func(name string) time.Duration) schema.SingleNestedBlock {
	for name, attr := range block.Attributes {
		s := attr.(schema.StringAttribute)
		s.Validators = append(s.Validators, positiveDuration{def(name)})
		block.Attributes[name] = s
	}
	return block
}

const knownAtPlan = " Read from the configured PEM, so it is known at plan time."

func (r *certificateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks the certificates and the private key (either
// attribute) before any API call, parsing each PEM once.
func (r *certificateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg certificateModel
	if resp.Diagnostics.Append(readModel(ctx, req.Config.Raw, &cfg)...); resp.Diagnostics.HasError() {
		return
	}
	var parsed []*x509.Certificate // nil while unknown or invalid: only a key is checked then
	if known(cfg.Certificates.StringValue) {
		var err error
		if parsed, err = certs.ParseCertificates(cfg.Certificates.ValueString()); err != nil {
			resp.Diagnostics.Append(invalidCertificatesDiag(path.Root("certificates"), err))
		}
	}
	for attr, v := range map[string]types.String{"private_key": cfg.PrivateKey.StringValue, "private_key_wo": cfg.PrivateKeyWO} {
		if known(v) {
			resp.Diagnostics.Append(checkPrivateKey(path.Root(attr), v.ValueString(), parsed)...)
		}
	}
}

// known is true for a value that is neither null nor unknown.
func known(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }

// startOperation returns the API client and a context bounded by the
// operation's timeout. The client is nil, with an error in diags, when the
// operation cannot run.
func startOperation(
	ctx context.Context,
	data *providerData,
	summary string,
	timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	defaultTimeout time.Duration,
	diags *diag.Diagnostics,
) (context.Context, context.CancelFunc, *cfapi.Client) {
	if data == nil {
		diags.AddError(summary, unconfiguredDetail)
		return ctx, func() {}, nil
	}
	d, timeoutDiags := timeout(ctx, defaultTimeout)
	diags.Append(timeoutDiags...)
	if diags.HasError() {
		return ctx, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	ctx, end := withRateLimitWarning(ctx, summary, diags)
	return ctx, func() { end(); cancel() }, data.client
}

func (r *certificateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan certificateModel
	resp.Diagnostics.Append(readModel(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := startOperation(ctx, r.data, createSummary, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	// A write-only key is only in the configuration, never in the plan.
	var config certificateModel
	if resp.Diagnostics.Append(readModel(ctx, req.Config.Raw, &config)...); resp.Diagnostics.HasError() {
		return
	}
	keyWO := config.PrivateKeyWO
	key, keyPath := plan.PrivateKey.ValueString(), path.Root("private_key")
	if !keyWO.IsNull() {
		key, keyPath = keyWO.ValueString(), path.Root("private_key_wo")
	}
	// Cloudflare gets the certificates and the key block in canonical PEM:
	// not the EC PARAMETERS that openssl ecparam writes before a key, nor a
	// byte-order mark or CRLF from a file saved on Windows.
	if key != "" {
		block, err := certs.KeyBlock(key)
		if err != nil {
			resp.Diagnostics.Append(invalidPrivateKeyDiag(keyPath, err))
			return
		}
		key = block
	}

	certificates, err := certs.CanonicalCertificates(plan.Certificates.ValueString())
	if err != nil {
		resp.Diagnostics.Append(invalidCertificatesDiag(path.Root("certificates"), err))
		return
	}

	uploaded, diags := uploadExactlyOnce(ctx, client, cfapi.UploadRequest{
		AccountID:    plan.AccountID.ValueString(),
		Name:         plan.Name.ValueString(),
		CA:           plan.CA.ValueBool(),
		Certificates: certificates,
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
	var written diag.Diagnostics
	resp.State.Raw, written = writeModel(ctx, &plan, req.Plan.Raw.Type())
	resp.Diagnostics.Append(written...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.AccountID, plan.ID)...)
}

func (r *certificateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state certificateModel
	resp.Diagnostics.Append(readModel(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Set before the request, so that it is there even when the certificate
	// is gone: the framework requires an identity from every Read, and state
	// written before identity existed (or by a CLI older than 1.12) has none.
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, state.AccountID, state.ID)...)
	ctx, cancel, client := startOperation(ctx, r.data, readSummary, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	accountID, id := state.AccountID.ValueString(), state.ID.ValueString()
	var got *cfapi.Certificate
	var err error
	if r.data.batch != nil {
		got, err = r.data.batch.get(ctx, accountID, id)
	} else {
		got, err = client.Get(ctx, accountID, id)
	}
	gone, err := client.ConfirmGone(ctx, accountID, id, err)
	var unconfirmed *cfapi.UnconfirmedNotFoundError
	switch {
	case gone:
		tflog.Warn(ctx, "mTLS certificate no longer exists; removing it from state so it is planned for creation",
			map[string]any{"account_id": accountID, "id": id})
		resp.State.RemoveResource(ctx)
		return
	case errors.As(err, &unconfirmed):
		resp.Diagnostics.AddError(readSummary, goneUnconfirmedDetail(accountID, id, err, keptInState))
		return
	case err != nil:
		resp.Diagnostics.AddError(readSummary, apiErrorDetail(
			fmt.Sprintf("Could not read certificate %s in account %s.", id, accountID), err))
		return
	}
	state.applyAPI(got)
	var diags diag.Diagnostics
	resp.State.Raw, diags = writeModel(ctx, &state, req.State.Raw.Type())
	resp.Diagnostics.Append(diags...)
}

// Update changes nothing in Cloudflare: replacedBy sends every change the
// API would have to store to a replacement. What is left is recorded as
// planned: timeouts, a name going between null and "", and the first key
// or key version of an adopted certificate.
func (r *certificateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan certificateModel
	resp.Diagnostics.Append(readModel(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.State.Raw = req.Plan.Raw
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.AccountID, plan.ID)...)
}

func (r *certificateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state certificateModel
	resp.Diagnostics.Append(readModel(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client := startOperation(ctx, r.data, deleteSummary, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	resp.Diagnostics.Append(deleteCertificate(ctx, client, state.AccountID.ValueString(), state.ID.ValueString())...)
	if r.data.batch != nil {
		r.data.batch.forget(state.AccountID.ValueString())
	}
}

// applyAPI copies what the API reports into the model. Arguments the API
// echoes are taken from it too, so drift and imports are seen; the
// configured certificates text is kept when it holds the same certificates
// (Cloudflare re-encodes PEM), and private_key is never returned so it is
// left alone.
func (m *certificateModel) applyAPI(c *cfapi.Certificate) {
	m.ID = types.StringValue(c.ID)
	switch {
	case c.Name != "":
		m.Name = types.StringValue(c.Name)
	case !sameName(m.Name, types.StringNull()):
		m.Name = types.StringNull() // named here, unnamed in Cloudflare
	}
	m.CA = types.BoolValue(c.CA)
	keep := c.Certificates == "" || known(m.Certificates.StringValue) && pemCertificates.same(m.Certificates.ValueString(), c.Certificates)
	switch {
	case !keep:
		m.Certificates = newPEMCertificates(c.Certificates)
		m.refreshDetails()
	case m.FingerprintSHA256.IsNull():
		m.refreshDetails() // state from before the details existed
	}
	m.reportedValues = reportedFrom(c)
}

// stringOrNull is null for a value the API did not send (or sent empty).
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// formatTime is null for a time the API did not send.
func formatTime(t time.Time, layout string) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(layout))
}
