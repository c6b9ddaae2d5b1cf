package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

var _ datasource.DataSourceWithConfigure = (*certificatesDataSource)(nil)

// certificateTypes are the values of the API's type filter.
var certificateTypes = []string{"custom", "gateway_managed", "access_managed"}

// certificatesDataSource lists the certificates of an account, reading
// every page.
type certificatesDataSource struct{ dataSourceBase }

func newCertificatesDataSource() datasource.DataSource { return &certificatesDataSource{} }

type certificatesDataSourceModel struct {
	AccountID     types.String      `tfsdk:"account_id"`
	Type          []types.String    `tfsdk:"type"`
	CA            types.Bool        `tfsdk:"ca"`
	NameRegex     types.String      `tfsdk:"name_regex"`
	ExpiresWithin types.String      `tfsdk:"expires_within"`
	Certificates  []certificateData `tfsdk:"certificates"`
	IDs           []types.String    `tfsdk:"ids"`
	Timeouts      timeouts.Value    `tfsdk:"timeouts"`
}

func (d *certificatesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificates"
}

func (d *certificatesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "All mTLS certificates of a Cloudflare account, across every page of results, optionally " +
			"filtered. Private keys are never available. The read fails, rather than answer from part of the " +
			"account, when the pages hold fewer certificates than the `total_count` Cloudflare reports (a proxy, or " +
			"a server that ignores `page`).",
		Attributes: map[string]schema.Attribute{
			"account_id": accountIDArgument("to list"),
			"type": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Only certificates of these types: `custom` (uploaded), `gateway_managed`, " +
					"`access_managed`. Sent to the API as its `type` filter. All types when unset.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(certificateTypes...)),
				},
			},
			"ca": schema.BoolAttribute{
				Optional:    true,
				Description: "Only CA certificates (`true`) or only leaf certificates (`false`).",
			},
			"name_regex": schema.StringAttribute{
				Optional: true,
				Description: "Only certificates whose name matches this regular expression (Go RE2 syntax, " +
					"unanchored: use `^...$` for a whole-name match). Certificates without a name never match.",
				Validators: []validator.String{regexValidator{}},
			},
			"expires_within": schema.StringAttribute{
				Optional: true,
				Description: "Only certificates that expire within this duration from now, already expired ones " +
					"included, such as `\"720h\"` for 30 days (Go duration syntax: `h`, `m`, `s`; there is no unit " +
					"for days).",
				Validators: []validator.String{durationValidator{}},
			},
			"certificates": schema.ListNestedAttribute{
				Computed:     true,
				Description:  "The matching certificates, in the order Cloudflare lists them (upload order).",
				NestedObject: schema.NestedAttributeObject{Attributes: certificateDataAttributes()},
			},
			"ids": schema.ListAttribute{
				Computed:    true,
				ElementType: types.StringType,
				Description: "Identifiers of the matching certificates, in the same order as `certificates`.",
			},
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeouts(ctx)},
	}
}

func (d *certificatesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	const summary = "Unable to List mTLS Certificates"
	var cfg certificatesDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client, accountID := d.begin(ctx, summary, cfg.AccountID, cfg.Timeouts, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	filter, err := newCertificateFilter(cfg.CA, cfg.NameRegex, cfg.ExpiresWithin, time.Now())
	if err != nil {
		// The validators accept only values that compile; this is a defect.
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	var typesFilter []string
	for _, t := range cfg.Type {
		typesFilter = append(typesFilter, t.ValueString())
	}
	sort.Strings(typesFilter)
	all, err := client.ListAll(ctx, accountID, cfapi.ListOptions{Types: typesFilter})
	if err != nil {
		resp.Diagnostics.AddError(summary, apiErrorDetail(fmt.Sprintf("Could not list the certificates of account %s.", accountID), err))
		return
	}

	state := cfg
	state.AccountID = types.StringValue(accountID)
	state.Certificates = []certificateData{}
	state.IDs = []types.String{}
	for i := range all {
		if !filter.matches(&all[i]) {
			continue
		}
		state.Certificates = append(state.Certificates, certificateDataFrom(accountID, &all[i]))
		state.IDs = append(state.IDs, types.StringValue(all[i].ID))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// certificateFilter is the client-side filters of the mtls_certificates
// data source and of the list resource.
type certificateFilter struct {
	ca        *bool
	name      *regexp.Regexp
	expiresBy *time.Time
}

func newCertificateFilter(ca types.Bool, nameRegex, expiresWithin types.String, now time.Time) (certificateFilter, error) {
	var f certificateFilter
	if !ca.IsNull() {
		v := ca.ValueBool()
		f.ca = &v
	}
	if !nameRegex.IsNull() {
		re, err := regexp.Compile(nameRegex.ValueString())
		if err != nil {
			return f, fmt.Errorf("name_regex: %w", err)
		}
		f.name = re
	}
	if !expiresWithin.IsNull() {
		d, err := parseDuration(expiresWithin.ValueString())
		if err != nil {
			return f, fmt.Errorf("expires_within: %w", err)
		}
		by := now.Add(d)
		f.expiresBy = &by
	}
	return f, nil
}

func (f certificateFilter) matches(c *cfapi.Certificate) bool {
	if f.ca != nil && c.CA != *f.ca {
		return false
	}
	if f.name != nil && (c.Name == "" || !f.name.MatchString(c.Name)) {
		return false
	}
	if f.expiresBy != nil && (c.ExpiresOn.IsZero() || c.ExpiresOn.After(*f.expiresBy)) {
		return false
	}
	return true
}

// parseDuration is time.ParseDuration with a hint for the day unit users
// reach for first.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if strings.HasSuffix(s, "d") {
			return 0, fmt.Errorf("%q is not a duration: Go durations have no day unit, write hours instead (for example \"720h\" for 30 days)", s)
		}
		return 0, fmt.Errorf("%q is not a duration such as \"720h\" or \"90m\": %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; use a positive duration such as \"720h\"", s)
	}
	return d, nil
}

type regexValidator struct{}

func (regexValidator) Description(context.Context) string {
	return "must be a valid regular expression (RE2 syntax)"
}

func (v regexValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (regexValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := regexp.Compile(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Regular Expression",
			fmt.Sprintf("name_regex must be a regular expression in Go's RE2 syntax: %s.", err))
	}
}

type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a duration such as \"720h\""
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parseDuration(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration", err.Error()+".")
	}
}
