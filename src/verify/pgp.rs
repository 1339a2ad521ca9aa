//! OpenPGP verification with sequoia, under its StandardPolicy: detached signatures for
//! configs fetched by URL, signed messages for single-blob sources (file, fw_cfg, userdata).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::parse::buffered_reader::BufferedReader;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, GoodChecksum, MessageLayer, MessageStructure, VerificationHelper,
    VerifierBuilder,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

/// How far in the future a signature's creation time may be (clock skew).
pub const FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PgpError {
    #[error("reading trusted certificates from {path} failed: {reason}")]
    Certs { path: PathBuf, reason: String },
    #[error("no trusted certificates in {dir}: put OpenPGP certificates (*.asc or *.pgp) there when the policy requires a signature")]
    NoCerts { dir: PathBuf },
    #[error("signature refused: {0}")]
    Refused(String),
    #[error("the signed message's payload is larger than the config limit of {limit} bytes once unpacked, and was refused there without reading further (raise maxConfigBytes in the trust policy if the config is meant to be this big)")]
    TooLarge { limit: u64 },
    #[error("bytes after the signed message are refused ({0}); deliver exactly one signed message, with nothing after it")]
    Trailing(String),
}

/// Who signed, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub fingerprint: String,
    pub created: SystemTime,
}

/// The certificates under `<trust-dir>/trust/`.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    certs: Vec<Cert>,
    dir: PathBuf,
}

impl TrustStore {
    pub fn load(trust_dir: &Path) -> Result<Self, PgpError> {
        let dir = trust_dir.join("trust");
        let mut certs = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self { certs, dir }),
            Err(e) => {
                return Err(PgpError::Certs {
                    path: dir,
                    reason: e.to_string(),
                })
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "asc" || x == "pgp"))
            .collect();
        paths.sort();
        for path in paths {
            let parser = CertParser::from_file(&path).map_err(|e| PgpError::Certs {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            for cert in parser {
                let cert = cert.map_err(|e| PgpError::Certs {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                if cert.is_tsk() {
                    return Err(PgpError::Certs {
                        path,
                        reason: "it holds secret key material; put only the public certificate in the initramfs".into(),
                    });
                }
                certs.push(cert);
            }
        }
        Ok(Self { certs, dir })
    }

    /// A store holding exactly these certificates (for tools and fuzzing).
    pub fn from_certs(certs: Vec<Cert>) -> Self {
        Self {
            certs,
            dir: PathBuf::from("(in memory)"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    fn helper(&self, max_age: Option<Duration>) -> Result<Helper, PgpError> {
        if self.certs.is_empty() {
            return Err(PgpError::NoCerts {
                dir: self.dir.clone(),
            });
        }
        Ok(Helper {
            literal_seen: false,
            certs: self.certs.clone(),
            max_age,
            signer: None,
            problems: Vec::new(),
        })
    }

    /// Verifies a detached signature (armored or binary) over `data`.
    pub fn verify_detached(
        &self,
        data: &[u8],
        signature: &[u8],
        max_age: Option<Duration>,
    ) -> Result<Signer, PgpError> {
        let policy = StandardPolicy::new();
        let helper = self.helper(max_age)?;
        let mut v = DetachedVerifierBuilder::from_bytes(signature)
            .map_err(|e| {
                PgpError::Refused(format!("the signature is not an OpenPGP signature: {e}"))
            })?
            .with_policy(&policy, None, helper)
            .map_err(|e| PgpError::Refused(chain(&e)))?;
        v.verify_bytes(data)
            .map_err(|e| PgpError::Refused(chain(&e)))?;
        v.into_helper()
            .signer
            .ok_or_else(|| PgpError::Refused("no valid signature".into()))
    }

    /// Verifies a signed message and returns its payload, only once it is verified.
    ///
    /// A signed message may be compressed, so a small message can unpack to any size, and
    /// the signature is only checked at the end. The payload streams through the verifier,
    /// which is refused as soon as it passes `limit` bytes. Up to [`KEEP`] bytes of it are
    /// kept meanwhile (most configs are far smaller, and are read once); a larger payload is
    /// counted and dropped, and read a second time only after this pass has verified the
    /// signature. So no more than `KEEP` bytes of an unverified payload are ever held.
    pub fn verify_message(
        &self,
        message: &[u8],
        max_age: Option<Duration>,
        limit: u64,
    ) -> Result<(Vec<u8>, Signer), PgpError> {
        let message = one_message(message)?;
        let (kept, signer) = self.stream_message(&message, max_age, limit, KEEP)?;
        if let Streamed::Kept(payload) = kept {
            return Ok((payload, signer));
        }
        // Verified: the same bytes again, this time keeping all of them.
        match self.stream_message(&message, max_age, limit, limit)? {
            (Streamed::Kept(payload), signer) => Ok((payload, signer)),
            (Streamed::Dropped, _) => Err(PgpError::Refused(
                "the payload changed between two reads of the same message".into(),
            )),
        }
    }

    /// One pass of [`TrustStore::verify_message`], keeping the payload if it is at most
    /// `keep` bytes; the verifier fails its last read if the signature does not hold.
    fn stream_message(
        &self,
        message: &OneMessage<'_>,
        max_age: Option<Duration>,
        limit: u64,
        keep: u64,
    ) -> Result<(Streamed, Signer), PgpError> {
        let policy = StandardPolicy::new();
        let helper = self.helper(max_age)?;
        let (bytes, what) = match message {
            OneMessage::Binary(b) => (&b[..], "not an OpenPGP message"),
            OneMessage::Cleartext(b) => (*b, "not a cleartext signed message"),
        };
        let mut v = VerifierBuilder::from_bytes(bytes)
            .map_err(|e| PgpError::Refused(format!("{what}: {e}")))?
            .buffer_size(WINDOW)
            .with_policy(&policy, None, helper)
            .map_err(|e| PgpError::Refused(chain(&e)))?;
        let mut buf = vec![0; WINDOW];
        let mut size = 0u64;
        // Reserved up front, so the buffer never grows by copying: untouched capacity costs no
        // memory, while every regrowth would leave the old buffer's pages behind in the heap.
        let mut kept = Some(Vec::with_capacity(
            usize::try_from(keep.min(limit)).unwrap_or(0),
        ));
        loop {
            let n = v
                .read(&mut buf)
                .map_err(|e| PgpError::Refused(e.to_string()))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > limit {
                return Err(PgpError::TooLarge { limit });
            }
            if size > keep {
                kept = None;
            } else if let Some(payload) = &mut kept {
                payload.extend_from_slice(&buf[..n]);
            }
        }
        let signer = v
            .into_helper()
            .signer
            .ok_or_else(|| PgpError::Refused("no valid signature".into()))?;
        let streamed = kept.map_or(Streamed::Dropped, Streamed::Kept);
        Ok((streamed, signer))
    }
}

/// What one pass through the verifier leaves: the payload, or only its size.
enum Streamed {
    Kept(Vec<u8>),
    Dropped,
}

/// The most of a signed message's payload kept before its signature is verified.
const KEEP: u64 = 8 * 1024 * 1024;

/// How much of a signed message's payload the verifier reads ahead (and the read size).
const WINDOW: usize = 64 * 1024;

/// The one signed message to verify, with nothing after it.
enum OneMessage<'a> {
    /// Binary OpenPGP (as delivered, or unpacked from its armor).
    Binary(std::borrow::Cow<'a, [u8]>),
    /// A cleartext signed message (`-----BEGIN PGP SIGNED MESSAGE-----`), up to the end of
    /// its signature block: the verifier unpacks it itself, as the framework needs.
    Cleartext(&'a [u8]),
}

/// Refuses anything after the one signed message: text after the armor's END line, and
/// packets after the message's last signature. The verifier stops at the armor's END line
/// and would otherwise never look at what follows.
fn one_message(bytes: &[u8]) -> Result<OneMessage<'_>, PgpError> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if !bytes[start..].starts_with(b"-----BEGIN PGP") {
        check_no_trailing_packets(bytes)?;
        return Ok(OneMessage::Binary(bytes.into()));
    }
    let mut reader = armor::Reader::from_bytes(bytes, armor::ReaderMode::Tolerant(None));
    let mut binary = Vec::new();
    reader
        .read_to_end(&mut binary)
        .map_err(|e| PgpError::Refused(format!("the ASCII armor is damaged: {e}")))?;
    // What the armor reader left unread; not knowing it must not mean "nothing".
    let rest = Box::new(reader)
        .into_inner()
        .and_then(|mut r| r.data_eof().ok().map(<[u8]>::len))
        .ok_or_else(|| PgpError::Refused("the end of the ASCII armor cannot be found".into()))?;
    let end = bytes.len() - rest;
    if !bytes[end..].iter().all(u8::is_ascii_whitespace) {
        return Err(PgpError::Trailing(format!(
            "{} bytes of text after the armor's END line",
            bytes[end..].trim_ascii_end().len()
        )));
    }
    if bytes[start..].starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----") {
        return Ok(OneMessage::Cleartext(&bytes[..end]));
    }
    check_no_trailing_packets(&binary)?;
    Ok(OneMessage::Binary(binary.into()))
}

/// Walks the top-level packets of a binary message and refuses bytes after the message they
/// make: one (compressed or literal) body, with its one-pass signatures before it and as
/// many signatures after, or plain signatures before it. What it cannot walk (damaged
/// headers, other packets) it leaves to the verifier, which refuses malformed messages.
fn check_no_trailing_packets(bytes: &[u8]) -> Result<(), PgpError> {
    const SIGNATURE: u8 = 2;
    const ONE_PASS: u8 = 4;
    const COMPRESSED: u8 = 8;
    const MARKER: u8 = 10;
    const LITERAL: u8 = 11;
    let (mut at, mut one_pass, mut after, mut body) = (0, 0usize, 0usize, false);
    while at < bytes.len() {
        let Some((tag, next)) = packet_at(bytes, at) else {
            return Ok(());
        };
        let ends_here = match tag {
            MARKER if !body && one_pass == 0 => false,
            ONE_PASS if !body => {
                one_pass += 1;
                false
            }
            SIGNATURE if !body => false,
            SIGNATURE => {
                after += 1;
                after == one_pass
            }
            LITERAL | COMPRESSED if !body => {
                body = true;
                one_pass == 0
            }
            // A second body or one-pass signature after the body: a second message.
            LITERAL | COMPRESSED | ONE_PASS => {
                return Err(trailing(bytes.len() - at, "another message, "));
            }
            _ => return Ok(()),
        };
        if ends_here && next < bytes.len() {
            return Err(trailing(bytes.len() - next, ""));
        }
        at = next;
    }
    Ok(())
}

fn trailing(n: usize, what: &str) -> PgpError {
    PgpError::Trailing(format!("{what}{n} bytes after its last signature"))
}

/// The tag of the packet at `at` and where the next one starts, or `None` when the bytes
/// there are not a whole packet.
fn packet_at(b: &[u8], at: usize) -> Option<(u8, usize)> {
    let first = *b.get(at)?;
    if first & 0x80 == 0 {
        return None;
    }
    let mut pos = at + 1;
    // A big-endian number of `n` octets at `*pos`, moving past it.
    let take = |pos: &mut usize, n: usize| -> Option<u64> {
        let v = b.get(*pos..*pos + n)?;
        *pos += n;
        Some(v.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    };
    if first & 0x40 == 0 {
        // Old format: tag in bits 5-2, length type in bits 1-0.
        let tag = (first >> 2) & 0x0f;
        let len = match first & 0x03 {
            0 => take(&mut pos, 1)?,
            1 => take(&mut pos, 2)?,
            2 => take(&mut pos, 4)?,
            // Indeterminate: the packet runs to the end of the data.
            _ => return Some((tag, b.len())),
        };
        let end = pos.checked_add(usize::try_from(len).ok()?)?;
        return (end <= b.len()).then_some((tag, end));
    }
    let tag = first & 0x3f;
    loop {
        let o = take(&mut pos, 1)?;
        let (len, partial) = match o {
            0..=191 => (o, false),
            192..=223 => (((o - 192) << 8) + take(&mut pos, 1)? + 192, false),
            255 => (take(&mut pos, 4)?, false),
            _ => (1u64 << (o & 0x1f), true),
        };
        pos = pos.checked_add(usize::try_from(len).ok()?)?;
        if pos > b.len() {
            return None;
        }
        if !partial {
            return Some((tag, pos));
        }
    }
}

/// Whether bytes look like an OpenPGP message rather than a JSON config.
pub fn looks_like_openpgp(bytes: &[u8]) -> bool {
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &bytes[i..]);
    trimmed.starts_with(b"-----BEGIN PGP") || trimmed.first().is_some_and(|b| b & 0x80 != 0)
}

/// A signature made before a key expired or was revoked must not keep working: replaying an
/// old signed config is exactly what expiry and revocation are meant to stop.
fn usable_now(
    cert: &Cert,
    key: &openpgp::Fingerprint,
    now: SystemTime,
) -> Result<(), &'static str> {
    let policy = StandardPolicy::new();
    let valid = cert
        .with_policy(&policy, now)
        .map_err(|_| "is not valid now (expired, revoked or too weak)")?;
    valid.alive().map_err(|_| "has expired")?;
    if matches!(
        valid.revocation_status(),
        openpgp::types::RevocationStatus::Revoked(_)
    ) {
        return Err("was revoked");
    }
    let alive = valid
        .keys()
        .alive()
        .revoked(false)
        .any(|k| k.key().fingerprint() == *key);
    if alive {
        Ok(())
    } else {
        Err("has expired or was revoked")
    }
}

fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

struct Helper {
    literal_seen: bool,
    certs: Vec<Cert>,
    max_age: Option<Duration>,
    signer: Option<Signer>,
    problems: Vec<String>,
}

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.clone())
    }

    /// Sees every packet as it is parsed, before its body is read or skipped: a packet with
    /// no place in a signed message is refused there, so that the body of an unknown packet
    /// or of a second literal inside a compressed packet is never unpacked just to be
    /// skipped (a bomb costs time even when it costs no memory).
    fn inspect(&mut self, pp: &openpgp::parse::PacketParser<'_>) -> openpgp::Result<()> {
        use openpgp::packet::Tag;
        match pp.packet.tag() {
            Tag::Signature | Tag::Marker => Ok(()),
            Tag::OnePassSig | Tag::CompressedData if !self.literal_seen => Ok(()),
            Tag::Literal if !self.literal_seen => {
                self.literal_seen = true;
                Ok(())
            }
            tag @ (Tag::Literal | Tag::OnePassSig | Tag::CompressedData) => Err(anyhow::anyhow!(
                "bytes after the signed message are refused (another message: {tag} after the literal data); deliver exactly one signed message, with nothing after it"
            )),
            Tag::PKESK | Tag::SKESK | Tag::SEIP | Tag::SED | Tag::AED => Err(anyhow::anyhow!(
                "encrypted messages are not supported; sign the config, do not encrypt it"
            )),
            tag => Err(anyhow::anyhow!(
                "a signed config holds only signatures, compressed data and one literal data packet, not {tag} (or the message is damaged)"
            )),
        }
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let now = SystemTime::now();
        for layer in structure {
            match layer {
                MessageLayer::Compression { .. } => {}
                MessageLayer::Encryption { .. } => {
                    return Err(anyhow::anyhow!(
                        "encrypted messages are not supported; sign the config, do not encrypt it"
                    ));
                }
                MessageLayer::SignatureGroup { results } => {
                    for result in results {
                        match result {
                            Ok(GoodChecksum { sig, ka }) => {
                                let created = sig
                                    .signature_creation_time()
                                    .unwrap_or(SystemTime::UNIX_EPOCH);
                                let fingerprint = ka.cert().fingerprint().to_hex();
                                if let Err(why) =
                                    usable_now(ka.cert(), &ka.key().fingerprint(), now)
                                {
                                    self.problems.push(format!(
                                        "the key of {fingerprint} that made the signature {why}"
                                    ));
                                } else if created > now + FUTURE_SKEW {
                                    self.problems.push(format!("signature by {fingerprint} is dated in the future; check the signer's clock"));
                                } else if self.max_age.is_some_and(|max| {
                                    now.duration_since(created).unwrap_or_default() > max
                                }) {
                                    self.problems.push(format!("signature by {fingerprint} is older than the policy's maxSignatureAgeDays; sign the config again"));
                                } else if self.signer.is_none() {
                                    self.signer = Some(Signer {
                                        fingerprint,
                                        created,
                                    });
                                }
                            }
                            Err(e) => {
                                let text = e.to_string();
                                if text.contains("Not live until") {
                                    self.problems.push(format!("the signature is dated in the future ({text}); check the signer's clock"));
                                } else {
                                    self.problems.push(text);
                                }
                            }
                        }
                    }
                }
            }
        }
        if self.signer.is_some() {
            Ok(())
        } else if self.problems.is_empty() {
            Err(anyhow::anyhow!("the config is not signed"))
        } else {
            Err(anyhow::anyhow!(
                "no valid signature from a trusted certificate ({})",
                self.problems.join("; ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::serialize::stream::{Armorer, LiteralWriter, Message, Signer as Sign};
    use std::io::Write;

    const CFG: &[u8] = br#"{"ignition":{"version":"3.4.0"}}"#;

    fn key() -> Cert {
        CertBuilder::general_purpose(Some("t <t@example.org>"))
            .generate()
            .expect("key")
            .0
    }

    fn keypair(cert: &Cert) -> openpgp::crypto::KeyPair {
        cert.keys()
            .unencrypted_secret()
            .with_policy(&StandardPolicy::new(), None)
            .for_signing()
            .next()
            .expect("signing key")
            .key()
            .clone()
            .into_keypair()
            .expect("keypair")
    }

    /// `gpg --clearsign` style: the config in the clear, then an armored signature block.
    fn cleartext(cert: &Cert, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut s = Sign::new(Message::new(&mut out), keypair(cert))
                .expect("signer")
                .cleartext()
                .build()
                .expect("build");
            s.write_all(data).expect("write");
            s.finalize().expect("finalize");
        }
        out
    }

    fn signed(cert: &Cert, data: &[u8], armored: bool) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut m = Message::new(&mut out);
            if armored {
                m = Armorer::new(m).build().expect("armor");
            }
            let s = Sign::new(m, keypair(cert))
                .expect("signer")
                .build()
                .expect("s");
            let mut l = LiteralWriter::new(s).build().expect("literal");
            l.write_all(data).expect("write");
            l.finalize().expect("finalize");
        }
        out
    }

    fn store(cert: &Cert) -> TrustStore {
        TrustStore::from_certs(vec![cert.clone().strip_secret_key_material()])
    }

    #[test]
    fn cleartext_signed_messages_verify_and_nothing_may_follow_them() {
        let cert = key();
        let msg = cleartext(&cert, CFG);
        let (payload, _) = store(&cert)
            .verify_message(&msg, None, 1 << 20)
            .expect("a cleartext signed message verifies");
        assert_eq!(payload.trim_ascii_end(), CFG);
        let err = store(&cert)
            .verify_message(&[&msg[..], b"\ntrailing text\n"].concat(), None, 1 << 20)
            .expect_err("text after the signature block");
        assert!(matches!(err, PgpError::Trailing(_)), "{err}");
    }

    #[test]
    fn the_payload_limit_counts_unpacked_bytes() {
        let cert = key();
        let msg = signed(&cert, CFG, false);
        let exact = CFG.len() as u64;
        assert!(store(&cert).verify_message(&msg, None, exact).is_ok());
        let err = store(&cert)
            .verify_message(&msg, None, exact - 1)
            .expect_err("one byte over");
        assert!(
            err.to_string().contains(&format!(
                "larger than the config limit of {} bytes",
                exact - 1
            )),
            "{err}"
        );
    }

    /// `packets` in one compressed data packet (deflate), as `gpg --sign` makes by default.
    fn compressed(packets: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(packets).expect("deflate");
        let body = e.finish().expect("finish");
        let mut out = vec![0xc8, 0xff];
        out.extend(u32::try_from(body.len() + 1).expect("small").to_be_bytes());
        out.push(1);
        out.extend(body);
        out
    }

    #[test]
    fn packets_after_the_message_inside_a_compressed_packet_are_refused() {
        let (cert, other) = (key(), key());
        let one = signed(&cert, CFG, false);
        assert!(store(&cert)
            .verify_message(&compressed(&one), None, 1 << 20)
            .is_ok());
        for (extra, second) in [
            (b"garbage".to_vec(), false),
            (signed(&other, b"{}", false), true),
            (one.clone(), true),
        ] {
            let message = compressed(&[&one[..], &extra[..]].concat());
            for trusted in [vec![cert.clone()], vec![cert.clone(), other.clone()]] {
                let store = TrustStore::from_certs(trusted);
                let err = store
                    .verify_message(&message, None, 1 << 20)
                    .expect_err("refused");
                assert!(
                    !second || err.to_string().contains("after the signed message"),
                    "{err}"
                );
            }
        }
    }

    /// A packet with no place in a signed message is refused when it is parsed, before its
    /// body is unpacked: this one claims 1 GiB but holds 8 bytes, so skipping it would fail
    /// with "truncated" instead.
    #[test]
    fn foreign_packets_are_refused_before_their_body_is_read() {
        let cert = key();
        let mut foreign = vec![0xc0 | 60, 0xff];
        foreign.extend((1u32 << 30).to_be_bytes());
        foreign.extend([0u8; 8]);
        let message = compressed(&[&foreign[..], &signed(&cert, CFG, false)[..]].concat());
        let err = store(&cert)
            .verify_message(&message, None, 1 << 20)
            .expect_err("refused");
        assert!(err.to_string().contains("not "), "{err}");
        assert!(!err.to_string().contains("runcated"), "{err}");
    }

    /// Above KEEP the payload is dropped while the signature is unverified, then read again.
    #[test]
    fn a_payload_above_what_is_kept_unverified_is_read_again_once_verified() {
        let cert = key();
        let data: Vec<u8> = (0..KEEP + 100_000).map(|i| (i % 251) as u8).collect();
        let msg = signed(&cert, &data, false);
        let (payload, _) = store(&cert)
            .verify_message(&msg, None, KEEP * 2)
            .expect("verifies");
        assert!(payload == data, "the whole payload, unchanged");
        // Changed near the start: refused, even though those bytes were long dropped.
        let mut changed = msg.clone();
        let at = changed.len() / 4;
        changed[at] ^= 1;
        assert!(store(&cert)
            .verify_message(&changed, None, KEEP * 2)
            .is_err());
    }

    #[test]
    fn trailing_packets_are_found_in_every_length_form() {
        let cert = key();
        let one = signed(&cert, CFG, false);
        check_no_trailing_packets(&one).expect("one message");
        for extra in [
            &[0xcb, 0x01, b'x'][..],          // new format, one-octet length
            &[0xac, 0x01, b'x'][..],          // old format (tag 11), one-octet length
            &[0xaf, b'x', b'y'][..],          // old format, indeterminate length
            &[0xcb, 0xe0, b'x', 0x00][..],    // new format, partial body of 1, then 0
            &[0xc2, 0xff, 0, 0, 0, 1, 0][..], // a second signature, five-octet length
            &[0x00][..],                      // not a packet at all
        ] {
            let err = check_no_trailing_packets(&[&one[..], extra].concat())
                .expect_err("bytes after the message");
            assert!(
                err.to_string().contains("after the signed message"),
                "{err}"
            );
        }
        // Damaged headers are the verifier's to refuse, not a trailing-bytes matter.
        assert!(check_no_trailing_packets(&one[..one.len() - 1]).is_ok());
        assert_eq!(packet_at(&[0xcb, 0xe1, 1, 2, 0x01, 3], 0), Some((11, 6)));
        assert_eq!(packet_at(&[0xcb, 0xe1, 1, 2, 0x05, 3], 0), None);
    }
}
