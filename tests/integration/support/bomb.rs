//! Decompression bombs for the signed-message limits (not in tests/qemu, which shares
//! pgp.rs but not flate2).

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::Compression;
use openpgp::packet::OnePassSig;
use openpgp::parse::Parse;
use openpgp::serialize::stream::{Message, Signer};
use openpgp::serialize::SerializeInto;
use openpgp::Packet;
use sequoia_openpgp as openpgp;

use super::pgp::Key;

/// A binary detached signature by `key` over `len` zero bytes, hashed as they stream by.
fn detached_over_zeros(key: &Key, len: u64) -> openpgp::packet::Signature {
    let mut out = Vec::new();
    {
        let mut signer = Signer::new(Message::new(&mut out), key.keypair())
            .expect("signer")
            .creation_time(key.time(None))
            .detached()
            .build()
            .expect("build");
        write_zeros(&mut signer, len);
        signer.finalize().expect("finalize");
    }
    match Packet::from_bytes(&out).expect("a signature packet") {
        Packet::Signature(sig) => sig,
        other => panic!("expected a signature, got {other:?}"),
    }
}

const CHUNK: usize = 1 << 20;

fn write_zeros(w: &mut impl Write, mut len: u64) {
    let zeros = vec![0u8; CHUNK];
    while len > 0 {
        let n = len.min(CHUNK as u64) as usize;
        w.write_all(&zeros[..n]).expect("write");
        len -= n as u64;
    }
}

/// A decompression bomb: a binary OpenPGP message of one compressed data packet (deflate)
/// holding `[one-pass signature,] literal data of len zero bytes[, signature]`, signed by
/// `signer` (or unsigned), and a few MiB on the wire for a GiB of payload. Deflating a GiB in a
/// debug build is slow, so each MiB of zeros is deflated once, on its own (a fresh compressor
/// ending in a sync flush is a run of byte-aligned, self-contained blocks), and that run is
/// repeated; the signature is real, made over the zeros as they stream by.
pub fn zero_bomb(signer: Option<&Key>, len: u64) -> Vec<u8> {
    assert_eq!(len % CHUNK as u64, 0, "whole MiB only");
    let sig = signer.map(|k| detached_over_zeros(k, len));
    let mut head = Vec::new();
    if let Some(sig) = &sig {
        let mut ops = OnePassSig::try_from(sig).expect("one-pass signature");
        match &mut ops {
            OnePassSig::V3(o) => o.set_last(true),
            OnePassSig::V6(o) => o.set_last(true),
            _ => unreachable!("sequoia makes v3 or v6"),
        };
        head.extend(Packet::from(ops).to_vec().expect("ops"));
    }
    // Literal data packet (tag 11), new format, five-octet length: binary, no name, no date.
    let body = len + 6;
    head.push(0xc0 | 11);
    head.push(0xff);
    head.extend(u32::try_from(body).expect("< 4 GiB").to_be_bytes());
    head.extend([b'b', 0, 0, 0, 0, 0]);
    let tail = sig
        .map(|s| Packet::from(s).to_vec().expect("signature"))
        .unwrap_or_default();

    let segment = |data: &[u8]| {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("deflate");
        e.flush().expect("sync flush");
        e.get_ref().clone()
    };
    let zeros = segment(&vec![0u8; CHUNK]);
    let mut deflated = segment(&head);
    for _ in 0..len / CHUNK as u64 {
        deflated.extend_from_slice(&zeros);
    }
    let mut last = DeflateEncoder::new(Vec::new(), Compression::default());
    last.write_all(&tail).expect("deflate");
    deflated.extend(last.finish().expect("finish"));

    // Compressed data packet (tag 8), new format, five-octet length; algorithm 1 is ZIP
    // (raw deflate).
    let mut out = vec![0xc0 | 8, 0xff];
    out.extend(
        u32::try_from(deflated.len() + 1)
            .expect("small")
            .to_be_bytes(),
    );
    out.push(1);
    out.extend(deflated);
    out
}
