#!/usr/bin/env bash
# `make demo`: build the provider, make sure a CLI exists, start the API
# emulator on loopback, apply examples/demo with freshly generated
# certificates, show the outputs and an empty follow-up plan, then destroy.
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

say "Building the provider and the emulator"
go build -o "$work/bin/terraform-provider-mtls" .
go build -o "$work/mtls-emulator" ./cmd/mtls-emulator
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
echo "emulator: $base_url"

say "Generating throwaway certificates"
go run ./scripts/gencerts "$work/certs"

# dev_overrides: the CLI uses the provider just built, no registry, no init.
scripts/dev-overrides.sh "$work/bin" "$work/cli.rc" 2>/dev/null
export TF_CLI_CONFIG_FILE="$work/cli.rc"
export CLOUDFLARE_BASE_URL="$base_url" CLOUDFLARE_API_TOKEN="$token" CLOUDFLARE_ACCOUNT_ID="0123456789abcdef0123456789abcdef"
unset CLOUDFLARE_API_KEY CLOUDFLARE_EMAIL
cp examples/demo/main.tf "$work/main.tf"
cd "$work"
color=()
[[ -t 1 ]] || color=(-no-color)

say "terraform apply"
"$cli" apply -auto-approve "${color[@]}" -input=false -var "certs_dir=$work/certs"
say "outputs"
"$cli" output "${color[@]}"
say "a second plan (expect no changes)"
set +e
"$cli" plan -detailed-exitcode "${color[@]}" -input=false -var "certs_dir=$work/certs"
plan_rc=$?
set -e
if [[ "$plan_rc" -ne 0 ]]; then echo "demo: the second plan was not empty (exit $plan_rc)" >&2; exit 1; fi
say "terraform destroy"
"$cli" destroy -auto-approve "${color[@]}" -input=false -var "certs_dir=$work/certs"
say "Demo finished: uploaded, planned clean, destroyed"
