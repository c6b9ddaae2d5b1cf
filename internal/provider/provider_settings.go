package provider

import (
	"fmt"
	"strings"
	"unicode"

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

// credential is one of the provider's credential arguments.
type credential struct {
	attribute, env string
	// title names it in a diagnostic summary; noun in its detail.
	title, noun string
}

var credentials = []credential{
	{"api_token", EnvAPIToken, "Cloudflare API Token", "API token"},
	{"api_key", EnvAPIKey, "Cloudflare API Key", "global API key"},
	{"api_email", EnvAPIEmail, "Cloudflare Account Email", "email of the account that owns api_key"},
}

func (c credential) value(cfg providerModel) types.String {
	switch c.attribute {
	case "api_token":
		return cfg.APIToken
	case "api_key":
		return cfg.APIKey
	default:
		return cfg.APIEmail
	}
}

// flawEmpty is credentialFlaw's answer for "".
const flawEmpty = "is empty"

// credentialFlaw says, without quoting v, why no credential can be v. An
// inner space passes: a header carries it, trimspace() would not remove it,
// and Cloudflare's 4XX refusal, never retried, says so at once.
func credentialFlaw(v string) string {
	if v == "" {
		return flawEmpty
	}
	if trimmed := strings.TrimRightFunc(v, unicode.IsSpace); trimmed != v {
		return "ends with " + describeSpace(v[len(trimmed):])
	}
	if trimmed := strings.TrimLeftFunc(v, unicode.IsSpace); trimmed != v {
		return "starts with " + describeSpace(v[:len(v)-len(trimmed)])
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains a control character (%U)", r)
		}
	}
	return ""
}

// describeSpace names a run of whitespace by its kind.
func describeSpace(run string) string {
	switch {
	case strings.ContainsAny(run, "\r\n"):
		return "a line break"
	case strings.Trim(run, " ") == "":
		return "a space"
	case strings.Trim(run, "\t") == "":
		return "a tab"
	default:
		return "whitespace"
	}
}

// configCredentialDiags refuses the credentials of the provider block that
// are known and empty or flawed. Null and unknown values pass.
func configCredentialDiags(cfg providerModel) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, c := range credentials {
		v := c.value(cfg)
		if v.IsNull() || v.IsUnknown() {
			continue
		}
		if flaw := credentialFlaw(v.ValueString()); flaw != "" {
			diags.Append(credentialDiag(c, "", flaw))
		}
	}
	return diags
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
	fromConfig := isSet(cfg.APIToken) || isSet(cfg.APIKey) || isSet(cfg.APIEmail)
	if fromConfig {
		source = "the provider configuration"
		s.apiToken, s.apiKey, s.apiEmail = cfg.APIToken.ValueString(), cfg.APIKey.ValueString(), cfg.APIEmail.ValueString()
	} else {
		s.apiToken, s.apiKey, s.apiEmail = env(EnvAPIToken), env(EnvAPIKey), env(EnvAPIEmail)
	}
	// Values unknown at validation, and the environment's, are checked here,
	// before any client exists. An empty variable counts as unset.
	diags.Append(configCredentialDiags(cfg)...)
	if !fromConfig {
		for _, c := range credentials {
			if v := env(c.env); v != "" {
				if flaw := credentialFlaw(v); flaw != "" {
					diags.Append(credentialDiag(c, c.env, flaw))
				}
			}
		}
	}
	if diags.HasError() {
		return s, diags
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
