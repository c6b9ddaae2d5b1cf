// Package testcerts makes throwaway certificates and keys for tests and the
// demo, so no key is ever committed. It imports only the standard library,
// so every package's tests and the programs under scripts/ can use it.
//
// Only a mistake in Options can make it fail, so it panics rather than
// returning errors, as httptest.NewServer does.
package testcerts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"time"
)

// Certificate is a generated certificate with its key.
type Certificate struct {
	PEM    string // one CERTIFICATE block, ending in a newline
	KeyPEM string // the private key as PKCS #8
	X509   *x509.Certificate
	Key    crypto.Signer
}

// Options shape a certificate; the zero value is a leaf valid from an hour
// ago, signed by its own new ECDSA P-256 key.
type Options struct {
	Subject  pkix.Name
	DNSNames []string
	IsCA     bool
	// Serial is random when nil.
	Serial *big.Int
	// A zero NotBefore is an hour ago; a zero NotAfter is 90 days after
	// NotBefore for a leaf and 365 for a CA.
	NotBefore, NotAfter time.Time
	// Key is the certificate's key; nil makes an ECDSA P-256 key.
	Key crypto.Signer
	// Parent signs the certificate; nil means self-signed.
	Parent *Certificate
	// SignatureAlgorithm is the signer's algorithm, such as
	// x509.SHA256WithRSAPSS for an RSA signer; 0 lets crypto/x509 choose
	// one for the signer's key.
	SignatureAlgorithm x509.SignatureAlgorithm
}

// NewCA makes a self-signed CA certificate valid for a year.
func NewCA(commonName string) *Certificate {
	return New(Options{Subject: pkix.Name{CommonName: commonName, Organization: []string{"tf-mtls tests"}}, IsCA: true})
}

// ExpiredCA makes a self-signed CA certificate that expired ago before now,
// after three days of validity.
func ExpiredCA(commonName string, ago time.Duration) *Certificate {
	end := time.Now().Add(-ago)
	return New(Options{Subject: pkix.Name{CommonName: commonName}, IsCA: true, NotBefore: end.Add(-72 * time.Hour), NotAfter: end})
}

// Issue makes a leaf certificate for commonName, also its DNS name, signed
// by c.
func (c *Certificate) Issue(commonName string) *Certificate {
	return New(Options{Subject: pkix.Name{CommonName: commonName}, DNSNames: []string{commonName}, Parent: c})
}

// New makes a certificate from opts.
func New(opts Options) *Certificate {
	key := opts.Key
	if key == nil {
		key = ECDSAKey(elliptic.P256())
	}
	serial := opts.Serial
	if serial == nil {
		serial = must(rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120)))
	}
	notBefore, notAfter := opts.NotBefore, opts.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	if notAfter.IsZero() {
		days := 90
		if opts.IsCA {
			days = 365
		}
		notAfter = notBefore.Add(time.Duration(days) * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               opts.Subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		DNSNames:              opts.DNSNames,
		BasicConstraintsValid: true,
		IsCA:                  opts.IsCA,
		SignatureAlgorithm:    opts.SignatureAlgorithm,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	if opts.IsCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		tmpl.ExtKeyUsage = nil
	}
	parent, signer := tmpl, key
	if opts.Parent != nil {
		parent, signer = opts.Parent.X509, opts.Parent.Key
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer))
	return &Certificate{
		PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})),
		X509:   must(x509.ParseCertificate(der)),
		Key:    key,
	}
}

// Bundle joins certificates the way the API stores them: blocks separated by
// one newline, no trailing newline.
func Bundle(certs ...*Certificate) string {
	parts := make([]string, 0, len(certs))
	for _, c := range certs {
		parts = append(parts, strings.TrimSpace(c.PEM))
	}
	return strings.Join(parts, "\n")
}

// ECDSAKey makes an ECDSA key on curve, for Options.Key.
func ECDSAKey(curve elliptic.Curve) *ecdsa.PrivateKey {
	return must(ecdsa.GenerateKey(curve, rand.Reader))
}

// RSAKey makes an RSA key of bits, for Options.Key.
func RSAKey(bits int) *rsa.PrivateKey {
	return must(rsa.GenerateKey(rand.Reader, bits))
}

// Ed25519Key makes an Ed25519 key, for Options.Key.
func Ed25519Key() ed25519.PrivateKey {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return must(key, err)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic("testcerts: " + err.Error())
	}
	return v
}
