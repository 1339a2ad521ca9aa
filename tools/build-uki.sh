#!/usr/bin/env bash
# Builds a Unified Kernel Image: systemd-stub + kernel + initramfs (with 30kindling and its trust
# dir) + kernel command line + os-release, assembled with objcopy (Debian bookworm has no ukify),
# and signs it with sbsign when a key is given. Under Secure Boot the firmware checks the
# signature, which covers every section: the kernel, the initramfs (with the trust policy and
# certificates in it) and the command line (with the config hash pin in it).
#
#   tools/build-uki.sh --kernel VMLINUZ --initrd INITRD --cmdline "ARGS" [--pin CONFIG]
#                      [--osrel FILE] [--stub EFI] [--key DB.key --cert DB.crt] OUT.efi
#
#   --pin CONFIG   appends kindling.config.hash=sha512-<digest of CONFIG> to the command line,
#                  so this UKI provisions from that config only (byte for byte as delivered).
#   --key/--cert   sign OUT.efi with this db key (sbsign); without them OUT.efi is unsigned.
#
# Needs: objcopy (binutils), systemd-stub (systemd-boot-efi), sbsign (sbsigntool).
set -euo pipefail

kernel='' initrd='' cmdline='' pin='' key='' cert='' out=''
osrel=/usr/lib/os-release
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case $1 in
        --kernel) kernel=$2; shift 2 ;;
        --initrd) initrd=$2; shift 2 ;;
        --cmdline) cmdline=$2; shift 2 ;;
        --pin) pin=$2; shift 2 ;;
        --osrel) osrel=$2; shift 2 ;;
        --stub) stub=$2; shift 2 ;;
        --key) key=$2; shift 2 ;;
        --cert) cert=$2; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "build-uki: unknown option $1" >&2; usage ;;
        *) out=$1; shift ;;
    esac
done
[[ -n $kernel && -n $initrd && -n $out ]] || usage
for f in "$kernel" "$initrd" "$osrel" "$stub"; do
    [[ -r $f ]] || { echo "build-uki: cannot read $f" >&2; exit 1; }
done
command -v objcopy >/dev/null || { echo "build-uki: objcopy is missing (apt-get install binutils)" >&2; exit 1; }
if [[ -n $key || -n $cert ]]; then
    [[ -r $key && -r $cert ]] || { echo "build-uki: --key and --cert must both name readable files" >&2; exit 1; }
    command -v sbsign >/dev/null || { echo "build-uki: sbsign is missing (apt-get install sbsigntool)" >&2; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kindling-uki.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [[ -n $pin ]]; then
    digest=$(sha512sum "$pin" | cut -d' ' -f1)
    cmdline="$cmdline kindling.config.hash=sha512-$digest"
fi
printf '%s' "${cmdline# }" >"$tmp/cmdline"
cp "$osrel" "$tmp/osrel"

# Each section goes page-aligned after the stub's last one (its image base is 0), .linux last.
align=4096
end=0
while read -r size vma; do
    e=$((16#$size + 16#$vma))
    ((e > end)) && end=$e
done < <(objdump -h -w "$stub" | awk '$1 ~ /^[0-9]+$/ {print $3, $4}')
next() { local o=$(($1 + $2)); echo $(((o + align - 1) / align * align)); }
size() { stat -Lc%s "$1"; }
osrel_at=$(next "$end" 0)
cmdline_at=$(next "$osrel_at" "$(size "$tmp/osrel")")
initrd_at=$(next "$cmdline_at" "$(size "$tmp/cmdline")")
linux_at=$(next "$initrd_at" "$(size "$initrd")")
objcopy \
    --add-section .osrel="$tmp/osrel" --change-section-vma .osrel="$(printf 0x%x "$osrel_at")" \
    --add-section .cmdline="$tmp/cmdline" --change-section-vma .cmdline="$(printf 0x%x "$cmdline_at")" \
    --add-section .initrd="$initrd" --change-section-vma .initrd="$(printf 0x%x "$initrd_at")" \
    --add-section .linux="$kernel" --change-section-vma .linux="$(printf 0x%x "$linux_at")" \
    "$stub" "$tmp/uki.efi"

if [[ -n $key ]]; then
    # sbsign warns about gaps between sections; the firmware accepts the image.
    sbsign --key "$key" --cert "$cert" --output "$out.tmp" "$tmp/uki.efi" 2>"$tmp/sbsign.log" ||
        { cat "$tmp/sbsign.log" >&2; exit 1; }
    mv "$out.tmp" "$out"
else
    mv "$tmp/uki.efi" "$out"
fi
echo "build-uki: $out ($(size "$out") bytes${key:+, signed with $cert}); cmdline: $(cat "$tmp/cmdline")"
