package certs

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// certAndKey makes a self-signed certificate with its key in two encodings.
func certAndKey(t *testing.T, cn string) (certPEM, pkcs8PEM, sec1PEM string) {
	t.Helper()
	c := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: cn}})
	sec1, err := x509.MarshalECPrivateKey(c.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return c.PEM, c.KeyPEM, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
}

func TestKeyMatchesFirstCertificate(t *testing.T) {
	cert, p8, sec1 := certAndKey(t, "leaf")
	other, otherKey, _ := certAndKey(t, "other")
	if err := KeyMatchesFirstCertificate(p8, cert); err != nil {
		t.Fatalf("PKCS#8 key: %v", err)
	}
	if err := KeyMatchesFirstCertificate(strings.ReplaceAll(sec1, "\n", "\r\n"), cert+other); err != nil {
		t.Fatalf("SEC 1 key with CRLF, bundle: %v", err)
	}
	cases := map[string]struct{ key, certs, want string }{
		"other key":     {otherKey, cert, "does not match the public key of the first certificate"},
		"key of second": {otherKey, cert + other, "does not match"},
		"garbage":       {"nope", cert, "no PEM data found"},
		"certificate":   {cert, cert, "belongs in certificates"},
		"public key":    {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", cert, `"PUBLIC KEY"`},
		"corrupt":       {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", cert, "does not parse"},
		"two keys":      {p8 + otherKey, cert, "data after the private key"},
	}
	for name, tc := range cases {
		if err := KeyMatchesFirstCertificate(tc.key, tc.certs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tc.want)
		}
	}
}

func TestSamePrivateKeyAcrossEncodings(t *testing.T) {
	_, p8, sec1 := certAndKey(t, "a")
	_, other, _ := certAndKey(t, "b")
	if !SamePrivateKey(p8, "  "+strings.ReplaceAll(sec1, "\n", "\r\n")+"\n\n") {
		t.Error("PKCS#8 and SEC 1 forms of one key (CRLF, padded) should be the same key")
	}
	if SamePrivateKey(p8, other) {
		t.Error("two different keys reported as the same")
	}
	if SamePrivateKey("garbage", "garbage") {
		t.Error("text that does not parse must not equal itself")
	}
}
