#!/usr/bin/env bash
# `make release-snapshot`: check .goreleaser.yml and build a snapshot
# release of every platform, unsigned and unpublished, into dist/; then
# check that it holds what the Terraform and OpenTofu registries read
# (tools/releasecheck: a zip per platform holding the binary, the
# SHA256SUMS of the zips and of the manifest) and print each artifact with
# its size. A real release (on a v* tag, .github/workflows/release.yml)
# adds the SHA256SUMS.sig signature and uploads the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."

# The platforms .goreleaser.yml builds, as <os>_<arch>; a change there
# must be made here too, so a platform cannot silently go missing.
readonly platforms=(
	linux_amd64 linux_arm64 linux_386 linux_arm
	darwin_amd64 darwin_arm64
	windows_amd64 windows_arm64 windows_386
	freebsd_amd64 freebsd_arm64 freebsd_386 freebsd_arm
)

goreleaser="$(scripts/ensure-go-tool.sh goreleaser)"
"$goreleaser" check
start=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$goreleaser" release --snapshot --skip=publish,sign --clean >"$log" 2>&1 || {
	tail -40 "$log" >&2
	echo "release-snapshot: goreleaser release --snapshot failed" >&2
	exit 1
}
echo "release-snapshot: built in $((SECONDS - start))s"
go run ./tools/releasecheck -dist dist -manifest terraform-registry-manifest.json "${platforms[@]}"
