variable "cloudflare_api_token" {
  type      = string
  sensitive = true
}

provider "mtls" {
  api_token   = var.cloudflare_api_token
  account_id  = "0123456789abcdef0123456789abcdef"
  max_retries = 5
}
