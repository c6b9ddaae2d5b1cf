package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

var (
	_ list.ListResource              = (*certificateListResource)(nil)
	_ list.ListResourceWithConfigure = (*certificateListResource)(nil)
)

// certificateListResource lists an account's certificates for `terraform
// query` (Terraform 1.14+): each result names one certificate by its
// identity, so that `-generate-config-out` writes the import block and the
// configuration that adopt it.
type certificateListResource struct {
	data *providerData
}

func newCertificateListResource() list.ListResource { return &certificateListResource{} }

type certificateListConfig struct {
	AccountID     types.String   `tfsdk:"account_id"`
	Type          []types.String `tfsdk:"type"`
	CA            types.Bool     `tfsdk:"ca"`
	NameRegex     types.String   `tfsdk:"name_regex"`
	ExpiresWithin types.String   `tfsdk:"expires_within"`
}

// defaultListTypes leaves out the certificates Cloudflare manages for
// Gateway and Access, which no configuration should adopt.
var defaultListTypes = []string{"custom"}

func (l *certificateListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (l *certificateListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		Description: "Lists the mTLS certificates of a Cloudflare account, every page of them, for `terraform query`: " +
			"each result is a certificate's identity and, with `include_resource`, the certificate as a read stores it. " +
			"A listing whose pages hold fewer certificates than the `total_count` Cloudflare reports fails, with no results.",
		Attributes: map[string]listschema.Attribute{
			"account_id": listschema.StringAttribute{
				Optional:    true,
				Description: "Cloudflare account ID to list. Defaults to the provider's `account_id`.",
				Validators:  []validator.String{accountIDValidator()},
			},
			"type": listschema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Only certificates of these types: `custom` (uploaded), `gateway_managed`, `access_managed`. " +
					"Sent to the API as its `type` filter. Defaults to `[\"custom\"]`: the certificates Cloudflare " +
					"manages for Gateway and Access are left out.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.OneOf(certificateTypes...)),
				},
			},
			"ca": listschema.BoolAttribute{
				Optional:    true,
				Description: "Only CA certificates (`true`) or only leaf certificates (`false`).",
			},
			"name_regex": listschema.StringAttribute{
				Optional: true,
				Description: "Only certificates whose name matches this regular expression (Go RE2 syntax, " +
					"unanchored). Certificates without a name never match.",
				Validators: []validator.String{regexValidator{}},
			},
			"expires_within": listschema.StringAttribute{
				Optional: true,
				Description: "Only certificates that expire within this duration from now, already expired ones " +
					"included, such as `\"720h\"` for 30 days.",
				Validators: []validator.String{durationValidator{}},
			},
		},
	}
}

func (l *certificateListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// List reads every page of the account's certificates through the same
// client and paging as the data sources, then streams the matching ones.
func (l *certificateListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	const summary = "Unable to List mTLS Certificates"
	var diags diag.Diagnostics
	var cfg certificateListConfig
	if diags.Append(req.Config.Get(ctx, &cfg)...); diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	if l.data == nil {
		diags.AddError(summary, unconfiguredDetail)
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	accountID := accountOrDefault(cfg.AccountID, l.data, "list", "in its config block", &diags)
	if accountID == "" {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	filter, err := newCertificateFilter(cfg.CA, cfg.NameRegex, cfg.ExpiresWithin, time.Now())
	if err != nil {
		diags.AddError(summary, err.Error()) // the validators accept only values that compile
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	kinds := defaultListTypes
	if cfg.Type != nil {
		kinds = nil
		for _, t := range cfg.Type {
			kinds = append(kinds, t.ValueString())
		}
		sort.Strings(kinds)
	}
	all, err := l.data.client.ListAll(ctx, accountID, cfapi.ListOptions{Types: kinds})
	if err != nil {
		diags.AddError(summary, apiErrorDetail(fmt.Sprintf("Could not list the certificates of account %s.", accountID), err))
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	resourceType := req.ResourceSchema.Type().TerraformType(ctx)
	stream.Results = func(push func(list.ListResult) bool) {
		pushed := int64(0)
		for i := range all {
			c := &all[i]
			if !filter.matches(c) {
				continue
			}
			if req.Limit > 0 && pushed >= req.Limit {
				return
			}
			pushed++
			if !push(listResult(ctx, req, resourceType, accountID, c)) {
				return
			}
		}
	}
}

// listResult is one certificate as a query result: its identity, a name to
// show, and with include_resource the resource as a read would store it.
func listResult(ctx context.Context, req list.ListRequest, resourceType tftypes.Type, accountID string, c *cfapi.Certificate) list.ListResult {
	result := req.NewListResult(ctx)
	model := certificateModel{AccountID: types.StringValue(accountID), Name: types.StringNull()}
	model.applyAPI(c)
	result.DisplayName = model.Name.ValueString()
	if result.DisplayName == "" {
		result.DisplayName = model.Subject.ValueString()
	}
	result.Diagnostics.Append(setIdentity(ctx, result.Identity, model.AccountID, model.ID)...)
	if req.IncludeResource {
		model.PrivateKey = pemValue{StringValue: types.StringNull(), kind: pemPrivateKey}
		model.PrivateKeyWO, model.PrivateKeyWOVersion = types.StringNull(), types.Int64Null()
		raw, diags := writeModel(ctx, &model, resourceType)
		result.Diagnostics.Append(diags...)
		result.Resource.Raw = raw
	}
	return result
}
