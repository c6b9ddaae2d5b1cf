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
# List resources are in the schema only from Terraform 1.14 on, so the
# newest Terraform dumps it when it is there (../shared/bin). Without it the
# list resource pages cannot be rendered; they are kept as committed.
newest=1
cli="$(scripts/ensure-cli.sh --cli terraform-1.15.9 2>/dev/null)" || {
	newest=0
	cli="$(scripts/ensure-cli.sh)"
	echo "docs: Terraform 1.15.9 is not here; docs/list-resources/ is kept as committed" >&2
}

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

if [[ "$newest" == 0 ]]; then
	# Without list resource schemas, tfplugindocs would fail on their template.
	mv templates/list-resources "$work/list-resources.templates"
	trap 'mv "$work/list-resources.templates" templates/list-resources; rm -rf "$work"' EXIT
fi
go tool tfplugindocs generate \
	--provider-name mtls \
	--rendered-provider-name "mtls" \
	--providers-schema "$work/schema-short.json"
if [[ "$newest" == 0 ]]; then
	git checkout -- docs/list-resources
fi
