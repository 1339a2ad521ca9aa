//! Times the phases of `parse` on a config file: `cargo run --release -p kindling-spec --example parse_timing FILE`.

use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_timing FILE");
    let bytes = std::fs::read(path).expect("readable file");
    let t = Instant::now();
    let doc = kindling_spec::source::parse(&bytes).expect("json");
    eprintln!("source::parse   {:?}", t.elapsed());
    drop(doc);
    let t = Instant::now();
    let parsed = kindling_spec::parse(&bytes, kindling_spec::Options::default());
    eprintln!("parse (all)     {:?} ok={}", t.elapsed(), parsed.is_ok());
    let t = Instant::now();
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    eprintln!("serde_json only {:?}", t.elapsed());
    let t = Instant::now();
    let c: kindling_spec::Config = serde_json::from_value(v).expect("typed");
    eprintln!("typed from value {:?}", t.elapsed());
    drop(c);
}
