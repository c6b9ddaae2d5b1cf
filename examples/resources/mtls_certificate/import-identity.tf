# Import by resource identity (Terraform 1.12+, OpenTofu 1.12+): the account
# and the certificate are named by attribute instead of in one ID string.
import {
  to = mtls_certificate.client_ca
  identity = {
    account_id = "0123456789abcdef0123456789abcdef"
    id         = "2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
  }
}
