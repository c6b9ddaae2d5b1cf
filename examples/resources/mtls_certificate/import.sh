# Import by account ID and certificate ID:
terraform import mtls_certificate.client_ca 0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10

# Or by certificate ID alone, when the provider sets account_id:
terraform import mtls_certificate.client_ca 2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10
