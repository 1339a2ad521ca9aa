//! flint's YAML front end, through `flint::transpile` as the `flint` command calls it (the
//! input limits for size, nesting depth and alias expansion are inside it), and the error
//! rendering the command prints. Whatever the bytes: no panic; a failure carries at least one
//! error; and any JSON flint accepts is a valid Ignition config by the engine's own parser,
//! and is the same whether or not it is pretty-printed.

#![no_main]

use flint::{render, transpile, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = transpile(data, &Options::default());
    let source = String::from_utf8_lossy(data);
    let _ = render::pretty(&outcome.report.entries, "fuzz.bu", &source, true);
    let _ = render::raw(&outcome.report.entries);
    let Some(json) = outcome.json else {
        assert!(
            outcome.report.has_errors(),
            "no output, yet no error: {:?}",
            outcome.report
        );
        return;
    };
    assert!(!outcome.report.has_errors(), "output despite errors");
    if let Err(report) = kindling_spec::parse(json.as_bytes(), kindling_spec::Options::default()) {
        panic!("flint accepted the config, the engine refuses its output:\n{report}\n{json}");
    }
    let pretty = transpile(
        data,
        &Options {
            pretty: true,
            ..Options::default()
        },
    );
    let pretty = pretty
        .json
        .expect("the pretty run accepts what the compact run accepted");
    let a: serde_json::Value = serde_json::from_str(&json).expect("compact output is JSON");
    let b: serde_json::Value = serde_json::from_str(&pretty).expect("pretty output is JSON");
    assert_eq!(a, b, "pretty output differs");
});
