//! Config parsing and validation: any bytes get a report, never a panic; and the fast path
//! for clean configs reads every input exactly as the full path does.

#![no_main]

use kindling_spec::{parse, parse_slow, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fast = parse(data, Options::default());
    let slow = parse_slow(data, Options::default());
    match (fast, slow) {
        (Ok(f), Ok(s)) => {
            assert_eq!(f.config, s.config);
            assert_eq!(f.version, s.version);
            assert_eq!(f.report, s.report);
        }
        (Err(f), Err(s)) => assert_eq!(f, s),
        (f, s) => panic!("paths disagree: fast ok={}, full ok={}", f.is_ok(), s.is_ok()),
    }
});
