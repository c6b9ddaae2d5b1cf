package certs

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

func TestDescribeFirstCertificateOfBundle(t *testing.T) {
	leaf, _, _ := certAndKey(t, "leaf.example")
	ca, _, _ := certAndKey(t, "other.example")
	info, err := Describe("\r\n" + strings.ReplaceAll(leaf, "\n", "\r\n") + "\n\n" + ca)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(leaf))
	sum := sha256.Sum256(block.Bytes)
	parsed, _ := x509.ParseCertificate(block.Bytes)
	if info.FingerprintSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("fingerprint = %s, want %x", info.FingerprintSHA256, sum)
	}
	if info.Subject != "CN=leaf.example" || info.Issuer != "CN=leaf.example" {
		t.Errorf("subject/issuer = %q/%q", info.Subject, info.Issuer)
	}
	if info.SerialNumber != parsed.SerialNumber.String() {
		t.Errorf("serial = %s, want %s", info.SerialNumber, parsed.SerialNumber)
	}
	if info.CertificateCount != 2 || info.KeyAlgorithm != "ECDSA-P-256" || info.IsCA {
		t.Errorf("count/key/ca = %d/%s/%v", info.CertificateCount, info.KeyAlgorithm, info.IsCA)
	}
	if !info.NotAfter.Equal(parsed.NotAfter) || info.NotAfter.Location() != time.UTC {
		t.Errorf("not_after = %v, want %v in UTC", info.NotAfter, parsed.NotAfter)
	}
}

func TestDescribeKeyAlgorithmsAndCA(t *testing.T) {
	for name, tc := range map[string]struct {
		key  crypto.Signer
		want string
	}{
		"rsa":     {testcerts.RSAKey(2048), "RSA-2048"},
		"ed25519": {testcerts.Ed25519Key(), "Ed25519"},
	} {
		c := testcerts.New(testcerts.Options{
			Subject: pkix.Name{CommonName: "ca", Organization: []string{"Example"}}, Serial: big.NewInt(7),
			IsCA: true, DNSNames: []string{"a.example", "b.example"}, Key: tc.key,
		})
		info, err := Describe(c.PEM)
		if err != nil {
			t.Fatal(err)
		}
		if info.KeyAlgorithm != tc.want || !info.IsCA || strings.Join(info.DNSNames, ",") != "a.example,b.example" ||
			info.Subject != "CN=ca,O=Example" || info.SerialNumber != "7" {
			t.Errorf("%s: got %+v", name, info)
		}
	}
}

func TestDescribeRejectsBadInput(t *testing.T) {
	if _, err := Describe("not a certificate"); err == nil || !strings.Contains(err.Error(), "no PEM data") {
		t.Errorf("err = %v", err)
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{36 * time.Hour, 1}, {24 * time.Hour, 1}, {time.Hour, 0}, {-time.Hour, 0}, {-24 * time.Hour, -1}, {-49 * time.Hour, -2}} {
		if got := (Info{NotAfter: now.Add(tc.after)}).DaysLeft(now); got != tc.want {
			t.Errorf("DaysLeft(%v) = %d, want %d", tc.after, got, tc.want)
		}
	}
}
