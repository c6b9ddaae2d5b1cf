# Refuse to upload a CA that expires within 90 days. The details are known at
# plan time, and Terraform checks a postcondition as soon as its values are
# known, so the plan fails before anything is uploaded.
resource "mtls_certificate" "partner_ca" {
  name         = "partner-ca"
  ca           = true
  certificates = file("${path.module}/partner-ca.pem")

  lifecycle {
    postcondition {
      condition     = timecmp(self.not_after, timeadd(plantimestamp(), "2160h")) > 0
      error_message = "The partner CA expires within 90 days; ask for a renewed one."
    }
  }
}

output "partner_ca_fingerprint" {
  value = mtls_certificate.partner_ca.fingerprint_sha256
}
