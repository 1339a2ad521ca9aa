//! The kernel command line parser: any bytes (read as the kernel hands them over, lossily as
//! UTF-8) parse without a panic, and the guarded arguments (`config.hash`, `config.sig`) are
//! either refused or given exactly once, with a value, under one of their two names.

#![no_main]

use kindling::cmdline::Cmdline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = Cmdline::parse(&text);
    for name in ["config.url", "platform.id", "firstboot"] {
        let _ = (c.value(name), c.flag(name));
    }
    for (name, guarded) in [
        ("config.hash", c.config_pin()),
        ("config.sig", c.config_sig()),
    ] {
        match guarded {
            Ok(Some(v)) => {
                assert!(!v.is_empty(), "{name}: an empty value was accepted");
                assert_eq!(c.value(name), Some(v), "{name}: not the only value");
            }
            Ok(None) => assert!(!c.flag(name), "{name}: present but not seen"),
            Err(e) => assert!(e.to_string().contains(name), "{name}: {e}"),
        }
    }
});
