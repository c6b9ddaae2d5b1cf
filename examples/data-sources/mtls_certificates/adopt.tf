# Adopt certificates uploaded by hand, by another tool, or by the official
# cloudflare provider: one import block per certificate, generated from the
# list (Terraform 1.7+ / OpenTofu 1.7+). Nothing is uploaded again, and the
# plan after the apply is empty. Afterwards, replace each.value.certificates
# with your own PEM files if you like: the text is compared by the
# certificates it holds.
data "mtls_certificates" "legacy" {
  name_regex = "^legacy-"
}

locals {
  legacy = { for c in data.mtls_certificates.legacy.certificates : c.name => c }
}

import {
  for_each = local.legacy
  to       = mtls_certificate.adopted[each.key]
  id       = "${each.value.account_id}/${each.value.id}"
}

resource "mtls_certificate" "adopted" {
  for_each     = local.legacy
  name         = each.value.name
  ca           = each.value.ca
  certificates = each.value.certificates
}
