// Package certs holds the provider's understanding of PEM certificates and
// keys. It has no Terraform imports: the provider glue converts framework
// values to plain strings before calling it.
package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// DecodeCertificateDER returns the DER bytes of every CERTIFICATE block in
// text, in order. Text outside the blocks is ignored, as openssl and CA
// portals write a human-readable description around them (`openssl x509
// -text`, `openssl ca -out`); what is inside a block must be PEM, and every
// block a certificate, because the API accepts certificates only.
func DecodeCertificateDER(text string) ([][]byte, error) {
	if strings.TrimSpace(strings.TrimPrefix(text, byteOrderMark)) == "" {
		return nil, errors.New("the text is empty")
	}
	rest := normalizeLines(text)
	var ders [][]byte
	for {
		begin := bytes.Index(rest, []byte("-----BEGIN "))
		if begin < 0 {
			break
		}
		rest = rest[begin:]
		var block *pem.Block
		var after []byte
		block, after = pem.Decode(rest)
		// pem.Decode skips a block it cannot read and returns the next one:
		// a block must end where the next BEGIN could start.
		if block == nil || bytes.Count(rest[:len(rest)-len(after)], []byte("-----BEGIN ")) != 1 {
			return nil, fmt.Errorf("PEM block %d is not valid PEM: check that nothing was added inside it, between its BEGIN and END lines, and that no line of it is missing", len(ders)+1)
		}
		if block.Type != "CERTIFICATE" {
			return nil, &UnexpectedBlockError{Type: block.Type, Index: len(ders) + 1}
		}
		// "Name: value" lines after BEGIN read as headers, which a
		// certificate block never has: text pasted inside it.
		for name := range block.Headers {
			return nil, fmt.Errorf("PEM block %d is not valid PEM: it holds a line %q inside it, which a certificate block never has", len(ders)+1, name+": ...")
		}
		ders = append(ders, block.Bytes)
		rest = after
	}
	if len(ders) == 0 {
		return nil, errors.New("no PEM data found")
	}
	return ders, nil
}

// CanonicalCertificates re-encodes the certificates of text as
// encoding/pem writes them (LF line endings, 64 columns, nothing around the
// blocks), so that what a configuration adds, a byte-order mark, CRLF or
// indentation, never reaches the API.
func CanonicalCertificates(text string) (string, error) {
	ders, err := DecodeCertificateDER(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	for _, der := range ders {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	return b.String(), nil
}

// UnexpectedBlockError is a PEM block other than CERTIFICATE where only
// certificates belong.
type UnexpectedBlockError struct {
	Type  string
	Index int // 1-based position of the block in the text
}

func (e *UnexpectedBlockError) Error() string {
	return fmt.Sprintf("PEM block %d is a %q block where only CERTIFICATE blocks are allowed%s", e.Index, e.Type, e.hint())
}

// hint names the usual mix-up behind each kind of wrong block.
func (e *UnexpectedBlockError) hint() string {
	switch {
	case e.Type == "PUBLIC KEY" || e.Type == "RSA PUBLIC KEY":
		return "; this is a public key (for example tls_private_key.x.public_key_pem), pass the certificate instead (for example tls_self_signed_cert.x.cert_pem or tls_locally_signed_cert.x.cert_pem)"
	case strings.Contains(e.Type, "PRIVATE KEY"):
		return "; this is a private key, which belongs in private_key, not in certificates"
	case strings.Contains(e.Type, "CERTIFICATE REQUEST"):
		return "; this is a certificate signing request (CSR), pass the certificate issued for it instead"
	default:
		return ""
	}
}

// ParseCertificates decodes and parses every certificate in text.
func ParseCertificates(text string) ([]*x509.Certificate, error) {
	ders, err := DecodeCertificateDER(text)
	if err != nil {
		return nil, err
	}
	parsed := make([]*x509.Certificate, 0, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d of %d does not parse: %w", i+1, len(ders), err)
		}
		parsed = append(parsed, c)
	}
	return parsed, nil
}

// SameCertificates reports whether a and b hold the same sequence of
// certificates, whatever their line endings, wrapping or surrounding
// whitespace. Text that does not decode is never equal to anything, so a
// server answer we cannot read shows up as a difference instead of being
// silently accepted.
func SameCertificates(a, b string) bool {
	da, err := DecodeCertificateDER(a)
	if err != nil {
		return false
	}
	db, err := DecodeCertificateDER(b)
	if err != nil {
		return false
	}
	if len(da) != len(db) {
		return false
	}
	for i := range da {
		if !bytes.Equal(da[i], db[i]) {
			return false
		}
	}
	return true
}

// byteOrderMark is what some Windows editors write at the start of a UTF-8
// file; it is not part of the PEM.
const byteOrderMark = "\uFEFF"

// SameCertificatesAs reports whether text holds the certificates already
// parsed, in the same order: one decode of text, and no parse.
func SameCertificatesAs(parsed []*x509.Certificate, text string) bool {
	ders, err := DecodeCertificateDER(text)
	if err != nil || len(ders) != len(parsed) || len(parsed) == 0 {
		return false
	}
	for i := range ders {
		if !bytes.Equal(ders[i], parsed[i].Raw) {
			return false
		}
	}
	return true
}

// normalizeLines strips the whitespace that text passes through on its way
// from a configuration (CRLF line endings, heredoc indentation, blank lines)
// and a leading byte-order mark, so that decoding sees only what PEM defines.
func normalizeLines(text string) []byte {
	text = strings.TrimPrefix(text, byteOrderMark)
	var b bytes.Buffer
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
