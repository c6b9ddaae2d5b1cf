package certs

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
)

// Info describes the first certificate of a PEM bundle: what the resource
// shows at plan time and what the certificate_info function returns.
type Info struct {
	Subject           string
	Issuer            string
	SerialNumber      string // decimal, as Cloudflare reports it
	NotBefore         time.Time
	NotAfter          time.Time
	IsCA              bool // BasicConstraints says CA
	DNSNames          []string
	FingerprintSHA256 string // lowercase hex of the SHA-256 of the DER
	KeyAlgorithm      string // e.g. "RSA-2048", "ECDSA-P-256", "Ed25519"
	CertificateCount  int    // certificates in the whole bundle
}

// Describe parses every certificate in text and describes the first one.
func Describe(text string) (Info, error) {
	parsed, err := ParseCertificates(text)
	if err != nil {
		return Info{}, err
	}
	return DescribeParsed(parsed), nil
}

// DescribeParsed describes the first of parsed certificates, which must not
// be empty.
func DescribeParsed(parsed []*x509.Certificate) Info {
	first := parsed[0]
	sum := sha256.Sum256(first.Raw)
	dns := append([]string{}, first.DNSNames...)
	return Info{
		Subject:           first.Subject.String(),
		Issuer:            first.Issuer.String(),
		SerialNumber:      first.SerialNumber.String(),
		NotBefore:         first.NotBefore.UTC(),
		NotAfter:          first.NotAfter.UTC(),
		IsCA:              first.BasicConstraintsValid && first.IsCA,
		DNSNames:          dns,
		FingerprintSHA256: hex.EncodeToString(sum[:]),
		KeyAlgorithm:      keyAlgorithm(first),
		CertificateCount:  len(parsed),
	}
}

func keyAlgorithm(c *x509.Certificate) string {
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", pub.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + pub.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return c.PublicKeyAlgorithm.String()
	}
}

// DaysLeft is the number of whole days from now until the certificate's
// NotAfter; after it, minus the whole days since.
func (i Info) DaysLeft(now time.Time) int {
	return int(i.NotAfter.Sub(now) / (24 * time.Hour))
}
