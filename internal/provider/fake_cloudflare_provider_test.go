package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// officialLayout chooses which release of the official Cloudflare provider
// the fake stands in for: the state layout of cloudflare_mtls_certificate
// and the schema version it is stored with.
type officialLayout struct {
	// v4 is the SDKv2 provider: no updated_at, "" for an unset name or
	// private_key, a timeouts block, times in RFC 3339 with only the
	// fraction digits the time needs. Otherwise the v5 framework provider:
	// updated_at, and times as the API wrote them.
	v4            bool
	schemaVersion int64
}

var (
	officialV4      = officialLayout{v4: true, schemaVersion: 0}
	officialV5      = officialLayout{schemaVersion: 1}   // v5.0 to v5.18
	officialV5Later = officialLayout{schemaVersion: 500} // later v5
)

// factoriesWithOfficial serves this provider as "mtls" and, as "cloudflare",
// a stand-in for the official provider (which tests cannot download) that
// manages cloudflare_mtls_certificate through env's API: a certificate it
// creates really exists there, as one created by the official provider
// does in Cloudflare.
func factoriesWithOfficial(t *testing.T, env *acctest.Env, layout officialLayout) map[string]func() (tfprotov6.ProviderServer, error) {
	t.Helper()
	factories := acctest.Factories()
	client := env.Client(t)
	factories["cloudflare"] = providerserver.NewProtocol6WithError(&fakeOfficialProvider{client: client, layout: layout})
	return factories
}

type fakeOfficialProvider struct {
	client *cfapi.Client
	layout officialLayout
}

func (p *fakeOfficialProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cloudflare"
}

// Schema has no arguments: the client comes from the test.
func (p *fakeOfficialProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {
}

func (p *fakeOfficialProvider) Configure(_ context.Context, _ provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	resp.ResourceData = p
}

func (p *fakeOfficialProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &fakeOfficialCertificate{provider: p} }}
}

func (p *fakeOfficialProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}

type fakeOfficialCertificate struct {
	provider *fakeOfficialProvider
}

func (r *fakeOfficialCertificate) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mtls_certificate"
}

// Schema has the official attribute names, kinds and schema version;
// descriptions and validation do not matter to a state layout.
func (r *fakeOfficialCertificate) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	layout := r.provider.layout
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	computed := func() schema.StringAttribute {
		return schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	optional := func(sensitive bool) schema.StringAttribute {
		a := schema.StringAttribute{Optional: true, Sensitive: sensitive, PlanModifiers: replace}
		if layout.v4 {
			// SDKv2 stores "" for an unset optional string; a framework
			// resource can do that only for a computed one.
			a.Computed = true
			a.PlanModifiers = append([]planmodifier.String{stringplanmodifier.UseStateForUnknown()}, replace...)
		}
		return a
	}
	resp.Schema = schema.Schema{
		Version: layout.schemaVersion,
		Attributes: map[string]schema.Attribute{
			"id":            computed(),
			"account_id":    schema.StringAttribute{Required: true, PlanModifiers: replace},
			"ca":            schema.BoolAttribute{Required: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
			"certificates":  schema.StringAttribute{Required: true, PlanModifiers: replace},
			"name":          optional(false),
			"private_key":   optional(true),
			"issuer":        computed(),
			"serial_number": computed(),
			"signature":     computed(),
			"expires_on":    computed(),
			"uploaded_on":   computed(),
		},
	}
	if layout.v4 {
		resp.Schema.Blocks = map[string]schema.Block{
			"timeouts": schema.SingleNestedBlock{Attributes: map[string]schema.Attribute{
				"create": schema.StringAttribute{Optional: true},
			}},
		}
	} else {
		resp.Schema.Attributes["updated_at"] = computed()
	}
}

func (r *fakeOfficialCertificate) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var accountID, name, certificates, privateKey types.String
	var ca types.Bool
	for attr, target := range map[string]any{
		"account_id": &accountID, "name": &name, "certificates": &certificates, "private_key": &privateKey, "ca": &ca,
	} {
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(attr), target)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	uploaded, err := r.provider.client.Upload(ctx, cfapi.UploadRequest{
		AccountID:    accountID.ValueString(),
		Name:         name.ValueString(),
		CA:           ca.ValueBool(),
		Certificates: certificates.ValueString(),
		PrivateKey:   privateKey.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.AddError("Fake Cloudflare Upload Failed", err.Error())
		return
	}
	resp.State.Raw = req.Plan.Raw.Copy()
	if r.provider.layout.v4 {
		for attr, v := range map[string]types.String{"name": name, "private_key": privateKey} {
			if v.IsUnknown() {
				resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), "")...)
			}
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), uploaded.ID)...)
	resp.Diagnostics.Append(r.setReported(ctx, &resp.State, uploaded)...)
}

func (r *fakeOfficialCertificate) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var accountID, id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("account_id"), &accountID)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := r.provider.client.Get(ctx, accountID.ValueString(), id.ValueString())
	if cfapi.IsCertificateNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Fake Cloudflare Read Failed", err.Error())
		return
	}
	resp.Diagnostics.Append(r.setReported(ctx, &resp.State, got)...)
}

// Cloudflare's own layouts of its times, which the v5 provider stores as
// the API wrote them.
const (
	apiExpiresOnLayout  = "2006-01-02T15:04:05Z07:00"
	apiUploadedOnLayout = "2006-01-02T15:04:05.000000Z07:00"
)

// setReported writes what the API reports, formatted as the layout does.
func (r *fakeOfficialCertificate) setReported(ctx context.Context, state *tfsdk.State, c *cfapi.Certificate) diag.Diagnostics {
	expires, uploaded := c.ExpiresOn.UTC().Format(apiExpiresOnLayout), c.UploadedOn.UTC().Format(apiUploadedOnLayout)
	if r.provider.layout.v4 {
		// The v4 provider formatted the times it parsed with RFC3339Nano.
		expires, uploaded = c.ExpiresOn.Format(time.RFC3339Nano), c.UploadedOn.Format(time.RFC3339Nano)
	}
	values := map[string]string{
		"issuer": c.Issuer, "serial_number": c.SerialNumber, "signature": c.Signature,
		"expires_on": expires, "uploaded_on": uploaded,
	}
	if r.provider.layout.v4 {
		values["name"] = c.Name // the v4 provider read the name back, "" when there is none
	} else {
		values["updated_at"] = uploaded
	}
	var diags diag.Diagnostics
	for attr, v := range values {
		diags.Append(state.SetAttribute(ctx, path.Root(attr), v)...)
	}
	return diags
}

// Update only happens for changes the plan does not replace for; there are
// none, but the interface requires the method.
func (r *fakeOfficialCertificate) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw.Copy()
}

func (r *fakeOfficialCertificate) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var accountID, id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("account_id"), &accountID)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.provider.client.Delete(ctx, accountID.ValueString(), id.ValueString()); err != nil && !cfapi.IsCertificateNotFound(err) {
		resp.Diagnostics.AddError("Fake Cloudflare Delete Failed", err.Error())
	}
}
