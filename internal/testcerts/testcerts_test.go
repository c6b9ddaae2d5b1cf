package testcerts

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

// The defaults the acceptance tests rely on: a leaf that chains to its CA,
// keys that match, and validity windows on the right side of now.
func TestDefaults(t *testing.T) {
	ca := NewCA("root")
	leaf := ca.Issue("leaf.example")
	pool := x509.NewCertPool()
	pool.AddCert(ca.X509)
	if _, err := leaf.X509.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.example", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("leaf does not verify against its CA: %v", err)
	}
	if !ca.X509.IsCA || leaf.X509.IsCA || !ca.X509.NotAfter.After(time.Now().Add(364*24*time.Hour)) {
		t.Errorf("CA flags or validity: ca %v leaf %v, CA until %v", ca.X509.IsCA, leaf.X509.IsCA, ca.X509.NotAfter)
	}
	block, _ := pem.Decode([]byte(leaf.KeyPEM))
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || !key.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(leaf.X509.PublicKey) {
		t.Errorf("KeyPEM does not match the certificate: %v", err)
	}
	if expired := ExpiredCA("old", time.Hour); !expired.X509.NotAfter.Before(time.Now().Add(-59 * time.Minute)) {
		t.Errorf("ExpiredCA ends %v", expired.X509.NotAfter)
	}
	if got := Bundle(leaf, ca); got != strings.TrimSpace(leaf.PEM)+"\n"+strings.TrimSpace(ca.PEM) {
		t.Errorf("Bundle = %q", got)
	}
}

func TestKeyAlgorithms(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want x509.PublicKeyAlgorithm
	}{
		"RSA":                 {Options{Key: RSAKey(2048)}, x509.RSA},
		"Ed25519":             {Options{Key: Ed25519Key()}, x509.Ed25519},
		"ECDSA signed by RSA": {Options{Parent: New(Options{Key: RSAKey(2048), IsCA: true})}, x509.ECDSA},
	} {
		if got := New(tc.opts).X509.PublicKeyAlgorithm; got != tc.want {
			t.Errorf("%s: key algorithm %v, want %v", name, got, tc.want)
		}
	}
}

func TestSignatureAlgorithm(t *testing.T) {
	for name, tc := range map[string]struct {
		opts Options
		want x509.SignatureAlgorithm
	}{
		"ECDSA P-256 by default": {Options{}, x509.ECDSAWithSHA256},
		"RSA":                    {Options{Key: RSAKey(2048)}, x509.SHA256WithRSA},
		"RSA-PSS when asked":     {Options{Key: RSAKey(2048), SignatureAlgorithm: x509.SHA256WithRSAPSS}, x509.SHA256WithRSAPSS},
		"Ed25519":                {Options{Key: Ed25519Key()}, x509.PureEd25519},
	} {
		if got := New(tc.opts).X509.SignatureAlgorithm; got != tc.want {
			t.Errorf("%s: signature algorithm %v, want %v", name, got, tc.want)
		}
	}
}
