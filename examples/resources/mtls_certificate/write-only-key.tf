# The key reaches Cloudflare but never the plan or the state.
resource "mtls_certificate" "worker_client" {
  name                   = "worker-client"
  ca                     = false
  certificates           = file("${path.module}/worker-client.pem")
  private_key_wo         = file("${path.module}/worker-client-key.pem")
  private_key_wo_version = 1 # change it when the key changes
}
