//! Translation from older spec versions up to 3.6.0.

use crate::report::Report;
use crate::types::Config;
use crate::version::SpecVersion;

pub(crate) fn to_newest(_version: SpecVersion, config: Config, _report: &mut Report) -> Config {
    config
}
