package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

var (
	_ datasource.DataSourceWithConfigure        = (*certificateDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*certificateDataSource)(nil)
)

// certificateDataSource looks up one certificate by id or by name.
type certificateDataSource struct{ dataSourceBase }

func newCertificateDataSource() datasource.DataSource { return &certificateDataSource{} }

type certificateDataSourceModel struct {
	certificateData
	Associations []associationData `tfsdk:"associations"`
	Timeouts     timeouts.Value    `tfsdk:"timeouts"`
}

func (d *certificateDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (d *certificateDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := certificateDataAttributes()
	attrs["account_id"] = accountIDArgument("to look in")
	attrs["id"] = schema.StringAttribute{
		Optional:    true,
		Computed:    true,
		Description: "Identifier of the certificate. Exactly one of `id` and `name` must be set.",
		Validators: []validator.String{stringvalidator.RegexMatches(certificateIDPattern,
			"must be a Cloudflare certificate identifier (hexadecimal digits and dashes, at most 36 characters)")},
	}
	attrs["name"] = schema.StringAttribute{
		Optional: true,
		Computed: true,
		Description: "Name of the certificate, matched exactly. Cloudflare does not enforce unique names: the " +
			"lookup fails, listing the candidates' ids, when no certificate or more than one has this name. It " +
			"also fails when the account's listing holds fewer certificates than the `total_count` Cloudflare " +
			"reports, since the certificate may be in the part not served. Exactly one of `id` and `name` must be set.",
		Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
	}
	attrs["associations"] = associationsAttribute("Cloudflare services that use the certificate, with their status; empty when none does.")
	resp.Schema = schema.Schema{
		Description: "One mTLS certificate of a Cloudflare account, looked up by `id` or by `name`, with the " +
			"services that use it. The private key is never available.",
		Attributes: attrs,
		Blocks:     map[string]schema.Block{"timeouts": dataSourceTimeouts(ctx)},
	}
}

func (d *certificateDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *certificateDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	const summary = "Unable to Read mTLS Certificate"
	var cfg certificateDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client, accountID := d.begin(ctx, summary, cfg.AccountID, cfg.Timeouts, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	var found *cfapi.Certificate
	if !cfg.ID.IsNull() {
		id := cfg.ID.ValueString()
		c, err := client.Get(ctx, accountID, id)
		gone, err := client.ConfirmGone(ctx, accountID, id, err)
		if gone {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "mTLS Certificate Not Found",
				fmt.Sprintf("Account %s has no mTLS certificate with id %q.", accountID, id))
			return
		}
		if err != nil {
			resp.Diagnostics.AddError(summary, lookupErrorDetail("Could not read", accountID, id, err))
			return
		}
		found = c
	} else {
		var ok bool
		if found, ok = d.findByName(ctx, client, accountID, cfg.Name.ValueString(), resp); !ok {
			return
		}
	}

	associations, err := client.AssociationsAll(ctx, accountID, found.ID)
	if err != nil {
		resp.Diagnostics.AddError(summary, apiErrorDetail(fmt.Sprintf("Could not list the associations of certificate %s in account %s.", found.ID, accountID), err))
		return
	}
	state := certificateDataSourceModel{
		certificateData: certificateDataFrom(accountID, found),
		Associations:    associationsFrom(associations),
		Timeouts:        cfg.Timeouts,
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// findByName returns the one certificate called name, or reports why there
// is not exactly one.
func (d *certificateDataSource) findByName(ctx context.Context, client *cfapi.Client, accountID, name string, resp *datasource.ReadResponse) (*cfapi.Certificate, bool) {
	all, err := client.ListAll(ctx, accountID, cfapi.ListOptions{})
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read mTLS Certificate", apiErrorDetail(fmt.Sprintf("Could not list the certificates of account %s.", accountID), err))
		return nil, false
	}
	var matches []*cfapi.Certificate
	for i := range all {
		if all[i].Name == name {
			matches = append(matches, &all[i])
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], true
	case 0:
		resp.Diagnostics.AddAttributeError(path.Root("name"), "mTLS Certificate Not Found",
			fmt.Sprintf("None of the %d mTLS certificates in account %s is named %q (names are matched exactly). "+
				"The mtls_certificates data source lists them all.", len(all), accountID, name))
	default:
		var lines []string
		for _, c := range matches {
			lines = append(lines, fmt.Sprintf("  - %s (uploaded %s, expires %s)", c.ID,
				formatTime(c.UploadedOn, "2006-01-02T15:04:05Z07:00").ValueString(), formatTime(c.ExpiresOn, "2006-01-02").ValueString()))
		}
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Several mTLS Certificates Have This Name",
			fmt.Sprintf("%d mTLS certificates in account %s are named %q; Cloudflare does not keep names unique:\n%s\n"+
				"Look the certificate up by id instead.", len(matches), accountID, name, strings.Join(lines, "\n")))
	}
	return nil, false
}
