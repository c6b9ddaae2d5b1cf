#!/usr/bin/env bash
# Print the path of the pinned golangci-lint, installing it on first use;
# see scripts/ensure-go-tool.sh.
exec "$(dirname "$0")/ensure-go-tool.sh" golangci-lint
