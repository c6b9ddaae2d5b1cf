#!/usr/bin/env bash
# Locate (or, as a last resort, build) a Terraform-compatible CLI for the
# acceptance tests, documentation generation and the demo.
#
# STDOUT: only the absolute path of the CLI.  Everything else goes to STDERR.
#
# Search order without --cli:
#   1. $TF_ACC_TERRAFORM_PATH (must be executable)
#   2. `terraform` on PATH
#   3. `tofu` on PATH
#   4. OpenTofu built from the Go module proxy and cached outside the work tree:
#        ${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-mtls}/tofu-v1.12.6/tofu
#
# Options:
#   --cli NAME      one CLI of the test matrix instead of the search:
#                     tofu, tofu-1.12.6     OpenTofu 1.12.6, built once into the cache (as --force-build)
#                     terraform-1.5.7       Terraform 1.5.7, built once into the cache (<cache>/terraform-v1.5.7/terraform)
#                     terraform-1.15.9      ../shared/bin/terraform-1.15.9 beside the repository
#                     terraform-1.11.4      the `terraform` on PATH
#                     path                  what the search above finds
#                   Exits with status 3 when that CLI is not available here
#                   (no ../shared, no terraform on PATH), so callers can skip it.
#   --force-build   ignore TF_ACC_TERRAFORM_PATH and PATH; use/build the cached OpenTofu
#   --version       also print the CLI's version line on STDERR
#   -h, --help      show this help
set -euo pipefail

readonly TOFU_MODULE="github.com/opentofu/opentofu"
readonly TOFU_VERSION="v1.12.6"
readonly TERRAFORM_MODULE="github.com/hashicorp/terraform"
readonly TERRAFORM_BUILT_VERSION="v1.5.7"
readonly TERRAFORM_SHARED_VERSION="1.15.9"
readonly TERRAFORM_PATH_VERSION="1.11.4"
# Exit status for "this CLI is not available on this machine".
readonly EXIT_UNAVAILABLE=3

force_build=0
show_version=0
cli_name=""
while (($# > 0)); do
	case "$1" in
	--cli)
		(($# >= 2)) || {
			echo "ensure-cli: --cli needs a name (see --help)" >&2
			exit 2
		}
		cli_name="$2"
		shift
		;;
	--cli=*) cli_name="${1#--cli=}" ;;
	--force-build) force_build=1 ;;
	--version) show_version=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
		exit 0
		;;
	*)
		echo "ensure-cli: unknown argument: $1" >&2
		exit 2
		;;
	esac
	shift
done

log() { echo "ensure-cli: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}
unavailable() {
	log "$*"
	exit "$EXIT_UNAVAILABLE"
}

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${MTLS_CLI_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/terraform-provider-mtls}"
tofu_dir="$cache_root/tofu-$TOFU_VERSION"
tofu_bin="$tofu_dir/tofu"
terraform_dir="$cache_root/terraform-$TERRAFORM_BUILT_VERSION"
terraform_bin="$terraform_dir/terraform"

# An empty CLI configuration so that a missing/odd TF_CLI_CONFIG_FILE in the
# caller's environment cannot add warnings to the output we inspect.
clean_rc="$(mktemp "${TMPDIR:-/tmp}/ensure-cli-rc.XXXXXX")"
build_src=""
lock_dir=""
# shellcheck disable=SC2317 # invoked through trap
cleanup() {
	rm -f "$clean_rc"
	if [[ -n "$build_src" && -d "$build_src" ]]; then
		chmod -R u+w "$build_src" 2>/dev/null || true
		rm -rf "$build_src"
	fi
	if [[ -n "$lock_dir" ]]; then
		rmdir "$lock_dir" 2>/dev/null || true
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

runs() { [[ -x "$1" ]] && cli_version "$1" >/dev/null; }

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

go_bin() {
	command -v go || die "Go is not installed, cannot build $1"
}

build_tofu() {
	local go start dir tmp_out
	go="$(go_bin "OpenTofu")"

	log "building OpenTofu $TOFU_VERSION from the Go module proxy (first time only, ~3-4 minutes)…"
	start=$SECONDS

	build_src="$(mktemp -d "${TMPDIR:-/tmp}/ensure-cli-tofu-src.XXXXXX")"
	# Run the go commands outside any module or workspace of the caller.
	dir="$(cd "$build_src" && GOWORK=off GOFLAGS=-buildvcs=false "$go" mod download -json "$TOFU_MODULE@$TOFU_VERSION" |
		sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",\{0,1\}[[:space:]]*$/\1/p')" ||
		die "go mod download $TOFU_MODULE@$TOFU_VERSION failed"
	[[ -n "$dir" && -d "$dir" ]] || die "could not find the source directory of $TOFU_MODULE@$TOFU_VERSION"

	# The module cache is read-only: build from a writable copy.
	cp -r "$dir/." "$build_src/"
	chmod -R u+w "$build_src"

	mkdir -p "$tofu_dir"
	tmp_out="$tofu_dir/.tofu.tmp.$$"
	rm -f "$tmp_out"
	if ! (cd "$build_src" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 "$go" build -trimpath \
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
	log "done: built $tofu_bin in $((SECONDS - start))s"
}

# Terraform up to 1.5 builds with `go install module@version` (MPL-2.0, no
# replace directives); later releases cannot be built from the proxy.
build_terraform() {
	local go start tmp_bin
	go="$(go_bin "Terraform $TERRAFORM_BUILT_VERSION")"

	log "building Terraform $TERRAFORM_BUILT_VERSION from the Go module proxy (first time only, ~3-4 minutes)…"
	start=$SECONDS

	mkdir -p "$terraform_dir"
	# go install writes into GOBIN as it links: give it a private directory
	# in the same file system, so the move into place is atomic.
	tmp_bin="$(mktemp -d "$terraform_dir/.build.XXXXXX")"
	build_src="$tmp_bin"
	if ! (cd "$tmp_bin" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$tmp_bin" \
		"$go" install -trimpath -ldflags "-s -w" "$TERRAFORM_MODULE@$TERRAFORM_BUILT_VERSION" >&2); then
		die "building Terraform $TERRAFORM_BUILT_VERSION failed"
	fi
	cli_version "$tmp_bin/terraform" >/dev/null || die "the freshly built Terraform does not run"
	mv -f "$tmp_bin/terraform" "$terraform_bin"
	log "done: built $terraform_bin in $((SECONDS - start))s"
}

# Take an exclusive lock named after what is built, so concurrent callers
# don't build it twice.
acquire_lock() {
	local what="$1" lock_file
	mkdir -p "$cache_root"
	lock_file="$cache_root/$what.lock"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$lock_file"
		if ! flock -n 9; then
			log "waiting for another process building $what ($lock_file)…"
			flock 9
		fi
	else
		# Portable fallback: mkdir is atomic. Give up after ~15 minutes.
		local waited=0
		until mkdir "$lock_file.d" 2>/dev/null; do
			if ((waited == 0)); then
				log "waiting for another process building $what ($lock_file.d)…"
			fi
			((waited += 2))
			((waited < 900)) || die "timed out waiting for $lock_file.d (remove it if stale)"
			sleep 2
		done
		lock_dir="$lock_file.d"
	fi
}

# Use the cached build of bin, building it under the lock when it is
# missing; another caller may have finished it while we waited.
cached_build() {
	local bin="$1" what="$2" build="$3"
	runs "$bin" && finish "$bin"
	acquire_lock "$what"
	runs "$bin" && finish "$bin"
	"$build"
	finish "$bin"
}

# Warn when a CLI chosen by name reports another version.
check_named_version() {
	local cli="$1" want="$2" version
	version="$(cli_version "$cli")" || die "$cli does not run ('$cli version' failed)"
	if [[ "$version" != *"v$want" ]]; then
		log "warning: $cli is '$version', not v$want"
	fi
}

case "$cli_name" in
"") ;;
tofu | "tofu-${TOFU_VERSION#v}")
	force_build=1
	;;
"terraform-${TERRAFORM_BUILT_VERSION#v}")
	cached_build "$terraform_bin" "terraform-$TERRAFORM_BUILT_VERSION" build_terraform
	;;
"terraform-$TERRAFORM_SHARED_VERSION")
	shared="$(dirname "$repo_root")/shared/bin/terraform-$TERRAFORM_SHARED_VERSION"
	[[ -x "$shared" ]] ||
		unavailable "Terraform $TERRAFORM_SHARED_VERSION is not available: $shared does not exist (it ships in ../shared beside the repository)"
	finish "$shared"
	;;
"terraform-$TERRAFORM_PATH_VERSION")
	candidate="$(command -v terraform 2>/dev/null)" ||
		unavailable "Terraform $TERRAFORM_PATH_VERSION is not available: there is no terraform on PATH"
	check_named_version "$candidate" "$TERRAFORM_PATH_VERSION"
	finish "$candidate"
	;;
path) ;;
*)
	echo "ensure-cli: unknown CLI name: $cli_name (see --help)" >&2
	exit 2
	;;
esac

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

cached_build "$tofu_bin" "tofu-$TOFU_VERSION" build_tofu
