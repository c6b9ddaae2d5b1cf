# A CA that verifies client certificates for two hostnames of a zone. With
# create_before_destroy, a new CA (new certificates) is uploaded first, the
# hostnames move to it in place, and only then is the old CA deleted, so no
# hostname is ever without a CA.
resource "mtls_certificate" "client_ca" {
  name         = "client-ca-2026"
  ca           = true
  certificates = file("${path.module}/client-ca.pem")

  lifecycle {
    create_before_destroy = true
  }
}

resource "mtls_hostname_association" "api" {
  zone_id             = "0123456789abcdef0123456789abcdef"
  mtls_certificate_id = mtls_certificate.client_ca.id
  hostnames           = ["api.example.com", "*.app.example.com"]
}
