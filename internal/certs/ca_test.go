package certs

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestCASignatureAccepted reads certificates that openssl signed, and some
// made in Go, and checks each against Cloudflare's list for CAs.
func TestCASignatureAccepted(t *testing.T) {
	parse := func(text string) *x509.Certificate {
		t.Helper()
		parsed, err := ParseCertificates(text)
		if err != nil {
			t.Fatal(err)
		}
		return parsed[0]
	}
	cases := []struct {
		name      string
		cert      *x509.Certificate
		algorithm string // as crypto/x509 names it, so the input is what the case says
		accepted  bool
	}{
		{"openssl Ed25519 CA", parse(fixtures.Read("ed25519-ca-cert.pem")), "Ed25519", false},
		{"openssl RSA-PSS CA", parse(fixtures.Read("rsa-pss-ca-cert.pem")), "SHA256-RSAPSS", false},
		{"openssl ECDSA P-256 CA", parse(fixtures.Read("ca-cert.pem")), "ECDSA-SHA256", true},
		{"openssl RSA CA", parse(fixtures.Read("ca2-cert.pem")), "SHA256-RSA", true},
		{"openssl ECDSA P-384 key (openssl signs with SHA-256)", parse(fixtures.Read("ec-p384-ecparam-cert.pem")), "ECDSA-SHA256", true},
		{"Go Ed25519 CA", testcerts.New(testcerts.Options{IsCA: true, Key: testcerts.Ed25519Key()}).X509, "Ed25519", false},
		{"Go RSA-PSS CA", testcerts.New(testcerts.Options{IsCA: true, Key: testcerts.RSAKey(2048), SignatureAlgorithm: x509.SHA384WithRSAPSS}).X509, "SHA384-RSAPSS", false},
		{"Go RSA SHA-512 CA", testcerts.New(testcerts.Options{IsCA: true, Key: testcerts.RSAKey(2048), SignatureAlgorithm: x509.SHA512WithRSA}).X509, "SHA512-RSA", true},
	}
	for _, tc := range cases {
		if got := tc.cert.SignatureAlgorithm.String(); got != tc.algorithm {
			t.Errorf("%s: signed with %s, want %s", tc.name, got, tc.algorithm)
		}
		if got := CASignatureAccepted(tc.cert); got != tc.accepted {
			t.Errorf("%s: CASignatureAccepted = %t, want %t", tc.name, got, tc.accepted)
		}
	}
	if got := strings.Join(CASignatureNames(), ", "); got != "SHA1WithRSA, SHA256WithRSA, SHA384WithRSA, SHA512WithRSA, "+
		"ECDSAWithSHA1, ECDSAWithSHA256, ECDSAWithSHA384, ECDSAWithSHA512" {
		t.Errorf("CASignatureNames = %s", got)
	}
}
