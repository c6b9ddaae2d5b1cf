terraform {
  required_providers {
    mtls = {
      source = "tf-mtls/mtls"
    }
  }
}

# Credentials come from CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY with
# CLOUDFLARE_EMAIL) and the default account from CLOUDFLARE_ACCOUNT_ID, so
# nothing secret is written in the configuration.
provider "mtls" {}
