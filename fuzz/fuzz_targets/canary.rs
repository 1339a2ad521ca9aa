//! Not a target: it fails on its first input, so `tools/fuzz.sh 5 canary` checks that the
//! script reports a crash (exit 1, the reproducer kept) instead of hiding it.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    panic!(
        "canary: the fuzz script must report this crash ({} bytes)",
        data.len()
    );
});
