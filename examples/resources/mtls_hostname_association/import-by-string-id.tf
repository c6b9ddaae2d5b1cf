import {
  to = mtls_hostname_association.api
  id = "0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10"
}
