#!/usr/bin/env bash
# Print the absolute path of a pinned Go tool on STDOUT, installing it with
# `go install` into a cache folder outside the work tree when missing:
#   ${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mtls}/NAME-VERSION/NAME
# Progress goes to STDERR.
#
# Usage: scripts/ensure-go-tool.sh NAME
#   golangci-lint  the linter (make lint)
#   actionlint     checks .github/workflows (make lint)
#   goreleaser     checks .goreleaser.yml and builds a snapshot release (make release-snapshot)
#   gotestsum      runs go test and summarises it (make test, make testacc-matrix)
#   benchstat      summarises and compares Go benchmark runs (make bench)
set -euo pipefail

log() { echo "ensure-go-tool: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

name="${1:?usage: $0 golangci-lint|actionlint|goreleaser|gotestsum|benchstat}"
# The versions are pinned so that every machine lints, reports tests and
# releases alike.
# goreleaser v2.15.1 is the newest that builds with this Go from the module
# proxy. golang.org/x/perf has no tags: benchstat is pinned to a commit's
# pseudo-version, and has no --version, so -h (exit 0) shows that it runs.
check=--version
case "$name" in
golangci-lint) module="github.com/golangci/golangci-lint/v2/cmd/golangci-lint" version="v2.15.0" minutes="1-2" ;;
actionlint) module="github.com/rhysd/actionlint/cmd/actionlint" version="v1.7.12" minutes="1" ;;
goreleaser) module="github.com/goreleaser/goreleaser/v2" version="v2.15.1" minutes="3-5" ;;
gotestsum) module="gotest.tools/gotestsum" version="v1.13.0" minutes="1" ;;
benchstat) module="golang.org/x/perf/cmd/benchstat" version="v0.0.0-20260908200009-22c9c6c9d4da" minutes="1" check=-h ;;
*) die "unknown tool $name (golangci-lint, actionlint, goreleaser, gotestsum or benchstat)" ;;
esac

cache_root="${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-mtls}"
bin_dir="$cache_root/$name-$version"
bin="$bin_dir/$name"

works() {
	[[ -x "$bin" ]] && "$bin" "$check" >/dev/null 2>&1
}

if works; then
	printf '%s\n' "$bin"
	exit 0
fi

go_bin="$(command -v go)" || die "Go is not installed, cannot install $name"
mkdir -p "$bin_dir"

# Serialise concurrent installs.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$bin_dir.lock"
	if ! flock -n 9; then
		log "waiting for another process installing $name…"
		flock 9
	fi
	if works; then
		printf '%s\n' "$bin"
		exit 0
	fi
fi

log "installing $name $version (first time only, ~$minutes minutes)…"
start=$SECONDS
# Install into a temporary GOBIN and move the result into place, so an
# interrupted install never leaves a broken binary behind.
tmp_bin_dir="$(mktemp -d "$bin_dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp_bin_dir"' EXIT
# Run outside any module/workspace of the caller so its go.mod is not touched.
(cd "$tmp_bin_dir" && GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$tmp_bin_dir" \
	"$go_bin" install "$module@$version" >&2) ||
	die "go install $module@$version failed"
mv -f "$tmp_bin_dir/$name" "$bin"
works || die "$bin does not run"
log "done: installed $bin in $((SECONDS - start))s"
printf '%s\n' "$bin"
