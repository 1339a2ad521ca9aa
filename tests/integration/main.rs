//! All of the engine's integration tests, in one binary: one link of the engine and its
//! dependencies instead of one per file. Each module is one area; the helpers they share are
//! `common` and `support`.

mod allowed;
mod common;
mod crash_campaign;
mod support;

mod differential_disks;
mod differential_files;
mod differential_ignition;
mod disks_stage;
mod fast_path;
mod fetch_faults;
mod fetch_http;
mod fetch_objstore;
mod fetch_stage;
mod files_stage;
mod flatcar_boot;
mod kargs_stage;
mod mount_stage;
mod negative_corpus;
mod packaging;
mod providers_drives;
mod providers_host;
mod providers_http;
mod spec2x_corpus;
mod spec2x_fetch;
mod unit_names;
mod validate_cli;
mod verified_config;
