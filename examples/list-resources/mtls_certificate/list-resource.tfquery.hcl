# adopt.tfquery.hcl, beside a configuration whose provider "mtls" block sets
# the account. `terraform query` lists the account's uploaded certificates;
# `terraform query -generate-config-out=generated.tf` writes an import block
# and a resource block for each.
list "mtls_certificate" "uploaded" {
  provider = mtls
  limit    = 1000 # Terraform asks for 100 results unless the block says otherwise

  config {}
}
