#!/bin/bash
# Flatcar's GRUB puts flatcar.first_boot=detected on the command line for as long as the flag
# file flatcar/first_boot (or coreos/first_boot) exists on the EFI system partition. Once every
# Kindling stage has succeeded, this removes it, so that the next boot is an ordinary one, as
# Flatcar's own initramfs does after Ignition. Failing to remove it fails the boot rather than
# provisioning again on the next one.
set -euo pipefail

device="${KINDLING_ESP_DEVICE:-/dev/disk/by-label/EFI-SYSTEM}"
dir=$(mktemp -d /run/kindling-esp.XXXXXX)

if ! mount "$device" "$dir"; then
    rmdir "$dir"
    echo "kindling-flatcar-quench: mounting the EFI system partition $device on $dir failed; remove flatcar/first_boot from it by hand, or the next boot provisions again" >&2
    exit 1
fi
cleanup() {
    # The flag's fate is decided by now: a mount left behind is only reported.
    umount "$dir" && rmdir "$dir" ||
        echo "kindling-flatcar-quench: unmounting $device from $dir failed" >&2
}
trap cleanup EXIT

if [[ ! -e $dir/flatcar/first_boot && ! -e $dir/coreos/first_boot ]]; then
    echo "kindling-flatcar-quench: flatcar.first_boot=detected, but neither flatcar/first_boot nor coreos/first_boot is on $device; GRUB found it on another partition?" >&2
    exit 1
fi
rm -f "$dir/flatcar/first_boot" "$dir/coreos/first_boot"
sync -f "$dir"
echo "kindling-flatcar-quench: removed Flatcar's first-boot flag from $device"
