#!/usr/bin/env bash
# Print the absolute path of golangci-lint v2.15.0 on STDOUT, installing it
# with `go install` into a cache folder outside the work tree when missing:
#   ${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mtls}/golangci-lint-v2.15.0/golangci-lint
# Progress goes to STDERR.
set -euo pipefail

readonly LINT_MODULE="github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
readonly LINT_VERSION="v2.15.0"

log() { echo "ensure-golangci-lint: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

cache_root="${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-mtls}"
bin_dir="$cache_root/golangci-lint-$LINT_VERSION"
bin="$bin_dir/golangci-lint"

works() {
	[[ -x "$bin" ]] && "$bin" version >/dev/null 2>&1
}

if works; then
	printf '%s\n' "$bin"
	exit 0
fi

go_bin="$(command -v go)" || die "Go is not installed, cannot install golangci-lint"
mkdir -p "$bin_dir"

# Serialise concurrent installs.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$bin_dir.lock"
	if ! flock -n 9; then
		log "waiting for another process installing golangci-lint…"
		flock 9
	fi
	if works; then
		printf '%s\n' "$bin"
		exit 0
	fi
fi

log "installing golangci-lint $LINT_VERSION (first time only, ~1-2 minutes)…"
start=$SECONDS
# Install into a temporary GOBIN and move the result into place, so an
# interrupted install never leaves a broken binary behind.
tmp_bin_dir="$(mktemp -d "$bin_dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp_bin_dir"' EXIT
# Run outside any module/workspace of the caller so its go.mod is not touched.
(cd "$tmp_bin_dir" && GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$tmp_bin_dir" \
	"$go_bin" install "$LINT_MODULE@$LINT_VERSION" >&2) ||
	die "go install $LINT_MODULE@$LINT_VERSION failed"
mv -f "$tmp_bin_dir/golangci-lint" "$bin"
works || die "$bin does not run"
log "done: installed $bin in $((SECONDS - start))s"
printf '%s\n' "$bin"
