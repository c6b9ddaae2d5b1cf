package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// fuzzMaterial is real PEM text for the seeds: certificates and keys of
// every algorithm the package names, generated once per test binary. The
// committed corpus under testdata/fuzz holds the malformed inputs.
type fuzzMaterial struct {
	certs []string // one self-signed certificate per algorithm, then a leaf signed by the first
	keys  []string // private keys in every encoding parseSigner accepts
}

var fuzzSeeds = sync.OnceValues(func() (fuzzMaterial, error) {
	var m fuzzMaterial
	ecKey, rsaKey := testcerts.ECDSAKey(elliptic.P256()), testcerts.RSAKey(2048)
	var roots []*testcerts.Certificate
	for _, key := range []crypto.Signer{ecKey, rsaKey, testcerts.Ed25519Key()} {
		root := testcerts.New(testcerts.Options{Subject: pkix.Name{CommonName: "fuzz root", Organization: []string{"Example"}}, IsCA: true, Key: key})
		roots = append(roots, root)
		m.certs = append(m.certs, root.PEM)
		m.keys = append(m.keys, root.KeyPEM)
	}
	m.certs = append(m.certs, roots[0].Issue("leaf.example").PEM)
	encode := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		return m, err
	}
	m.keys = append(m.keys, encode("EC PRIVATE KEY", sec1), encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)))
	// A well-formed PKCS#8 key that cannot sign, which parseSigner refuses;
	// it is no certificate's key, so testcerts does not make it.
	xKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return m, err
	}
	x8, err := x509.MarshalPKCS8PrivateKey(xKey)
	if err != nil {
		return m, err
	}
	m.keys = append(m.keys, encode("PRIVATE KEY", x8))
	return m, nil
})

// addCertificateSeeds adds real certificates alone, as a chain, and in the
// shapes a configuration gives them (CRLF, heredoc indentation, no final
// newline).
func addCertificateSeeds(f *testing.F) {
	f.Helper()
	m, err := fuzzSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range m.certs {
		f.Add(c)
	}
	chain := m.certs[3] + m.certs[0]
	f.Add(chain)
	f.Add(strings.ReplaceAll(chain, "\n", "\r\n"))
	f.Add("    " + strings.ReplaceAll(strings.TrimSpace(chain), "\n", "\n    "))
	f.Add(m.certs[0] + "\n\n" + m.keys[0])
	f.Add(m.certs[1][:len(m.certs[1])/2])
	addFixtureSeeds(f)
}

// addFixtureSeeds adds every file openssl wrote in internal/fixtures: keys,
// certificates, a CSR and EC PARAMETERS, some with a byte-order mark or CRLF.
func addFixtureSeeds(f *testing.F) {
	f.Helper()
	for _, name := range fixtures.Names() {
		f.Add(fixtures.Read(name))
	}
}

// reencode writes DER blocks back as PEM.
func reencode(ders [][]byte) string {
	var b strings.Builder
	for _, der := range ders {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	return b.String()
}

func FuzzDecodeCertificateDER(f *testing.F) {
	addCertificateSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		ders, err := DecodeCertificateDER(text)
		same := SameCertificates(text, text)
		if err != nil {
			if same {
				t.Fatalf("text that does not decode (%v) equals itself", err)
			}
			return
		}
		if len(ders) == 0 {
			t.Fatal("decoded without error into no certificates")
		}
		if !same {
			t.Fatal("text that decodes does not equal itself")
		}
		again, err := DecodeCertificateDER(reencode(ders))
		if err != nil {
			t.Fatalf("re-encoded blocks do not decode: %v", err)
		}
		if len(again) != len(ders) {
			t.Fatalf("re-encoding turned %d blocks into %d", len(ders), len(again))
		}
		for i := range ders {
			if !bytes.Equal(ders[i], again[i]) {
				t.Fatalf("block %d changed on re-encoding", i+1)
			}
		}
		if !SameCertificates(text, reencode(ders)) {
			t.Fatal("text differs from its own re-encoding")
		}
	})
}

func FuzzParseCertificates(f *testing.F) {
	addCertificateSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		parsed, err := ParseCertificates(text)
		ders, derErr := DecodeCertificateDER(text)
		if err != nil {
			if len(parsed) != 0 {
				t.Fatalf("error %v came with %d certificates", err, len(parsed))
			}
			return
		}
		if derErr != nil || len(parsed) == 0 || len(parsed) != len(ders) {
			t.Fatalf("parsed %d certificates from text that decodes into %d blocks (%v)", len(parsed), len(ders), derErr)
		}
		for i, c := range parsed {
			if !bytes.Equal(c.Raw, ders[i]) {
				t.Fatalf("certificate %d is not its own block", i+1)
			}
		}
		if !SameCertificates(text, reencode(ders)) {
			t.Fatal("text differs from its own re-encoding")
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	m, err := fuzzSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range m.keys {
		f.Add(k)
		f.Add(strings.ReplaceAll(k, "\n", "\r\n"))
	}
	f.Add(m.keys[0] + m.keys[1])
	f.Add(m.certs[0])
	addFixtureSeeds(f)
	f.Add(fixtures.Read("ec-p256-explicit-params.pem") + fixtures.Read("ec-p384-ecparam-key.pem"))
	f.Add(fixtures.Read("ec-p256-ecparam-key.pem") + fixtures.Read("ec-p384-ecparam-key.pem"))
	f.Fuzz(func(t *testing.T, text string) {
		pub, err := ParsePrivateKey(text)
		if same := SamePrivateKey(text, text); same != (err == nil) {
			t.Fatalf("SamePrivateKey(x, x) = %t, but ParsePrivateKey error = %v", same, err)
		}
		if err == nil && pub == nil {
			t.Fatal("a key parsed without a public half")
		}
		block, blockErr := KeyBlock(text)
		if (blockErr == nil) != (err == nil) || errors.Is(blockErr, ErrEncryptedKey) != errors.Is(err, ErrEncryptedKey) {
			t.Fatalf("KeyBlock error %v disagrees with ParsePrivateKey error %v", blockErr, err)
		}
		if err == nil {
			if again, err := KeyBlock(block); err != nil || again != block {
				t.Fatalf("KeyBlock of its own output = %q, %v", again, err)
			}
			if !SamePrivateKey(text, block) {
				t.Fatal("KeyBlock's output is another key")
			}
		}
		if KeyMatchesFirstCertificate(text, text) == nil {
			t.Fatal("one text was accepted as both a key and its certificate")
		}
	})
}

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func FuzzDescribe(f *testing.F) {
	addCertificateSeeds(f)
	now := time.Now()
	f.Fuzz(func(t *testing.T, text string) {
		info, err := Describe(text)
		if err != nil {
			return
		}
		if info.CertificateCount < 1 {
			t.Fatalf("described %d certificates", info.CertificateCount)
		}
		if !fingerprintPattern.MatchString(info.FingerprintSHA256) {
			t.Fatalf("fingerprint %q is not 64 lowercase hex digits", info.FingerprintSHA256)
		}
		if info.KeyAlgorithm == "" || info.SerialNumber == "" {
			t.Fatalf("described without a key algorithm or serial: %+v", info)
		}
		_ = info.DaysLeft(now)
	})
}
