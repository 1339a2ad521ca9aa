//! The spec 1 / 2.x translator (spec/src/legacy), through `kindling_spec::translate` as
//! `kindling translate` calls it. Whatever the bytes: no panic; and a spec 1 or 2.x config that
//! translates gives, written out as JSON, a config that validates as 3.x (as 3.0.0, whose
//! rules translated configs are checked by, and as the newest version), without errors and
//! with no unknown keys, and reads back as the same config.

#![no_main]

use kindling_spec::{translate, Kind, Options, SpecVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for to in [SpecVersion::V3_0, SpecVersion::NEWEST] {
        let Ok(translated) = translate(data, Options::default(), to) else {
            continue;
        };
        let Some(legacy) = translated.legacy else {
            // A 3.x config: config_parse covers those.
            return;
        };
        let json = serde_json::to_vec(&translated.config).expect("the model writes as JSON");
        // Flatcar's oem:// sources stay in a translation (the engine reads them at boot), and
        // a 3.x config of its own cannot have them: `kindling translate` says so. Their
        // configs are not held to standing alone as 3.x.
        if String::from_utf8_lossy(&json)
            .to_ascii_lowercase()
            .contains("\"oem:")
        {
            continue;
        }
        let reread = match kindling_spec::parse(&json, Options::default()) {
            Ok(p) => p,
            Err(report) => panic!(
                "spec {legacy} translated to {to} does not validate as {to}:\n{report}\n{}",
                String::from_utf8_lossy(&json)
            ),
        };
        assert_eq!(reread.version, to);
        assert!(reread.legacy.is_none());
        let unknown: Vec<_> = reread
            .report
            .entries
            .iter()
            .filter(|e| e.kind != Kind::Info && e.message.starts_with("unused key"))
            .collect();
        assert!(
            unknown.is_empty(),
            "the translation writes unknown keys: {unknown:?}"
        );
        // Both sides are 3.6.0 models in memory (translate only sets the version).
        let mut expected = translated.config.clone();
        expected.ignition.version = reread.config.ignition.version.clone();
        assert_eq!(
            reread.config, expected,
            "spec {legacy} → {to} does not read back the same"
        );
    }
});
