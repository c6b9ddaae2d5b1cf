#!/usr/bin/env bash
# `make release-snapshot`: check .goreleaser.yml and build a snapshot
# release of every platform, unsigned and unpublished, into dist/; then
# check that it holds what the Terraform and OpenTofu registries read and
# print each artifact with its size:
#   terraform-provider-mtls_<version>_<os>_<arch>.zip, holding
#     terraform-provider-mtls_v<version>[.exe]
#   terraform-provider-mtls_<version>_SHA256SUMS, naming every zip and
#     the manifest
#   terraform-provider-mtls_<version>_manifest.json, the registry manifest
#     (terraform-registry-manifest.json, protocol 6.0), which SHA256SUMS
#     lists and the release uploads beside the zips
# A real release (on a v* tag, .github/workflows/release.yml) adds the
# SHA256SUMS.sig signature.
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
readonly project=terraform-provider-mtls

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
elapsed=$((SECONDS - start))

version="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)"
[[ -n "$version" ]] || {
	echo "release-snapshot: no version in dist/metadata.json" >&2
	exit 1
}
sums="dist/${project}_${version}_SHA256SUMS"
manifest="${project}_${version}_manifest.json"
failed=0
fail() {
	echo "release-snapshot: $*" >&2
	failed=1
}
[[ -f "$sums" ]] || fail "missing $sums"
grep -q '"6.0"' terraform-registry-manifest.json || fail "terraform-registry-manifest.json does not name protocol 6.0"
if [[ -f "$sums" ]]; then
	want="$(sha256sum terraform-registry-manifest.json | cut -d' ' -f1)  $manifest"
	grep -qxF "$want" "$sums" || fail "$sums does not list $manifest with the checksum of terraform-registry-manifest.json"
fi
for p in "${platforms[@]}"; do
	zip="dist/${project}_${version}_${p}.zip"
	if [[ ! -f "$zip" ]]; then
		fail "missing $zip"
		continue
	fi
	binary="${project}_v${version}"
	[[ "$p" == windows_* ]] && binary+=".exe"
	if ! unzip -Z1 "$zip" | grep -qx "$binary"; then
		fail "$zip does not hold $binary"
	fi
	if [[ -f "$sums" ]] && ! grep -q " $(basename "$zip")\$" "$sums"; then
		fail "$sums does not list $(basename "$zip")"
	fi
done
# No zip beyond the platforms above.
for zip in dist/*.zip; do
	p="${zip#dist/"${project}_${version}_"}"
	p="${p%.zip}"
	[[ " ${platforms[*]} " == *" $p "* ]] || fail "unexpected archive $zip (add $p to the platforms here)"
done
# The manifest is uploaded from the repository, not kept in dist/.
if [[ -f "$sums" ]] && ! (cd dist && sha256sum --check --quiet --ignore-missing "$(basename "$sums")"); then
	fail "the checksums in $sums do not match"
fi

echo "release-snapshot: $version, ${#platforms[@]} platforms, built in ${elapsed}s:"
(cd dist && ls -l -- *.zip *_SHA256SUMS | awk '{printf "  %-62s %9d bytes\n", $9, $5}')
printf '  %-62s %9d bytes (terraform-registry-manifest.json)\n' "$manifest" "$(wc -c <terraform-registry-manifest.json)"
exit "$failed"
