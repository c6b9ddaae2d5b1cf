package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

const defaultDataSourceReadTimeout = 5 * time.Minute

// dataSourceTimeouts is the timeouts package's block with positiveDuration
// added to read, so that "0s" or "-1s" fails at plan.
func dataSourceTimeouts(ctx context.Context) schema.Block {
	block := timeouts.BlockWithOpts(ctx, timeouts.Opts{
		ReadDescription: timeoutDescription("a read of the data source (every page and retry)", defaultDataSourceReadTimeout),
	}).(schema.SingleNestedBlock)
	read := block.Attributes["read"].(schema.StringAttribute)
	read.Validators = append(read.Validators, positiveDuration{defaultDataSourceReadTimeout})
	block.Attributes["read"] = read
	return block
}

// certificateData is what the data sources show of a certificate: every
// attribute of the resource except its secrets and timeouts.
type certificateData struct {
	AccountID    types.String `tfsdk:"account_id"`
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	CA           types.Bool   `tfsdk:"ca"`
	Certificates types.String `tfsdk:"certificates"`

	reportedValues
	certificateDetails
}

type associationData struct {
	Service types.String `tfsdk:"service"`
	Status  types.String `tfsdk:"status"`
}

// certificateDataFrom converts an API certificate. The details are read
// from the PEM Cloudflare returns; they are null if it does not parse.
func certificateDataFrom(accountID string, c *cfapi.Certificate) certificateData {
	d := certificateData{
		AccountID:      types.StringValue(accountID),
		ID:             types.StringValue(c.ID),
		Name:           types.StringNull(),
		CA:             types.BoolValue(c.CA),
		Certificates:   types.StringValue(c.Certificates),
		reportedValues: reportedFrom(c),
		certificateDetails: certificateDetails{
			FingerprintSHA256: types.StringNull(),
			Subject:           types.StringNull(),
			NotBefore:         types.StringNull(),
			NotAfter:          types.StringNull(),
			CertificateCount:  types.Int64Null(),
		},
	}
	if c.Name != "" {
		d.Name = types.StringValue(c.Name)
	}
	if parsed, err := certs.ParseCertificates(c.Certificates); err == nil {
		d.certificateDetails = detailsOf(parsed)
	}
	return d
}

func associationsFrom(in []cfapi.Association) []associationData {
	out := make([]associationData, 0, len(in))
	for _, a := range in {
		out = append(out, associationData{Service: types.StringValue(a.Service), Status: types.StringValue(a.Status)})
	}
	return out
}

// certificateDataAttributes is the read-only schema of certificateData.
func certificateDataAttributes() map[string]schema.Attribute {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: description}
	}
	return map[string]schema.Attribute{
		"account_id":         computed("Cloudflare account ID of the certificate."),
		"id":                 computed("Identifier of the certificate."),
		"name":               computed("Name of the certificate; null when it has none."),
		"ca":                 schema.BoolAttribute{Computed: true, Description: "Whether the certificate is a CA that Cloudflare uses to verify client certificates."},
		"certificates":       computed("PEM text of the certificates, as Cloudflare stores it."),
		"issuer":             computed("Issuer of the certificate as Cloudflare reports it."),
		"serial_number":      computed("Serial number of the certificate, as a decimal string."),
		"signature":          computed("Signature algorithm of the certificate as Cloudflare names it, e.g. `SHA256WithRSA`."),
		"expires_on":         computed("When the certificate expires (RFC 3339), as Cloudflare reports it."),
		"uploaded_on":        computed("When the certificate was uploaded (RFC 3339)."),
		"type":               computed("`custom` for uploads, `gateway_managed` or `access_managed` for ones Cloudflare manages."),
		"fingerprint_sha256": computed("SHA-256 fingerprint of the first certificate's DER encoding, in lowercase hexadecimal."),
		"subject":            computed("Subject of the first certificate."),
		"not_before":         computed("Start of the first certificate's validity (RFC 3339, UTC)."),
		"not_after":          computed("End of the first certificate's validity (RFC 3339, UTC)."),
		"certificate_count":  schema.Int64Attribute{Computed: true, Description: "Number of certificates in `certificates`."},
	}
}

func associationsAttribute(description string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		Computed:    true,
		Description: description,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"service": schema.StringAttribute{Computed: true, Description: "Cloudflare service that uses the certificate, e.g. `gateway`."},
			"status":  schema.StringAttribute{Computed: true, Description: "Status of the association as Cloudflare reports it, e.g. `pending_deployment`."},
		}},
	}
}

func accountIDArgument(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:    true,
		Computed:    true,
		Description: "Cloudflare account ID " + what + ". Defaults to the provider's `account_id`.",
		Validators:  []validator.String{accountIDValidator()},
	}
}

// dataSourceBase holds what every data source gets from the provider.
type dataSourceBase struct {
	data *providerData
}

func (d *dataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// configuredData is what the provider's Configure handed to a resource,
// data source or list resource: nil before the provider is configured (or
// when its configuration was not known), and an error in diags for
// anything else, a defect.
func configuredData(given any, diags *diag.Diagnostics) *providerData {
	if given == nil {
		return nil
	}
	data, ok := given.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a defect in the provider.", given))
	}
	return data
}

// accountOrDefault is the account a data source or list resource reads:
// its own account_id, else the provider's. Without either it adds an
// error on account_id, naming the ways to set one, and returns "".
func accountOrDefault(account types.String, data *providerData, what, here string, diags *diag.Diagnostics) string {
	accountID := account.ValueString()
	if account.IsNull() || account.IsUnknown() {
		accountID = data.accountID
	}
	if accountID == "" {
		diags.AddAttributeError(path.Root("account_id"), "Missing Account ID",
			"No Cloudflare account is set for this "+what+". Set account_id "+here+", or account_id in the "+
				"provider block, or the "+EnvAccountID+" environment variable.")
	}
	return accountID
}

// begin starts a Read: it returns the client, the account to read from and
// a context bounded by the read timeout, or adds an error to diags and
// returns a nil client.
func (d *dataSourceBase) begin(ctx context.Context, summary string, account types.String, t timeouts.Value, diags *diag.Diagnostics) (context.Context, context.CancelFunc, *cfapi.Client, string) {
	if d.data == nil {
		diags.AddError(summary, unconfiguredDetail)
		return ctx, func() {}, nil, ""
	}
	accountID := accountOrDefault(account, d.data, "data source", "here", diags)
	if accountID == "" {
		return ctx, func() {}, nil, ""
	}
	timeout, timeoutDiags := t.Read(ctx, defaultDataSourceReadTimeout)
	if diags.Append(timeoutDiags...); diags.HasError() {
		return ctx, func() {}, nil, ""
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	ctx, end := withRateLimitWarning(ctx, summary, diags)
	return ctx, func() { end(); cancel() }, d.data.client, accountID
}
