#!/usr/bin/env bash
# Run a command with a Terraform-compatible CLI set up for
# terraform-plugin-testing: finds or builds the CLI (scripts/ensure-cli.sh),
# points TF_CLI_CONFIG_FILE at the project's own empty config (a missing one,
# as preset on some machines, makes the CLI print a warning that breaks the
# version check), and sets the provider address plugin-testing reattaches to:
# OpenTofu resolves an unqualified "mtls" provider on its own registry host.
#
# Usage: scripts/with-cli.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

export TF_CLI_CONFIG_FILE="$here/cli.rc"
cli="$("$here/ensure-cli.sh")"
export TF_ACC_TERRAFORM_PATH="$cli"
export TF_ACC_PROVIDER_NAMESPACE="${TF_ACC_PROVIDER_NAMESPACE:-hashicorp}"
version="$(CHECKPOINT_DISABLE=1 "$cli" version)"
version="${version%%$'\n'*}"
if [[ "$version" == OpenTofu* ]]; then
	export TF_ACC_PROVIDER_HOST="${TF_ACC_PROVIDER_HOST:-registry.opentofu.org}"
else
	export TF_ACC_PROVIDER_HOST="${TF_ACC_PROVIDER_HOST:-registry.terraform.io}"
fi
echo "with-cli: $version at $cli (provider host $TF_ACC_PROVIDER_HOST)" >&2
exec "$@"
