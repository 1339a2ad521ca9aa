//! The signed-message front end under a small payload limit, against a fixed certificate
//! whose signed messages are the seed corpus (fuzz/seeds/signed_message_bounded), so the
//! fuzzer starts from messages that verify. Whatever the bytes: no panic, an accepted payload
//! is within the limit, and the limit holds for compressed payloads (tools/fuzz.sh runs it with
//! -malloc_limit_mb=32: an unpacked bomb must never be held).

#![no_main]

use std::sync::OnceLock;

use kindling::verify::pgp::TrustStore;
use libfuzzer_sys::fuzz_target;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::Cert;

/// Small enough that a compressed seed can pass it many times over.
const LIMIT: u64 = 64 * 1024;

fn store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let cert = Cert::from_bytes(include_bytes!("fuzz-cert.asc")).expect("fuzz certificate");
        TrustStore::from_certs(vec![cert])
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok((payload, signer)) = store().verify_message(data, None, LIMIT) {
        assert!(payload.len() as u64 <= LIMIT, "{} bytes", payload.len());
        assert!(!signer.fingerprint.is_empty());
    }
});
