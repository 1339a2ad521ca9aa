//! OpenPGP verification with sequoia, under its StandardPolicy: detached signatures for
//! configs fetched by URL, signed messages for single-blob sources (file, fw_cfg, userdata).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use openpgp::cert::prelude::*;
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
    pub fn verify_message(
        &self,
        message: &[u8],
        max_age: Option<Duration>,
    ) -> Result<(Vec<u8>, Signer), PgpError> {
        let policy = StandardPolicy::new();
        let helper = self.helper(max_age)?;
        let mut v = VerifierBuilder::from_bytes(message)
            .map_err(|e| PgpError::Refused(format!("not an OpenPGP message: {e}")))?
            .with_policy(&policy, None, helper)
            .map_err(|e| PgpError::Refused(chain(&e)))?;
        // Room for a compressed payload to unpack without regrowing (JSON compresses about 4:1);
        // untouched capacity costs no memory.
        let mut payload = Vec::with_capacity(message.len().saturating_mul(4));
        // The verifier checks the signatures before it returns the last bytes.
        v.read_to_end(&mut payload)
            .map_err(|e| PgpError::Refused(e.to_string()))?;
        let signer = v
            .into_helper()
            .signer
            .ok_or_else(|| PgpError::Refused("no valid signature".into()))?;
        Ok((payload, signer))
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
    certs: Vec<Cert>,
    max_age: Option<Duration>,
    signer: Option<Signer>,
    problems: Vec<String>,
}

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.clone())
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
