# Describe the client certificate uploaded in the mtls_certificate example.
# The function reads only the PEM text: it calls no API.
locals {
  worker_client = provider::mtls::certificate_info(file("${path.module}/worker-client.pem"))
}

# Warn at plan time when the certificate expires within 30 days (720 hours).
# A failing check block reports a warning; it does not stop the plan or apply.
check "worker_client_not_expiring" {
  assert {
    condition     = timecmp(local.worker_client.not_after, timeadd(plantimestamp(), "720h")) > 0
    error_message = "The certificate ${local.worker_client.subject} expires on ${local.worker_client.not_after}, within 30 days: issue a new one and replace it."
  }
}

output "worker_client_certificate" {
  value = {
    subject            = local.worker_client.subject
    issuer             = local.worker_client.issuer
    not_after          = local.worker_client.not_after
    fingerprint_sha256 = local.worker_client.fingerprint_sha256
  }
}
