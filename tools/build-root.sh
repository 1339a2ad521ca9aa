#!/usr/bin/env bash
# Builds the small bootable Debian root the QEMU tests, the demo and the benchmark boot: bookworm
# minbase with systemd, udev, dbus and busybox (its httpd serves the demo page), as an ext4
# image made without loop mounts (mke2fs -d).
#
#   tools/build-root.sh [OUT_DIR]     (default target/qemu)
#
# dmsetup brings the device-mapper udev rules without which systemd never considers
# /dev/mapper/* ready (the LUKS scenario mounts one). clevis-systemd and clevis-tpm2 let the
# booted system unlock volumes Kindling bound with clevis (tpm2, Tang): clevis-luks-askpass
# answers systemd-cryptsetup's password question.
# Result: OUT_DIR/root.img. Cached: rebuilt only when the recipe (this script and the files it
# copies in) changes; OUT_DIR/root.recipe holds the recipe's hash.
#
# What the root has beyond minbase, and why:
# - /etc/machine-id is "uninitialized": systemd treats the boot as its first and applies the
#   presets Kindling writes (enabled units), as on a fresh image.
# - /etc/fstab mounts / read-write, as an installed system's does.
# - boot-report.service prints the provisioning timeline (test and demo plumbing).
# - kindling-firstboot-complete.service, as a distro would ship it, and the GRUB stamp file
#   /boot/kindling.firstboot that it removes after a first boot.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/qemu}"
mkdir -p "$out"

inputs=(tools/build-root.sh tests/qemu/root/boot-report tests/qemu/root/boot-report.service
    dracut-module/systemd/kindling-firstboot-complete.service)
recipe=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)

exec 9>"$out/.root.lock"
flock 9
if [[ -f $out/root.img && -f $out/root.recipe && $(<"$out/root.recipe") == "$recipe" ]]; then
    exit 0
fi

for tool in mmdebstrap mke2fs; do
    command -v "$tool" >/dev/null || { echo "build-root: $tool is missing (apt-get install mmdebstrap e2fsprogs)" >&2; exit 1; }
done

echo "build-root: mmdebstrap bookworm minbase (recipe $recipe)"
tree=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$tree" "$out/root.img.tmp"' EXIT
rmdir "$tree"
mmdebstrap --quiet --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,busybox,dmsetup,clevis-systemd,clevis-tpm2 \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm "$tree"

# After mmdebstrap, whose cleanup empties /etc/machine-id.
printf 'uninitialized\n' >"$tree/etc/machine-id"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$tree/etc/fstab"
printf 'kindling-test\n' >"$tree/etc/hostname"
install -m 0755 tests/qemu/root/boot-report "$tree/usr/local/sbin/boot-report"
install -m 0644 tests/qemu/root/boot-report.service "$tree/etc/systemd/system/boot-report.service"
ln -s /etc/systemd/system/boot-report.service "$tree/etc/systemd/system/multi-user.target.wants/"
install -m 0644 dracut-module/systemd/kindling-firstboot-complete.service "$tree/usr/lib/systemd/system/"
mkdir -p "$tree/etc/systemd/system/sysinit.target.wants" "$tree/boot"
ln -s /usr/lib/systemd/system/kindling-firstboot-complete.service "$tree/etc/systemd/system/sysinit.target.wants/"
: >"$tree/boot/kindling.firstboot"

echo "build-root: mke2fs -d -> $out/root.img"
rm -f "$out/root.img.tmp"
mke2fs -q -t ext4 -L root -E root_owner=0:0 -d "$tree" "$out/root.img.tmp" 1G
mv "$out/root.img.tmp" "$out/root.img"
echo "$recipe" >"$out/root.recipe"
