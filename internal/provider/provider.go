// Package provider is the Terraform framework glue of the mtls provider:
// the provider, its resources, data sources and functions. Certificate logic
// lives in internal/certs and API calls in internal/cfapi.
package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// RegistryAddress is where the provider is published.
const RegistryAddress = "registry.terraform.io/tf-mtls/mtls"

// Environment variables the provider reads when its configuration leaves a
// value unset. They are the conventional Cloudflare names.
//
//nolint:gosec // G101: these are the names of environment variables, not credentials.
const (
	EnvAPIToken  = "CLOUDFLARE_API_TOKEN"
	EnvAPIKey    = "CLOUDFLARE_API_KEY"
	EnvAPIEmail  = "CLOUDFLARE_EMAIL"
	EnvAccountID = "CLOUDFLARE_ACCOUNT_ID"
	EnvBaseURL   = "CLOUDFLARE_BASE_URL"
)

const (
	defaultMaxRetries        = 3
	defaultExpiryWarningDays = 30

	// requests_per_second bounds: a tenth of a request per second still
	// finishes a small apply; a thousand is beyond any account's limit.
	minRequestsPerSecond = 0.1
	maxRequestsPerSecond = 1000
)

var accountIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

var (
	_ provider.Provider                   = (*mtlsProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*mtlsProvider)(nil)
	_ provider.ProviderWithListResources  = (*mtlsProvider)(nil)
)

type mtlsProvider struct {
	version string
	// withoutRequestLog turns the API client's request log off (see
	// WithoutRequestLog).
	withoutRequestLog bool
}

// New returns a constructor of the provider, as providerserver.Serve wants.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &mtlsProvider{version: version} }
}

type providerModel struct {
	APIToken   types.String `tfsdk:"api_token"`
	APIKey     types.String `tfsdk:"api_key"`
	APIEmail   types.String `tfsdk:"api_email"`
	AccountID  types.String `tfsdk:"account_id"`
	BaseURL    types.String `tfsdk:"base_url"`
	MaxRetries types.Int64  `tfsdk:"max_retries"`

	RequestsPerSecond types.Float64 `tfsdk:"requests_per_second"`

	ExpiryWarningDays types.Int64 `tfsdk:"expiry_warning_days"`
	BatchRefresh      types.Bool  `tfsdk:"batch_refresh"`
}

// providerData is what Configure hands to every resource and data source:
// one client per provider instance, and the default account.
type providerData struct {
	client    *cfapi.Client
	accountID string
	// expiryWarningDays is how close to its expiry a certificate must be
	// for plans to warn about it.
	expiryWarningDays int
	// batch serves refreshes from account listings; nil when
	// batch_refresh is false.
	batch *batchRefresher
}

func (p *mtlsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "mtls"
	resp.Version = p.version
}

func (p *mtlsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages Cloudflare account-level mTLS certificates. Authenticate with an API token " +
			"(preferred), or with a global API key and its email; exactly one of the two schemes must be set, " +
			"in this block or through the environment.",
		Attributes: map[string]schema.Attribute{
			"api_token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				Description: "Cloudflare API token with the \"SSL and Certificates\" permission (read for reads, " +
					"edit for uploads and deletes). Falls back to `" + EnvAPIToken + "`. Conflicts with `api_key`." +
					credentialRules("token.txt"),
			},
			"api_key": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				Description: "Cloudflare global API key; needs `api_email`. Falls back to `" + EnvAPIKey + "`. Conflicts with `api_token`." +
					credentialRules("key.txt"),
			},
			"api_email": schema.StringAttribute{
				Optional:    true,
				Description: "Email of the account that owns `api_key`. Falls back to `" + EnvAPIEmail + "`." + credentialRules("email.txt"),
			},
			"account_id": schema.StringAttribute{
				Optional: true,
				Description: "Default Cloudflare account ID (32 lowercase hexadecimal characters) for every " +
					"resource and data source that does not set its own. Falls back to `" + EnvAccountID + "`.",
				Validators: []validator.String{accountIDValidator()},
			},
			"base_url": schema.StringAttribute{
				Optional: true,
				Description: "Base URL of the Cloudflare API. Defaults to `" + cfapi.DefaultBaseURL + "`; falls back to `" +
					EnvBaseURL + "`. Must use `https://`, except for loopback hosts (127.0.0.0/8, ::1, localhost), " +
					"where `http://` is allowed for local emulators. A user name and password in the URL (for a proxy " +
					"in front of the API) are replaced with `xxxxx` in logs and error messages.",
				Validators: []validator.String{baseURLValidator{}},
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				Description: fmt.Sprintf("How many times a request that failed for a transient reason (HTTP 408, "+
					"5XX, a connection error, or no answer within %s) is sent again, within the operation's "+
					"timeout. Waits follow the API's `Retry-After` when it asks for a wait, and otherwise grow from "+
					"half a second up to 30 seconds. Refusals for the rate limit (HTTP 429) do not use up these "+
					"retries: however many come, each is waited out as Cloudflare asks until the operation's timeout "+
					"(its `timeouts` block; 6 minutes per request for `terraform query`), and one whose wait would end "+
					"after it fails at once, naming the wait. 0 turns every retry off, 429s included. "+
					"Other 4XX answers are never retried. An "+
					"upload whose answer was lost and that Cloudflare had stored is recorded, not uploaded twice. "+
					"Defaults to %d.",
					cfapi.DefaultAttemptTimeout, defaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, 10)},
			},
			"requests_per_second": schema.Float64Attribute{
				Optional: true,
				Description: fmt.Sprintf("Pace of API requests, retries included, once a first burst of %d "+
					"requests is spent. Like Cloudflare's own limit (%d requests per 5 minutes per user), it is "+
					"shared by every resource and data source of this provider block, so a very large apply at a "+
					"high `-parallelism` slows down instead of running into HTTP 429. Beyond it, the provider "+
					"follows the count of requests left that Cloudflare reports for the token (which other "+
					"processes on the token lower too) and holds requests near its end until it resets. Between "+
					"%g and %d; defaults to %g.",
					cfapi.RateLimitBurst, cfapi.RateLimitBurst, minRequestsPerSecond, maxRequestsPerSecond, cfapi.DefaultRequestsPerSecond),
				Validators: []validator.Float64{float64validator.Between(minRequestsPerSecond, maxRequestsPerSecond)},
			},
			"batch_refresh": schema.BoolAttribute{
				Optional: true,
				Description: "Refresh certificates from paged list calls (50 certificates per request), one listing " +
					"shared by every certificate of an account, when that costs fewer requests than one GET per " +
					"certificate: a plan of 1,000 certificates then costs about 20 requests instead of 1,000, and the " +
					"provider decides from the first page and the refreshes that come (a workspace that manages 3 of " +
					"an account's 5,000 certificates reads one page and sends 3 GETs). A certificate missing from the " +
					"listing is checked with its own request, so deletions outside Terraform are still seen, and a " +
					"listing that fails falls back to GETs. Defaults to `true`; `false` sends one GET per certificate.",
			},
			"expiry_warning_days": schema.Int64Attribute{
				Optional: true,
				Description: fmt.Sprintf("Plans warn about a certificate that expires within this many days, "+
					"naming the date and the days left, so rotations are not missed. Defaults to %d; 0 turns "+
					"the warning off. An expired certificate is an error when it would be uploaded, and a "+
					"warning when it is already in Cloudflare.", defaultExpiryWarningDays),
				Validators: []validator.Int64{int64validator.Between(0, 3650)},
			},
		},
	}
}

// credentialRules is what the descriptions of the credentials say about
// the values credentialFlaw refuses.
func credentialRules(file string) string {
	return " Leave it out (or null) to use the environment variable; `\"\"` is an error. Whitespace at either end " +
		"and control characters, here or in the environment variable, are an error at plan that does not show " +
		"the value, and no request is sent: read a file with `trimspace(file(\"" + file + "\"))`."
}

func accountIDValidator() validator.String {
	return stringvalidator.RegexMatches(accountIDPattern,
		"must be a Cloudflare account ID: 32 lowercase hexadecimal characters")
}

// ValidateConfig catches flawed and conflicting credentials in the
// configuration itself. Whether any credentials exist at all is only known
// in Configure, where the environment is consulted.
func (p *mtlsProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(configCredentialDiags(cfg)...)
	if isSet(cfg.APIToken) && (isSet(cfg.APIKey) || isSet(cfg.APIEmail)) {
		resp.Diagnostics.AddAttributeError(path.Root("api_token"), "Conflicting Cloudflare Credentials",
			"Both api_token and api_key/api_email are set. Use exactly one authentication scheme: an API token "+
				"(preferred), or a global API key with its email.")
	}
}

// isSet is true for a known, non-empty value. Unknown values are not an
// error at plan time: they are resolved before Configure runs at apply.
func isSet(v types.String) bool { return !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" }

func (p *mtlsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []types.String{cfg.APIToken, cfg.APIKey, cfg.APIEmail, cfg.AccountID, cfg.BaseURL} {
		if v.IsUnknown() {
			// The configuration depends on values known only after apply.
			// Leave the provider unconfigured: plans still work, and any
			// operation that needs the API says why it cannot run.
			tflog.Debug(ctx, "Provider configuration has unknown values; deferring client setup")
			return
		}
	}

	settings, diags := resolveSettings(cfg, os.LookupEnv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	client, err := cfapi.New(cfapi.Config{
		APIToken:   settings.apiToken,
		APIKey:     settings.apiKey,
		APIEmail:   settings.apiEmail,
		BaseURL:    settings.baseURL,
		MaxRetries: settings.maxRetries,

		RequestsPerSecond: settings.requestsPerSecond,
		UserAgent:         userAgent(p.version, req.TerraformVersion),
		WithoutRequestLog: p.withoutRequestLog,
	})
	if err != nil {
		resp.Diagnostics.AddError("Unable to Configure the mtls Provider", err.Error())
		return
	}
	data := &providerData{client: client, accountID: settings.accountID, expiryWarningDays: settings.expiryWarningDays}
	// Batching is the default: a listing that a server pages wrongly or
	// cuts short costs at worst the GETs it replaces, since a certificate
	// missing from it is confirmed with one.
	if cfg.BatchRefresh.IsNull() || cfg.BatchRefresh.IsUnknown() || cfg.BatchRefresh.ValueBool() {
		data.batch = newBatchRefresher(client)
	}
	resp.ResourceData = data
	resp.ListResourceData = data
	resp.DataSourceData = data
	tflog.Debug(ctx, "Configured the mtls provider", map[string]any{
		"base_url":    cfapi.RedactURL(settings.baseURL),
		"auth_scheme": settings.scheme(),
		"max_retries": settings.maxRetries,
		"account_id":  settings.accountID,

		"requests_per_second": settings.requestsPerSecond,
	})
}

func userAgent(version, terraformVersion string) string {
	ua := "terraform-provider-mtls/" + version
	if terraformVersion != "" {
		ua += " terraform/" + terraformVersion
	}
	return ua
}

func (p *mtlsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newCertificateResource,
		newHostnameAssociationResource,
	}
}

// ListResources serves `terraform query` (Terraform 1.14+).
func (p *mtlsProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{newCertificateListResource}
}

func (p *mtlsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newCertificateDataSource,
		newCertificatesDataSource,
		newAssociationsDataSource,
	}
}
