package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*associationsDataSource)(nil)

// associationsDataSource lists the services that use a certificate.
type associationsDataSource struct{ dataSourceBase }

func newAssociationsDataSource() datasource.DataSource { return &associationsDataSource{} }

type associationsDataSourceModel struct {
	AccountID         types.String      `tfsdk:"account_id"`
	MTLSCertificateID types.String      `tfsdk:"mtls_certificate_id"`
	Associations      []associationData `tfsdk:"associations"`
	Timeouts          timeouts.Value    `tfsdk:"timeouts"`
}

func (d *associationsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate_associations"
}

func (d *associationsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The Cloudflare services that use an mTLS certificate, with their status, across every page " +
			"of results. A certificate with associations cannot be deleted. The read fails, rather than answer " +
			"from part of the list, when the pages hold fewer associations than the `total_count` Cloudflare reports.",
		Attributes: map[string]schema.Attribute{
			"account_id": accountIDArgument("of the certificate"),
			"mtls_certificate_id": schema.StringAttribute{
				Required:    true,
				Description: "Identifier of the certificate, e.g. `mtls_certificate.ca.id`.",
				Validators: []validator.String{stringvalidator.RegexMatches(certificateIDPattern,
					"must be a Cloudflare certificate identifier (hexadecimal digits and dashes, at most 36 characters)")},
			},
			"associations": associationsAttribute("One entry per service that uses the certificate; empty when none does."),
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeouts(ctx)},
	}
}

func (d *associationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	const summary = "Unable to List mTLS Certificate Associations"
	var cfg associationsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, client, accountID := d.begin(ctx, summary, cfg.AccountID, cfg.Timeouts, &resp.Diagnostics)
	defer cancel()
	if client == nil {
		return
	}

	id := cfg.MTLSCertificateID.ValueString()
	associations, err := client.AssociationsAll(ctx, accountID, id)
	if gone, goneErr := client.ConfirmGone(ctx, accountID, id, err); gone {
		resp.Diagnostics.AddAttributeError(path.Root("mtls_certificate_id"), "mTLS Certificate Not Found",
			fmt.Sprintf("Account %s has no mTLS certificate with id %q.", accountID, id))
		return
	} else if goneErr != nil {
		resp.Diagnostics.AddError(summary, lookupErrorDetail("Could not list the associations of", accountID, id, goneErr))
		return
	}
	cfg.AccountID = types.StringValue(accountID)
	cfg.Associations = associationsFrom(associations)
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}
