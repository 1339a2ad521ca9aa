//! Config parsing and validation: any bytes get a report, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kindling_spec::parse(data, kindling_spec::Options::default());
});
