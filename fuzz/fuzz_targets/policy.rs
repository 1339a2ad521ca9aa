//! `policy.json`: any bytes are a policy or an error, never a panic; and only a JSON object
//! is ever a policy (issue 15: `[]` was read as "require none").

#![no_main]

use std::path::Path;

use kindling::verify::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = Policy::parse(data, Path::new("policy.json")) {
        let value: serde_json::Value =
            serde_json::from_slice(data).expect("an accepted policy is JSON");
        assert!(
            value.is_object(),
            "a policy that is not an object was accepted"
        );
        assert!(policy.config_limit() > 0);
        let _ = policy.summary();
    }
});
