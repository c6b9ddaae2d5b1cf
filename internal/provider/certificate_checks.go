package provider

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/tf-mtls/terraform-provider-mtls/internal/certs"
)

// The checks below run before any API call: at validate and plan time for
// values known then, and again in Create for values that were unknown at
// plan time. Each builds its diagnostic here, so a message reads the same
// wherever it is raised.

// checkPrivateKey reports a key that does not parse or does not belong to
// the first certificate. A mismatch is reported only when the certificates
// are usable (parsed is not nil), so one mistake gives one diagnostic.
func checkPrivateKey(p path.Path, keyText string, parsed []*x509.Certificate) diag.Diagnostics {
	var diags diag.Diagnostics
	pub, err := certs.ParsePrivateKey(keyText)
	if err != nil {
		diags.Append(invalidPrivateKeyDiag(p, err))
		return diags
	}
	if len(parsed) == 0 {
		return diags
	}
	if err := certs.KeyMatchesCertificate(pub, parsed[0]); err != nil {
		diags.Append(keyMismatchDiag(p, err))
	}
	return diags
}

// checkValidity looks at the validity period of every certificate in a
// bundle. An expired first certificate (the one Cloudflare reports) is an
// error when it is about to be uploaded, since uploading it helps nobody,
// and a warning when it is already in Cloudflare, so that a plan of an
// untouched configuration still works. A later certificate that expired is
// a warning: a CA bundle kept through a rotation may still hold the old
// root. A certificate that expires within warnDays, or is not valid yet, is
// a warning either way.
func checkValidity(parsed []*x509.Certificate, upload bool, warnDays int, now time.Time) diag.Diagnostics {
	var diags diag.Diagnostics
	p := path.Root("certificates")
	for i, c := range parsed {
		which := fmt.Sprintf("Certificate %d of %d (subject %q)", i+1, len(parsed), c.Subject.String())
		expires := c.NotAfter.UTC().Format(time.RFC3339)
		days := certs.Info{NotAfter: c.NotAfter}.DaysLeft(now)
		if now.Before(c.NotBefore) {
			starts := c.NotBefore.UTC().Format(time.RFC3339)
			diags.AddAttributeWarning(p, "Certificate Not Yet Valid",
				fmt.Sprintf("%s is not valid before %s, in %s. Until then clients and servers reject it, so "+
					"nothing can be verified against it. Check the clock of the machine that issued it, or wait "+
					"for that date before relying on it.", which, starts, untilText(c.NotBefore.Sub(now))))
		}
		switch {
		case !now.Before(c.NotAfter) && upload && i == 0:
			diags.AddAttributeError(p, "Certificate Expired",
				fmt.Sprintf("%s expired on %s (%s). Clients and servers reject expired certificates, so it "+
					"is not uploaded. Pass a renewed certificate.", which, expires, daysAgo(-days)))
		case !now.Before(c.NotAfter) && upload:
			diags.AddAttributeWarning(p, "Certificate in Bundle Expired",
				fmt.Sprintf("%s expired on %s (%s). The bundle is uploaded with it, as a bundle kept through a "+
					"rotation may still hold an old root, but nothing can be verified against an expired "+
					"certificate. Remove it from the bundle once the rotation is done.", which, expires, daysAgo(-days)))
		case !now.Before(c.NotAfter):
			diags.AddAttributeWarning(p, "Certificate Expired",
				fmt.Sprintf("%s in Cloudflare expired on %s (%s). Rotate it: put the renewed certificate in "+
					"this configuration and apply, which uploads it and then removes the old one.",
					which, expires, daysAgo(-days)))
		case warnDays > 0 && c.NotAfter.Sub(now) < time.Duration(warnDays)*24*time.Hour:
			diags.AddAttributeWarning(p, "Certificate Expires Soon",
				fmt.Sprintf("%s expires on %s, in %s (the provider's expiry_warning_days is %d). Plan its "+
					"rotation before then.", which, expires, daysLeft(days), warnDays))
		}
	}
	return diags
}

// untilText says how long d is, in days once it is a day or more.
func untilText(d time.Duration) string {
	if d >= 24*time.Hour {
		return daysLeft(int(d / (24 * time.Hour)))
	}
	return d.Round(time.Minute).String()
}

func daysAgo(n int) string {
	switch n {
	case 0:
		return "less than a day ago"
	case 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", n)
	}
}

func daysLeft(n int) string {
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}

// checkCA warns when ca = true but the first certificate is not a CA: such
// an upload verifies no client certificate but itself, which is almost
// always a leaf passed by mistake. It also warns when the first
// certificate's signature algorithm is not one Cloudflare's docs require of
// a CA; how the API enforces that is unknown, so it is no error.
func checkCA(first *x509.Certificate) diag.Diagnostics {
	var diags diag.Diagnostics
	if !certs.CASignatureAccepted(first) {
		diags.AddAttributeWarning(path.Root("certificates"), "CA Signature Algorithm Not Accepted by Cloudflare",
			fmt.Sprintf("ca is true, and the first certificate (subject %q) is signed with %s. Cloudflare's "+
				"documentation requires a CA certificate signed with one of %s. How the API enforces this is unknown: "+
				"it may refuse the upload, or store a CA that client certificates do not verify against. Issue the CA "+
				"with an RSA (PKCS #1 v1.5) or ECDSA signature, for example with openssl req -x509 -sha256 and an RSA "+
				"or EC key.", first.Subject.String(), first.SignatureAlgorithm, strings.Join(certs.CASignatureNames(), ", ")))
	}
	if first.BasicConstraintsValid && first.IsCA {
		return diags
	}
	diags.AddAttributeWarning(path.Root("ca"), "Certificate Is Not a CA",
		fmt.Sprintf("ca is true, but the first certificate (subject %q) is not a CA certificate: its "+
			"BasicConstraints extension does not say CA:TRUE. Cloudflare verifies client certificates against CA "+
			"certificates. If this is a leaf certificate, set ca = false; if it is meant to be a CA, check that "+
			"the CA certificate, not one it issued, comes first.", first.Subject.String()))
	return diags
}
