package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

// The tables below name every fixture; TestEveryFixtureIsTested keeps it so.

// keyFixtures are the unencrypted keys openssl wrote, each with the
// certificate made from it.
var keyFixtures = []struct {
	key, cert    string
	blockType    string // the type of the key block, which KeyBlock keeps
	ecParameters bool   // the file holds an EC PARAMETERS block too
}{
	{"rsa-pkcs1-key.pem", "rsa-pkcs1-cert.pem", "RSA PRIVATE KEY", false},
	{"rsa-pkcs1-topk8-key.pem", "rsa-pkcs1-cert.pem", "PRIVATE KEY", false},
	{"rsa-genpkey-key.pem", "rsa-genpkey-cert.pem", "PRIVATE KEY", false},
	{"rsa-genrsa-key.pem", "rsa-genrsa-cert.pem", "PRIVATE KEY", false},
	{"ec-p256-ecparam-key.pem", "ec-p256-ecparam-cert.pem", "EC PRIVATE KEY", true},
	{"ec-p256-ecparam-topk8-key.pem", "ec-p256-ecparam-cert.pem", "PRIVATE KEY", false},
	{"ec-p256-noout-key.pem", "ec-p256-noout-cert.pem", "EC PRIVATE KEY", false},
	{"ec-p256-genpkey-key.pem", "ec-p256-genpkey-cert.pem", "PRIVATE KEY", false},
	{"ec-p384-ecparam-key.pem", "ec-p384-ecparam-cert.pem", "EC PRIVATE KEY", true},
	{"ed25519-key.pem", "ed25519-cert.pem", "PRIVATE KEY", false},
	{"ed25519-ca-key.pem", "ed25519-ca-cert.pem", "PRIVATE KEY", false},
	{"rsa-pss-ca-key.pem", "rsa-pss-ca-cert.pem", "PRIVATE KEY", false},
	{"ca-key.pem", "ca-cert.pem", "PRIVATE KEY", false},
	{"ca2-key.pem", "ca2-cert.pem", "PRIVATE KEY", false},
	{"leaf-key.pem", "leaf-cert.pem", "PRIVATE KEY", false},
	{"leaf-bom-key.pem", "leaf-bom-cert.pem", "PRIVATE KEY", false},
	{"leaf-bom-crlf-key.pem", "leaf-bom-crlf-cert.pem", "PRIVATE KEY", false},
	{"leaf-crlf-key.pem", "leaf-crlf-cert.pem", "PRIVATE KEY", false},
}

// encryptedKeyFixtures are passphrase-protected keys and the certificate of
// the key each was encrypted from.
var encryptedKeyFixtures = []struct{ key, cert, blockType string }{
	{"rsa-genpkey-encrypted-key.pem", "rsa-genpkey-cert.pem", "ENCRYPTED PRIVATE KEY"},
	{"rsa-pkcs1-encrypted-key.pem", "rsa-pkcs1-cert.pem", "RSA PRIVATE KEY"},
	{"ec-p256-ecparam-encrypted-key.pem", "ec-p256-ecparam-cert.pem", "EC PRIVATE KEY"},
}

// sameKeyFixtures are groups of files holding one key in different forms.
var sameKeyFixtures = [][]string{
	{"rsa-pkcs1-key.pem", "rsa-pkcs1-topk8-key.pem"},
	{"ec-p256-ecparam-key.pem", "ec-p256-ecparam-topk8-key.pem"},
	{"leaf-key.pem", "leaf-bom-key.pem", "leaf-bom-crlf-key.pem", "leaf-crlf-key.pem"},
}

// sameCertificateFixtures are groups of files holding the same
// certificates, as text around them or line endings differ.
var sameCertificateFixtures = [][]string{
	{"leaf-cert.pem", "leaf-bom-cert.pem", "leaf-bom-crlf-cert.pem", "leaf-crlf-cert.pem"},
	{"ca-cert.pem", "ca-cert-text.pem"},
	{"ca-bundle.pem", "ca-bundle-print-certs.pem"},
}

// otherFixtures are tested one by one below.
var otherFixtures = []string{"ca-bundle.pem", "leaf-csr.pem", "ec-p256-explicit-params.pem"}

func TestEveryFixtureIsTested(t *testing.T) {
	tested := slices.Clone(otherFixtures)
	for _, tc := range keyFixtures {
		tested = append(tested, tc.key, tc.cert)
	}
	for _, tc := range encryptedKeyFixtures {
		tested = append(tested, tc.key, tc.cert)
	}
	for _, group := range append(slices.Clone(sameKeyFixtures), sameCertificateFixtures...) {
		tested = append(tested, group...)
	}
	for _, name := range fixtures.Names() {
		if !slices.Contains(tested, name) {
			t.Errorf("fixture %s is in no table of fixtures_test.go", name)
		}
	}
}

// pemBlocks decodes every block of text, after any byte-order mark, with
// encoding/pem alone: the text must be PEM blocks and nothing else.
func pemBlocks(t *testing.T, text string) []*pem.Block {
	t.Helper()
	var blocks []*pem.Block
	rest := []byte(strings.TrimPrefix(text, "\uFEFF"))
	for len(bytes.TrimSpace(rest)) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			t.Fatalf("text after block %d is not PEM: %.40q", len(blocks), rest)
		}
		blocks = append(blocks, block)
	}
	return blocks
}

func blockTypes(blocks []*pem.Block) []string {
	var types []string
	for _, b := range blocks {
		types = append(types, b.Type)
	}
	return types
}

func TestFixtureKeysMatchTheirCertificates(t *testing.T) {
	for _, tc := range keyFixtures {
		t.Run(tc.key, func(t *testing.T) {
			key, cert := fixtures.Read(tc.key), fixtures.Read(tc.cert)
			// The file must be what the case says, or the checks prove little.
			types := blockTypes(pemBlocks(t, key))
			if want := tc.blockType; !slices.Contains(types, want) || slices.Contains(types, "EC PARAMETERS") != tc.ecParameters {
				t.Fatalf("fixture blocks = %q, want %s with EC PARAMETERS %t", types, want, tc.ecParameters)
			}
			if err := KeyMatchesFirstCertificate(key, cert); err != nil {
				t.Fatalf("key does not match its certificate: %v", err)
			}
			other := "leaf-cert.pem"
			if strings.HasPrefix(tc.key, "leaf") {
				other = "ca-cert.pem"
			}
			if err := KeyMatchesFirstCertificate(key, fixtures.Read(other)); err == nil || !strings.Contains(err.Error(), "does not match") {
				t.Fatalf("key against %s: error = %v, want a mismatch", other, err)
			}

			block, err := KeyBlock(key)
			if err != nil {
				t.Fatalf("KeyBlock: %v", err)
			}
			blocks := pemBlocks(t, block)
			if len(blocks) != 1 || blocks[0].Type != tc.blockType || len(blocks[0].Headers) != 0 {
				t.Fatalf("KeyBlock gave %q, want one %s block without headers", block, tc.blockType)
			}
			if strings.ContainsAny(block, "\r\uFEFF") || !strings.HasPrefix(block, "-----BEGIN ") {
				t.Fatalf("KeyBlock kept a CR or byte-order mark: %.40q", block)
			}
			if err := KeyMatchesFirstCertificate(block, cert); err != nil {
				t.Fatalf("KeyBlock's output does not match the certificate: %v", err)
			}
			if !SamePrivateKey(block, key) {
				t.Fatal("KeyBlock's output is not the same key")
			}
			if again, err := KeyBlock(block); err != nil || again != block {
				t.Fatalf("KeyBlock of its own output = %q, %v; want it unchanged", again, err)
			}
		})
	}
}

func TestFixtureKeysInOtherForms(t *testing.T) {
	for _, group := range sameKeyFixtures {
		for _, name := range group[1:] {
			if !SamePrivateKey(fixtures.Read(group[0]), fixtures.Read(name)) {
				t.Errorf("%s and %s should hold the same key", group[0], name)
			}
		}
	}
	for _, pair := range [][2]string{
		{"rsa-pkcs1-key.pem", "rsa-genpkey-key.pem"},
		{"ec-p256-ecparam-key.pem", "ec-p256-noout-key.pem"},
		{"leaf-bom-key.pem", "ca-key.pem"},
	} {
		if SamePrivateKey(fixtures.Read(pair[0]), fixtures.Read(pair[1])) {
			t.Errorf("%s and %s are different keys, reported the same", pair[0], pair[1])
		}
	}
}

func TestFixtureCertificatesInOtherForms(t *testing.T) {
	for _, group := range sameCertificateFixtures {
		for _, name := range group[1:] {
			if !SameCertificates(fixtures.Read(group[0]), fixtures.Read(name)) {
				t.Errorf("%s and %s should hold the same certificate", group[0], name)
			}
		}
	}
	if SameCertificates(fixtures.Read("leaf-bom-cert.pem"), fixtures.Read("ca-cert.pem")) {
		t.Error("the leaf and the CA reported the same certificate")
	}
}

// The BOM and CRLF fixtures must hold what their names say, or the tests
// above would pass on plain files.
func TestFixtureLineEndingsAndByteOrderMarks(t *testing.T) {
	for _, name := range fixtures.Names() {
		text := fixtures.Read(name)
		bom := strings.HasPrefix(text, "\xEF\xBB\xBF")
		crlf := strings.Contains(text, "\r\n") && !strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n")
		if want := strings.Contains(name, "-bom"); bom != want {
			t.Errorf("%s: starts with a byte-order mark = %t, want %t", name, bom, want)
		}
		if want := strings.Contains(name, "-crlf"); crlf != want {
			t.Errorf("%s: CRLF line endings throughout = %t, want %t", name, crlf, want)
		}
	}
}

func TestFixtureEncryptedKeys(t *testing.T) {
	const command = "openssl pkey -in key.pem -out key-plain.pem"
	for _, tc := range encryptedKeyFixtures {
		t.Run(tc.key, func(t *testing.T) {
			key := fixtures.Read(tc.key)
			blocks := pemBlocks(t, key)
			legacy := tc.blockType != "ENCRYPTED PRIVATE KEY"
			if len(blocks) != 1 || blocks[0].Type != tc.blockType || (blocks[0].Headers["Proc-Type"] == "4,ENCRYPTED") != legacy {
				t.Fatalf("fixture is %.120q; want one %s block, Proc-Type header %t", key, tc.blockType, legacy)
			}
			crlf := strings.ReplaceAll(key, "\n", "\r\n")
			withParameters := pemText(t, "ec-p256-ecparam-key.pem", "EC PARAMETERS") + key
			for name, text := range map[string]string{"as written": key, "crlf": crlf, "after EC PARAMETERS": withParameters} {
				_, err := ParsePrivateKey(text)
				if !errors.Is(err, ErrEncryptedKey) || !strings.Contains(err.Error(), command) || !strings.Contains(err.Error(), "passphrase-protected") {
					t.Errorf("%s: ParsePrivateKey error = %v, want ErrEncryptedKey showing %q", name, err, command)
				}
				if _, err := KeyBlock(text); !errors.Is(err, ErrEncryptedKey) {
					t.Errorf("%s: KeyBlock error = %v, want ErrEncryptedKey", name, err)
				}
			}
			if err := KeyMatchesFirstCertificate(key, fixtures.Read(tc.cert)); !errors.Is(err, ErrEncryptedKey) {
				t.Errorf("KeyMatchesFirstCertificate error = %v, want ErrEncryptedKey", err)
			}
			if SamePrivateKey(key, key) {
				t.Error("an encrypted key, which cannot be read, equals itself")
			}
		})
	}
}

func TestPEMHeadersOnTheKeyBlock(t *testing.T) {
	block := pemBlocks(t, fixtures.Read("leaf-key.pem"))[0]
	block.Headers = map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}
	if _, err := ParsePrivateKey(string(pem.EncodeToMemory(block))); !errors.Is(err, ErrEncryptedKey) {
		t.Errorf("PRIVATE KEY with Proc-Type 4,ENCRYPTED: error = %v, want ErrEncryptedKey", err)
	}
	block.Headers = map[string]string{"Comment": "not encrypted"}
	got, err := KeyBlock(string(pem.EncodeToMemory(block)))
	if err != nil {
		t.Fatalf("PRIVATE KEY with a comment header: %v", err)
	}
	if strings.Contains(got, "Comment") || !SamePrivateKey(got, fixtures.Read("leaf-key.pem")) {
		t.Errorf("KeyBlock kept the header or lost the key: %q", got)
	}
}

// pemText is the first block of the given type in a fixture, as PEM.
func pemText(t *testing.T, name, blockType string) string {
	t.Helper()
	for _, b := range pemBlocks(t, fixtures.Read(name)) {
		if b.Type == blockType {
			return string(pem.EncodeToMemory(b))
		}
	}
	t.Fatalf("%s holds no %s block", name, blockType)
	return ""
}

func TestECParametersBesideTheKey(t *testing.T) {
	p256 := pemText(t, "ec-p256-ecparam-key.pem", "EC PARAMETERS")
	p384 := pemText(t, "ec-p384-ecparam-key.pem", "EC PARAMETERS")
	explicit := fixtures.Read("ec-p256-explicit-params.pem")
	sec1 := fixtures.Read("ec-p256-noout-key.pem")
	secp256k1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}}))

	accepted := map[string]string{
		"parameters after the key":  sec1 + p256,
		"two parameters blocks":     p256 + p256 + sec1,
		"explicit parameters":       explicit + sec1,
		"parameters and PKCS#8 key": p256 + fixtures.Read("ec-p256-genpkey-key.pem"),
	}
	for name, text := range accepted {
		block, err := KeyBlock(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if blocks := pemBlocks(t, block); len(blocks) != 1 || blocks[0].Type == "EC PARAMETERS" {
			t.Errorf("%s: KeyBlock gave %q, want the key block alone", name, blockTypes(blocks))
		}
		if !SamePrivateKey(block, text) {
			t.Errorf("%s: KeyBlock's output is not the same key", name)
		}
	}

	for name, tc := range map[string]struct {
		text, parametersCurve, key string
	}{
		"P-384 parameters, P-256 key":   {p384 + sec1, "P-384 (secp384r1)", "a P-256 key"},
		"after the key":                 {sec1 + p384, "P-384 (secp384r1)", "a P-256 key"},
		"one of two blocks wrong":       {p256 + p384 + sec1, "P-384 (secp384r1)", "a P-256 key"},
		"P-256 parameters, P-384 key":   {p256 + fixtures.Read("ec-p384-ecparam-key.pem"), "P-256 (prime256v1)", "a P-384 key"},
		"curve Go does not know":        {secp256k1 + sec1, "1.3.132.0.10", "a P-256 key"},
		"EC parameters, RSA key":        {p256 + fixtures.Read("rsa-pkcs1-key.pem"), "P-256 (prime256v1)", "an RSA key"},
		"EC parameters, Ed25519 key":    {p256 + fixtures.Read("ed25519-key.pem"), "P-256 (prime256v1)", "an Ed25519 key"},
		"CRLF, P-384 params, P-256 key": {strings.ReplaceAll(p384+sec1, "\n", "\r\n"), "P-384 (secp384r1)", "a P-256 key"},
	} {
		_, err := ParsePrivateKey(tc.text)
		var mismatch *CurveMismatchError
		if !errors.As(err, &mismatch) || mismatch.ParametersCurve != tc.parametersCurve || mismatch.Key != tc.key {
			t.Errorf("%s: error = %v, want a CurveMismatchError for %s against %s", name, err, tc.parametersCurve, tc.key)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "names curve "+tc.parametersCurve) || !strings.Contains(msg, "the private key is "+tc.key) {
			t.Errorf("%s: message %q does not name both curves", name, msg)
		}
	}
}

func TestKeyTextStillRefusesWhatIsNotTheKey(t *testing.T) {
	p256 := pemText(t, "ec-p256-ecparam-key.pem", "EC PARAMETERS")
	key := fixtures.Read("ec-p256-ecparam-key.pem")
	cert := fixtures.Read("ec-p256-ecparam-cert.pem")
	corrupt := string(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a}}))
	for name, tc := range map[string]struct{ text, want string }{
		"second key":                    {key + fixtures.Read("leaf-key.pem"), `found data after the private key (a "PRIVATE KEY" block); pass exactly one key`},
		"certificate after":             {key + cert, `found data after the private key (a "CERTIFICATE" block)`},
		"text after":                    {key + "subject=CN = x\n", "found data after the private key; pass exactly one key"},
		"text after trailing params":    {key + p256 + "junk", "found data after the private key; pass exactly one key"},
		"text between":                  {p256 + "junk\n" + fixtures.Read("ec-p256-noout-key.pem"), "found data after the EC PARAMETERS block; pass exactly one key"},
		"parameters alone":              {p256, "found only EC PARAMETERS"},
		"certificate after params":      {p256 + cert, "belongs in certificates"},
		"corrupt parameters":            {corrupt + fixtures.Read("ec-p256-noout-key.pem"), "EC PARAMETERS block does not parse"},
		"byte-order mark after the key": {fixtures.Read("leaf-key.pem") + "\uFEFF", "found data after the private key"},
		"csr":                           {fixtures.Read("leaf-csr.pem"), `found a "CERTIFICATE REQUEST" PEM block; expected a private key`},
	} {
		_, err := KeyBlock(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want it to contain %q", name, err, tc.want)
		}
		if _, perr := ParsePrivateKey(tc.text); perr == nil || err == nil || perr.Error() != err.Error() {
			t.Errorf("%s: ParsePrivateKey error %v differs from KeyBlock's %v", name, perr, err)
		}
	}
}

// Text before the first block has always been skipped (pem.Decode does), so
// `openssl rsa -text` output keeps working; KeyBlock drops it.
func TestKeyBlockDropsTextBeforeTheKey(t *testing.T) {
	key := fixtures.Read("rsa-pkcs1-key.pem")
	block, err := KeyBlock("Private-Key: (2048 bit, 2 primes)\nmodulus:\n    00:c3\n" + key)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(pem.EncodeToMemory(pemBlocks(t, key)[0])); block != want {
		t.Errorf("KeyBlock = %q, want the key block alone %q", block, want)
	}
}

func TestByteOrderMarkOutsideBlocks(t *testing.T) {
	const bom = "\uFEFF"
	cert := fixtures.Read("leaf-cert.pem")
	if _, err := ParsePrivateKey(bom + strings.ReplaceAll(fixtures.Read("ec-p256-ecparam-key.pem"), "\n", "\r\n")); err != nil {
		t.Errorf("EC PARAMETERS and key after a byte-order mark, CRLF: %v", err)
	}
	// Outside a block, a byte-order mark is text like any other.
	for name, text := range map[string]string{
		"at the start":    bom + cert,
		"after a newline": "\n" + bom + cert,
		"two marks":       bom + bom + cert,
		"between blocks":  cert + bom + cert,
		"at the end":      cert + bom,
	} {
		if ders, err := DecodeCertificateDER(text); err != nil || len(ders) != strings.Count(text, "BEGIN") {
			t.Errorf("%s: %d certificates, error %v", name, len(ders), err)
		}
	}
	if _, err := DecodeCertificateDER(bom + "\r\n"); err == nil || !strings.Contains(err.Error(), "the text is empty") {
		t.Errorf("a mark alone: error %v, want the text is empty", err)
	}
}

func TestFixtureCABundle(t *testing.T) {
	bundle := fixtures.Read("ca-bundle.pem")
	parsed, err := ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != 2 {
		t.Fatalf("decoded %d certificates, want 2", len(parsed))
	}
	for i, name := range []string{"ca-cert.pem", "ca2-cert.pem"} {
		if !SameCertificates(reencode([][]byte{parsed[i].Raw}), fixtures.Read(name)) {
			t.Errorf("certificate %d of the bundle is not %s", i+1, name)
		}
		if !parsed[i].IsCA || !parsed[i].BasicConstraintsValid {
			t.Errorf("certificate %d of the bundle is not a CA", i+1)
		}
	}
	if !SameCertificates(bundle, fixtures.Read("ca-cert.pem")+fixtures.Read("ca2-cert.pem")) {
		t.Error("the bundle differs from its two certificates")
	}
	if info, err := Describe(bundle); err != nil || info.CertificateCount != 2 || !info.IsCA {
		t.Errorf("Describe = %+v, %v", info, err)
	}
}

func TestFixtureLeafIsSignedByCA(t *testing.T) {
	leaf, err := ParseCertificates(fixtures.Read("leaf-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCertificates(fixtures.Read("ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf[0].CheckSignatureFrom(ca[0]); err != nil {
		t.Errorf("leaf is not signed by the CA: %v", err)
	}
	if leaf[0].IsCA || !slices.Contains(leaf[0].ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Errorf("leaf: IsCA %t, ExtKeyUsage %v; want a client certificate", leaf[0].IsCA, leaf[0].ExtKeyUsage)
	}
}

func TestFixtureCSRIsNotACertificate(t *testing.T) {
	_, err := DecodeCertificateDER(fixtures.Read("leaf-csr.pem"))
	var unexpected *UnexpectedBlockError
	if !errors.As(err, &unexpected) || unexpected.Type != "CERTIFICATE REQUEST" || !strings.Contains(err.Error(), "certificate signing request") {
		t.Errorf("error = %v, want an UnexpectedBlockError naming the CSR", err)
	}
}
