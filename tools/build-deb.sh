#!/usr/bin/env bash
# Builds the Debian packages `kindling` (the engine, the dracut module and the real-root unit
# that ends the first boot) and `flint` (the transpiler), each with its man pages and bash, zsh
# and fish completions, with plain dpkg-deb. The control files are templates under
# packaging/debian/: the shared-library part of Depends comes from dpkg-shlibdeps on the real
# binaries; the rest lists the tools the stages and the dracut module run (util-linux, for
# partx and wipefs, and bash are Essential, so not listed).
#
#   tools/build-deb.sh [--bin-dir DIR] [--out DIR]
#
#   --bin-dir  where kindling and flint are (default target/release: `make deb` builds them
#              first; the tests package their debug build, stripped alike)
#   --out      where the .deb files go (default target/deb)
#
# DOCGEN names the man page generator (default: kindling-docgen beside the binaries).
# DEB_MAINTAINER overrides the Maintainer field; DEB_COMPRESS the compressor (default xz; the
# tests take gzip, which is ten times faster on debug builds). SOURCE_DATE_EPOCH (default: the last commit's
# time) dates the changelog and the files, so two builds of one tree give the same packages.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

bindir=target/release
out=target/deb
while (($#)); do
    case "$1" in
        --bin-dir) bindir=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--bin-dir DIR] [--out DIR]" >&2; exit 2 ;;
    esac
done

die() { echo "build-deb: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev binutils)"
done
for bin in kindling flint; do
    [[ -x $bindir/$bin ]] || die "$bindir/$bin is missing: cargo build --release --workspace --bins first (or name the build with --bin-dir)"
done
docgen=${DOCGEN:-$bindir/kindling-docgen}
[[ -x $docgen ]] || die "$docgen is missing: cargo build -p kindling-docgen (and set DOCGEN), or make deb"

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[[ $version ]] || die "no version in Cargo.toml's [workspace.package]"
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-Kindling developers <kindling@example.org>}
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

work=$(mktemp -d "${TMPDIR:-/tmp}/kindling-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps wants a source tree: debian/control, and each package under debian/<name>.
mkdir -p "$work/debian" "$out"
printf 'Source: kindling\n\nPackage: kindling\nArchitecture: any\n\nPackage: flint\nArchitecture: any\n' \
    >"$work/debian/control"
"$docgen" "$work/generated" 2>/dev/null || die "$docgen failed"

# The pieces every package has: the binary, its man pages and completions, copyright and a
# changelog (a native package's changelog.gz).
stage_common() {
    local pkg=$1 root="$work/debian/$1"
    install -d "$root/usr/bin" "$root/usr/share/man/man1" "$root/usr/share/doc/$pkg" \
        "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
        "$root/usr/share/fish/vendor_completions.d"
    install -m 0755 "$bindir/$pkg" "$root/usr/bin/$pkg"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$pkg"
    local page
    for page in "$work/generated/man1/$pkg.1" "$work/generated/man1/$pkg"-*.1; do
        gzip -9n <"$page" >"$root/usr/share/man/man1/${page##*/}.gz"
    done
    install -m 0644 "$work/generated/bash/$pkg" "$root/usr/share/bash-completion/completions/$pkg"
    install -m 0644 "$work/generated/zsh/_$pkg" "$root/usr/share/zsh/vendor-completions/_$pkg"
    install -m 0644 "$work/generated/fish/$pkg.fish" "$root/usr/share/fish/vendor_completions.d/$pkg.fish"
    install -m 0644 packaging/debian/copyright "$root/usr/share/doc/$pkg/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Kindling source tree; its git history is the change log.\n\n -- %s  %s\n' \
        "$pkg" "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" |
        gzip -9n >"$root/usr/share/doc/$pkg/changelog.gz"
}

# Control file from the template, md5sums, and the package itself.
build_package() {
    local pkg=$1 root="$work/debian/$1" shlibs size
    # DEBIAN/ first: dpkg-shlibdeps finds the package's root by it.
    install -d "$root/DEBIAN"
    shlibs=$(cd "$work" && dpkg-shlibdeps -O "debian/$pkg/usr/bin/$pkg") ||
        die "dpkg-shlibdeps failed on $pkg"
    shlibs=${shlibs#shlibs:Depends=}
    size=$(du -sk --apparent-size "$root" | cut -f1)
    sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
        -e "s|@SIZE@|$size|" -e "s|@SHLIBS@|$shlibs|" \
        "packaging/debian/$pkg.control" >"$root/DEBIAN/control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
        xargs -0 md5sum >DEBIAN/md5sums)
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
    find "$root" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$root" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
    echo "build-deb: $out/${pkg}_${version}_${arch}.deb (Depends: $(sed -n 's/^Depends: //p' "$root/DEBIAN/control"))"
}

stage_common kindling
root="$work/debian/kindling"
# The dracut module as `make install` lays it out: scripts 0755, units and rules 0644.
mod=usr/lib/dracut/modules.d/30kindling
install -d "$root/$mod" "$root/lib/systemd/system"
install -m 0755 dracut-module/30kindling/module-setup.sh dracut-module/30kindling/kindling-generator \
    dracut-module/30kindling/kindling-network-up.sh dracut-module/30kindling/kindling-emergency-summary.sh \
    "$root/$mod/"
install -m 0644 dracut-module/30kindling/*.service dracut-module/30kindling/*.target \
    dracut-module/30kindling/*.network dracut-module/30kindling/*.rules "$root/$mod/"
# Installed, not enabled: distros that put kindling.firstboot on the command line with GRUB's
# stamp file enable it (docs: distro guide, which its Documentation= points at).
install -m 0644 dracut-module/systemd/kindling-firstboot-complete.service "$root/lib/systemd/system/"
install -m 0644 docs/src/distro-guide.md "$root/usr/share/doc/kindling/distro-guide.md"
build_package kindling

stage_common flint
# Each override is justified in the file itself.
install -D -m 0644 packaging/debian/lintian/flint "$work/debian/flint/usr/share/lintian/overrides/flint"
build_package flint
