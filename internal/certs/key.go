package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrEncryptedKey is a passphrase-protected private key: the API takes the
// key in the clear, and only its owner can decrypt it.
var ErrEncryptedKey = errors.New(`the private key is passphrase-protected; decrypt it first with "openssl pkey -in key.pem -out key-plain.pem" (openssl asks for the passphrase) and pass the decrypted key`)

// CurveMismatchError is an EC PARAMETERS block naming a curve other than the
// private key's, a sign that the two blocks come from different keys.
type CurveMismatchError struct {
	ParametersCurve string // e.g. "P-384 (secp384r1)", or the OID when Go does not know it
	Key             string // e.g. "a P-256 key", "an RSA key"
}

func (e *CurveMismatchError) Error() string {
	return fmt.Sprintf("the EC PARAMETERS block names curve %s, but the private key is %s; pass the key's own EC PARAMETERS, or the key block alone", e.ParametersCurve, e.Key)
}

// ParsePrivateKey decodes a PEM private key in PKCS#8, PKCS#1 (RSA) or SEC 1
// (EC) form and returns its public half. EC PARAMETERS blocks beside the key,
// as openssl ecparam -genkey writes them, are checked and skipped.
func ParsePrivateKey(text string) (crypto.PublicKey, error) {
	_, signer, err := decodeKey(text)
	if err != nil {
		return nil, err
	}
	return signer.Public(), nil
}

// KeyBlock returns the private key block of text alone, re-encoded as PEM
// with LF line endings: what the API should be sent, without the EC
// PARAMETERS blocks, byte-order mark or PEM headers that may surround it.
func KeyBlock(text string) (string, error) {
	block, _, err := decodeKey(text)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})), nil
}

// SamePrivateKey reports whether a and b hold the same private key, whatever
// their PEM encoding (PKCS#8 or the algorithm's own form), line endings or
// surrounding whitespace. Text that does not parse equals nothing.
func SamePrivateKey(a, b string) bool {
	_, ka, err := decodeKey(a)
	if err != nil {
		return false
	}
	_, kb, err := decodeKey(b)
	if err != nil {
		return false
	}
	type equaler interface{ Equal(crypto.PrivateKey) bool }
	eq, ok := ka.(equaler)
	return ok && eq.Equal(kb)
}

// decodeKey finds the one private key block in text and parses it.
func decodeKey(text string) (*pem.Block, crypto.Signer, error) {
	rest := normalizeLines(text)
	var key *pem.Block
	var params [][]byte
	for first := true; len(rest) > 0; first = false {
		// pem.Decode skips text before a block. Before the first block
		// that has always been accepted; after it, the text is beside the key.
		if !first && !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, nil, dataAfterError(key, "")
		}
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if first {
				break
			}
			return nil, nil, dataAfterError(key, "")
		}
		if block.Type == "EC PARAMETERS" {
			params = append(params, block.Bytes)
			continue
		}
		if key != nil {
			return nil, nil, dataAfterError(key, block.Type)
		}
		switch block.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if isEncrypted(block) {
				return nil, nil, ErrEncryptedKey
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, ErrEncryptedKey
		case "CERTIFICATE":
			return nil, nil, errors.New("found a CERTIFICATE block; the certificate belongs in certificates, and its private key here")
		default:
			return nil, nil, fmt.Errorf("found a %q PEM block; expected a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
		}
		key = block
	}
	if key == nil {
		if len(params) > 0 {
			return nil, nil, errors.New("found only EC PARAMETERS, which name a curve but hold no key; pass the EC PRIVATE KEY block too")
		}
		return nil, nil, errors.New("no PEM data found; expected a block such as \"-----BEGIN PRIVATE KEY-----\"")
	}
	signer, err := parseKeyBlock(key)
	if err != nil {
		return nil, nil, err
	}
	for _, der := range params {
		if err := checkECParameters(der, signer); err != nil {
			return nil, nil, err
		}
	}
	return key, signer, nil
}

// dataAfterError names what follows the key, or the EC PARAMETERS when no
// key has come yet; blockType is empty for text that is not PEM.
func dataAfterError(key *pem.Block, blockType string) error {
	after := "the private key"
	if key == nil {
		after = "the EC PARAMETERS block"
	}
	if blockType != "" {
		return fmt.Errorf("found data after %s (a %q block); pass exactly one key", after, blockType)
	}
	return fmt.Errorf("found data after %s; pass exactly one key", after)
}

// isEncrypted reads the legacy OpenSSL header (RFC 1421) that marks an
// encrypted key; x509.IsEncryptedPEMBlock is deprecated.
func isEncrypted(block *pem.Block) bool {
	procType, ok := block.Headers["Proc-Type"]
	if !ok {
		return false
	}
	for field := range strings.SplitSeq(procType, ",") {
		if strings.EqualFold(strings.TrimSpace(field), "ENCRYPTED") {
			return true
		}
	}
	return false
}

func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("the %s block does not parse: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return signer, nil
}

// curveOIDs are the named curves (RFC 5480) of the curves Go implements.
var curveOIDs = map[string]asn1.ObjectIdentifier{
	"P-224": {1, 3, 132, 0, 33},
	"P-256": {1, 2, 840, 10045, 3, 1, 7},
	"P-384": {1, 3, 132, 0, 34},
	"P-521": {1, 3, 132, 0, 35},
}

// opensslCurveNames are the names openssl ecparam -name takes, which users
// know the curves by.
var opensslCurveNames = map[string]string{
	"P-224": "secp224r1", "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1",
}

// checkECParameters refuses parameters that name a curve other than the
// key's. Explicit or implicit parameters name none and are skipped.
func checkECParameters(der []byte, signer crypto.Signer) error {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(der, &oid); err != nil || len(rest) > 0 {
		var raw asn1.RawValue
		if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) > 0 {
			return errors.New("the EC PARAMETERS block does not parse as ASN.1; pass the key block alone")
		}
		return nil
	}
	if ec, ok := signer.(*ecdsa.PrivateKey); ok && curveOIDs[ec.Curve.Params().Name].Equal(oid) {
		return nil
	}
	return &CurveMismatchError{ParametersCurve: curveName(oid), Key: keyDescription(signer)}
}

func curveName(oid asn1.ObjectIdentifier) string {
	for name, known := range curveOIDs {
		if known.Equal(oid) {
			return fmt.Sprintf("%s (%s)", name, opensslCurveNames[name])
		}
	}
	return oid.String()
}

func keyDescription(signer crypto.Signer) string {
	switch k := signer.(type) {
	case *ecdsa.PrivateKey:
		return "a " + k.Curve.Params().Name + " key"
	case *rsa.PrivateKey:
		return "an RSA key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	default:
		return fmt.Sprintf("a %T key", signer)
	}
}

// KeyMatchesFirstCertificate reports, as an error, whether keyText is not
// the private key of the first certificate in certificatesText.
func KeyMatchesFirstCertificate(keyText, certificatesText string) error {
	pub, err := ParsePrivateKey(keyText)
	if err != nil {
		return err
	}
	parsed, err := ParseCertificates(certificatesText)
	if err != nil {
		return err
	}
	return KeyMatchesCertificate(pub, parsed[0])
}

// KeyMatchesCertificate reports, as an error, whether pub (the public half
// of a private key, from ParsePrivateKey) is not the public key of c.
func KeyMatchesCertificate(pub crypto.PublicKey, c *x509.Certificate) error {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	certPub, ok := c.PublicKey.(equaler)
	if !ok || !certPub.Equal(pub) {
		return fmt.Errorf("the private key does not match the public key of the first certificate (subject %q)", c.Subject.String())
	}
	return nil
}
