#!/usr/bin/env bash
# Generate docs/ from templates/ and examples/ with tfplugindocs. tfplugindocs
# cannot download a CLI here, so the provider schema is dumped with the CLI
# from scripts/ensure-cli.sh under a dev_overrides config (no init needed)
# and passed with --providers-schema.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

go build -o "$work/bin/terraform-provider-mtls" .
scripts/dev-overrides.sh "$work/bin" "$work/cli.rc" 2>/dev/null
export TF_CLI_CONFIG_FILE="$work/cli.rc"
cli="$(scripts/ensure-cli.sh)"

mkdir -p "$work/config"
cat >"$work/config/main.tf" <<'HCL'
terraform {
  required_providers {
    mtls = { source = "tf-mtls/mtls" }
  }
}
HCL
# dev_overrides make the CLI warn on stderr; the JSON on stdout is clean.
(cd "$work/config" && "$cli" providers schema -json) >"$work/schema.json" 2>"$work/schema.err" || {
	cat "$work/schema.err" >&2
	exit 1
}

# The schema is keyed by the full provider address, whose host differs
# between terraform and tofu; tfplugindocs looks a provider up by its short
# name (or under hashicorp/), so key it by "mtls".
sed -E 's#"registry\.[a-z.]+/tf-mtls/mtls":#"mtls":#' "$work/schema.json" >"$work/schema-short.json"
grep -q '"mtls":' "$work/schema-short.json" || {
	echo "docs: provider schema not found in the CLI's output" >&2
	exit 1
}

go tool tfplugindocs generate \
	--provider-name mtls \
	--rendered-provider-name "mtls" \
	--providers-schema "$work/schema-short.json"
