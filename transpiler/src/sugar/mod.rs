//! Butane's sugar: fields and sections that expand into plain Ignition.

pub mod boot_device;
pub mod grub;
pub mod local_contents;
pub mod mount_units;
pub mod resource;
pub mod systemd_escape;
pub mod trees;
