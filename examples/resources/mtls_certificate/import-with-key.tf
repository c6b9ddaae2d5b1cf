# Adopt a leaf certificate uploaded by hand, with its key. The key is checked
# against the certificate and recorded in place: the certificate is not
# uploaded again.
import {
  to = mtls_certificate.worker_client
  id = "0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
}

resource "mtls_certificate" "worker_client" {
  name         = "worker-client"
  ca           = false
  certificates = file("${path.module}/worker-client.pem")
  private_key  = file("${path.module}/worker-client-key.pem")
}
