package emulator

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Values of a certificate's `type`. Uploads are always TypeCustom; the others
// are created by Cloudflare services and can only be seeded with
// AddCertificate.
const (
	TypeCustom         = "custom"
	TypeGatewayManaged = "gateway_managed"
	TypeAccessManaged  = "access_managed"
)

func validType(typ string) bool {
	switch typ {
	case TypeCustom, TypeGatewayManaged, TypeAccessManaged:
		return true
	}
	return false
}

// Certificate is the emulator's stored record of one certificate. It is a
// test-side view: it has no JSON tags on purpose, so it can never be sent as
// a response body and leak PrivateKey.
type Certificate struct {
	ID   string
	Name string
	CA   bool
	// Certificates is the PEM text the API returns, shaped by Options.PEMStyle.
	Certificates string
	// UploadedPEM is the PEM text exactly as it was sent.
	UploadedPEM string
	// DER holds each certificate of the bundle, in upload order; duplicates
	// are detected on this sequence, not on text.
	DER          [][]byte
	Issuer       string
	SerialNumber string
	Signature    string
	ExpiresOn    time.Time
	UploadedOn   time.Time
	Type         string
	// PrivateKey is the PEM key as uploaded, kept only so tests can check a
	// client sent it. No response ever includes it.
	PrivateKey string
}

func (c *Certificate) clone() Certificate {
	out := *c
	out.DER = make([][]byte, len(c.DER))
	for i, der := range c.DER {
		out.DER[i] = bytes.Clone(der)
	}
	return out
}

// PEMStyle chooses how the API returns the `certificates` text. Cloudflare
// stores its own rendering of the uploaded PEM; the default makes the
// emulator differ from common inputs too, so clients that compare text
// instead of certificates fail in tests rather than in production.
type PEMStyle int

const (
	// PEMNormalized re-encodes every certificate with "\n" line endings,
	// joins blocks with a single "\n" and drops the trailing newline.
	PEMNormalized PEMStyle = iota
	// PEMAsUploaded returns the text byte for byte as it was uploaded.
	PEMAsUploaded
	// PEMCRLF re-encodes every certificate with "\r\n" line endings and puts
	// a blank line between blocks.
	PEMCRLF
	// PEMRewrapped is PEMNormalized with the base64 body wrapped at 76
	// columns instead of 64, so not even the lines of a block match what
	// encoding/pem (and openssl) write.
	PEMRewrapped
)

var pemStyleNames = [...]string{
	PEMNormalized: "normalized",
	PEMAsUploaded: "as-uploaded",
	PEMCRLF:       "crlf",
	PEMRewrapped:  "rewrapped",
}

// known reports whether p is one of the styles above; the names list is the
// one place a new style has to be registered.
func (p PEMStyle) known() bool {
	return p >= 0 && int(p) < len(pemStyleNames)
}

func (p PEMStyle) String() string {
	if !p.known() {
		return fmt.Sprintf("PEMStyle(%d)", int(p))
	}
	return pemStyleNames[p]
}

// ParsePEMStyle accepts the names String returns.
func ParsePEMStyle(name string) (PEMStyle, error) {
	for i, n := range pemStyleNames {
		if n == name {
			return PEMStyle(i), nil
		}
	}
	return 0, fmt.Errorf("unknown PEM style %q (accepted: %s)", name, strings.Join(pemStyleNames[:], ", "))
}

func renderPEM(ders [][]byte, uploaded string, style PEMStyle) string {
	if style == PEMAsUploaded {
		return uploaded
	}
	if style == PEMRewrapped {
		blocks := make([]string, len(ders))
		for i, der := range ders {
			blocks[i] = encodeCertificate(der, rewrappedWidth)
		}
		return strings.Join(blocks, "\n")
	}
	blocks := make([]string, len(ders))
	for i, der := range ders {
		blocks[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	if style == PEMCRLF {
		for i, b := range blocks {
			blocks[i] = strings.ReplaceAll(b, "\n", "\r\n")
		}
		// Every block already ends with "\r\n", so joining with another
		// one leaves a blank line between blocks.
		return strings.Join(blocks, "\r\n")
	}
	for i, b := range blocks {
		blocks[i] = strings.TrimSuffix(b, "\n")
	}
	return strings.Join(blocks, "\n")
}

// rewrappedWidth is the line length of PEMRewrapped, the MIME width (RFC
// 2045) that some PEM writers use instead of RFC 7468's 64.
const rewrappedWidth = 76

// encodeCertificate writes one CERTIFICATE block with its base64 body
// wrapped at width columns and no newline after the END line. encoding/pem
// cannot do this: its width is fixed at 64.
func encodeCertificate(der []byte, width int) string {
	body := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	for len(body) > width {
		b.WriteString(body[:width])
		b.WriteByte('\n')
		body = body[width:]
	}
	if body != "" {
		b.WriteString(body)
		b.WriteByte('\n')
	}
	b.WriteString("-----END CERTIFICATE-----")
	return b.String()
}

// splitPEM returns the PEM blocks of text. It refuses anything but
// whitespace outside the blocks: whether Cloudflare tolerates openssl's
// "subject=" preambles is unknown, so the emulator takes the strict answer
// and clients that need such input must clean it first.
func splitPEM(text string) ([]*pem.Block, bool) {
	var blocks []*pem.Block
	rest := []byte(text)
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			return blocks, len(blocks) > 0
		}
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, false
		}
		block, next := pem.Decode(rest)
		// pem.Decode silently skips a malformed block and returns the next
		// good one; more than one BEGIN in what it consumed means it did.
		if block == nil || bytes.Count(rest[:len(rest)-len(next)], []byte("-----BEGIN ")) != 1 {
			return nil, false
		}
		blocks = append(blocks, block)
		rest = next
	}
}

func unparsableCertificate() *Error {
	return newError(http.StatusBadRequest, CodeUnparsableCertificate, MessageUnparsableCertificate)
}

// parseCertificates accepts only CERTIFICATE blocks, so a public key or a
// key pasted next to a certificate is refused the way Cloudflare refuses it.
func parseCertificates(text string) ([]*x509.Certificate, *Error) {
	blocks, ok := splitPEM(text)
	if !ok {
		return nil, unparsableCertificate()
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, unparsableCertificate()
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, unparsableCertificate()
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

// parsePrivateKeyPublic returns the public half of a PEM private key in
// PKCS #1, PKCS #8 or SEC 1 form. An "EC PARAMETERS" block, which
// `openssl ecparam -genkey` writes first, is skipped.
func parsePrivateKeyPublic(text string) (crypto.PublicKey, *Error) {
	bad := newError(http.StatusBadRequest, CodeUnparsablePrivateKey,
		"Unable to parse private key: expected an unencrypted PEM private key (PKCS #1, PKCS #8 or SEC 1)")
	blocks, ok := splitPEM(text)
	if !ok {
		return nil, bad
	}
	var keyBlocks []*pem.Block
	for _, b := range blocks {
		if b.Type != "EC PARAMETERS" {
			keyBlocks = append(keyBlocks, b)
		}
	}
	if len(keyBlocks) != 1 {
		return nil, bad
	}
	b := keyBlocks[0]
	isKey := b.Type == "PRIVATE KEY" || strings.HasSuffix(b.Type, " PRIVATE KEY")
	if !isKey || b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, bad
	}
	if _, encrypted := b.Headers["Proc-Type"]; encrypted {
		return nil, bad
	}
	// The block type is not trusted to name the encoding: keys are often
	// relabeled, so every supported encoding is tried.
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k.Public(), nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		if signer, ok := k.(crypto.Signer); ok {
			return signer.Public(), nil
		}
		return nil, bad
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k.Public(), nil
	}
	return nil, bad
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// signatureNames maps Go's algorithm names to the spelling Cloudflare uses
// in `signature`. Anything missing falls back to Go's own name.
var signatureNames = map[x509.SignatureAlgorithm]string{
	x509.SHA256WithRSA:    "SHA256WithRSA",
	x509.SHA384WithRSA:    "SHA384WithRSA",
	x509.SHA512WithRSA:    "SHA512WithRSA",
	x509.ECDSAWithSHA256:  "ECDSAWithSHA256",
	x509.ECDSAWithSHA384:  "ECDSAWithSHA384",
	x509.ECDSAWithSHA512:  "ECDSAWithSHA512",
	x509.PureEd25519:      "Ed25519",
	x509.SHA256WithRSAPSS: "SHA256WithRSAPSS",
}

func signatureName(alg x509.SignatureAlgorithm) string {
	if name, ok := signatureNames[alg]; ok {
		return name
	}
	return alg.String()
}

// Cloudflare writes expiry to the second and upload time to the
// microsecond, always with six fraction digits.
const (
	expiresOnLayout  = "2006-01-02T15:04:05Z"
	uploadedOnLayout = "2006-01-02T15:04:05.000000Z"
)

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newCertificate validates an upload and derives every field the API
// reports. privateKey is nil when the caller sent none.
func (s *Server) newCertificate(name string, ca bool, pemText string, privateKey *string, typ string) (*Certificate, *Error) {
	certs, apiErr := parseCertificates(pemText)
	if apiErr != nil {
		return nil, apiErr
	}
	first := certs[0]
	c := &Certificate{
		Name:         name,
		CA:           ca,
		UploadedPEM:  pemText,
		Issuer:       first.Issuer.String(),
		SerialNumber: first.SerialNumber.String(),
		Signature:    signatureName(first.SignatureAlgorithm),
		ExpiresOn:    first.NotAfter.UTC().Truncate(time.Second),
		Type:         typ,
	}
	for _, cert := range certs {
		c.DER = append(c.DER, cert.Raw)
	}
	if privateKey != nil {
		pub, apiErr := parsePrivateKeyPublic(*privateKey)
		if apiErr != nil {
			return nil, apiErr
		}
		if !publicKeysEqual(pub, first.PublicKey) {
			return nil, newError(http.StatusBadRequest, CodeKeyMismatch,
				"The private key does not match the public key of the first certificate")
		}
		c.PrivateKey = *privateKey
	}
	c.Certificates = renderPEM(c.DER, pemText, s.opts.PEMStyle)
	c.ID = newUUID()
	c.UploadedOn = s.opts.Now().UTC().Truncate(time.Microsecond)
	return c, nil
}
