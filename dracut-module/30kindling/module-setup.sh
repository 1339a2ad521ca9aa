#!/bin/bash
# dracut module "kindling": first-boot provisioning from an Ignition-compatible config.
#
# Included only when asked for: `dracut -a kindling`, or add_dracutmodules+=" kindling " in a
# dracut.conf.d file. Build-time environment:
#   KINDLING_BIN        the engine to install as /usr/bin/kindling (default /usr/bin/kindling)
#   KINDLING_TRUST_DIR  trust policy.json and trust/*.asc|*.pgp, copied to /etc/kindling/
#                       (default: the build host's /etc/kindling, when present)
#   KINDLING_BASE_DIR   base configs *.json, copied to /usr/lib/kindling/base.d/
#                       (default: the build host's /usr/lib/kindling/base.d, when present)
#
# dracut sets moddir, initdir, systemd*dir and the inst_* helpers.
# shellcheck disable=SC2154

# What the stages and units run and cannot do without, each with who runs it: shadow-utils for
# users and groups (with --root), the disk tools, and what the units and helper scripts call.
KINDLING_REQUIRED_TOOLS="useradd:files usermod:files userdel:files groupadd:files groupdel:files
    sgdisk:disks partx:disks wipefs:disks udevadm:disks umount:mount mount:units
    bash:units modprobe:units systemctl:units journalctl:units ip:units"

# Prints what is missing on the build host (the engine, then the tools), one per line.
kindling_missing() {
    local bin="${KINDLING_BIN:-/usr/bin/kindling}" entry
    [[ -f $bin && -x $bin ]] || echo "the engine $bin (install the kindling package, or set KINDLING_BIN to the engine)"
    for entry in $KINDLING_REQUIRED_TOOLS; do
        find_binary "${entry%%:*}" &>/dev/null && continue
        if [[ ${entry#*:} == units ]]; then
            echo "${entry%%:*}, which the units and helper scripts run"
        else
            echo "${entry%%:*}, which the ${entry#*:} stage runs"
        fi
    done
}

check() {
    # dracut builds no image when a module the user asked for (-a kindling, add_dracutmodules)
    # fails its check: it reports "cannot be found or installed" and exits 1. install() could
    # only log, and dracut would still write an image that boots unprovisioned, so everything
    # the initramfs cannot do without is checked here.
    local missing
    missing=$(kindling_missing)
    if [[ $missing ]]; then
        # Said only when asked for; otherwise dracut merely leaves the module out.
        if [[ " $dracutmodules $add_dracutmodules $force_add_dracutmodules " == *" kindling "* ]]; then
            local line
            while IFS= read -r line; do
                derror "kindling: missing $line"
            done <<<"$missing"
            derror "kindling: refusing to build an initramfs that would boot without provisioning"
        fi
        return 1
    fi
    # 255: never picked by default, only when a user or another module asks for it.
    return 255
}

# A failure past check() (a library dracut-install cannot resolve, an incomplete clevis): stop
# dracut here, before it writes an image. install() runs in dracut's own shell, whose EXIT
# trap removes the half-built tree.
kindling_fatal() {
    dfatal "kindling: $*"
    exit 1
}

depends() {
    # systemd-networkd brings the network up, but only when the fetch stage needs it.
    # Not dracut's dm module: its user-space side is installed below, and its kernel side is
    # every driver under drivers/md (dm-thin, dm-cache, bcache, md-cluster with dlm, ...),
    # 4.5 MB that LUKS and RAID do not use.
    echo "systemd systemd-initrd systemd-networkd"
    return 0
}

installkernel() {
    # Each driver set follows the tool that uses it: an image without mdadm cannot build an
    # array, so the md personalities would be dead weight in it, and so would dm-crypt and the
    # ciphers without cryptsetup, and vboxguest without VBoxControl. A config asking for RAID
    # or LUKS on such an image fails naming the missing tool, as it did before: the drivers
    # were never the only thing missing.
    #
    # fw_cfg carries the config on platform qemu.
    hostonly='' instmods qemu_fw_cfg
    # The guest interfaces of the other hypervisor platforms: hyperv (the KVP device), applehv
    # (vsock), qemu on s390x/ppc64le (virtio-blk), zvm (the reader), nvidiabluefield (the boot
    # FIFO), virtualbox (VBoxControl's driver).
    hostonly='' instmods hv_utils vsock vmw_vsock_virtio_transport virtio_blk
    case ${DRACUT_ARCH:-$(uname -m)} in
        s390x) hostonly='' instmods vmur ;;
        aarch64) hostonly='' instmods mlxbf_bootctl ;;
    esac
    if find_binary VBoxControl &>/dev/null; then
        hostonly='' instmods vboxguest
    fi
    if find_binary mdadm &>/dev/null; then
        hostonly='' instmods md_mod raid0 raid1 raid10 raid456 linear
    fi
    if find_binary cryptsetup &>/dev/null; then
        # The ciphers and hashes LUKS volumes use: cryptsetup's default (aes-xts-plain64 with
        # sha256; argon2 runs in user space), the usual alternatives (cbc-essiv, serpent,
        # twofish, sha1, sha512), the AF_ALG sockets cryptsetup reaches the kernel's crypto
        # through, and the random generators dm-crypt seeds from. Not all of crypto/: that
        # carries the self-test module tcrypt and compressors and ciphers no LUKS volume uses.
        hostonly='' instmods dm_mod dm_crypt af_alg algif_skcipher algif_hash drbg \
            jitterentropy_rng aes xts cbc ecb essiv sha1 sha256 sha512 serpent twofish
    fi
    # The TPM: measured configs and clevis tpm2 bindings.
    hostonly='' instmods "=drivers/char/tpm"
    # Config drives and OVF CD-ROMs (openstack, cloudstack, nutanix, powervs, kubevirt,
    # ibmcloud, proxmoxve: config-2/cidata; azure, azurestack: udf or iso9660): the CD-ROM
    # drivers and the filesystems they carry.
    hostonly='' instmods sr_mod cdrom ahci ata_piix isofs udf vfat nls_cp437 nls_iso8859_1 nls_utf8
}

# Clevis bindings (storage.luks.*.clevis), when the build host has clevis (Debian: clevis
# clevis-luks, plus clevis-tpm2 for tpm2 and curl for Tang). dracut's own clevis modules carry
# only the unlock side; the disks stage binds, so it needs the encrypt pins and `luks bind`
# too, and unlocks through the new binding to prove it works.
install_clevis() {
    find_binary clevis-luks-bind >/dev/null || return 0
    inst_multiple clevis clevis-luks-bind clevis-luks-unlock clevis-luks-list \
        clevis-luks-common-functions clevis-decrypt clevis-encrypt-sss clevis-decrypt-sss \
        jose luksmeta pwmake awk basename cat cut find grep mkdir mktemp rm sed sort tail touch tr ||
        kindling_fatal "clevis is installed but incomplete (install clevis, clevis-luks and jose, or remove clevis)"
    # pwmake (the new keyslot's passphrase) checks what it makes against cracklib's dictionary.
    inst_multiple -o /etc/security/pwquality.conf /var/cache/cracklib/cracklib_dict.hwm \
        /var/cache/cracklib/cracklib_dict.pwd /var/cache/cracklib/cracklib_dict.pwi \
        clevis-encrypt-tang clevis-decrypt-tang curl \
        clevis-encrypt-tpm2 clevis-decrypt-tpm2 tpm2_createprimary tpm2_create tpm2_createpolicy \
        tpm2_load tpm2_unseal tpm2_flushcontext tpm2_pcrread tpm2_pcrlist
    # tpm2-tools open the TPM through a TCTI library they load at run time.
    inst_libdir_file "libtss2-tcti-device.so*"
}

install() {
    local bin="${KINDLING_BIN:-/usr/bin/kindling}"
    inst_binary "$bin" /usr/bin/kindling || kindling_fatal "installing the engine $bin failed"

    # The stages' and units' tools (check() made sure they exist). Each mkfs is optional: a
    # config asking for a format whose mkfs is missing fails with its name.
    local tool
    for tool in $KINDLING_REQUIRED_TOOLS; do
        inst_multiple "${tool%%:*}" || kindling_fatal "installing ${tool%%:*} failed"
    done
    inst_multiple -o chpasswd
    inst_multiple -o mkfs.ext4 mke2fs /etc/mke2fs.conf mkfs.xfs mkfs.btrfs mkfs.vfat mkfs.fat mkswap mdadm cryptsetup
    # udev names arrays /dev/md/<name> with mdadm's own rules.
    inst_rules 01-md-raid-creating.rules 63-md-raid-arrays.rules || :
    # cryptsetup waits for udev to acknowledge each device-mapper device (udev sync): its own
    # rules, then device-mapper's user-space side: dmsetup and the dm udev rules (udev sync,
    # the /dev/mapper and /dev/disk links), and db_persist, without which the booted system
    # never considers an opened LUKS volume's /dev/mapper/<name> ready.
    inst_rules 60-cryptsetup.rules || :
    inst_multiple -o dmsetup
    inst_rules 10-dm.rules 13-dm-disk.rules 55-dm.rules 60-persistent-storage-dm.rules 95-dm-notify.rules || :
    inst_rules "$moddir/11-kindling-dm-persist.rules"
    inst_simple "$systemdsystemunitdir/modprobe@.service"
    # A config drive on a CD-ROM gets its /dev/disk/by-label link only once cdrom_id has said
    # there is a medium; blkid finds the OVF CD-ROM of azure/azurestack by filesystem type.
    inst_rules 60-cdrom_id.rules || :
    inst_multiple -o /usr/lib/udev/cdrom_id /lib/udev/cdrom_id blkid
    install_clevis
    # The guest tools that platforms vmware, virtualbox and zvm read their config with, only
    # where the build host has them (open-vm-tools, the VirtualBox Guest Additions,
    # s390-tools); without them those platforms fail with the tool's name.
    inst_multiple -o vmware-rpctool VBoxControl vmur chccwdev cio_ignore

    # CA bundle for https configs (Debian and Fedora locations).
    inst_multiple -o /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt

    # Trust policy and certificates, and base configs, from the build host (or from the
    # directories KINDLING_TRUST_DIR and KINDLING_BASE_DIR name).
    local trust="${KINDLING_TRUST_DIR:-$dracutsysrootdir/etc/kindling}"
    local base="${KINDLING_BASE_DIR:-$dracutsysrootdir/usr/lib/kindling/base.d}"
    local f
    [[ -f $trust/policy.json ]] && inst_simple "$trust/policy.json" /etc/kindling/policy.json
    for f in "$trust"/trust/*.asc "$trust"/trust/*.pgp; do
        [[ -f $f ]] && inst_simple "$f" "/etc/kindling/trust/${f##*/}"
    done
    for f in "$base"/*.json; do
        [[ -f $f ]] && inst_simple "$f" "/usr/lib/kindling/base.d/${f##*/}"
    done

    # Helpers.
    inst_script "$moddir/kindling-generator" "$systemdutildir/system-generators/kindling-generator"
    inst_script "$moddir/kindling-network-up.sh" /usr/lib/kindling/kindling-network-up
    inst_script "$moddir/kindling-emergency-summary.sh" /usr/lib/kindling/kindling-emergency-summary
    # Flatcar: removes GRUB's first-boot flag; the generator pulls it in when GRUB set it.
    inst_script "$moddir/kindling-flatcar-quench.sh" /usr/lib/kindling/kindling-flatcar-quench
    inst_simple "$moddir/kindling-flatcar-quench.service" \
        "$systemdsystemunitdir/kindling-flatcar-quench.service"
    inst_multiple mktemp rmdir sync
    inst_simple "$moddir/90-kindling-dhcp.network" "$systemdnetwork/90-kindling-dhcp.network"

    # The stages, pulled in by kindling-complete.target, which the generator adds to
    # initrd.target on a first boot only.
    inst_simple "$moddir/kindling-complete.target" "$systemdsystemunitdir/kindling-complete.target"
    local unit
    for unit in kindling-fetch-offline.service kindling-fetch.service kindling-kargs.service \
        kindling-kargs-reboot.service kindling-disks.service kindling-mount.service \
        kindling-remount-sysroot.service kindling-files.service; do
        inst_simple "$moddir/$unit" "$systemdsystemunitdir/$unit"
        mkdir -p "$initdir/$systemdsystemunitdir/kindling-complete.target.requires"
        ln_r "$systemdsystemunitdir/$unit" "$systemdsystemunitdir/kindling-complete.target.requires/$unit"
    done

    # The failure summary runs whenever emergency.target is reached.
    inst_simple "$moddir/kindling-emergency-summary.service" \
        "$systemdsystemunitdir/kindling-emergency-summary.service"
    mkdir -p "$initdir/$systemdsystemunitdir/emergency.target.wants"
    ln_r "$systemdsystemunitdir/kindling-emergency-summary.service" \
        "$systemdsystemunitdir/emergency.target.wants/kindling-emergency-summary.service"

    # dracut's systemd-networkd module enables networkd on every boot. Kindling starts it
    # itself when the fetch stage needs the network; the generator enables it again when the
    # command line asks for initrd networking (ip=, rd.neednet=1).
    for unit in systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service; do
        $SYSTEMCTL -q --root "$initdir" disable "$unit" 2>/dev/null || :
    done
}
