package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePrivateKey decodes a PEM private key in PKCS#8, PKCS#1 (RSA) or SEC 1
// (EC) form and returns its public half.
func ParsePrivateKey(text string) (crypto.PublicKey, error) {
	signer, err := parseSigner(text)
	if err != nil {
		return nil, err
	}
	return signer.Public(), nil
}

// SamePrivateKey reports whether a and b hold the same private key, whatever
// their PEM encoding (PKCS#8 or the algorithm's own form), line endings or
// surrounding whitespace. Text that does not parse equals nothing.
func SamePrivateKey(a, b string) bool {
	ka, err := parseSigner(a)
	if err != nil {
		return false
	}
	kb, err := parseSigner(b)
	if err != nil {
		return false
	}
	type equaler interface{ Equal(crypto.PrivateKey) bool }
	eq, ok := ka.(equaler)
	return ok && eq.Equal(kb)
}

func parseSigner(text string) (crypto.Signer, error) {
	block, rest := pem.Decode(normalizeLines(text))
	if block == nil {
		return nil, errors.New("no PEM data found; expected a block such as \"-----BEGIN PRIVATE KEY-----\"")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("found data after the private key; pass exactly one key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "CERTIFICATE":
		return nil, errors.New("found a CERTIFICATE block; the certificate belongs in certificates, and its private key here")
	default:
		return nil, fmt.Errorf("found a %q PEM block; expected a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
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
