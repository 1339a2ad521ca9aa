//! Test keys and signatures made with sequoia, so the tests need no gpg.

use std::io::Write;
use std::time::{Duration, SystemTime};

use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Compressor, LiteralWriter, Message, Signer};
use openpgp::serialize::SerializeInto;
use openpgp::types::CompressionAlgorithm;
use openpgp::Cert;
use sequoia_openpgp as openpgp;

pub struct Key {
    pub cert: Cert,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Self::build(name, |b| b)
    }

    /// A key created `age` ago that expired after `valid` (use valid < age for expired).
    pub fn expired(name: &str) -> Key {
        let created = SystemTime::now() - Duration::from_secs(10 * 86_400);
        Self::build(name, |b| {
            b.set_creation_time(created)
                .set_validity_period(Duration::from_secs(86_400))
        })
    }

    /// A key created long ago, so old signatures can be made.
    pub fn old(name: &str) -> Key {
        let created = SystemTime::now() - Duration::from_secs(400 * 86_400);
        Self::build(name, |b| b.set_creation_time(created))
    }

    pub fn revoked(name: &str) -> Key {
        let (cert, rev) =
            CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
                .generate()
                .expect("generate");
        let (cert, _) = cert.insert_packets(Some(rev)).expect("revoke");
        Key { cert }
    }

    fn build(name: &str, tweak: impl FnOnce(CertBuilder<'static>) -> CertBuilder<'static>) -> Key {
        let builder = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")));
        let (cert, _) = tweak(builder).generate().expect("generate");
        Key { cert }
    }

    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// The public certificate, armored, for `<trust-dir>/trust/`.
    pub fn public_armored(&self) -> Vec<u8> {
        self.cert.armored().to_vec().expect("armor")
    }

    /// The whole key including secrets (must be refused in a trust dir).
    pub fn secret_armored(&self) -> Vec<u8> {
        self.cert.as_tsk().armored().to_vec().expect("armor")
    }

    pub fn keypair(&self) -> openpgp::crypto::KeyPair {
        let p = StandardPolicy::new();
        // Signing keys valid at the cert's creation time, so expired keys can still sign.
        let when = self.cert.primary_key().key().creation_time() + Duration::from_secs(60);
        self.cert
            .keys()
            .unencrypted_secret()
            .with_policy(&p, when)
            .for_signing()
            .next()
            .expect("a signing key")
            .key()
            .clone()
            .into_keypair()
            .expect("keypair")
    }

    /// When a signature made now by this key is dated (`at`, else now, or shortly after the
    /// key's creation for old keys).
    pub fn time(&self, at: Option<SystemTime>) -> SystemTime {
        at.unwrap_or_else(|| {
            let created = self.cert.primary_key().key().creation_time();
            let now = SystemTime::now();
            if created + Duration::from_secs(120) > now {
                now
            } else {
                created + Duration::from_secs(120)
            }
        })
    }

    /// An armored detached signature over `data`.
    pub fn detached(&self, data: &[u8], at: Option<SystemTime>) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let message = Message::new(&mut out);
            let message = Armorer::new(message)
                .kind(armor::Kind::Signature)
                .build()
                .expect("armor");
            let mut signer = Signer::new(message, self.keypair())
                .expect("signer")
                .creation_time(self.time(at))
                .detached()
                .build()
                .expect("build");
            signer.write_all(data).expect("write");
            signer.finalize().expect("finalize");
        }
        out
    }

    /// A signed message holding `data`, armored or binary, optionally compressed.
    pub fn message(&self, data: &[u8], armored: bool, compressed: bool) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut message = Message::new(&mut out);
            if armored {
                message = Armorer::new(message).build().expect("armor");
            }
            if compressed {
                message = Compressor::new(message)
                    .algo(CompressionAlgorithm::Zip)
                    .build()
                    .expect("compress");
            }
            let signer = Signer::new(message, self.keypair())
                .expect("signer")
                .creation_time(self.time(None))
                .build()
                .expect("build");
            let mut literal = LiteralWriter::new(signer).build().expect("literal");
            literal.write_all(data).expect("write");
            literal.finalize().expect("finalize");
        }
        out
    }
}

/// `binary` wrapped in one ASCII armor block (`-----BEGIN PGP MESSAGE-----`).
pub fn armored(binary: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = armor::Writer::new(&mut out, armor::Kind::Message).expect("armor");
        w.write_all(binary).expect("write");
        w.finalize().expect("finalize");
    }
    out
}

/// `message` with one bit flipped in the first byte of `needle`, which must be stored in the
/// clear (an uncompressed message): the smallest change a verifier must catch.
pub fn with_one_bit_flipped(message: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = message
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the needle is stored in the clear in the message");
    let mut changed = message.to_vec();
    changed[at] ^= 0x01;
    changed
}
