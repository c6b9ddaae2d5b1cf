package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// providerSettings are the provider's arguments after environment fallbacks.
type providerSettings struct {
	apiToken, apiKey, apiEmail string
	accountID, baseURL         string
	maxRetries                 int
	requestsPerSecond          float64
	expiryWarningDays          int
}

func (s providerSettings) scheme() string {
	if s.apiToken != "" {
		return "api_token"
	}
	return "api_key"
}

// resolveSettings applies the environment fallbacks and checks that exactly
// one authentication scheme results. Credentials set in the configuration
// replace the environment's as a whole, so a stray CLOUDFLARE_API_KEY in a
// shell cannot clash with an api_token written in the provider block.
func resolveSettings(cfg providerModel, lookupEnv func(string) (string, bool)) (providerSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	env := func(name string) string {
		v, _ := lookupEnv(name)
		return v
	}
	orEnv := func(v types.String, name string) string {
		if isSet(v) {
			return v.ValueString()
		}
		return env(name)
	}

	s := providerSettings{
		accountID:  orEnv(cfg.AccountID, EnvAccountID),
		baseURL:    orEnv(cfg.BaseURL, EnvBaseURL),
		maxRetries: defaultMaxRetries,

		requestsPerSecond: cfapi.DefaultRequestsPerSecond,
		expiryWarningDays: defaultExpiryWarningDays,
	}
	if !cfg.MaxRetries.IsNull() && !cfg.MaxRetries.IsUnknown() {
		s.maxRetries = int(cfg.MaxRetries.ValueInt64())
	}
	if !cfg.RequestsPerSecond.IsNull() && !cfg.RequestsPerSecond.IsUnknown() {
		s.requestsPerSecond = cfg.RequestsPerSecond.ValueFloat64()
	}
	if !cfg.ExpiryWarningDays.IsNull() && !cfg.ExpiryWarningDays.IsUnknown() {
		s.expiryWarningDays = int(cfg.ExpiryWarningDays.ValueInt64())
	}

	source := "the environment (" + EnvAPIToken + ", " + EnvAPIKey + ", " + EnvAPIEmail + ")"
	if isSet(cfg.APIToken) || isSet(cfg.APIKey) || isSet(cfg.APIEmail) {
		source = "the provider configuration"
		s.apiToken, s.apiKey, s.apiEmail = cfg.APIToken.ValueString(), cfg.APIKey.ValueString(), cfg.APIEmail.ValueString()
	} else {
		s.apiToken, s.apiKey, s.apiEmail = env(EnvAPIToken), env(EnvAPIKey), env(EnvAPIEmail)
	}

	hasToken := s.apiToken != ""
	hasKeyScheme := s.apiKey != "" || s.apiEmail != ""
	switch {
	case !hasToken && !hasKeyScheme:
		diags.AddError("Missing Cloudflare Credentials",
			"The mtls provider needs credentials for exactly one authentication scheme:\n"+
				"  - an API token: api_token, or the "+EnvAPIToken+" environment variable (preferred); or\n"+
				"  - a global API key: api_key and api_email, or "+EnvAPIKey+" and "+EnvAPIEmail+".\n"+
				"None of them is set.")
	case hasToken && hasKeyScheme:
		diags.AddError("Conflicting Cloudflare Credentials",
			fmt.Sprintf("Both an API token and a global API key/email are set in %s. Use exactly one scheme: "+
				"remove api_token/%s, or api_key and api_email/%s and %s.", source, EnvAPIToken, EnvAPIKey, EnvAPIEmail))
	case !hasToken && (s.apiKey == "" || s.apiEmail == ""):
		if s.apiKey == "" {
			diags.AddAttributeError(path.Root("api_key"), "Incomplete Cloudflare Credentials",
				"api_email is set but api_key (or "+EnvAPIKey+") is not. A global API key needs both.")
		} else {
			diags.AddAttributeError(path.Root("api_email"), "Incomplete Cloudflare Credentials",
				"api_key is set but api_email (or "+EnvAPIEmail+") is not. A global API key needs both.")
		}
	}
	if s.accountID != "" && !accountIDPattern.MatchString(s.accountID) {
		diags.AddAttributeError(path.Root("account_id"), "Invalid Cloudflare Account ID",
			fmt.Sprintf("The account ID %q (from account_id or %s) must be 32 lowercase hexadecimal characters.", s.accountID, EnvAccountID))
	}
	if s.baseURL != "" {
		if err := cfapi.ValidateBaseURL(s.baseURL); err != nil {
			diags.AddAttributeError(path.Root("base_url"), "Invalid Cloudflare API Base URL",
				fmt.Sprintf("The base URL (from base_url or %s) is not usable: %s.", EnvBaseURL, err))
		}
	}
	return s, diags
}
