//! Ignition's validation rules, applied to the 3.6.0 model with the source version in mind.

use crate::report::Report;
use crate::types::Config;
use crate::version::SpecVersion;

pub(crate) fn validate(_version: SpecVersion, _config: &Config, _report: &mut Report) {}
