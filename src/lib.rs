//! Kindling: first-boot provisioning for image-based Linux, compatible with Ignition.

pub mod atomic;
pub mod attempt;
pub mod bounded;
pub mod cli;
pub mod cmdline;
pub mod command;
pub mod commands;
pub mod fetch;
pub mod flatcar;
pub mod input;
pub mod mountinfo;
pub mod pipeline;
pub mod providers;
pub mod report;
pub mod root;
pub mod rundir;
pub mod stages;
pub mod verify;
