package certs

import (
	"crypto/x509"
	"slices"
)

// caSignature is a signature algorithm with the name Cloudflare gives it,
// as in the API's `signature` field.
type caSignature struct {
	algorithm x509.SignatureAlgorithm
	name      string
}

// cloudflareCASignatures are the signature algorithms Cloudflare's docs
// require of a CA certificate. How the API enforces the list is not
// documented.
var cloudflareCASignatures = []caSignature{
	{x509.SHA1WithRSA, "SHA1WithRSA"},
	{x509.SHA256WithRSA, "SHA256WithRSA"},
	{x509.SHA384WithRSA, "SHA384WithRSA"},
	{x509.SHA512WithRSA, "SHA512WithRSA"},
	{x509.ECDSAWithSHA1, "ECDSAWithSHA1"},
	{x509.ECDSAWithSHA256, "ECDSAWithSHA256"},
	{x509.ECDSAWithSHA384, "ECDSAWithSHA384"},
	{x509.ECDSAWithSHA512, "ECDSAWithSHA512"},
}

// CASignatureAccepted reports whether c is signed with an algorithm that
// Cloudflare's docs accept for a CA certificate.
func CASignatureAccepted(c *x509.Certificate) bool {
	return slices.ContainsFunc(cloudflareCASignatures, func(s caSignature) bool { return s.algorithm == c.SignatureAlgorithm })
}

// CASignatureNames are the algorithms CASignatureAccepted accepts, as
// Cloudflare names them.
func CASignatureNames() []string {
	names := make([]string, 0, len(cloudflareCASignatures))
	for _, s := range cloudflareCASignatures {
		names = append(names, s.name)
	}
	return names
}
