# Certificates that expire within 30 days (already expired ones included),
# for a scheduled job or a check block that nags before it is too late.
data "mtls_certificates" "expiring" {
  expires_within = "720h"
}

check "no_certificate_expires_within_30_days" {
  assert {
    condition = length(data.mtls_certificates.expiring.ids) == 0
    error_message = join("\n", [
      for c in data.mtls_certificates.expiring.certificates :
      "${coalesce(c.name, c.id)} (${c.subject}) expires on ${c.not_after}"
    ])
  }
}
