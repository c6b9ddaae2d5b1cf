variable "account_id" {
  type = string
}

variable "zone_id" {
  type = string
}

# The CA that verifies client certificates for the hostnames below. To
# rotate, point this at the new CA and apply once.
variable "ca_file" {
  type    = string
  default = "client-ca-2026.pem"
}

resource "mtls_certificate" "client_ca" {
  account_id   = var.account_id
  name         = "api-client-ca"
  ca           = true
  certificates = file(var.ca_file)

  lifecycle {
    # Upload the new CA, move the hostnames to it, and only then delete the
    # old one: no hostname is ever without a CA.
    create_before_destroy = true
  }
}

resource "mtls_hostname_association" "api" {
  zone_id             = var.zone_id
  mtls_certificate_id = mtls_certificate.client_ca.id
  hostnames           = ["api.example.com", "partners.example.com"]
}
