# The demo that `make demo` applies against the local emulator. It uploads a
# CA bundle and a leaf certificate with its key, associates the bundle with
# an API Shield hostname, and shows what Cloudflare reports about them.
# `make demo` then rotates the bundle to a new CA (rotate = true) while the
# hostname uses it, marks the new CA as used by a Cloudflare service, shows
# destroy refusing to delete it, and destroys everything once the service
# lets go.
terraform {
  required_providers {
    mtls = {
      source = "tf-mtls/mtls"
    }
  }
}

# base_url, api_token and account_id come from CLOUDFLARE_BASE_URL,
# CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, set by `make demo`.
provider "mtls" {}

variable "certs_dir" {
  description = "Folder holding root-ca.pem, second-ca.pem, next-ca.pem, leaf.pem and leaf-key.pem."
  type        = string
}

variable "rotate" {
  description = "Replace the CA bundle with next-ca.pem."
  type        = bool
  default     = false
}

variable "zone_id" {
  description = "The zone of the API Shield hostname."
  type        = string
  default     = "fedcba9876543210fedcba9876543210"
}

resource "mtls_certificate" "client_ca" {
  name = "demo-client-ca"
  ca   = true
  # Joined with "\n": the bundle the official provider reports as an
  # inconsistent result after apply. Here it applies and plans clean.
  certificates = var.rotate ? file("${var.certs_dir}/next-ca.pem") : join("\n", [
    file("${var.certs_dir}/root-ca.pem"),
    file("${var.certs_dir}/second-ca.pem"),
  ])

  # Only so that destroy deletes the bundle first: while a service uses it,
  # the refused delete stops the destroy before the leaf is deleted too.
  depends_on = [mtls_certificate.worker_client]

  lifecycle {
    # A rotation uploads the new CA, moves the hostname to it, and only then
    # deletes the old one: the hostname always has a CA.
    create_before_destroy = true
  }

  timeouts {
    # Short for the demo. A delete refused because services use the
    # certificate waits for them to let go, up to this timeout (2 minutes by
    # default; sooner when the associations stop changing for 30 s). The
    # demo's service lets go only after the first destroy has given up, so
    # 5 s makes that destroy fail quickly, naming the service.
    delete = "5s"
  }
}

# API Shield verifies client certificates for this hostname with the bundle.
resource "mtls_hostname_association" "api" {
  zone_id             = var.zone_id
  mtls_certificate_id = mtls_certificate.client_ca.id
  hostnames           = ["api.example.com"]
}

resource "mtls_certificate" "worker_client" {
  name         = "demo-worker-client"
  ca           = false
  certificates = file("${var.certs_dir}/leaf.pem")
  private_key  = file("${var.certs_dir}/leaf-key.pem")
}

output "client_ca" {
  value = {
    id          = mtls_certificate.client_ca.id
    issuer      = mtls_certificate.client_ca.issuer
    expires_on  = mtls_certificate.client_ca.expires_on
    uploaded_on = mtls_certificate.client_ca.uploaded_on
  }
}

output "worker_client" {
  value = {
    id            = mtls_certificate.worker_client.id
    issuer        = mtls_certificate.worker_client.issuer
    serial_number = mtls_certificate.worker_client.serial_number
    signature     = mtls_certificate.worker_client.signature
    expires_on    = mtls_certificate.worker_client.expires_on
  }
}
