#!/usr/bin/env bash
# Builds an initramfs for the QEMU tests, the demo and the benchmark with the host's dracut and
# the kernel from tools/fetch-kernel.sh: systemd in the initramfs, virtio drivers, and the
# provisioning module asked for. Non-hostonly: nothing about this host leaks in.
#
#   tools/build-initramfs.sh [--with kindling|ignition|none] [--kernel DIR] OUT
#
#   --with kindling  (default) this tree's dracut-module/30kindling, with the engine from
#                    $KINDLING_BIN (default target/release/kindling), the trust policy from
#                    $KINDLING_TRUST_DIR and base configs from $KINDLING_BASE_DIR (default:
#                    none; this host's /etc/kindling is not used)
#   --with ignition  Debian's ignition module (package ignition), for the benchmark
#   --with none      neither: the baseline for the size comparison
#   --kernel DIR     an unpacked kernel (default target/qemu/kernel)
#   --include SRC DST  also put SRC (a file or directory) at DST in the image (repeatable;
#                    the QEMU tests add unit drop-ins that point the engine at stand-ins)
#   --hide TOOL      build as on a host without TOOL in /usr/bin and /usr/sbin (repeatable;
#                    needs root): dracut runs in a private mount namespace where an overlay
#                    with a whiteout hides it. The benchmark and the tests use it for the
#                    optional tools, whose absence changes what the modules install.
#
# dracut runs from a private module directory (target/qemu/dracut-base) so that nothing is
# installed on the host.
set -euo pipefail
cd "$(dirname "$0")/.."

with=kindling
kernel=target/qemu/kernel
includes=()
hidden=()
while (($#)); do
    case "$1" in
        --with) with=$2; shift 2 ;;
        --kernel) kernel=$2; shift 2 ;;
        --include) includes+=(--include "$2" "$3"); shift 3 ;;
        --hide) hidden+=("$2"); shift 2 ;;
        -*) echo "build-initramfs: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -eq 1 ]] || { echo "usage: $0 [--with kindling|ignition|none] [--kernel DIR] [--include SRC DST]... OUT" >&2; exit 2; }
out=$1

command -v dracut >/dev/null || { echo "build-initramfs: dracut is missing (apt-get install dracut-core dracut-network)" >&2; exit 1; }
release=$(<"$kernel/release")
kmoddir="$PWD/$kernel/lib/modules/$release"
[[ $kernel == /* ]] && kmoddir="$kernel/lib/modules/$release"

# A private dracut base dir: the host's files and modules, plus ours.
base=$(mktemp -d "${TMPDIR:-/tmp}/kindling-dracut.XXXXXX")
trap 'rm -rf "$base"' EXIT
for f in /usr/lib/dracut/*; do
    [[ $(basename "$f") == modules.d ]] || ln -s "$f" "$base/"
done
mkdir "$base/modules.d" "$base/conf.d"
: >"$base/dracut.conf"
for m in /usr/lib/dracut/modules.d/*; do
    [[ $(basename "$m") == 30kindling ]] || ln -s "$m" "$base/modules.d/"
done

modules=(systemd-initrd dracut-systemd rootfs-block kernel-modules fs-lib)
extra=()
case "$with" in
    kindling)
        ln -s "$PWD/dracut-module/30kindling" "$base/modules.d/30kindling"
        bin="${KINDLING_BIN:-target/release/kindling}"
        [[ -x $bin ]] || { echo "build-initramfs: $bin is missing: cargo build --release first" >&2; exit 1; }
        KINDLING_BIN=$(readlink -f "$bin")
        # Hermetic by default: this host's /etc/kindling (trust policy) and base configs stay
        # out unless the caller names directories.
        mkdir -p "$base/empty"
        KINDLING_TRUST_DIR="${KINDLING_TRUST_DIR:-$base/empty}"
        KINDLING_BASE_DIR="${KINDLING_BASE_DIR:-$base/empty}"
        export KINDLING_BIN KINDLING_TRUST_DIR KINDLING_BASE_DIR
        extra=(--add kindling)
        ;;
    ignition)
        [[ -d $base/modules.d/30ignition ]] || { echo "build-initramfs: Debian's ignition package is missing" >&2; exit 1; }
        extra=(--add ignition)
        # Ignition relabels with setfiles when the root has an SELinux config; a stand-in
        # that does nothing is enough in a root without SELinux.
        if ! command -v setfiles >/dev/null; then
            printf '#!/bin/sh\nexit 0\n' >"$base/setfiles"
            chmod 0755 "$base/setfiles"
            extra+=(--include "$base/setfiles" /usr/sbin/setfiles)
        fi
        ;;
    none) ;;
    *) echo "build-initramfs: --with kindling, ignition or none" >&2; exit 2 ;;
esac

# Only the drivers a QEMU guest needs. (The test root has no modules of its own; "button" and
# "evdev", loaded here, stay loaded after switch-root, so an ACPI power-button press reaches
# logind and powers off.) dracut's kernel-network-modules (a dependency of
# systemd-networkd) would add every NIC driver, half the image: leave out all of drivers/net
# but virtio_net and what it needs.
omit=$(find "$kmoddir/kernel/drivers/net" -name '*.ko*' -printf '%f\n' | sed 's/\.ko.*$//' |
    tr '-' '_' | grep -vxE 'virtio_net|net_failover|failover' | tr '\n' ' ')

mkdir -p "$(dirname "$out")"
run=()
if ((${#hidden[@]})); then
    # Each hidden tool becomes a whiteout (a 0:0 character device) in an overlay's upper
    # directory, seen only by this private mount namespace.
    hide="$base/hide"
    # shellcheck disable=SC2016
    run=(unshare -m bash -c '
        set -e
        hide=$1 n=$2
        shift 2
        tools=("${@:1:n}")
        shift "$n"
        for dir in /usr/bin /usr/sbin; do
            up="$hide/${dir//\//_}"
            mkdir -p "$up/upper" "$up/work"
            for t in "${tools[@]}"; do
                if [[ -e $dir/$t ]]; then mknod "$up/upper/$t" c 0 0; fi
            done
            mount -t overlay overlay -o "lowerdir=$dir,upperdir=$up/upper,workdir=$up/work" "$dir"
        done
        exec "$@"' _ "$hide" "${#hidden[@]}" "${hidden[@]}")
fi
dracutbasedir="$base" "${run[@]}" dracut --quiet --force --no-hostonly --no-hostonly-cmdline \
    --no-early-microcode --reproducible \
    --conf "$base/dracut.conf" --confdir "$base/conf.d" \
    --kver "$release" --kmoddir "$kmoddir" \
    --modules "${modules[*]}" "${extra[@]}" "${includes[@]}" \
    --drivers "virtio_blk virtio_pci virtio_net ext4 qemu_fw_cfg button evdev" --omit-drivers "$omit" \
    --compress "zstd -3 -q -T0" \
    "$out.tmp"
mv "$out.tmp" "$out"
