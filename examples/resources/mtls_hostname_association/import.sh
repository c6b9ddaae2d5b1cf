# Import the hostnames a certificate has in a zone, by zone ID and certificate ID:
terraform import mtls_hostname_association.api 0123456789abcdef0123456789abcdef/2d8c3c9e-6b0c-4f7e-9a51-2c1f0e6d7a10
