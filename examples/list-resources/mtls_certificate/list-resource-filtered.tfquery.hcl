# Only the client CA bundles of one team that expire within 60 days, with
# each certificate as a read stores it.
list "mtls_certificate" "expiring_team_cas" {
  provider         = mtls
  include_resource = true

  config {
    ca             = true
    name_regex     = "^payments-"
    expires_within = "1440h"
  }
}
