# Look a certificate up by name (names must be unique for this to work: the
# lookup fails, listing the candidates' ids, when several share the name).
data "mtls_certificate" "partner_ca" {
  name = "partner-ca"
}

# Or by id, for instance one another team manages.
data "mtls_certificate" "shared" {
  id = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
}

output "partner_ca_expires" {
  value = data.mtls_certificate.partner_ca.not_after
}

output "shared_used_by" {
  value = [for a in data.mtls_certificate.shared.associations : "${a.service} (${a.status})"]
}
