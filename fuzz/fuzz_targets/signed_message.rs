//! The signed-config front end: armor detection, OpenPGP message parsing and verification,
//! detached signatures. Whatever the bytes, it must answer (accept or refuse), never panic.

#![no_main]

use std::sync::OnceLock;

use kindling::verify::pgp::{looks_like_openpgp, TrustStore};
use libfuzzer_sys::fuzz_target;
use sequoia_openpgp::cert::CertBuilder;

fn store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let (cert, _) = CertBuilder::general_purpose(Some("fuzz <fuzz@example.org>"))
            .generate()
            .expect("key");
        TrustStore::from_certs(vec![cert.strip_secret_key_material()])
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_openpgp(data);
    let _ = store().verify_message(data, None, 1 << 20);
    let _ = store().verify_detached(br#"{"ignition":{"version":"3.6.0"}}"#, data, None);
});
