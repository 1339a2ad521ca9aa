//! The field tables. Fields that reach the output are listed in Ignition's own field order,
//! which is the order the output is written in.

use super::{Field, Gate, Obj, Ty};

const fn f(yaml: &'static str, json: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        yaml,
        json: Some(json),
        ty,
        gate: Gate::Always,
        required: false,
        doc,
    }
}

/// A field that exists only in the YAML dialect (sugar).
const fn sugar(yaml: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        yaml,
        json: None,
        ty,
        gate: Gate::Always,
        required: false,
        doc,
    }
}

impl Field {
    const fn since(mut self, level: u8) -> Self {
        self.gate = Gate::Since(level);
        self
    }
    const fn until(mut self, level: u8) -> Self {
        self.gate = Gate::Until(level);
        self
    }
    const fn fcos(mut self, minor: u8) -> Self {
        self.gate = Gate::Fcos(minor);
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

const STR: Ty = Ty::Str;
const INT: Ty = Ty::Int;
const BOOL: Ty = Ty::Bool;
const STRS: Ty = Ty::List(&Ty::Str);

pub static ROOT: Obj = Obj {
    name: "config",
    fields: &[
        sugar("variant", STR, "The operating system the config is for.").required(),
        sugar("version", STR, "The version of the config spec, such as `1.7.0`.").required(),
        f("ignition", "ignition", Ty::Obj(&IGNITION), "Metadata about the config itself."),
        f("kernel_arguments", "kernelArguments", Ty::Obj(&KERNEL_ARGUMENTS), "Kernel arguments the installed system must, or must not, have.").since(3),
        f("passwd", "passwd", Ty::Obj(&PASSWD), "Users and groups to create or change."),
        f("storage", "storage", Ty::Obj(&STORAGE), "Disks, RAID, LUKS, filesystems, and the files, directories and links written into them."),
        f("systemd", "systemd", Ty::Obj(&SYSTEMD), "systemd units to write, enable or mask."),
        sugar("boot_device", Ty::Obj(&BOOT_DEVICE), "Encrypt and/or mirror the boot disk; expands into storage entries.").fcos(3),
        sugar("grub", Ty::Obj(&GRUB), "GRUB bootloader settings; expands into a user.cfg file.").fcos(5),
    ],
};

static IGNITION: Obj = Obj {
    name: "ignition",
    fields: &[
        f(
            "config",
            "config",
            Ty::Obj(&IGNITION_CONFIG),
            "Other configs to merge into, or to replace, this one.",
        ),
        f(
            "proxy",
            "proxy",
            Ty::Obj(&PROXY),
            "HTTP(S) proxies for fetching remote resources.",
        )
        .since(1),
        f(
            "security",
            "security",
            Ty::Obj(&SECURITY),
            "Network security settings.",
        ),
        f("timeouts", "timeouts", Ty::Obj(&TIMEOUTS), "HTTP timeouts."),
    ],
};

static IGNITION_CONFIG: Obj = Obj {
    name: "ignition_config",
    fields: &[
        f(
            "merge",
            "merge",
            Ty::List(&Ty::Obj(&RESOURCE)),
            "Configs merged into this one, in order.",
        )
        .since(1),
        f(
            "merge",
            "merge",
            Ty::List(&Ty::Obj(&REFERENCE_V0)),
            "Configs merged into this one, in order.",
        )
        .until(1),
        f(
            "replace",
            "replace",
            Ty::Obj(&RESOURCE),
            "A config that replaces this one.",
        )
        .since(1),
        f(
            "replace",
            "replace",
            Ty::Obj(&REFERENCE_V0),
            "A config that replaces this one.",
        )
        .until(1),
    ],
};

/// Config and CA references of fcos 1.0.0, which had no `inline` or `local`.
static REFERENCE_V0: Obj = Obj {
    name: "resource",
    fields: &[
        f("source", "source", STR, "The URL of the resource.").required(),
        f(
            "verification",
            "verification",
            Ty::Obj(&VERIFICATION),
            "How to check the fetched resource.",
        ),
    ],
};

pub static RESOURCE: Obj = Obj {
    name: "resource",
    fields: &[
        f("compression", "compression", STR, "How the resource is compressed: `gzip`, or empty for none."),
        f("http_headers", "httpHeaders", Ty::List(&Ty::Obj(&HTTP_HEADER)), "HTTP headers sent when fetching an http(s) source.").since(1),
        f("source", "source", STR, "The URL of the resource: http, https, tftp, s3, arn, gs or data. Only one of `source`, `inline` and `local` may be set."),
        f("verification", "verification", Ty::Obj(&VERIFICATION), "How to check the fetched resource."),
        sugar("inline", STR, "The contents themselves, embedded as a data URL. Only one of `source`, `inline` and `local` may be set."),
        sugar("local", STR, "A file under the --files-dir directory whose contents are embedded. Only one of `source`, `inline` and `local` may be set.").since(1),
    ],
};

static HTTP_HEADER: Obj = Obj {
    name: "http_header",
    fields: &[
        f("name", "name", STR, "The header name.").required(),
        f("value", "value", STR, "The header value."),
    ],
};

static VERIFICATION: Obj = Obj {
    name: "verification",
    fields: &[f(
        "hash",
        "hash",
        STR,
        "The digest of the (decompressed) contents: `sha512-<hex>` or `sha256-<hex>`.",
    )],
};

static PROXY: Obj = Obj {
    name: "proxy",
    fields: &[
        f(
            "http_proxy",
            "httpProxy",
            STR,
            "Proxy URL for http requests (and https ones unless `https_proxy` is set).",
        ),
        f(
            "https_proxy",
            "httpsProxy",
            STR,
            "Proxy URL for https requests.",
        ),
        f(
            "no_proxy",
            "noProxy",
            STRS,
            "Hosts, domains and networks reached without a proxy.",
        ),
    ],
};

static SECURITY: Obj = Obj {
    name: "security",
    fields: &[f(
        "tls",
        "tls",
        Ty::Obj(&TLS),
        "TLS settings for https fetches.",
    )],
};

static TLS: Obj = Obj {
    name: "tls",
    fields: &[
        f(
            "certificate_authorities",
            "certificateAuthorities",
            Ty::List(&Ty::Obj(&RESOURCE)),
            "Extra CA bundles (PEM) trusted for https fetches.",
        )
        .since(1),
        f(
            "certificate_authorities",
            "certificateAuthorities",
            Ty::List(&Ty::Obj(&REFERENCE_V0)),
            "Extra CA bundles (PEM) trusted for https fetches.",
        )
        .until(1),
    ],
};

static TIMEOUTS: Obj = Obj {
    name: "timeouts",
    fields: &[
        f(
            "http_response_headers",
            "httpResponseHeaders",
            INT,
            "Seconds to wait for response headers; 0 means no limit.",
        ),
        f(
            "http_total",
            "httpTotal",
            INT,
            "Seconds allowed for a whole fetch, retries included; 0 means no limit.",
        ),
    ],
};

static KERNEL_ARGUMENTS: Obj = Obj {
    name: "kernel_arguments",
    fields: &[
        f(
            "should_exist",
            "shouldExist",
            STRS,
            "Kernel arguments that must be present.",
        ),
        f(
            "should_not_exist",
            "shouldNotExist",
            STRS,
            "Kernel arguments that must be absent.",
        ),
    ],
};

static PASSWD: Obj = Obj {
    name: "passwd",
    fields: &[
        f(
            "groups",
            "groups",
            Ty::List(&Ty::Obj(&GROUP)),
            "Groups to create or change.",
        ),
        f(
            "users",
            "users",
            Ty::List(&Ty::Obj(&USER)),
            "Users to create or change.",
        ),
    ],
};

static GROUP: Obj = Obj {
    name: "group",
    fields: &[
        f("gid", "gid", INT, "The group ID."),
        f("name", "name", STR, "The group name.").required(),
        f(
            "password_hash",
            "passwordHash",
            STR,
            "The hashed group password.",
        ),
        f(
            "should_exist",
            "shouldExist",
            BOOL,
            "`false` deletes the group.",
        )
        .since(2),
        f("system", "system", BOOL, "Create a system group."),
    ],
};

static USER: Obj = Obj {
    name: "user",
    fields: &[
        f("gecos", "gecos", STR, "The GECOS (comment) field."),
        f("groups", "groups", STRS, "Supplementary groups."),
        f("home_dir", "homeDir", STR, "The home directory."),
        f("name", "name", STR, "The user name.").required(),
        f(
            "no_create_home",
            "noCreateHome",
            BOOL,
            "Do not create the home directory.",
        ),
        f(
            "no_log_init",
            "noLogInit",
            BOOL,
            "Do not add the user to the lastlog and faillog databases.",
        ),
        f(
            "no_user_group",
            "noUserGroup",
            BOOL,
            "Do not create a group named after the user.",
        ),
        f("password_hash", "passwordHash", STR, "The hashed password."),
        f("primary_group", "primaryGroup", STR, "The primary group."),
        f(
            "ssh_authorized_keys",
            "sshAuthorizedKeys",
            STRS,
            "SSH public keys allowed to log in as the user.",
        ),
        f("shell", "shell", STR, "The login shell."),
        f(
            "should_exist",
            "shouldExist",
            BOOL,
            "`false` deletes the user.",
        )
        .since(2),
        f("system", "system", BOOL, "Create a system account."),
        f("uid", "uid", INT, "The user ID."),
        sugar(
            "ssh_authorized_keys_local",
            STRS,
            "Files under --files-dir holding SSH public keys, one per line.",
        )
        .since(4),
    ],
};

static STORAGE: Obj = Obj {
    name: "storage",
    fields: &[
        f(
            "directories",
            "directories",
            Ty::List(&Ty::Obj(&DIRECTORY)),
            "Directories to create.",
        ),
        f(
            "disks",
            "disks",
            Ty::List(&Ty::Obj(&DISK)),
            "Disks to partition.",
        ),
        f(
            "files",
            "files",
            Ty::List(&Ty::Obj(&FILE)),
            "Files to write.",
        ),
        f(
            "filesystems",
            "filesystems",
            Ty::List(&Ty::Obj(&FILESYSTEM)),
            "Filesystems to create or reuse.",
        ),
        f(
            "links",
            "links",
            Ty::List(&Ty::Obj(&LINK)),
            "Symbolic and hard links to create.",
        ),
        f(
            "luks",
            "luks",
            Ty::List(&Ty::Obj(&LUKS)),
            "LUKS2 encrypted volumes.",
        )
        .since(2),
        f(
            "raid",
            "raid",
            Ty::List(&Ty::Obj(&RAID)),
            "Software RAID arrays.",
        ),
        sugar(
            "trees",
            Ty::List(&Ty::Obj(&TREE)),
            "Directory trees under --files-dir, embedded file by file.",
        )
        .since(1),
    ],
};

static NODE_USER: Obj = Obj {
    name: "node_user",
    fields: &[
        f("id", "id", INT, "The owner's user ID."),
        f("name", "name", STR, "The owner's user name."),
    ],
};

static NODE_GROUP: Obj = Obj {
    name: "node_group",
    fields: &[
        f("id", "id", INT, "The group ID."),
        f("name", "name", STR, "The group name."),
    ],
};

static DIRECTORY: Obj = Obj {
    name: "directory",
    fields: &[
        f(
            "group",
            "group",
            Ty::Obj(&NODE_GROUP),
            "The directory's group.",
        ),
        f(
            "overwrite",
            "overwrite",
            BOOL,
            "Replace whatever exists at the path.",
        ),
        f("path", "path", STR, "The absolute path of the directory.").required(),
        f(
            "user",
            "user",
            Ty::Obj(&NODE_USER),
            "The directory's owner.",
        ),
        f(
            "mode",
            "mode",
            INT,
            "The permission bits; write them in octal, such as 0755.",
        ),
    ],
};

static DISK: Obj = Obj {
    name: "disk",
    fields: &[
        f(
            "device",
            "device",
            STR,
            "The absolute path of the disk device.",
        )
        .required(),
        f(
            "partitions",
            "partitions",
            Ty::List(&Ty::Obj(&PARTITION)),
            "Partitions the disk must (or must not) have.",
        ),
        f(
            "wipe_table",
            "wipeTable",
            BOOL,
            "Wipe the partition table first.",
        ),
    ],
};

static PARTITION: Obj = Obj {
    name: "partition",
    fields: &[
        f("guid", "guid", STR, "The partition's unique GUID."),
        f("label", "label", STR, "The partition label."),
        f(
            "number",
            "number",
            INT,
            "The partition number; 0 means the next free one.",
        ),
        f(
            "resize",
            "resize",
            BOOL,
            "Grow an existing partition to the given size.",
        )
        .since(2),
        f(
            "should_exist",
            "shouldExist",
            BOOL,
            "`false` deletes the partition.",
        ),
        f(
            "size_mib",
            "sizeMiB",
            INT,
            "Size in MiB; 0 means as large as possible.",
        ),
        f(
            "start_mib",
            "startMiB",
            INT,
            "Start in MiB; 0 means the start of the largest free area.",
        ),
        f("type_guid", "typeGuid", STR, "The GPT partition type GUID."),
        f(
            "wipe_partition_entry",
            "wipePartitionEntry",
            BOOL,
            "Replace a partition that does not match instead of failing.",
        ),
    ],
};

static FILE: Obj = Obj {
    name: "file",
    fields: &[
        f("group", "group", Ty::Obj(&NODE_GROUP), "The file's group."),
        f(
            "overwrite",
            "overwrite",
            BOOL,
            "Replace whatever exists at the path.",
        ),
        f("path", "path", STR, "The absolute path of the file.").required(),
        f("user", "user", Ty::Obj(&NODE_USER), "The file's owner."),
        f(
            "append",
            "append",
            Ty::List(&Ty::Obj(&RESOURCE)),
            "Fragments appended to the file.",
        ),
        f(
            "contents",
            "contents",
            Ty::Obj(&RESOURCE),
            "The file's contents.",
        ),
        f(
            "mode",
            "mode",
            INT,
            "The permission bits; write them in octal, such as 0644.",
        ),
    ],
};

static FILESYSTEM: Obj = Obj {
    name: "filesystem",
    fields: &[
        f("device", "device", STR, "The absolute path of the device.").required(),
        f(
            "format",
            "format",
            STR,
            "The filesystem type: ext4, btrfs, xfs, vfat, swap or none.",
        ),
        f("label", "label", STR, "The filesystem label."),
        f(
            "mount_options",
            "mountOptions",
            STRS,
            "Options for mounting the filesystem.",
        )
        .since(1),
        f("options", "options", STRS, "Extra options for mkfs."),
        f(
            "path",
            "path",
            STR,
            "Where the filesystem is mounted, relative to the root.",
        ),
        f("uuid", "uuid", STR, "The filesystem UUID."),
        f(
            "wipe_filesystem",
            "wipeFilesystem",
            BOOL,
            "Create a new filesystem even if one exists.",
        ),
        sugar(
            "with_mount_unit",
            BOOL,
            "Also generate a mount unit (or a swap unit for swap).",
        )
        .since(1),
    ],
};

static LINK: Obj = Obj {
    name: "link",
    fields: &[
        f(
            "group",
            "group",
            Ty::Obj(&NODE_GROUP),
            "The link's group (symbolic links only).",
        ),
        f(
            "overwrite",
            "overwrite",
            BOOL,
            "Replace whatever exists at the path.",
        ),
        f("path", "path", STR, "The absolute path of the link.").required(),
        f(
            "user",
            "user",
            Ty::Obj(&NODE_USER),
            "The link's owner (symbolic links only).",
        ),
        f(
            "hard",
            "hard",
            BOOL,
            "Create a hard link instead of a symbolic one.",
        ),
        f("target", "target", STR, "What the link points to."),
    ],
};

static LUKS: Obj = Obj {
    name: "luks",
    fields: &[
        f(
            "cex",
            "cex",
            Ty::Obj(&CEX),
            "IBM Crypto Express card settings.",
        )
        .since(5),
        f(
            "clevis",
            "clevis",
            Ty::Obj(&CLEVIS),
            "Clevis (TPM2, Tang) key binding.",
        ),
        f(
            "device",
            "device",
            STR,
            "The absolute path of the underlying device.",
        ),
        f(
            "discard",
            "discard",
            BOOL,
            "Pass discards through to the device.",
        )
        .since(4),
        f(
            "key_file",
            "keyFile",
            Ty::Obj(&RESOURCE),
            "The key material.",
        ),
        f("label", "label", STR, "The LUKS label."),
        f(
            "name",
            "name",
            STR,
            "The device-mapper name of the opened volume.",
        )
        .required(),
        f(
            "open_options",
            "openOptions",
            STRS,
            "Extra options for cryptsetup luksOpen.",
        )
        .since(4),
        f(
            "options",
            "options",
            STRS,
            "Extra options for cryptsetup luksFormat.",
        ),
        f("uuid", "uuid", STR, "The LUKS UUID."),
        f(
            "wipe_volume",
            "wipeVolume",
            BOOL,
            "Create a new volume even if one exists.",
        ),
    ],
};

static CEX: Obj = Obj {
    name: "cex",
    fields: &[f(
        "enabled",
        "enabled",
        BOOL,
        "Use a Crypto Express card for the key.",
    )],
};

static CLEVIS: Obj = Obj {
    name: "clevis",
    fields: &[
        f(
            "custom",
            "custom",
            Ty::Obj(&CLEVIS_CUSTOM),
            "A custom Clevis pin and config.",
        ),
        f("tang", "tang", Ty::List(&Ty::Obj(&TANG)), "Tang servers."),
        f(
            "threshold",
            "threshold",
            INT,
            "How many pins must agree to unlock; default 1.",
        ),
        f("tpm2", "tpm2", BOOL, "Bind to the TPM2."),
    ],
};

static CLEVIS_CUSTOM: Obj = Obj {
    name: "clevis_custom",
    fields: &[
        f("config", "config", STR, "The Clevis config JSON."),
        f(
            "needs_network",
            "needsNetwork",
            BOOL,
            "Whether unlocking needs the network.",
        ),
        f("pin", "pin", STR, "The Clevis pin."),
    ],
};

static TANG: Obj = Obj {
    name: "tang",
    fields: &[
        f(
            "advertisement",
            "advertisement",
            STR,
            "The server's advertisement JSON, for offline binding.",
        )
        .since(4),
        f(
            "thumbprint",
            "thumbprint",
            STR,
            "The thumbprint of a trusted signing key.",
        ),
        f("url", "url", STR, "The Tang server URL.").required(),
    ],
};

static RAID: Obj = Obj {
    name: "raid",
    fields: &[
        f("devices", "devices", STRS, "The member devices."),
        f("level", "level", STR, "The RAID level, such as raid1."),
        f("name", "name", STR, "The md device name.").required(),
        f("options", "options", STRS, "Extra options for mdadm."),
        f("spares", "spares", INT, "The number of spare devices."),
    ],
};

static TREE: Obj = Obj {
    name: "tree",
    fields: &[
        sugar("local", STR, "The directory under --files-dir to embed.").required(),
        sugar(
            "path",
            STR,
            "Where the tree goes on the target system; default `/`.",
        ),
        sugar(
            "user",
            Ty::Obj(&NODE_USER),
            "The owner of every embedded file and directory.",
        )
        .since(6),
        sugar(
            "group",
            Ty::Obj(&NODE_GROUP),
            "The group of every embedded file and directory.",
        )
        .since(6),
        sugar("file_mode", INT, "The mode of every embedded file.").since(6),
        sugar("dir_mode", INT, "The mode of every embedded directory.").since(6),
    ],
};

static SYSTEMD: Obj = Obj {
    name: "systemd",
    fields: &[f(
        "units",
        "units",
        Ty::List(&Ty::Obj(&UNIT)),
        "Units to write, enable or mask.",
    )],
};

static UNIT: Obj = Obj {
    name: "unit",
    fields: &[
        f(
            "contents",
            "contents",
            STR,
            "The unit file. Only one of `contents` and `contents_local` may be set.",
        ),
        f(
            "dropins",
            "dropins",
            Ty::List(&Ty::Obj(&DROPIN)),
            "Drop-in files for the unit.",
        ),
        f(
            "enabled",
            "enabled",
            BOOL,
            "Enable (`true`) or disable (`false`) the unit.",
        ),
        f(
            "mask",
            "mask",
            BOOL,
            "Mask (`true`) or unmask (`false`) the unit.",
        ),
        f("name", "name", STR, "The unit name, with its type suffix.").required(),
        sugar(
            "contents_local",
            STR,
            "A file under --files-dir holding the unit file.",
        )
        .since(4),
    ],
};

static DROPIN: Obj = Obj {
    name: "dropin",
    fields: &[
        f(
            "contents",
            "contents",
            STR,
            "The drop-in file. Only one of `contents` and `contents_local` may be set.",
        ),
        f("name", "name", STR, "The drop-in name, ending in `.conf`.").required(),
        sugar(
            "contents_local",
            STR,
            "A file under --files-dir holding the drop-in.",
        )
        .since(4),
    ],
};

static BOOT_DEVICE: Obj = Obj {
    name: "boot_device",
    fields: &[
        sugar("layout", STR, "The disk layout of the OS image: x86_64 (default), aarch64, ppc64le, or (1.6.0+) s390x-eckd, s390x-virt, s390x-zfcp."),
        sugar("luks", Ty::Obj(&BOOT_LUKS), "Encrypt the root filesystem."),
        sugar("mirror", Ty::Obj(&BOOT_MIRROR), "Mirror the boot disk."),
    ],
};

static BOOT_LUKS: Obj = Obj {
    name: "boot_luks",
    fields: &[
        sugar(
            "cex",
            Ty::Obj(&CEX),
            "Use an IBM Crypto Express card (s390x layouts).",
        )
        .fcos(6),
        sugar(
            "device",
            STR,
            "The whole-disk boot device, for the s390x-eckd and s390x-zfcp layouts.",
        )
        .fcos(6),
        sugar("discard", BOOL, "Pass discards through to the device.").fcos(5),
        sugar("tang", Ty::List(&Ty::Obj(&TANG)), "Tang servers."),
        sugar(
            "threshold",
            INT,
            "How many pins must agree to unlock; default 1.",
        ),
        sugar("tpm2", BOOL, "Bind to the TPM2."),
    ],
};

static BOOT_MIRROR: Obj = Obj {
    name: "boot_mirror",
    fields: &[sugar(
        "devices",
        STRS,
        "Whole-disk devices to mirror the boot disk onto; at least two.",
    )],
};

static GRUB: Obj = Obj {
    name: "grub",
    fields: &[sugar(
        "users",
        Ty::List(&Ty::Obj(&GRUB_USER)),
        "GRUB superusers.",
    )],
};

static GRUB_USER: Obj = Obj {
    name: "grub_user",
    fields: &[
        sugar("name", STR, "The user name.").required(),
        sugar(
            "password_hash",
            STR,
            "The PBKDF2 hash from grub2-mkpasswd-pbkdf2.",
        )
        .required(),
    ],
};
