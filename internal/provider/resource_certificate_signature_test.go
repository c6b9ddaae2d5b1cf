package provider_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"testing"

	"github.com/tf-mtls/terraform-provider-mtls/internal/acctest"
	"github.com/tf-mtls/terraform-provider-mtls/internal/fixtures"
	"github.com/tf-mtls/terraform-provider-mtls/internal/testcerts"
)

// TestAccCertificate_caSignatureAlgorithmWarns: Cloudflare's docs require a
// CA signed with RSA (PKCS #1 v1.5) or ECDSA, with SHA-1 or SHA-2. A CA
// signed otherwise, here Ed25519 and RSA-PSS, made in Go and by openssl,
// is a plan warning naming the algorithm; the accepted ones give none, and
// neither does a leaf (ca = false).
func TestAccCertificate_caSignatureAlgorithmWarns(t *testing.T) {
	t.Parallel()
	accepted := "SHA1WithRSA, SHA256WithRSA, SHA384WithRSA, SHA512WithRSA, ECDSAWithSHA1, ECDSAWithSHA256, ECDSAWithSHA384, ECDSAWithSHA512"
	caWarning := func(subject, algorithm string) []wantWarning {
		return []wantWarning{{"CA Signature Algorithm Not Accepted by Cloudflare", []string{
			fmt.Sprintf("ca is true, and the first certificate (subject %q) is signed with %s.", subject, algorithm),
			"Cloudflare's documentation requires a CA certificate signed with one of " + accepted + ".",
			"How the API enforces this is unknown",
		}}}
	}
	subject := func(cn string) pkix.Name { return pkix.Name{CommonName: cn, Organization: []string{"tf-mtls tests"}} }
	ed25519 := testcerts.New(testcerts.Options{Subject: subject("ed25519 root"), IsCA: true, Key: testcerts.Ed25519Key()})
	pss := testcerts.New(testcerts.Options{Subject: subject("rsa-pss root"), IsCA: true, Key: testcerts.RSAKey(2048), SignatureAlgorithm: x509.SHA256WithRSAPSS})
	rsa := testcerts.New(testcerts.Options{Subject: subject("rsa root"), IsCA: true, Key: testcerts.RSAKey(2048)})
	cases := map[string]struct {
		ca   bool
		pem  string
		want []wantWarning
	}{
		"Ed25519 CA":               {ca: true, pem: ed25519.PEM, want: caWarning("CN=ed25519 root,O=tf-mtls tests", "Ed25519")},
		"RSA-PSS CA":               {ca: true, pem: pss.PEM, want: caWarning("CN=rsa-pss root,O=tf-mtls tests", "SHA256-RSAPSS")},
		"openssl Ed25519 CA":       {ca: true, pem: fixtures.Read("ed25519-ca-cert.pem"), want: caWarning("CN=Fixtures Ed25519 Root CA,O=Fixtures", "Ed25519")},
		"openssl RSA-PSS CA":       {ca: true, pem: fixtures.Read("rsa-pss-ca-cert.pem"), want: caWarning("CN=Fixtures RSA-PSS Root CA,O=Fixtures", "SHA256-RSAPSS")},
		"ECDSA-SHA256 CA":          {ca: true, pem: testcerts.NewCA("ecdsa root").PEM},
		"RSA-SHA256 CA":            {ca: true, pem: rsa.PEM},
		"openssl RSA-SHA256 CA":    {ca: true, pem: fixtures.Read("ca2-cert.pem")},
		"Ed25519 leaf, ca = false": {ca: false, pem: fixtures.Read("ed25519-cert.pem")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			config := providerWith(env, "") + certificateThis(tc.ca, tc.pem, "")
			if env.Emulator == nil && len(tc.want) > 0 {
				// How Cloudflare answers such an upload is unknown: plan only.
				ws := acctest.NewWorkspace(t)
				ws.SetConfig(config)
				ws.Init()
				checkWarnings(t, planWarnings(t, ws), tc.want)
				return
			}
			planApplyDestroy(t, env, config, tc.want)
		})
	}
}
