#!/usr/bin/env bash
# The demo (`make demo`): a VM provisions itself with Kindling on its first boot, from a config
# it verified, then serves a web page that the config wrote.
#
#  1. installs what it needs on Debian (QEMU, dracut, mmdebstrap, gpg, ...) when missing;
#  2. transpiles examples/demo-webserver.bu with flint, validates it, makes a throwaway OpenPGP
#     signing key (gpg, kept under target/qemu/demo-key), signs the config with `flint sign
#     --message`, and shows what the initramfs will decide (`kindling verify`);
#  3. fetches Debian's kernel, builds the small Debian root (cached) and an initramfs with
#     dracut-module/30kindling, the release engine and a trust policy that requires a
#     signature from that key and nothing else;
#  4. boots the VM under QEMU (TCG: no KVM needed) with the signed config in fw_cfg and
#     kindling.firstboot, user networking with restrict=on and a hostfwd 127.0.0.1:PORT -> 8080;
#  5. fetches the page from the host, prints it with the provisioning timeline, and powers the
#     VM off (ACPI power button through QMP).
#
# Environment: DEMO_CONFIG (a Butane file, default examples/demo-webserver.bu), DEMO_TIMEOUT
# (seconds from power-on to wait for the page and then the boot report, default 420), KEEP_VM=1
# leaves the VM running.
set -euo pipefail
cd "$(dirname "$0")/.."

source_config="${DEMO_CONFIG:-examples/demo-webserver.bu}"
timeout="${DEMO_TIMEOUT:-420}"
work=target/qemu
demo="$work/demo"
kindling=target/release/kindling
flint=target/release/flint

say() { printf '\n== %s\n' "$*"; }

# 1. Packages.
need=()
for pair in qemu-system-x86_64:qemu-system-x86 dracut:dracut-core mmdebstrap:mmdebstrap \
    mke2fs:e2fsprogs debugfs:e2fsprogs zstd:zstd cpio:cpio python3:python3 gpg:gpg; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[[ -d /usr/lib/dracut/modules.d/01systemd-networkd ]] || need+=(dracut-network)
if ((${#need[@]})) || ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    say "installing ${need[*]:-package lists}"
    "${sudo_cmd[@]}" apt-get update -qq
    if ((${#need[@]})); then
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
            "${need[@]}" >/dev/null
    fi
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "demo: building the root (mmdebstrap) and the initramfs (dracut) needs root: run it as root" >&2
    exit 1
fi

# 2. The config: transpiled, validated, signed.
[[ -x $kindling && -x $flint ]] || cargo build --release -p kindling -p flint --bins
rm -rf "$demo"
mkdir -p "$demo"
config="$demo/config.ign"
say "flint --strict $source_config -> $config"
"$flint" --strict -o "$config" "$source_config"
"$kindling" validate "$config" && echo "(valid)"

key_dir="$work/demo-key"
if [[ ! -s $key_dir/demo.key ]]; then
    say "making a throwaway signing key (gpg, ed25519, in $key_dir)"
    rm -rf "$key_dir"
    install -d -m 0700 "$key_dir" "$key_dir/gnupg"
    GNUPGHOME="$key_dir/gnupg" gpg --batch --quiet --passphrase '' \
        --quick-gen-key "Kindling demo <demo@example.invalid>" ed25519 sign 30d
    GNUPGHOME="$key_dir/gnupg" gpg --batch --armor --export-secret-keys demo@example.invalid \
        >"$key_dir/demo.key.tmp"
    mkdir -p "$key_dir/trust/trust"
    GNUPGHOME="$key_dir/gnupg" gpg --batch --armor --export demo@example.invalid \
        >"$key_dir/trust/trust/demo.asc"
    echo '{"require": "signature", "strictChain": true}' >"$key_dir/trust/policy.json"
    mv "$key_dir/demo.key.tmp" "$key_dir/demo.key"
fi
signed="$demo/config.ign.gpg"
say "flint sign --message: $signed"
"$flint" sign --message --key "$key_dir/demo.key" -o "$signed" "$config"
say "kindling verify (what the initramfs will decide, offline)"
"$kindling" verify --trust-dir "$key_dir/trust" "$signed"

# 3. Kernel, root, initramfs.
say "building the kernel, the root and the initramfs (cached under $work/)"
started=$SECONDS
tools/fetch-kernel.sh "$work/kernel"
tools/build-root.sh "$work"
KINDLING_BIN="$kindling" KINDLING_TRUST_DIR="$key_dir/trust" \
    tools/build-initramfs.sh --with kindling "$work/initrd-kindling-release.img"
echo "ready in $((SECONDS - started)) s: kernel $(<"$work/kernel/release")," \
    "initramfs $(stat -c %s "$work/initrd-kindling-release.img") bytes"

# 4. Boot.
cp --sparse=always "$work/root.img" "$demo/disk.img"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
console="$demo/console.log"
qmp="$demo/qmp.sock"
say "booting: kindling.firstboot, the signed config in fw_cfg, web server forwarded to 127.0.0.1:$port"
qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 1024 -smp 1 \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$work/kernel/vmlinuz" -initrd "$work/initrd-kindling-release.img" \
    -append "root=/dev/vda ro console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff kindling.firstboot kindling.platform.id=qemu" \
    -drive "file=$demo/disk.img,if=virtio,format=raw" \
    -fw_cfg "name=opt/com.coreos/config,file=$signed" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=n0 \
    -serial "file:$console" -qmp "unix:$qmp,server=on,wait=off" &
qemu_pid=$!

qmp_send() {
    python3 - "$qmp" "$@" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ["qmp_capabilities"] + sys.argv[2:]:
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    f.readline()
EOF
}
stop_vm() {
    kill -0 "$qemu_pid" 2>/dev/null || return 0
    qmp_send system_powerdown 2>/dev/null || :
    for _ in $(seq 60); do
        kill -0 "$qemu_pid" 2>/dev/null || return 0
        sleep 1
    done
    echo "demo: the VM did not power off within 60 s; stopping QEMU"
    qmp_send quit 2>/dev/null || kill "$qemu_pid" 2>/dev/null || :
}
[[ -n ${KEEP_VM:-} ]] || trap stop_vm EXIT

# Console lines worth showing while the VM boots, as they arrive.
shown=0
show_progress() {
    local lines
    lines=$(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g; s/\r//g' "$console" 2>/dev/null |
        grep -E 'Welcome to|Kindling|kindling-generator|FAILED|Reached target (initrd-switch-root|multi-user)|webserver' |
        grep -v -e '^\[ *[0-9.]*\] \(systemd\|kindling\)\[' -e 'Stopped' || :)
    local total
    total=$(printf '%s\n' "$lines" | grep -c . || :)
    if ((total > shown)); then
        printf '%s\n' "$lines" | tail -n "+$((shown + 1))" | sed "s/^/  [+$((SECONDS - boot_start))s] /"
        shown=$total
    fi
}

boot_start=$SECONDS
page=""
while ((SECONDS - boot_start < timeout)); do
    show_progress
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
        echo "demo: the VM stopped before serving the page; console: $console" >&2
        grep -A12 'KINDLING: FIRST-BOOT PROVISIONING FAILED' "$console" >&2 || tail -n 40 "$console" >&2
        exit 1
    fi
    if page=$(python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())' \
        "http://127.0.0.1:$port/" 2>/dev/null); then
        break
    fi
    page=""
    sleep 2
done
show_progress
if [[ -z $page ]]; then
    echo "demo: no page after $timeout s; console: $console" >&2
    exit 1
fi

# 5. Page and timeline.
say "GET http://127.0.0.1:$port/ (from the host, through the hostfwd), $((SECONDS - boot_start)) s after power-on"
printf '%s\n' "$page"

# The root's boot-report unit prints the journal's provisioning lines once the system is up,
# which under load can come well after the page: wait for it as long as the demo's timeout
# allows, and say so when it does not come rather than print an empty timeline.
read_report() {
    grep -q '=== boot-report end ===' "$console" 2>/dev/null || return 1
    report=$(sed -n '/=== boot-report begin ===/,/=== boot-report end ===/p' "$console" | sed 's/\r//')
}
report=""
while ((SECONDS - boot_start < timeout)); do
    read_report && break
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 2
done
# Once more: the report may have landed just as the loop gave up or the VM stopped.
if [[ -z $report ]] && ! read_report; then
    if kill -0 "$qemu_pid" 2>/dev/null; then
        echo "demo: the page came, but the boot report (\"=== boot-report end ===\" on the console) did not" \
            "within DEMO_TIMEOUT=$timeout s of power-on, so there is no provisioning timeline to show;" \
            "rerun with a larger DEMO_TIMEOUT, or read the console: $console" >&2
    else
        echo "demo: the VM stopped before printing its boot report; console: $console" >&2
    fi
    exit 1
fi
say "provisioning timeline (guest clock: seconds since the kernel started, from the journal)"
timeline=$(printf '%s\n' "$report" | grep -E '^\[ *[0-9.]+\] ' |
    grep -E 'systemd\[1\]: (Starting|Finished) kindling-(fetch-offline|fetch|files)|kindling-(fetch|kargs|disks|mount).service.*skipped|Reached target (kindling-complete|initrd-switch-root)|kindling\[[0-9]+\]: \[INFO \] (config from|files: [0-9])' |
    sed -E 's/^\[ *([0-9.]+)\] /  \1 s  /; s/systemd\[1\]: //; s/kindling\[[0-9]+\]: \[INFO \] /  engine: /' || :)
if [[ -z $timeline ]]; then
    echo "demo: the boot report came without provisioning lines; it is in $console" >&2
    exit 1
fi
printf '%s\n' "$timeline"

if [[ -n ${KEEP_VM:-} ]]; then
    say "the VM keeps running (pid $qemu_pid): curl http://127.0.0.1:$port/; stop it with kill $qemu_pid"
    exit 0
fi
say "powering the VM off"
stop_vm
trap - EXIT
wait "$qemu_pid" 2>/dev/null || :
echo "done: the whole console is in $console"
