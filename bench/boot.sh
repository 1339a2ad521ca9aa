#!/usr/bin/env bash
# Boot benchmark: the same config provisioned by Kindling's initramfs and by Ignition's (Debian's
# ignition package, dracut module 30ignition), with the same kernel, root, VM and config.
#
#   bench/boot.sh [RUNS]        (default 7 boots of each of the four kinds, interleaved)
#
# The figure that matters is what provisioning adds to a boot: for each module, the median
# time from kernel start to "Reached target initrd-switch-root.target" when booted with its
# firstboot argument, minus the median for the same image, VM and root booted without it.
# Measured on the guest's monotonic clock (seconds since the kernel started, read from the
# journal that the test root's boot-report.service prints). That clock runs in QEMU's icount
# mode by default (BOOT_CLOCK=icount): it advances one nanosecond per guest instruction while
# the guest runs and in real time only while it idles, so the emulator's speed and whatever
# else this host runs do not enter the figure (under plain TCG one boot varies by about 2 s;
# under icount by about 0.1 s), and boots can run side by side (BOOT_JOBS, default: the CPU
# count). BOOT_CLOCK=wall boots with the guest clock following the host's, one boot at a time,
# as the earlier measurements did. Along with switch-root, for first boots:
#   complete   kernel start -> "Reached target <kindling|ignition>-complete.target"
#   stages     first stage unit started -> the complete target reached (the provisioning span)
#   busy       sum over the stage units of (Finished - Starting)
# and the bytes each module adds to the initramfs against a baseline built with neither
# (same dracut modules and drivers otherwise): compressed image and uncompressed contents.
# Then, without a VM, the same two stages (fetch-offline, files) of each engine on this host
# against a directory holding the root's /etc (platform file): the engines' own cost, without
# the emulator's.
#
# Ignition needs, on the root: /etc/selinux/config with SELINUXTYPE= (it relabels what it
# writes; the initramfs gets a setfiles stand-in that does nothing) and /etc/machine-id set to
# "uninitialized" (for presets; the test root has it). Debian's Ignition 2.14 reads spec up to
# 3.3.0, so the config is tests/qemu/fixtures/proof.ign with its version set to 3.3.0.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-7}"
# shellcheck disable=SC2054 # -icount's value is one argument with commas
case "${BOOT_CLOCK:-icount}" in
    icount) clock=(-icount shift=0,align=off,sleep=on) jobs="${BOOT_JOBS:-$(nproc)}" ;;
    wall) clock=() jobs="${BOOT_JOBS:-1}" ;;
    *) echo "bench/boot.sh: BOOT_CLOCK is icount or wall" >&2; exit 2 ;;
esac
work=target/qemu
out="$work/bench"
kindling=target/release/kindling

for tool in qemu-system-x86_64 dracut mmdebstrap debugfs zstd cpio; do
    command -v "$tool" >/dev/null || { echo "bench/boot.sh: $tool is missing (see docs/src/boot-integration.md)" >&2; exit 1; }
done
[[ -d /usr/lib/dracut/modules.d/30ignition ]] || { echo "bench/boot.sh: Debian's ignition package is missing" >&2; exit 1; }

cargo build --release -p kindling --bin kindling >/dev/null 2>&1 || cargo build --release -p kindling --bin kindling
tools/fetch-kernel.sh "$work/kernel"
tools/build-root.sh "$work"
rm -rf "$out"
mkdir -p "$out"

echo "== building three initramfs images (none, kindling, ignition)"
for with in none kindling ignition; do
    KINDLING_BIN="$kindling" tools/build-initramfs.sh --with "$with" "$out/initrd-$with.img"
done

# The same three as a host without the optional storage and clevis tools would build them (the
# issue's "Ignition adds about 13 MB" was measured on such a host). Both modules take these tools
# only when the host has them, so each is hidden (tools/build-initramfs.sh --hide). sgdisk,
# partx, wipefs and udevadm stay (Kindling requires them), and so does curl (Ignition's module
# requires dracut's url-lib).
optional_tools=(mkfs.ext4 mke2fs mkfs.xfs mkfs.btrfs mkfs.vfat mkfs.fat mkswap mdadm cryptsetup dmsetup
    clevis clevis-luks-bind clevis-luks-unlock clevis-luks-list clevis-luks-common-functions clevis-decrypt
    clevis-encrypt-sss clevis-decrypt-sss clevis-encrypt-tang clevis-decrypt-tang clevis-encrypt-tpm2
    clevis-decrypt-tpm2 jose luksmeta pwmake tpm2 tpm2_createprimary tpm2_create tpm2_createpolicy
    tpm2_load tpm2_unseal tpm2_flushcontext tpm2_pcrread tpm2_pcrlist)
echo "== building them again with the optional tools hidden"
hide_args=()
for t in "${optional_tools[@]}"; do hide_args+=(--hide "$t"); done
for with in none kindling ignition; do
    KINDLING_BIN="$kindling" tools/build-initramfs.sh --with "$with" "${hide_args[@]}" "$out/initrd-$with-bare.img"
done

# The root both boot: the test root plus the SELinux config file Ignition wants.
cp --sparse=always "$work/root.img" "$out/root.img"
printf 'SELINUX=disabled\nSELINUXTYPE=targeted\n' >"$out/selinux-config"
debugfs -w -R "mkdir /etc/selinux" "$out/root.img" 2>/dev/null
debugfs -w -R "write $out/selinux-config /etc/selinux/config" "$out/root.img" 2>/dev/null
sed 's/"version": "3.4.0"/"version": "3.3.0"/' tests/qemu/fixtures/proof.ign >"$out/config.ign"
"$kindling" validate "$out/config.ign" >/dev/null
if command -v ignition-validate >/dev/null; then ignition-validate "$out/config.ign"; fi

boot() { # kind mode run
    local kind=$1 mode=$2 run=$3 args
    local disk="$out/disk-$kind-$mode-$run.img" log="$out/console-$kind-$mode-$run.log"
    cp --sparse=always "$out/root.img" "$disk"
    args="$kind.platform.id=qemu"
    # A first boot powers off from the config's proof unit; a plain one from the boot report.
    if [[ $mode == first ]]; then args+=" $kind.firstboot"; else args+=" boot_report.poweroff"; fi
    timeout 900 qemu-system-x86_64 -machine q35 -accel tcg "${clock[@]}" -cpu max -m 1024 -smp 1 \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$work/kernel/vmlinuz" -initrd "$out/initrd-$kind.img" \
        -append "root=/dev/vda ro console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff $args" \
        -drive "file=$disk,if=virtio,format=raw" \
        -fw_cfg "name=opt/com.coreos/config,file=$out/config.ign" \
        -serial "file:$log" || true
    rm -f "$disk"
    if [[ $mode == first ]]; then
        # The proof unit ran on the booted system: provisioning worked.
        grep -q 'proof: message=written by Kindling' "$log" ||
            { echo "bench/boot.sh: $kind first boot $run did not provision; see $log" >&2; exit 1; }
    elif grep -q "Starting $kind-" "$log"; then
        echo "bench/boot.sh: $kind plain boot $run ran a stage; see $log" >&2
        exit 1
    fi
    sed -n '/=== boot-report begin ===/,/=== boot-report end ===/p' "$log" | tr -d '\r' |
        stage_times "$kind" "$mode" "$run"
}

# Reads a console's boot report on stdin; prints: kind mode run switch-root complete span busy
stage_times() {
    awk -v kind="$1" -v mode="$2" -v run="$3" '
        /firstboot-complete/ { next }    # a unit of the booted system, not a stage
        match($0, /^\[ *[0-9.]+\]/) {
            t = substr($0, 2, RLENGTH - 2) + 0
            if ($0 ~ ("systemd\\[1\\]: Starting " kind "-")) {
                u = $0; sub(/.*Starting /, "", u); sub(/ .*/, "", u)
                start[u] = t; if (first == "") first = t
            }
            if ($0 ~ ("systemd\\[1\\]: Finished " kind "-")) {
                u = $0; sub(/.*Finished /, "", u); sub(/ .*/, "", u)
                if (u in start) busy += t - start[u]
            }
            if ($0 ~ ("Reached target " kind "-complete.target")) complete = t
            if ($0 ~ /Reached target initrd-switch-root.target/) switchroot = t
        }
        END {
            if (switchroot == "") { print "no initrd-switch-root.target in the boot report" > "/dev/stderr"; exit 1 }
            printf "%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\n", kind, mode, run, switchroot, complete, complete - first, busy
        }'
}

echo "== booting $runs times each of: kindling first, ignition first, kindling plain, ignition plain" \
    "(clock ${BOOT_CLOCK:-icount}, $jobs at a time)"
results="$out/results.tsv"
: >"$results"
order=()
for run in $(seq "$runs"); do
    for kind in kindling ignition; do
        for mode in first plain; do
            while (($(jobs -rp | wc -l) >= jobs)); do wait -n || :; done
            boot "$kind" "$mode" "$run" >"$out/line-$kind-$mode-$run" &
            order+=("$kind-$mode-$run")
        done
    done
done
wait
for boot in "${order[@]}"; do
    # A boot that failed said why on stderr and left no line.
    [[ -s $out/line-$boot ]] || { echo "bench/boot.sh: boot $boot gave no result" >&2; exit 1; }
    tee -a "$results" <"$out/line-$boot"
    rm "$out/line-$boot"
done

size_of() { stat -c %s "$1"; }
unpacked() { zstd -dc "$1" 2>/dev/null | wc -c; }
base_c=$(size_of "$out/initrd-none.img") base_u=$(unpacked "$out/initrd-none.img")

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { awk -F'\t' -v k="$1" -v m="$2" -v c="$3" '$1 == k && $2 == m { print $c }' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

kf=$(stat_of kindling first 4) kp=$(stat_of kindling plain 4)
if_=$(stat_of ignition first 4) ip=$(stat_of ignition plain 4)
ka=$(awk -v a="$kf" -v b="$kp" 'BEGIN { print a - b }') ia=$(awk -v a="$if_" -v b="$ip" 'BEGIN { print a - b }')
echo
echo "| medians of $runs boots | Kindling | Ignition | Kindling / Ignition |"
echo "|---|---|---|---|"
printf '| kernel start → initrd-switch-root.target, first boot (s) | %.3f | %.3f | |\n' "$kf" "$if_"
printf '| the same image booted without the firstboot argument (s) | %.3f | %.3f | |\n' "$kp" "$ip"
printf '| **what provisioning adds to the boot (s)** | **%.3f** | **%.3f** | **%.2f** |\n' "$ka" "$ia" "$(ratio "$ka" "$ia")"
# The same from each run's own pair (first boot minus plain boot of the same run), as a check
# that the difference of medians is not an artefact of the two distributions' shapes.
paired() { awk -F'\t' -v k="$1" '$1 == k { t[$2 "," $3] = $4 } END { for (r in t) if (r ~ /^first,/) { n = substr(r, 7); print t[r] - t["plain," n] } }' "$results" | median; }
kd=$(paired kindling) id=$(paired ignition)
printf '| the same, median of the per-run differences (s) | %.3f | %.3f | %.2f |\n' "$kd" "$id" "$(ratio "$kd" "$id")"
range_of() { awk -F'\t' -v k="$1" -v m="$2" '$1 == k && $2 == m { print $4 }' "$results" | sort -n | sed -n '1p;$p' | paste -sd' '; }
for mode in first plain; do
    read -r klo khi <<<"$(range_of kindling "$mode")"
    read -r ilo ihi <<<"$(range_of ignition "$mode")"
    printf '| %s boots, lowest – highest (s) | %.3f – %.3f | %.3f – %.3f | |\n' "$mode" "$klo" "$khi" "$ilo" "$ihi"
done
for col in 5:"kernel start → provisioning complete (s)" 6:"provisioning span: first stage started → complete (s)" \
    7:"stage units running, summed (s)"; do
    c=${col%%:*} label=${col#*:}
    k=$(stat_of kindling first "$c") i=$(stat_of ignition first "$c")
    printf '| %s | %.3f | %.3f | %.2f |\n' "$label" "$k" "$i" "$(ratio "$k" "$i")"
done
# Two rows (compressed, uncompressed): the bytes each module adds to the baseline image of
# the same set ("" as built on this host, "-bare" without the optional tools).
bytes_rows() { # suffix label
    local base="$out/initrd-none$1.img" k="$out/initrd-kindling$1.img" i="$out/initrd-ignition$1.img"
    local kc=$(($(size_of "$k") - $(size_of "$base"))) ic=$(($(size_of "$i") - $(size_of "$base")))
    local ku=$(($(unpacked "$k") - $(unpacked "$base"))) iu=$(($(unpacked "$i") - $(unpacked "$base")))
    printf '| initramfs bytes added%s, compressed (zstd -3) | %d | %d | %.2f |\n' "$2" "$kc" "$ic" \
        "$(awk -v a="$kc" -v b="$ic" 'BEGIN { print a / b }')"
    printf '| initramfs bytes added%s, uncompressed | %d | %d | %.2f |\n' "$2" "$ku" "$iu" \
        "$(awk -v a="$ku" -v b="$iu" 'BEGIN { print a / b }')"
}
bytes_rows "" ""
bytes_rows -bare " without the optional tools"

# Where the bare rows' bytes go: the files only one module adds, and those both add (the same
# path, for the same need: the network stack, shadow's tools, sgdisk, the CA bundle).
files_of() { # image -> "path size" per regular file, sorted by path
    zstd -dc "$1" 2>/dev/null | cpio -itv --quiet 2>/dev/null | awk '$1 ~ /^-/ { print $9, $5 }' | sort
}
files_of "$out/initrd-none-bare.img" >"$out/files-none"
for with in kindling ignition; do
    files_of "$out/initrd-$with-bare.img" | join -v 1 - "$out/files-none" >"$out/files-$with-added"
done
sum_of() { awk '{ s += $2 } END { print s + 0 }'; }
ko=$(join -v 1 "$out/files-kindling-added" "$out/files-ignition-added" | sum_of)
io=$(join -v 1 "$out/files-ignition-added" "$out/files-kindling-added" | sum_of)
both=$(join "$out/files-kindling-added" "$out/files-ignition-added" | sum_of)
printf '| … of which files only this module adds, uncompressed | %d | %d | %.2f |\n' "$ko" "$io" \
    "$(awk -v a="$ko" -v b="$io" 'BEGIN { print a / b }')"
printf '| … of which files both modules add, uncompressed | %d | %d | |\n' "$both" "$both"
printf '\nBaseline initramfs (neither module): %d bytes compressed, %d uncompressed.\n' "$base_c" "$base_u"
printf 'Engine binaries: kindling %d bytes, ignition %d bytes.\n' "$(size_of "$kindling")" \
    "$(size_of /usr/lib/dracut/modules.d/30ignition/ignition)"

# The same stages natively: fetch-offline then files, platform file, into a fresh directory
# with the root's /etc, median of 7 runs.
native="$PWD/$out/native"
mkdir -p "$native/bin" "$native/empty"
printf '#!/bin/sh\nexit 0\n' >"$native/bin/setfiles"
chmod 0755 "$native/bin/setfiles"
: >"$native/cmdline"
fresh_root() {
    rm -rf "$native/root" "$native/run"
    mkdir -p "$native/root" "$native/run"
    debugfs -R "rdump /etc $native/root" "$out/root.img" 2>/dev/null
    mkdir -p "$native/root/home" "$native/root/usr/local/bin"
}
native_kindling() {
    local stage
    for stage in fetch-offline files; do
        KINDLING_CONFIG_FILE="$out/config.ign" "$kindling" "$stage" --platform file \
            --root "$native/root" --run-dir "$native/run" --trust-dir "$native/empty" \
            --cmdline-file "$native/cmdline" --base-dir "$native/empty" 2>/dev/null
    done
}
native_ignition() {
    local stage
    for stage in fetch-offline files; do
        (umask 022 && PATH="$native/bin:$PATH" IGNITION_CONFIG_FILE="$out/config.ign" \
            /usr/lib/dracut/modules.d/30ignition/ignition -platform file -root "$native/root" \
            -config-cache "$native/run/cache.json" -state-file "$native/run/state" \
            -neednet "$native/run/neednet" -log-to-stdout -stage "$stage" >/dev/null 2>&1)
    done
}
native_ms() { # kind
    local i t0 t1 times=()
    for i in $(seq 7); do
        fresh_root
        t0=$(date +%s%N)
        "native_$1"
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
        [[ -f $native/root/etc/.$1-result.json ]] || { echo "bench/boot.sh: native $1 run $i did not provision" >&2; exit 1; }
    done
    printf '%s\n' "${times[@]}" | median
}
nk=$(native_ms kindling) ni=$(native_ms ignition)
echo
echo "| without a VM: fetch-offline + files on this host, median of 7 | Kindling | Ignition | Kindling / Ignition |"
echo "|---|---|---|---|"
printf '| wall time (ms) | %d | %d | %.2f |\n' "$nk" "$ni" "$(awk -v a="$nk" -v b="$ni" 'BEGIN { print a / b }')"
echo
echo "Raw results: $results; consoles: $out/console-*.log"
