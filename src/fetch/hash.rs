//! Typed content hashes (`sha512-<hex>`, `sha256-<hex>`) and a writer that hashes as bytes pass.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use openssl::sha::Sha512;
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

/// A digest with its algorithm, as written in configs and on the kernel command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hash {0:?}: write it as sha512-<128 hex digits> or sha256-<64 hex digits>")]
pub struct DigestParseError(String);

impl FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DigestParseError(truncate(s));
        let (name, hex_sum) = s.split_once('-').ok_or_else(err)?;
        let (algorithm, len) = match name {
            "sha256" => (Algorithm::Sha256, 32),
            "sha512" => (Algorithm::Sha512, 64),
            _ => return Err(err()),
        };
        let bytes = hex::decode(hex_sum).map_err(|_| err())?;
        if bytes.len() != len {
            return Err(err());
        }
        Ok(Digest { algorithm, bytes })
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.algorithm.name(), hex::encode(&self.bytes))
    }
}

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Passes bytes through to `inner`, hashing them with the given algorithm.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    written: u64,
}

impl<W> fmt::Debug for HashingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashingWriter")
            .field("written", &self.written)
            .finish()
    }
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W, algorithm: Algorithm) -> Self {
        let hasher = match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        };
        Self {
            inner,
            hasher,
            written: 0,
        }
    }

    /// The digest of everything written, and how many bytes that was.
    pub fn finish(self) -> (Digest, u64) {
        let digest = match self.hasher {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                bytes: h.finalize().to_vec(),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                bytes: h.finish().to_vec(),
            },
        };
        (digest, self.written)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        match &mut self.hasher {
            Hasher::Sha256(h) => h.update(&buf[..n]),
            Hasher::Sha512(h) => h.update(&buf[..n]),
        }
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The sha512 digest of a byte slice, for reports and pins.
pub fn sha512_of(bytes: &[u8]) -> Digest {
    Digest {
        algorithm: Algorithm::Sha512,
        bytes: {
            let mut h = Sha512::new();
            h.update(bytes);
            h.finish().to_vec()
        },
    }
}

/// Runs `work` while another thread takes the sha512 of `bytes`. For a digest that is
/// reported but decides nothing: on a large config it costs no wall time beside verification.
pub fn sha512_beside<T>(bytes: &[u8], work: impl FnOnce() -> T) -> (Digest, T) {
    std::thread::scope(|s| {
        let digest = s.spawn(|| sha512_of(bytes));
        let result = work();
        (digest.join().unwrap_or_else(|_| sha512_of(bytes)), result)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        let text = format!("sha256-{}", "ab".repeat(32));
        let d: Digest = text.parse().expect("valid");
        assert_eq!(d.algorithm, Algorithm::Sha256);
        assert_eq!(d.to_string(), text);
        assert!("sha256-zz".parse::<Digest>().is_err());
        assert!("md5-00".parse::<Digest>().is_err());
        assert!(format!("sha512-{}", "0".repeat(64))
            .parse::<Digest>()
            .is_err());
    }

    #[test]
    fn hashing_writer_matches_one_shot_digest() {
        let mut w = HashingWriter::new(Vec::new(), Algorithm::Sha512);
        w.write_all(b"hello ").expect("write");
        w.write_all(b"world").expect("write");
        let (digest, n) = w.finish();
        assert_eq!(n, 11);
        assert_eq!(digest, sha512_of(b"hello world"));
    }
}
