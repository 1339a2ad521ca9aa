//! Kindling: first-boot provisioning for image-based Linux, compatible with Ignition.

pub mod cli;
pub mod commands;
pub mod fetch;
pub mod input;
