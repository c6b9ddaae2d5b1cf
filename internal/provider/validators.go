package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
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

// pemCertificatesValidator checks at validate time, before any API call,
// that the text holds only certificates that parse.
type pemCertificatesValidator struct{}

func (pemCertificatesValidator) Description(context.Context) string {
	return "must be PEM text holding one or more CERTIFICATE blocks"
}

func (v pemCertificatesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (pemCertificatesValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := certs.ParseCertificates(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.Append(invalidCertificatesDiag(req.Path, err))
	}
}
