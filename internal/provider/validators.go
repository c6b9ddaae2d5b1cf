package provider

import (
	"context"
	"fmt"
	"time"

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
