//! Every error and warning flint reports, each from a config that triggers it, checked in
//! the raw form `kind at $.path, line L col C: message`.

mod support;

use support::Scratch;

fn run(yaml: &str) -> support::Run {
    Scratch::new().translate(yaml, &[])
}

// YAML and dialect

#[test]
fn yaml_syntax_error_has_a_position() {
    run("variant: fcos\nversion: [1.5.0\n").fails_with("error at $, line");
}

#[test]
fn second_yaml_document_is_refused_not_dropped() {
    run("variant: fcos\nversion: 1.5.0\n---\nstorage: {}\n")
        .fails_with("multiple YAML documents in one file are not supported");
}

#[test]
fn duplicate_keys_are_refused() {
    run("variant: fcos\nversion: 1.5.0\nvariant: fcos\n").fails_with("duplicate key");
}

#[test]
fn missing_variant_is_refused() {
    run("version: 1.5.0\n").fails_with("error parsing variant; must be specified");
}

#[test]
fn malformed_version_is_refused() {
    run("variant: fcos\nversion: 1.5\n").fails_with(
        "error at $.version, line 2 col 10: error parsing version; must be a valid semver",
    );
}

#[test]
fn unknown_version_is_refused() {
    run("variant: fcos\nversion: 1.99.0\n")
        .fails_with("No translator exists for variant fcos with version 1.99.0");
}

#[test]
fn experimental_versions_are_refused_with_a_hint() {
    run("variant: fcos\nversion: 1.8.0-experimental\n")
        .fails_with("experimental specs are not supported");
}

#[test]
fn non_mapping_config_is_refused() {
    run("- a\n- b\n").fails_with("a config must be a mapping");
}

#[test]
fn non_utf8_input_is_refused() {
    let s = Scratch::new();
    std::fs::write(s.path("bad.bu"), b"variant: fcos\xff\n").expect("write");
    s.run(&["bad.bu"]).fails_with("not UTF-8");
}

// Decoding

#[test]
fn unused_key_warns_at_the_key() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  filez: []\n")
        .warns("warning at $.storage.filez, line 4 col 3: unused key filez: did you mean files?");
}

#[test]
fn field_newer_than_the_version_is_an_unused_key() {
    run("variant: fcos\nversion: 1.4.0\nstorage:\n  luks:\n    - name: x\n      device: /dev/vdb\n      discard: true\n")
        .warns("warning at $.storage.luks.0.discard, line 7 col 7: unused key discard");
}

#[test]
fn wrong_type_is_an_error() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: rw-r--r--\n")
        .fails_with("error at $.storage.files.0.mode, line 6 col 13: wrong type: expected an integer, found a string (\"rw-r--r--\")");
}

// Butane's source checks

#[test]
fn two_resource_sources_are_an_error() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        inline: x\n        source: https://example.com/x\n")
        .fails_with("error at $.storage.files.0.contents.source, line 8 col 17: only one of the following can be set: inline, local, source");
}

#[test]
fn decimal_mode_warns() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: 644\n")
        .warns("warning at $.storage.files.0.mode, line 6 col 13: unreasonable mode would be reasonable if specified in octal; remember to add a leading zero");
}

#[test]
fn decimal_directory_mode_warns() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  directories:\n    - path: /d\n      mode: 755\n")
        .warns("warning at $.storage.directories.0.mode");
}

#[test]
fn mount_unit_needs_a_format() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      path: /var/x\n      with_mount_unit: true\n")
        .fails_with("error at $.storage.filesystems.0.format, line 5 col 7: format is required if with_mount_unit is true");
}

#[test]
fn mount_unit_needs_a_path_unless_swap() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      format: ext4\n      with_mount_unit: true\n")
        .fails_with("error at $.storage.filesystems.0.path, line 5 col 7: path is required if with_mount_unit is true and format is not swap");
}

#[test]
fn mount_unit_path_must_be_under_etc_or_var_from_fcos_1_6() {
    run("variant: fcos\nversion: 1.6.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      format: ext4\n      path: /srv\n      with_mount_unit: true\n")
        .fails_with("error at $.storage.filesystems.0.path, line 7 col 13: path must be under /etc or /var if with_mount_unit is true");
}

#[test]
fn tree_needs_local() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - path: /x\n")
        .fails_with("error at $.storage.trees.0, line 5 col 7: local is required");
}

#[test]
fn unit_with_contents_and_contents_local_is_an_error() {
    run("variant: fcos\nversion: 1.5.0\nsystemd:\n  units:\n    - name: a.service\n      contents: x\n      contents_local: a.service\n")
        .fails_with("error at $.systemd.units.0.contents_local, line 7 col 23: only one of the following can be set: contents, contents_local");
}

#[test]
fn unknown_boot_layout_is_an_error() {
    run("variant: fcos\nversion: 1.5.0\nboot_device:\n  layout: sparc\n  luks:\n    tpm2: true\n")
        .fails_with("error at $.boot_device.layout, line 4 col 11: layout must be one of: aarch64, ppc64le, x86_64");
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: sparc\n  luks:\n    tpm2: true\n")
        .fails_with(
            "layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64",
        );
}

#[test]
fn mirror_needs_two_devices() {
    run("variant: fcos\nversion: 1.5.0\nboot_device:\n  mirror:\n    devices: [/dev/vda]\n")
        .fails_with("error at $.boot_device.mirror.devices, line 5 col 14: mirroring requires at least two devices");
}

#[test]
fn s390x_layouts_need_a_whole_disk_device() {
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-eckd\n  luks:\n    tpm2: true\n")
        .fails_with("device is required for layouts: s390x-eckd, s390x-zfcp");
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-zfcp\n  luks:\n    device: /dev/vda\n    tpm2: true\n")
        .fails_with("device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout");
}

#[test]
fn s390x_layouts_cannot_mirror() {
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-virt\n  mirror:\n    devices: [/dev/vda, /dev/vdb]\n")
        .fails_with("mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt");
}

#[test]
fn cex_needs_s390x_and_excludes_clevis() {
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  luks:\n    cex:\n      enabled: true\n")
        .fails_with("error at $.boot_device.luks.cex, line 6 col 7: when using cex the targeted architecture must match s390x");
    run("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n    tpm2: true\n    cex:\n      enabled: true\n")
        .fails_with("cex cannot be used together with clevis");
}

#[test]
fn fcos_1_7_boot_luks_device_needs_a_method() {
    run("variant: fcos\nversion: 1.7.0\nboot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n")
        .fails_with("error at $.boot_device.luks, line 6 col 5: no method specified for luks");
}

#[test]
fn grub_users_need_name_and_hash() {
    run("variant: fcos\nversion: 1.5.0\ngrub:\n  users:\n    - name: admin\n").fails_with(
        "error at $.grub.users.0.password_hash, line 5 col 7: field \"password_hash\" is required",
    );
}

#[test]
fn reusing_partitions_by_label_warns_from_fcos_1_6() {
    run("variant: fcos\nversion: 1.6.0\nstorage:\n  disks:\n    - device: /dev/vdb\n      partitions:\n        - label: data\n")
        .warns("warning at $.storage.disks.0.partitions.0.number, line 7 col 11: partitions cannot be reused by label");
}

#[test]
fn reserved_partition_label_with_wrong_number_warns() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  disks:\n    - device: /dev/disk/by-id/coreos-boot-disk\n      partitions:\n        - label: root\n          number: 5\n          size_mib: 8192\n")
        .warns("warning at $.storage.disks.0.partitions.0.label, line 7 col 18: incorrect partition number; a new partition will be created using reserved label");
}

#[test]
fn inline_merge_config_of_another_version_warns() {
    run("variant: fcos\nversion: 1.5.0\nignition:\n  config:\n    merge:\n      - inline: '{\"ignition\": {\"version\": \"3.1.0\"}}'\n")
        .warns("skipping validation for the merge/replace ignition config due to an unknown version");
}

#[test]
fn inline_merge_config_must_be_json() {
    run("variant: fcos\nversion: 1.5.0\nignition:\n  config:\n    replace:\n      inline: 'not json'\n")
        .fails_with("error at $.ignition.config.replace.inline, line 6 col 15: the inline config is not valid JSON");
}

#[test]
fn inline_merge_config_is_validated() {
    run("variant: fcos\nversion: 1.5.0\nignition:\n  config:\n    merge:\n      - inline: '{\"ignition\": {\"version\": \"3.4.0\"}, \"storage\": {\"files\": [{\"path\": \"rel\"}]}}'\n")
        .fails_with("in the inline config at $.storage.files.0.path");
}

// Local files

#[test]
fn local_needs_files_dir() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: a\n")
        .fails_with("error at $.storage.files.0.contents.local, line 7 col 16: local file paths are relative to a files directory that must be specified with -d/--files-dir");
}

#[test]
fn local_cannot_climb_out_of_files_dir() {
    let s = Scratch::new();
    s.write("secret", "s");
    s.write("files/ok", "ok");
    s.translate("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: ../secret\n", &["-d", "files"])
        .fails_with("local file path traverses outside the files directory");
}

#[test]
fn local_symlink_out_of_files_dir_is_refused() {
    let s = Scratch::new();
    s.write("secret", "s");
    s.write("files/ok", "ok");
    std::os::unix::fs::symlink(s.path("secret"), s.path("files/leak")).expect("symlink");
    s.translate("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: leak\n", &["-d", "files"])
        .fails_with("resolves to")
        .fails_with("through a symlink");
}

#[test]
fn missing_local_file_is_an_error() {
    let s = Scratch::new();
    s.write("files/ok", "ok");
    s.translate("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: nope\n", &["-d", "files"])
        .fails_with("error at $.storage.files.0.contents.local, line 7 col 16: reading");
}

#[test]
fn ssh_key_files_need_files_dir() {
    run("variant: fcos\nversion: 1.5.0\npasswd:\n  users:\n    - name: core\n      ssh_authorized_keys_local: [id.pub]\n")
        .fails_with("error at $.passwd.users.0.ssh_authorized_keys_local, line 6 col 34: local file paths are relative");
}

#[test]
fn missing_unit_file_is_an_error() {
    let s = Scratch::new();
    s.write("files/x", "");
    s.translate("variant: fcos\nversion: 1.5.0\nsystemd:\n  units:\n    - name: a.service\n      contents_local: a.service\n", &["-d", "files"])
        .fails_with("error at $.systemd.units.0.contents_local");
}

#[test]
fn tree_must_be_a_directory() {
    let s = Scratch::new();
    s.write("files/plain", "x");
    s.translate(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - local: plain\n",
        &["-d", "files"],
    )
    .fails_with("root of tree must be a directory");
}

#[test]
fn tree_clashing_with_a_file_is_an_error() {
    let s = Scratch::new();
    s.write("files/t/etc/motd", "hi");
    s.translate("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: other\n  trees:\n    - local: t\n", &["-d", "files"])
        .fails_with("matching filesystem node has existing contents or different type");
}

// The generated config

#[test]
fn ignition_errors_point_at_the_yaml() {
    run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: etc/motd\n")
        .fails_with("error at $.storage.files.0.path, line 5 col 13:");
}

#[test]
fn flatcar_has_no_clevis() {
    run("variant: flatcar\nversion: 1.1.0\nstorage:\n  luks:\n    - name: x\n      device: /dev/vdb\n      clevis:\n        tpm2: true\n")
        .fails_with("error at $.storage.luks.0.clevis, line 8 col 9: clevis is not supported in this spec version");
}

#[test]
fn r4e_and_fiot_have_no_storage_devices() {
    run("variant: r4e\nversion: 1.1.0\nstorage:\n  disks:\n    - device: /dev/vdb\n")
        .fails_with("error at $.storage.disks, line 5 col 5: disk customization is not supported in this spec version");
    run("variant: fiot\nversion: 1.0.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      format: ext4\n")
        .fails_with("filesystem customization is not supported in this spec version");
    run("variant: fiot\nversion: 1.0.0\nkernel_arguments:\n  should_exist: [quiet]\n")
        .fails_with("kernel argument customization is not supported in this spec version");
}

#[test]
fn independent_errors_of_all_phases_come_in_one_run() {
    let r = run("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: lots\n    - path: /b\n      contents:\n        inline: x\n        source: https://example.com/b\n    - path: /c\n      contents:\n        local: c\n    - path: relative\n");
    r.fails_with("$.storage.files.0.mode")
        .fails_with("$.storage.files.1.contents.source")
        .fails_with("$.storage.files.2.contents.local")
        .fails_with("$.storage.files.3.path");
}

#[test]
fn strict_turns_warnings_into_failure_without_output() {
    let s = Scratch::new();
    let r = s.translate(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  filez: []\n",
        &["--strict", "-o", "out.ign"],
    );
    r.fails_with("unused key filez: did you mean files?")
        .fails_with("config produced warnings and --strict was specified (1 warning)");
    assert!(
        !s.path("out.ign").exists(),
        "no output under --strict with warnings"
    );
}

#[test]
fn unusable_files_dir_matters_only_when_a_local_file_is_needed() {
    let s = Scratch::new();
    s.translate("variant: fcos\nversion: 1.5.0\n", &["-d", "no-such-dir"])
        .succeeds();
    s.translate(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        local: a\n",
        &["-d", "no-such-dir"],
    )
    .fails_with("files directory no-such-dir:");
}

#[test]
fn findings_come_in_source_order_and_the_summary_counts_warnings() {
    let s = Scratch::new();
    // The error (line 9) is found before the warning (line 6); the report goes down the file.
    let r = s.translate(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contnets:\n        inline: x\n    - path: /b\n      mode: \"0644\"\n",
        &[],
    );
    let warning = r.stderr.find("line 6 col 7").expect("the warning");
    let error = r.stderr.find("line 9 col 13").expect("the error");
    assert!(warning < error, "{}", r.stderr);
    r.fails_with("unused key contnets: did you mean contents?")
        .fails_with("found a string (\"0644\"): remove the quotes")
        .fails_with("translating config.bu failed: 1 error, 1 warning");
}

#[test]
fn an_unknown_version_lists_the_known_ones() {
    let s = Scratch::new();
    s.translate("variant: fcos\nversion: 1.99.0\n", &[])
        .fails_with("No translator exists for variant fcos with version 1.99.0; flint knows fcos 1.0.0-1.7.0, flatcar 1.0.0-1.1.0");
}
