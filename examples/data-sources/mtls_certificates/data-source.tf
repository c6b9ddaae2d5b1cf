# Every uploaded CA certificate of the account, across all pages.
data "mtls_certificates" "cas" {
  type = ["custom"]
  ca   = true
}

output "ca_names" {
  value = [for c in data.mtls_certificates.cas.certificates : c.name]
}
