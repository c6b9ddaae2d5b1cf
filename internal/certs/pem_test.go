package certs

import (
	"slices"
	"strings"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
)

func testCertPEM(t *testing.T, cn string) string {
	t.Helper()
	certPEM, _, _ := certAndKey(t, cn)
	return certPEM
}

func TestSameCertificates(t *testing.T) {
	a := testCertPEM(t, "a")
	b := testCertPEM(t, "b")
	bundle := a + b
	crlf := strings.ReplaceAll(bundle, "\n", "\r\n")

	cases := []struct {
		name string
		x, y string
		want bool
	}{
		{"identical", a, a, true},
		{"trailing newline removed", a, strings.TrimSpace(a), true},
		{"crlf bundle", bundle, crlf, true},
		{"blank line between blocks", bundle, a + "\n\n" + b, true},
		{"indented heredoc", bundle, "  " + strings.TrimSpace(a) + "\n" + b, true},
		{"different certificate", a, b, false},
		{"order matters", a + b, b + a, false},
		{"subset", bundle, a, false},
		{"garbage never equal", "nope", "nope", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := SameCertificates(tc.x, tc.y); got != tc.want {
				t.Fatalf("SameCertificates = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecodeCertificateDERRejects(t *testing.T) {
	a := testCertPEM(t, "a")
	cases := map[string]struct {
		text string
		want string
	}{
		"empty":          {" \r\n ", "the text is empty"},
		"not pem":        {"hello", "no PEM data"},
		"public key":     {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", `"PUBLIC KEY"`},
		"key after cert": {a + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", `"PRIVATE KEY"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeCertificateDER(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeCertificateDERIgnoresTextOutsideBlocks(t *testing.T) {
	a, _, _ := certAndKey(t, "a")
	b, _, _ := certAndKey(t, "b")
	for name, text := range map[string]string{
		"before the first": "Certificate:\n    Data:\n        Version: 3 (0x2)\n" + a,
		"between blocks":   a + "subject=CN = b\n" + b,
		"after the last":   a + b + "-- end of bundle --\n",
		"whitespace":       "\n  \r\n" + a + "\n\n" + b,
	} {
		ders, err := DecodeCertificateDER(text)
		if err != nil || len(ders) != strings.Count(text, "-----BEGIN") {
			t.Errorf("%s: %d certificates, error %v", name, len(ders), err)
		}
		if got, err := CanonicalCertificates(text); err != nil || strings.Contains(got, "Data:") || strings.Contains(got, "subject=") ||
			strings.Contains(got, "end of bundle") {
			t.Errorf("%s: canonical text %q (error %v) keeps what is outside the blocks", name, got, err)
		}
	}
}

func TestDecodeCertificateDERRejectsWhatIsInsideABlock(t *testing.T) {
	a, _, _ := certAndKey(t, "a")
	b, _, _ := certAndKey(t, "b")
	lines := strings.Split(strings.TrimSpace(a), "\n")
	inside := strings.Join(append(append(slices.Clone(lines[:2]), "Serial Number: 01"), lines[2:]...), "\n")
	for name, text := range map[string]string{
		"text inside the first":  inside + "\n" + b,
		"text inside the second": b + inside + "\n",
		"no END line":            strings.Join(lines[:len(lines)-1], "\n") + "\n" + b,
		"a line cut short":       strings.Replace(a, lines[1], lines[1][:10], 1),
		"a line without a colon": strings.Replace(a, lines[1], "Not Before (Dec 1)\n"+lines[1], 1),
	} {
		if _, err := DecodeCertificateDER(text); err == nil || !strings.Contains(err.Error(), "is not valid PEM") {
			t.Errorf("%s: error %v, want a block that is not valid PEM", name, err)
		}
	}
}

func TestCanonicalCertificates(t *testing.T) {
	plain := fixtures.Read("ca-bundle.pem")
	for _, text := range []string{
		plain,
		"\uFEFF" + plain,
		strings.ReplaceAll(plain, "\n", "\r\n"),
		"  " + strings.ReplaceAll(strings.TrimSpace(plain), "\n", "\n  "),
	} {
		got, err := CanonicalCertificates(text)
		if err != nil {
			t.Fatalf("CanonicalCertificates: %v", err)
		}
		// openssl writes the same layout as encoding/pem.
		if got != plain {
			t.Errorf("CanonicalCertificates(%q) = %q, want the file as openssl wrote it", text, got)
		}
	}
	if _, err := CanonicalCertificates("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"); err == nil {
		t.Error("a public key gave no error")
	}
}

func TestSameCertificatesAs(t *testing.T) {
	bundle := fixtures.Read("ca-bundle.pem")
	parsed, err := ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	first := fixtures.Read("ca-cert.pem")
	for text, want := range map[string]bool{
		bundle:                                   true,
		strings.ReplaceAll(bundle, "\n", "\r\n"): true,
		"\uFEFF" + bundle:                        true,
		first:                                    false, // one of the two
		first + first:                            false, // two, not these
		fixtures.Read("ca2-cert.pem") + first:    false, // these, in another order
		"not PEM":                                false,
	} {
		if got := SameCertificatesAs(parsed, text); got != want {
			t.Errorf("SameCertificatesAs(bundle, %.40q) = %t, want %t", text, got, want)
		}
	}
	if SameCertificatesAs(nil, "") {
		t.Error("nothing parsed equals the empty text")
	}
}
