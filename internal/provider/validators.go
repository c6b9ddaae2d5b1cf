package provider

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/tf-mtls/terraform-provider-mtls/internal/cfapi"
)

// baseURLValidator rejects plain-http API URLs to anything but loopback at
// validate time, so credentials are never sent in clear over a network.
type baseURLValidator struct{}

func (baseURLValidator) Description(context.Context) string {
	return "must be an https:// URL, or http:// for a loopback host"
}

func (v baseURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (baseURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := cfapi.ValidateBaseURL(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Cloudflare API Base URL", err.Error()+".")
	}
}

// positiveDuration refuses a timeout of zero or less, which the timeouts
// package accepts: the operation would end before its first request.
type positiveDuration struct{ def time.Duration }

func (positiveDuration) Description(context.Context) string {
	return "must be a duration greater than zero"
}

func (v positiveDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v positiveDuration) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	// Text that does not parse is the timeouts package's own validator's to report.
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d > 0 {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid Timeout", fmt.Sprintf(
		"%s is %q: a timeout must be greater than zero, or the operation would stop before it sent its first "+
			"request. Set a positive duration such as \"5m\", or remove %s to use the default of %s.",
		req.Path, req.ConfigValue.ValueString(), req.Path, v.def))
}

// timeoutDescription describes a timeout attribute: what it bounds, the
// rule positiveDuration enforces and the default.
func timeoutDescription(bounds string, def time.Duration) string {
	return fmt.Sprintf("How long %s may take, waits for the rate limit included: a duration such as "+
		"`\"30s\"` or `\"2h45m\"` (units `s`, `m`, `h`), greater than zero. Defaults to `%s`.", bounds, def)
}

// hostnameValidator checks each hostname of mtls_hostname_association at
// plan, and names the value and what is wrong with it.
type hostnameValidator struct{}

func (hostnameValidator) Description(context.Context) string {
	return `must be a lowercase DNS name such as "api.example.com" or "*.example.com", without a scheme, port, path or spaces`
}

func (v hostnameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (hostnameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	h := req.ConfigValue.ValueString()
	if problem := hostnameProblem(h); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Hostname", fmt.Sprintf(
			"%q is not a hostname Cloudflare can associate with a certificate: it %s. Write a lowercase DNS name such "+
				"as \"api.example.com\", or a wildcard such as \"*.example.com\", without a scheme, port, path or spaces.", h, problem))
	}
}

// hostnameProblem says what keeps h from being a lowercase DNS name of two
// labels or more, with an optional "*." in front, or returns "".
func hostnameProblem(h string) string {
	switch {
	case h == "":
		return "is empty"
	case strings.Contains(h, "://"):
		return "has a scheme (" + h[:strings.Index(h, "://")+3] + ")"
	case strings.ContainsFunc(h, unicode.IsSpace):
		return "contains spaces"
	case strings.Contains(h, "/"):
		return "has a path"
	case strings.Contains(h, ":"):
		return "has a port"
	case strings.ToLower(h) != h:
		return fmt.Sprintf("has uppercase letters (write %q)", strings.ToLower(h))
	case len(h) > 253:
		return "is longer than 253 characters"
	}
	labels := strings.Split(strings.TrimPrefix(h, "*."), ".")
	if len(labels) < 2 {
		return "has a single label; a hostname has a dot, as in \"api.example.com\""
	}
	for _, l := range labels {
		switch {
		case l == "":
			return "has an empty label (two dots in a row, or a dot at either end)"
		case strings.Contains(l, "*"):
			return "has a \"*\" that is not the whole first label (a wildcard is written \"*.example.com\")"
		case len(l) > 63:
			return fmt.Sprintf("has a label longer than 63 characters (%.20s...)", l)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf("has a label that starts or ends with a hyphen (%q)", l)
		case strings.ContainsFunc(l, func(c rune) bool { return (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' }):
			return fmt.Sprintf("has a character other than a-z, 0-9, \"-\" and \".\" (in %q)", l)
		}
	}
	return ""
}
