#!/usr/bin/env bash
# Locate (or, as a last resort, build) a Terraform-compatible CLI for the
# acceptance tests, documentation generation and the demo.
#
# STDOUT: only the absolute path of the CLI.  Everything else goes to STDERR.
#
# Search order:
#   1. $TF_ACC_TERRAFORM_PATH (must be executable)
#   2. `terraform` on PATH
#   3. `tofu` on PATH
#   4. OpenTofu built from the Go module proxy and cached outside the work tree:
#        ${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mtls}/tofu-v1.12.6/tofu
#
# Options:
#   --force-build   ignore TF_ACC_TERRAFORM_PATH and PATH; use/build the cached OpenTofu
#   --version       also print the CLI's version line on STDERR
#   -h, --help      show this help
set -euo pipefail

readonly TOFU_MODULE="github.com/opentofu/opentofu"
readonly TOFU_VERSION="v1.12.6"

force_build=0
show_version=0
for arg in "$@"; do
	case "$arg" in
	--force-build) force_build=1 ;;
	--version) show_version=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
		exit 0
		;;
	*)
		echo "ensure-cli: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

log() { echo "ensure-cli: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

cache_root="${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-mtls}"
tofu_dir="$cache_root/tofu-$TOFU_VERSION"
tofu_bin="$tofu_dir/tofu"

# An empty CLI configuration so that a missing/odd TF_CLI_CONFIG_FILE in the
# caller's environment cannot add warnings to the output we inspect.
clean_rc="$(mktemp "${TMPDIR:-/tmp}/ensure-cli-rc.XXXXXX")"
build_src=""
# shellcheck disable=SC2317 # invoked through trap
cleanup() {
	rm -f "$clean_rc"
	if [[ -n "$build_src" && -d "$build_src" ]]; then
		chmod -R u+w "$build_src" 2>/dev/null || true
		rm -rf "$build_src"
	fi
}
trap cleanup EXIT

# Print the first line of `<cli> version`; fail if the CLI does not run.
cli_version() {
	local out
	out="$(TF_CLI_CONFIG_FILE="$clean_rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 "$1" version 2>/dev/null)" || return 1
	out="${out%%$'\n'*}"
	[[ -n "$out" ]] || return 1
	printf '%s\n' "$out"
}

absolute() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")" ;;
	esac
}

# Print the result (path on stdout) and exit.
finish() {
	local cli version
	cli="$(absolute "$1")"
	version="$(cli_version "$cli")" || die "$cli does not run ('$cli version' failed)"
	if [[ "$show_version" == 1 ]]; then
		echo "$version" >&2
	fi
	printf '%s\n' "$cli"
	exit 0
}

build_tofu() {
	local go_bin start dir tmp_out elapsed
	go_bin="$(command -v go)" || die "no terraform/tofu found and Go is not installed, cannot build OpenTofu"

	log "building OpenTofu $TOFU_VERSION from the Go module proxy (first time only, ~3-4 minutes)…"
	start=$SECONDS

	build_src="$(mktemp -d "${TMPDIR:-/tmp}/ensure-cli-tofu-src.XXXXXX")"
	# Run the go commands outside any module or workspace of the caller.
	dir="$(cd "$build_src" && GOWORK=off GOFLAGS=-buildvcs=false "$go_bin" mod download -json "$TOFU_MODULE@$TOFU_VERSION" |
		sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",\{0,1\}[[:space:]]*$/\1/p')" ||
		die "go mod download $TOFU_MODULE@$TOFU_VERSION failed"
	[[ -n "$dir" && -d "$dir" ]] || die "could not find the source directory of $TOFU_MODULE@$TOFU_VERSION"

	# The module cache is read-only: build from a writable copy.
	cp -r "$dir/." "$build_src/"
	chmod -R u+w "$build_src"

	mkdir -p "$tofu_dir"
	tmp_out="$tofu_dir/.tofu.tmp.$$"
	rm -f "$tmp_out"
	if ! (cd "$build_src" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 "$go_bin" build -trimpath \
		-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
		-o "$tmp_out" ./cmd/tofu >&2); then
		rm -f "$tmp_out"
		die "building OpenTofu $TOFU_VERSION failed"
	fi
	cli_version "$tmp_out" >/dev/null || {
		rm -f "$tmp_out"
		die "the freshly built OpenTofu does not run"
	}
	mv -f "$tmp_out" "$tofu_bin"
	elapsed=$((SECONDS - start))
	log "done: built $tofu_bin in ${elapsed}s"
}

# Take an exclusive lock on the cache so concurrent callers don't build twice.
lock_dir=""
acquire_lock() {
	mkdir -p "$cache_root"
	local lock_file="$cache_root/tofu-$TOFU_VERSION.lock"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$lock_file"
		if ! flock -n 9; then
			log "waiting for another process building OpenTofu ($lock_file)…"
			flock 9
		fi
	else
		# Portable fallback: mkdir is atomic. Give up after ~15 minutes.
		lock_dir="$lock_file.d"
		local waited=0
		until mkdir "$lock_dir" 2>/dev/null; do
			if ((waited == 0)); then
				log "waiting for another process building OpenTofu ($lock_dir)…"
			fi
			((waited += 2))
			((waited < 900)) || die "timed out waiting for $lock_dir (remove it if stale)"
			sleep 2
		done
		trap 'rmdir "$lock_dir" 2>/dev/null || true; cleanup' EXIT
	fi
}

if [[ "$force_build" == 0 ]]; then
	if [[ -n "${TF_ACC_TERRAFORM_PATH:-}" ]]; then
		[[ -f "$TF_ACC_TERRAFORM_PATH" && -x "$TF_ACC_TERRAFORM_PATH" ]] ||
			die "TF_ACC_TERRAFORM_PATH=$TF_ACC_TERRAFORM_PATH is not an executable file"
		finish "$TF_ACC_TERRAFORM_PATH"
	fi
	for name in terraform tofu; do
		if candidate="$(command -v "$name" 2>/dev/null)" && [[ -x "$candidate" ]]; then
			if cli_version "$candidate" >/dev/null; then
				finish "$candidate"
			fi
			log "warning: $candidate does not run ('$name version' failed), skipping it"
		fi
	done
fi

if [[ -x "$tofu_bin" ]] && cli_version "$tofu_bin" >/dev/null; then
	finish "$tofu_bin"
fi

acquire_lock
# Another caller may have finished the build while we waited for the lock.
if [[ -x "$tofu_bin" ]] && cli_version "$tofu_bin" >/dev/null; then
	finish "$tofu_bin"
fi
build_tofu
finish "$tofu_bin"
