#!/usr/bin/env bash
# `make testacc-matrix`: the acceptance tests on every CLI users run, one
# leg per CLI, each through gotestsum (a line per package, then the skipped
# and failed tests with their output), then a table of CLI version, tests
# run/passed/failed/skipped (gotestsum's counts, subtests included) and wall
# time.
#
# Usage: scripts/testacc-matrix.sh LEG...
#   LEG is CLI:SUITE, CLI a name of `scripts/ensure-cli.sh --cli` and SUITE
#   `full` (every CLI test) or `core` (those matching $MATRIX_CORE_RUN).
#
# Environment:
#   MATRIX_FULL_RUN   -run regex of the full suite
#   MATRIX_CORE_RUN   -run regex of the core suite
#   MATRIX_SKIP_CLI   a CLI path whose full suite already ran (CI passes the
#                     one `make test` used); legs on it are not run again
#   TEST_TIMEOUT      go test -timeout of each leg (default 20m)
#
# A CLI that is not available here (exit 3 of ensure-cli.sh, such as
# Terraform 1.15.9 without ../shared) is reported as skipped and does not
# fail the run; any failing leg does, after all legs ran.
set -euo pipefail
cd "$(dirname "$0")/.."

(($# > 0)) || {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

readonly packages=(. ./internal/acctest/ ./internal/provider/)
full_run="${MATRIX_FULL_RUN:-^(TestAcc|TestWorkspace)}"
core_run="${MATRIX_CORE_RUN:?set MATRIX_CORE_RUN (make testacc-matrix does)}"
timeout="${TEST_TIMEOUT:-20m}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export TF_CLI_CONFIG_FILE="$PWD/scripts/cli.rc"
gotestsum="$(scripts/ensure-go-tool.sh gotestsum)"
# gotestsum runs this after each leg with its counts in the environment.
export MATRIX_COUNTS="$work/counts"
record_counts="sh -c 'echo \"\$TESTS_TOTAL \$TESTS_FAILED \$TESTS_SKIPPED\" >\"\$MATRIX_COUNTS\"'"

rows=()
failed=0
for leg in "$@"; do
	name="${leg%%:*}"
	suite="${leg#*:}"
	case "$suite" in
	full) run="$full_run" ;;
	core) run="$core_run" ;;
	*)
		echo "testacc-matrix: $leg: the suite must be full or core" >&2
		exit 2
		;;
	esac
	printf '\n==> %s (%s suite)\n' "$name" "$suite"

	status=0
	cli="$(scripts/ensure-cli.sh --cli "$name")" || status=$?
	if ((status == 3)); then
		echo "skipped: $name is not available on this machine (see the message above)"
		rows+=("$name|not available|$suite|-|-|-|-|-|skipped")
		continue
	elif ((status != 0)); then
		echo "testacc-matrix: scripts/ensure-cli.sh --cli $name failed (exit $status)" >&2
		rows+=("$name|no CLI|$suite|-|-|-|-|-|FAILED")
		failed=1
		continue
	fi
	version="$(CHECKPOINT_DISABLE=1 "$cli" version)"
	version="${version%%$'\n'*}"
	echo "CLI: $version at $cli"
	if [[ -n "${MATRIX_SKIP_CLI:-}" && "$cli" == "$MATRIX_SKIP_CLI" ]]; then
		echo "skipped: the full suite already ran on $cli (make test)"
		rows+=("$name|$version|$suite|-|-|-|-|-|ran in make test")
		continue
	fi

	start=$SECONDS
	status=0
	rm -f "$MATRIX_COUNTS"
	CLOUDFLARE_API_TOKEN='' CLOUDFLARE_ACCOUNT_ID='' CLOUDFLARE_API_KEY='' CLOUDFLARE_EMAIL='' CLOUDFLARE_BASE_URL='' \
		TF_ACC=1 TF_ACC_TERRAFORM_PATH="$cli" TF_ACC_PROVIDER_HOST='' \
		scripts/with-cli.sh "$gotestsum" --format pkgname --format-hide-empty-pkg --post-run-command "$record_counts" -- \
		-count=1 -timeout "$timeout" -run "$run" "${packages[@]}" || status=$?
	elapsed=$((SECONDS - start))
	n=0 nfailed=0 skipped=0
	[[ -s "$MATRIX_COUNTS" ]] && read -r n nfailed skipped <"$MATRIX_COUNTS"
	# gotestsum also counts a package that failed outside any test (a build
	# error, a timeout) as a failure, which is not among the tests run.
	passed=$((n - nfailed - skipped))
	((passed >= 0)) || passed=0
	result=ok
	if ((status != 0)); then
		result=FAILED
		failed=1
	fi
	echo "$name: $result in ${elapsed}s"
	rows+=("$name|$version|$suite|$n|$passed|$nfailed|$skipped|$((elapsed / 60))m$(printf '%02d' $((elapsed % 60)))s|$result")
done

printf '\n==> CLI matrix\n'
format='%-18s %-20s %-6s %5s %7s %7s %8s %7s  %s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$format" CLI version suite run passed failed skipped wall result
for row in "${rows[@]}"; do
	IFS='|' read -r -a cells <<<"$row"
	# shellcheck disable=SC2059
	printf "$format" "${cells[@]}"
done
exit "$failed"
