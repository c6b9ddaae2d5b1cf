#!/usr/bin/env bash
# `make demo`: build the provider, make sure a CLI exists, start the API
# emulator on loopback, apply examples/demo with freshly generated
# certificates, show the outputs and an empty follow-up plan. Then the
# headline: mark the CA bundle as used by a Cloudflare service through the
# emulator's control API, watch `destroy` refuse and name the service, let
# the service go, and destroy for real. Exits non-zero when any step does
# not turn out as shown, as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
emulator_pid=""
cleanup() {
	if [[ -n "$emulator_pid" ]]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

say() { if [[ -t 1 ]]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }
# watch: what to look for in the step that follows.
watch() { echo "    watch: $*"; }
fail() { echo "demo: $*" >&2; exit 1; }

say "Building the provider and the emulator"
go build -o "$work/bin/terraform-provider-mtls" .
go build -o "$work/mtls-emulator" ./cmd/mtls-emulator
# The control API is called with curl when there is one, else with a small
# Go client built here (DEMO_NO_CURL=1 forces it).
if [[ -z "${DEMO_NO_CURL:-}" ]] && command -v curl >/dev/null && curl --help all 2>/dev/null | grep -q -- --fail-with-body; then
	control_client=curl
else
	control_client=emuctl
	go build -o "$work/emuctl" ./tools/emuctl
fi
cli="$(scripts/ensure-cli.sh)"
echo "CLI: $("$cli" version | head -n 1)"

say "Starting the emulator on loopback"
token="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
port="${DEMO_PORT:-0}"
MTLS_EMULATOR_TOKEN="$token" "$work/mtls-emulator" -addr "127.0.0.1:$port" -ready-file "$work/ready" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 100); do
	[[ -s "$work/ready" ]] && break
	kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
	sleep 0.1
done
[[ -s "$work/ready" ]] || { echo "the emulator did not start" >&2; cat "$work/emulator.log" >&2; exit 1; }
base_url="$(cat "$work/ready")"
control_url="${base_url%/client/v4}/__emulator"
echo "emulator: $base_url (control API: $control_url)"

# control METHOD PATH [JSON]: one control API request; prints the answer and
# fails unless it is a 2XX.
control() {
	local body=()
	if [[ "$control_client" == curl ]]; then
		[[ $# -lt 3 ]] || body=(-H "Content-Type: application/json" --data "$3")
		curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $token" "${body[@]}" "$control_url$2"
	else
		[[ $# -lt 3 ]] || body=("$3")
		MTLS_EMULATOR_TOKEN="$token" "$work/emuctl" "$1" "$control_url$2" "${body[@]}"
	fi
}

say "Generating throwaway certificates"
go run ./tools/gencerts "$work/certs"

# dev_overrides: the CLI uses the provider just built, no registry, no init.
scripts/dev-overrides.sh "$work/bin" "$work/cli.rc" 2>/dev/null
export TF_CLI_CONFIG_FILE="$work/cli.rc"
account_id="0123456789abcdef0123456789abcdef"
export CLOUDFLARE_BASE_URL="$base_url" CLOUDFLARE_API_TOKEN="$token" CLOUDFLARE_ACCOUNT_ID="$account_id"
unset CLOUDFLARE_API_KEY CLOUDFLARE_EMAIL
cp examples/demo/main.tf "$work/main.tf"
cd "$work"
color=()
[[ -t 1 ]] || color=(-no-color)

# certificate_count and association_count: how many certificates, and
# associations, the emulator holds, as its control API lists them.
count_in_certificates() {
	local answer
	answer="$(control GET "/certificates?account_id=$account_id")"
	{ grep -o "\"$1\":\"" <<<"$answer" || true; } | wc -l | tr -d ' '
}
certificate_count() { count_in_certificates id; }
association_count() { count_in_certificates service; }
vars=(-input=false -var "certs_dir=$work/certs")

say "terraform apply"
watch "two certificates uploaded: the leaf with its key, then the CA bundle (so destroy deletes the bundle first); hostname api.example.com associated with the bundle"
"$cli" apply -auto-approve "${color[@]}" "${vars[@]}"
say "outputs"
watch "what Cloudflare reports: ids, the issuer, expiry and upload times"
"$cli" output "${color[@]}"
say "a second plan (expect no changes)"
watch "\"No changes\": the bundle joined with \"\\n\" reads back as configured"
set +e
"$cli" plan -detailed-exitcode "${color[@]}" "${vars[@]}"
plan_rc=$?
set -e
if [[ "$plan_rc" -ne 0 ]]; then fail "the second plan was not empty (exit $plan_rc)"; fi

say "Rotating the CA bundle while hostname api.example.com uses it"
watch "one apply: the new CA uploaded, the hostname association updated in place, the old CA deleted once Cloudflare releases it"
# Cloudflare may report a CA in use for a while after its hostnames moved;
# the emulator does for 3 s, and the old CA's delete waits it out.
control PATCH /settings '{"hostname_lag":"3s"}' >/dev/null
old_ca="$("$cli" output -json client_ca | tr -d ' \n' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
"$cli" apply -auto-approve "${color[@]}" "${vars[@]}" -var rotate=true
new_ca="$("$cli" output -json client_ca | tr -d ' \n' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
[[ -n "$new_ca" && "$new_ca" != "$old_ca" ]] || fail "the rotation did not replace the CA bundle ($old_ca, then $new_ca)"
say "coverage: the fewest CAs that covered each hostname at any moment since it was first covered"
watch "1 or more: api.example.com was never without a CA"
coverage="$(control GET /coverage)"
echo "$coverage"
grep -q '"fedcba9876543210fedcba9876543210/api.example.com":[1-9]' <<<"$coverage" ||
	fail "api.example.com was left without a CA during the rotation"
grep -q "\"id\":\"$old_ca\"" <<<"$(control GET "/certificates?account_id=$account_id")" &&
	fail "the old CA bundle $old_ca was not deleted"
say "a plan after the rotation (expect no changes)"
set +e
"$cli" plan -detailed-exitcode "${color[@]}" "${vars[@]}" -var rotate=true
plan_rc=$?
set -e
if [[ "$plan_rc" -ne 0 ]]; then fail "the plan after the rotation was not empty (exit $plan_rc)"; fi
vars+=(-var rotate=true)

# The drain comes well after the first destroy gives up: that destroy
# refreshes (a second or two) and then waits at most its 5 s delete timeout
# (examples/demo/main.tf) before it fails.
drain_after=15
ca_id="$("$cli" output -json client_ca | tr -d ' \n' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
[[ -n "$ca_id" ]] || fail "no id in the client_ca output"
say "Marking the CA as used by Cloudflare Gateway (through the emulator's control API)"
watch "gateway now holds certificate $ca_id, status active; it lets go in ${drain_after}s"
control PUT "/accounts/$account_id/mtls_certificates/$ca_id/associations" \
	"{\"associations\":[{\"service\":\"gateway\",\"status\":\"active\"}],\"drain_after\":\"${drain_after}s\"}"
echo
before="$(certificate_count)"

say "terraform destroy, while gateway uses the CA bundle (expect it to fail)"
watch "Cloudflare refuses the delete; the error names service \"gateway\" (status \"active\") and nothing is deleted"
set +e
"$cli" destroy -auto-approve "${color[@]}" "${vars[@]}" 2>&1 | tee "$work/destroy1.log"
destroy_rc=${PIPESTATUS[0]}
set -e
if [[ "$destroy_rc" -eq 0 ]]; then fail "the first destroy succeeded although gateway used the CA bundle"; fi
grep -q 'service "gateway" (status "active")' "$work/destroy1.log" ||
	fail "the first destroy failed, but without naming service \"gateway\" and its status"
after="$(certificate_count)"
[[ "$after" -eq "$before" && "$before" -eq 2 ]] || fail "the refused destroy deleted certificates: $before before, $after after"
echo "demo: destroy failed as expected; the emulator still holds $after certificates"

say "Waiting for gateway to let go of the CA bundle"
watch "the association drains ${drain_after}s after it was set"
for _ in $(seq 1 $((drain_after * 10 + 100))); do
	[[ "$(association_count)" -eq 0 ]] && break
	sleep 0.1
done
[[ "$(association_count)" -eq 0 ]] || fail "the association did not drain"
echo "demo: no service uses the CA bundle any more"

say "terraform destroy again (expect it to succeed)"
watch "both certificates destroyed"
"$cli" destroy -auto-approve "${color[@]}" "${vars[@]}" || fail "the second destroy failed"
left="$(certificate_count)"
[[ "$left" -eq 0 ]] || fail "$left certificates left after the second destroy"
say "Demo finished: uploaded, planned clean, rotated the CA with the hostname always covered, refused to delete while in use (naming the service), destroyed"
