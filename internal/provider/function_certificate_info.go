package provider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

var (
	_ provider.ProviderWithFunctions = (*mtlsProvider)(nil)
	_ function.Function              = (*certificateInfoFunction)(nil)
)

// Functions lists the provider-defined functions. They run without the
// provider's configuration, so they work before (or without) credentials.
func (p *mtlsProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{
		newCertificateInfoFunction,
	}
}

// certificateInfoErrorPrefix starts every error of certificate_info on bad
// input, so users and tests can rely on it.
const certificateInfoErrorPrefix = "Invalid certificate PEM: "

// certificateInfoFunction is provider::mtls::certificate_info(pem): the
// details of the first certificate of a bundle, read with certs.Describe.
type certificateInfoFunction struct{}

func newCertificateInfoFunction() function.Function { return &certificateInfoFunction{} }

// certificateInfoResult is the returned object. Its tfsdk tags must match
// certificateInfoAttributeTypes.
type certificateInfoResult struct {
	Subject           string   `tfsdk:"subject"`
	Issuer            string   `tfsdk:"issuer"`
	SerialNumber      string   `tfsdk:"serial_number"`
	NotBefore         string   `tfsdk:"not_before"`
	NotAfter          string   `tfsdk:"not_after"`
	IsCA              bool     `tfsdk:"is_ca"`
	DNSNames          []string `tfsdk:"dns_names"`
	FingerprintSHA256 string   `tfsdk:"fingerprint_sha256"`
	KeyAlgorithm      string   `tfsdk:"key_algorithm"`
	CertificateCount  int64    `tfsdk:"certificate_count"`
}

var certificateInfoAttributeTypes = map[string]attr.Type{
	"subject":            types.StringType,
	"issuer":             types.StringType,
	"serial_number":      types.StringType,
	"not_before":         types.StringType,
	"not_after":          types.StringType,
	"is_ca":              types.BoolType,
	"dns_names":          types.ListType{ElemType: types.StringType},
	"fingerprint_sha256": types.StringType,
	"key_algorithm":      types.StringType,
	"certificate_count":  types.Int64Type,
}

func (f *certificateInfoFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "certificate_info"
}

func (f *certificateInfoFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Describe the first certificate of a PEM bundle",
		Description: "Returns an object describing the first certificate of a PEM bundle: subject, issuer, " +
			"serial_number (decimal), not_before and not_after (RFC 3339, UTC), is_ca, dns_names (an empty list " +
			"when there are none), fingerprint_sha256 (lowercase hexadecimal SHA-256 of the DER encoding), " +
			"key_algorithm (for example RSA-2048, ECDSA-P-256 or Ed25519) and certificate_count, the number of " +
			"certificates in the whole bundle. Its PEM blocks must all be CERTIFICATE blocks that parse; text " +
			"outside them (such as the description openssl x509 -text writes) is ignored, and anything else (a " +
			"public key, a private key, a CSR, text inside a block) is an error. " +
			"The function sends no request to Cloudflare.",
		MarkdownDescription: "Returns an object describing the first certificate of a PEM bundle:\n\n" +
			"- `subject` (String) Subject distinguished name, e.g. `CN=client.example.com,O=Example`.\n" +
			"- `issuer` (String) Issuer distinguished name.\n" +
			"- `serial_number` (String) Serial number in decimal, as Cloudflare reports it.\n" +
			"- `not_before` (String) Start of validity, RFC 3339 in UTC.\n" +
			"- `not_after` (String) End of validity, RFC 3339 in UTC.\n" +
			"- `is_ca` (Boolean) Whether the basic constraints mark the certificate as a CA.\n" +
			"- `dns_names` (List of String) DNS subject alternative names; an empty list when there are none.\n" +
			"- `fingerprint_sha256` (String) Lowercase hexadecimal SHA-256 of the certificate's DER encoding.\n" +
			"- `key_algorithm` (String) Public key algorithm and size, e.g. `RSA-2048`, `ECDSA-P-256` or `Ed25519`.\n" +
			"- `certificate_count` (Number) Number of certificates in the whole bundle.\n\n" +
			"Its PEM blocks must all be `CERTIFICATE` blocks that parse; text outside them (such as the description " +
			"`openssl x509 -text` writes) is ignored. Anything else (a public key, a private key, a CSR, text inside " +
			"a block, no block at all) is an error that starts with " +
			"`" + strings.TrimSpace(certificateInfoErrorPrefix) + "`. The function sends no request to Cloudflare.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name: "pem",
				Description: "PEM text holding one or more CERTIFICATE blocks, for example " +
					"tls_self_signed_cert.x.cert_pem or file(\"bundle.pem\").",
				MarkdownDescription: "PEM text holding one or more `CERTIFICATE` blocks, for example " +
					"`tls_self_signed_cert.x.cert_pem` or `file(\"bundle.pem\")`.",
			},
		},
		Return: function.ObjectReturn{AttributeTypes: certificateInfoAttributeTypes},
	}
}

func (f *certificateInfoFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	// The parameter disallows null and unknown values: Terraform rejects a
	// null argument and skips the call while the argument is unknown.
	var text string
	resp.Error = req.Arguments.Get(ctx, &text)
	if resp.Error != nil {
		return
	}

	info, err := certs.Describe(text)
	if err != nil {
		// No final period: Terraform and OpenTofu end the message with one.
		resp.Error = function.NewArgumentFuncError(0, certificateInfoErrorPrefix+err.Error()+
			". Expected one or more PEM CERTIFICATE blocks (-----BEGIN CERTIFICATE-----)")
		return
	}

	resp.Error = resp.Result.Set(ctx, certificateInfoResult{
		Subject:           info.Subject,
		Issuer:            info.Issuer,
		SerialNumber:      info.SerialNumber,
		NotBefore:         info.NotBefore.Format(time.RFC3339),
		NotAfter:          info.NotAfter.Format(time.RFC3339),
		IsCA:              info.IsCA,
		DNSNames:          info.DNSNames,
		FingerprintSHA256: info.FingerprintSHA256,
		KeyAlgorithm:      info.KeyAlgorithm,
		CertificateCount:  int64(info.CertificateCount),
	})
}
