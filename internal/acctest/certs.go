package acctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// Certificate is a certificate generated for a test, with its key. Keys are
// made fresh for every test run; none is ever committed.
type Certificate struct {
	PEM    string
	KeyPEM string
	cert   *x509.Certificate
	signer crypto.Signer
}

// CertOptions shape a generated certificate.
type CertOptions struct {
	CommonName   string
	Organization string
	NotBefore    time.Time
	NotAfter     time.Time
	IsCA         bool
	DNSNames     []string
}

// NewCA makes a self-signed CA certificate valid for a year.
func NewCA(t *testing.T, commonName string) *Certificate {
	t.Helper()
	return Generate(t, CertOptions{CommonName: commonName, Organization: "tf-mtls tests", IsCA: true}, nil)
}

// ExpiredCA makes a self-signed CA certificate that expired ago before now,
// after three days of validity.
func ExpiredCA(t *testing.T, commonName string, ago time.Duration) *Certificate {
	t.Helper()
	end := time.Now().Add(-ago)
	return Generate(t, CertOptions{CommonName: commonName, IsCA: true, NotBefore: end.Add(-72 * time.Hour), NotAfter: end}, nil)
}

// Issue makes a leaf certificate signed by ca, valid for 90 days.
func (ca *Certificate) Issue(t *testing.T, commonName string) *Certificate {
	t.Helper()
	return Generate(t, CertOptions{CommonName: commonName, DNSNames: []string{commonName}}, ca)
}

// Generate makes a certificate from opts, signed by parent, or self-signed
// when parent is nil.
func Generate(t *testing.T, opts CertOptions, parent *Certificate) *Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	if opts.NotBefore.IsZero() {
		opts.NotBefore = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	if opts.NotAfter.IsZero() {
		days := 90
		if opts.IsCA {
			days = 365
		}
		opts.NotAfter = opts.NotBefore.Add(time.Duration(days) * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.CommonName, Organization: nonEmpty(opts.Organization)},
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		DNSNames:              opts.DNSNames,
		BasicConstraintsValid: true,
		IsCA:                  opts.IsCA,
	}
	if opts.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	}
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Certificate{
		PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		cert:   cert,
		signer: key,
	}
}

// X509 is the parsed certificate.
func (ca *Certificate) X509() *x509.Certificate { return ca.cert }

// Bundle joins certificates the way the API stores them: blocks separated by
// one newline, no trailing newline.
func Bundle(certs ...*Certificate) string {
	parts := make([]string, 0, len(certs))
	for _, c := range certs {
		parts = append(parts, strings.TrimSpace(c.PEM))
	}
	return strings.Join(parts, "\n")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
