# Which Cloudflare services still use a certificate (a certificate in use
# cannot be deleted).
data "mtls_certificate_associations" "client_ca" {
  mtls_certificate_id = mtls_certificate.client_ca.id
}

output "client_ca_in_use" {
  value = length(data.mtls_certificate_associations.client_ca.associations) > 0
}
