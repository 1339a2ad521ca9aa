#!/usr/bin/env bash
# Fetches Debian's stock kernel for the QEMU tests, the demo and the benchmark: the
# linux-image-<version>-amd64 package that linux-image-amd64 depends on, unpacked (no install)
# into OUT, with depmod run on its modules.
#
#   tools/fetch-kernel.sh [OUT]      (default target/qemu/kernel)
#
# Result: OUT/vmlinuz, OUT/lib/modules/<release>/, OUT/release (the release string).
# Cached: does nothing when OUT already holds the package apt would pick today.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/qemu/kernel}"

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
if [[ -z $pkg ]]; then
    echo "fetch-kernel: apt knows no linux-image-amd64; run apt-get update first" >&2
    exit 1
fi
version=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
stamp="$pkg $version"
if [[ -f $out/package && $(<"$out/package") == "$stamp" && -f $out/vmlinuz ]]; then
    exit 0
fi

echo "fetch-kernel: $pkg $version -> $out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >/dev/null)
rm -rf "$out"
mkdir -p "$out"
dpkg-deb -x "$tmp"/*.deb "$out"
release=$(basename "$(find "$out/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)")
ln -sf "boot/vmlinuz-$release" "$out/vmlinuz"
depmod -b "$out" "$release"
echo "$release" >"$out/release"
echo "$stamp" >"$out/package"
