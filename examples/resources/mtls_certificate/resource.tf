# A CA bundle from files, which Cloudflare uses to verify client
# certificates. The text is compared by the certificates it holds, so joining
# files, CRLF line endings or a trailing newline never cause a diff.
resource "mtls_certificate" "client_ca" {
  name = "client-ca-2026"
  ca   = true
  certificates = join("\n", [
    trimspace(file("${path.module}/root-ca.pem")),
    trimspace(file("${path.module}/intermediate-ca.pem")),
  ])
}

# A leaf certificate with its private key, for a Workers mTLS binding. The
# key is checked against the certificate at plan time.
resource "mtls_certificate" "worker_client" {
  name         = "worker-client"
  ca           = false
  certificates = tls_locally_signed_cert.worker_client.cert_pem
  private_key  = tls_private_key.worker_client.private_key_pem
}
