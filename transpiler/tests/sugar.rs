//! Sugar beyond the Butane reference cases: trees, mount units, boot device layouts,
//! encodings and YAML features, checked on the generated JSON.

mod support;

use serde_json::{json, Value};
use support::Scratch;

fn translate(s: &Scratch, yaml: &str) -> Value {
    let r = s.translate(yaml, &["-d", "files"]);
    r.succeeds();
    r.json()
}

#[test]
fn trees_embed_files_links_and_modes_in_lexical_order() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write("files/t/b/run.sh", "#!/bin/sh\n");
    s.write("files/t/a.txt", "A");
    s.write("files/t/c.txt", "C");
    std::fs::set_permissions(
        s.path("files/t/b/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("a.txt", s.path("files/t/link")).expect("symlink");
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /opt/c.txt\n      mode: 0600\n  trees:\n    - local: t\n      path: /opt\n",
    );
    let files = out["storage"]["files"].as_array().expect("files").clone();
    let paths: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["/opt/c.txt", "/opt/a.txt", "/opt/b/run.sh"]);
    assert_eq!(files[0]["mode"], 0o600, "an explicit entry keeps its mode");
    assert_eq!(files[0]["contents"]["source"], "data:,C");
    assert_eq!(files[1]["mode"], 0o644);
    assert_eq!(files[2]["mode"], 0o755);
    assert_eq!(
        out["storage"]["links"],
        json!([{"path": "/opt/link", "target": "a.txt"}])
    );
}

#[test]
fn fcos_1_7_trees_set_owners_and_modes() {
    let s = Scratch::new();
    s.write("files/t/d/f", "F");
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.7.0\nstorage:\n  trees:\n    - local: t\n      path: /srv\n      file_mode: 0640\n      dir_mode: 0750\n      user:\n        name: app\n",
    );
    assert_eq!(
        out["storage"]["directories"],
        json!([
            {"path": "/srv", "user": {"name": "app"}, "mode": 0o750},
            {"path": "/srv/d", "user": {"name": "app"}, "mode": 0o750}
        ])
    );
    assert_eq!(out["storage"]["files"][0]["mode"], 0o640);
    assert_eq!(out["storage"]["files"][0]["user"]["name"], "app");
    assert_eq!(out["ignition"]["version"], "3.6.0");
}

#[test]
fn tree_symlinked_out_of_files_dir_is_refused() {
    let s = Scratch::new();
    s.write("outside/secret", "S");
    s.write("files/keep", "");
    std::os::unix::fs::symlink(s.path("outside"), s.path("files/t")).expect("symlink");
    s.translate(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - local: t\n",
        &["-d", "files"],
    )
    .fails_with("through a symlink");
}

#[test]
fn mount_units_carry_options_and_merge_with_user_units() {
    let s = Scratch::new();
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nstorage:\n  filesystems:\n    - device: /dev/vdb1\n      path: /var/data\n      format: xfs\n      mount_options: [noatime, ro]\n      with_mount_unit: true\nsystemd:\n  units:\n    - name: var-data.mount\n      enabled: false\n",
    );
    let units = out["systemd"]["units"].as_array().expect("units");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["enabled"], false, "the user's explicit field wins");
    let contents = units[0]["contents"].as_str().expect("contents");
    assert!(contents.contains("\nOptions=noatime,ro\n"), "{contents}");
    assert!(contents.contains("Where=/var/data\n"));
}

#[test]
fn mirrored_boot_disk_layouts() {
    let s = Scratch::new();
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nboot_device:\n  layout: aarch64\n  mirror:\n    devices: [/dev/vda, /dev/vdb]\n",
    );
    let labels: Vec<&str> = out["storage"]["disks"][0]["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["label"].as_str())
        .collect();
    assert_eq!(labels, ["reserved-1", "esp-1", "boot-1", "root-1"]);
    assert_eq!(
        out["storage"]["raid"][1]["devices"],
        json!([
            "/dev/disk/by-partlabel/root-1",
            "/dev/disk/by-partlabel/root-2"
        ])
    );
    let root_fs = out["storage"]["filesystems"]
        .as_array()
        .expect("fs")
        .last()
        .cloned();
    assert_eq!(
        root_fs.map(|f| f["device"].clone()),
        Some(json!("/dev/md/md-root"))
    );

    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nboot_device:\n  layout: ppc64le\n  mirror:\n    devices: [/dev/vda, /dev/vdb]\n  luks:\n    tang:\n      - url: https://tang.example.com\n        thumbprint: abc\n    threshold: 1\n",
    );
    assert_eq!(
        out["storage"]["disks"][1]["partitions"][0]["label"],
        "prep-2"
    );
    assert_eq!(
        out["storage"]["disks"][1]["partitions"][1]["label"],
        "reserved-2"
    );
    assert_eq!(out["storage"]["luks"][0]["device"], "/dev/md/md-root");
    assert_eq!(out["storage"]["luks"][0]["clevis"]["threshold"], 1);
}

#[test]
fn large_repetitive_inline_contents_are_gzipped() {
    let s = Scratch::new();
    let body = "all work and no play\n".repeat(100);
    let yaml = format!(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        inline: |\n{}",
        body.lines().map(|l| format!("          {l}\n")).collect::<String>()
    );
    let out = translate(&s, &yaml);
    assert_eq!(
        out["storage"]["files"][0]["contents"]["compression"],
        "gzip"
    );
}

#[test]
fn user_compression_is_passed_through() {
    let s = Scratch::new();
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        source: https://example.com/a.gz\n        compression: gzip\n",
    );
    assert_eq!(
        out["storage"]["files"][0]["contents"],
        json!({"compression": "gzip", "source": "https://example.com/a.gz"})
    );
}

#[test]
fn ssh_key_files_split_into_lines() {
    let s = Scratch::new();
    s.write("files/keys", "ssh-ed25519 AAAA one\r\n\nssh-rsa BBBB two\n");
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\npasswd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-ed25519 CCCC zero]\n      ssh_authorized_keys_local: [keys]\n",
    );
    assert_eq!(
        out["passwd"]["users"][0]["sshAuthorizedKeys"],
        json!([
            "ssh-ed25519 CCCC zero",
            "ssh-ed25519 AAAA one",
            "ssh-rsa BBBB two"
        ])
    );
}

#[test]
fn yaml_merge_keys_and_anchors_work() {
    let s = Scratch::new();
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nx-file: &common\n  mode: 0600\n  user: {name: app}\n",
    );
    // x-file is an unused key here; the anchor still serves merge keys below.
    let _ = out;
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - &base\n      path: /a\n      mode: 0600\n    - <<: *base\n      path: /b\n",
    );
    assert_eq!(
        out["storage"]["files"][1],
        json!({"path": "/b", "mode": 0o600})
    );
}

#[test]
fn fcos_1_0_has_inline_files_but_no_inline_configs() {
    let s = Scratch::new();
    let r = s.translate(
        "variant: fcos\nversion: 1.0.0\nignition:\n  config:\n    merge:\n      - source: https://example.com/c.ign\n        inline: x\nstorage:\n  files:\n    - path: /a\n      contents:\n        inline: hi\n",
        &[],
    );
    r.warns("unused key inline");
    assert_eq!(r.json()["ignition"]["version"], "3.0.0");
    assert_eq!(
        r.json()["storage"]["files"][0]["contents"]["source"],
        "data:,hi"
    );
}

#[test]
fn grub_users_become_a_user_cfg_append() {
    let s = Scratch::new();
    let out = translate(
        &s,
        "variant: fcos\nversion: 1.6.0\ngrub:\n  users:\n    - name: root\n      password_hash: grub.pbkdf2.sha512.X\n    - name: admin\n      password_hash: grub.pbkdf2.sha512.Y\n",
    );
    use base64::Engine;
    use std::io::Read;
    let fragment = &out["storage"]["files"][0]["append"][0];
    let src = fragment["source"].as_str().expect("source");
    let b64 = src.strip_prefix("data:;base64,").expect("base64 data URL");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    assert_eq!(fragment["compression"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(
        text,
        "# Generated by Butane\n\nset superusers=\"root admin\"\npassword_pbkdf2 root grub.pbkdf2.sha512.X\npassword_pbkdf2 admin grub.pbkdf2.sha512.Y\n"
    );
    assert_eq!(out["storage"]["filesystems"][0]["path"], "/boot");
}
