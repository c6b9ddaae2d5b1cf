# Adopt a certificate managed by cloudflare_mtls_certificate of the official
# Cloudflare provider (v4 or v5): replace its resource block with an
# mtls_certificate block holding the same arguments, and add a moved block.
# The plan shows a move and no other change: the certificate keeps its ID and
# is not uploaded again.
moved {
  from = cloudflare_mtls_certificate.client_ca
  to   = mtls_certificate.client_ca
}

resource "mtls_certificate" "client_ca" {
  account_id   = "0123456789abcdef0123456789abcdef"
  name         = "client-ca-2026"
  ca           = true
  certificates = file("${path.module}/client-ca.pem")
}
