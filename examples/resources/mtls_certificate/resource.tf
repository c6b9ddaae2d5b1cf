# A CA bundle that Cloudflare uses to verify client certificates. The text is
# compared by the certificates it holds, so joining files, CRLF line endings
# or a trailing newline never cause a diff.
resource "mtls_certificate" "client_ca" {
  name = "client-ca-2026"
  ca   = true
  certificates = join("\n", [
    trimspace(file("${path.module}/root-ca.pem")),
    trimspace(file("${path.module}/intermediate-ca.pem")),
  ])
}

# A leaf certificate with its private key, for a Workers mTLS binding.
resource "mtls_certificate" "worker_client" {
  name         = "worker-client"
  ca           = false
  certificates = file("${path.module}/worker-client.pem")
  private_key  = file("${path.module}/worker-client-key.pem")
}
