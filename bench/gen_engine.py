#!/usr/bin/env python3
"""Generates the inputs of the engine benchmark (bench/engine.sh): configs and served files.

Deterministic for a given seed, so reruns measure the same input. Only spec 3.3.0 features
are used, the newest version Debian's Ignition 2.14 reads.

    bench/gen_engine.py small  --out CONFIG [--files 10000] [--seed 1]
        CONFIG: FILES small files with inline data: URLs (percent-encoded and base64) spread
        over 100 directories, assorted modes, a fifth with a sha512 verification hash.

    bench/gen_engine.py remote --out CONFIG --dir DIR --url BASE [--files 200] [--mib 1]
        DIR/fNNN.bin: FILES files of MIB MiB each (pseudo-random, incompressible), written only
        when missing or of the wrong size. CONFIG: one storage.files entry per file, source
        BASE/fNNN.bin, with its sha512.

    bench/gen_engine.py big    --out CONFIG --gz FILE --url URL [--mib 2048]
        FILE (gzip -1 of MIB MiB of text-like content: one pseudo-random 1 MiB block of words
        and numbers, repeated; gzip's 32 KiB window cannot see the repetition, so every block
        costs real work to decompress) and FILE.sha512, written only when missing or made for
        another size. CONFIG: one file, source URL, compression gzip, with its sha512.

Prints a one-line summary of the input on stderr.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import subprocess
import sys
import urllib.parse

VERSION = "3.3.0"
MIB = 1 << 20

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu cache proxy "
    "worker queue metrics listen timeout retries backend frontend region zone replica shard"
).split()
FILE_MODES = [0o644, 0o644, 0o644, 0o600, 0o755, 0o444, 0o640]


def write_config(path, files):
    cfg = {"ignition": {"version": VERSION}, "storage": {"files": files}}
    text = json.dumps(cfg, separators=(",", ":")) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode())


def small(args):
    rng = random.Random(args.seed)
    files = []
    total = 0
    for i in range(args.files):
        lines = [
            f"{rng.choice(WORDS)}_{n} = {rng.choice(WORDS)}{rng.randrange(10000)}"
            for n in range(rng.randint(1, 4))
        ]
        body = ("\n".join(lines) + "\n").encode()
        total += len(body)
        if rng.random() < 0.7:
            source = "data:," + urllib.parse.quote(body, safe="")
        else:
            source = "data:;base64," + base64.b64encode(body).decode()
        contents = {"source": source}
        if rng.random() < 0.2:
            contents["verification"] = {"hash": "sha512-" + hashlib.sha512(body).hexdigest()}
        files.append({
            "path": f"/srv/bench/d{i % 100:02d}/{rng.choice(WORDS)}-{i:05d}.conf",
            "mode": rng.choice(FILE_MODES),
            "contents": contents,
        })
    size = write_config(args.out, files)
    print(f"{size:,} bytes of config, spec {VERSION}: {args.files:,} inline files "
          f"({total:,} bytes of contents) in 100 directories", file=sys.stderr)


def remote(args):
    os.makedirs(args.dir, exist_ok=True)
    size = args.mib * MIB
    files = []
    for i in range(args.files):
        name = f"f{i:03d}.bin"
        path = os.path.join(args.dir, name)
        if not (os.path.isfile(path) and os.path.getsize(path) == size):
            data = random.Random(f"{args.seed}-{i}").randbytes(size)
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)
        else:
            with open(path, "rb") as f:
                data = f.read()
        files.append({
            "path": f"/srv/remote/{name}",
            "mode": 0o644,
            "contents": {
                "source": f"{args.url.rstrip('/')}/{name}",
                "verification": {"hash": "sha512-" + hashlib.sha512(data).hexdigest()},
            },
        })
    cfg_size = write_config(args.out, files)
    print(f"{args.files} remote files of {args.mib} MiB (pseudo-random), each with sha512; "
          f"config {cfg_size:,} bytes, spec {VERSION}", file=sys.stderr)


def text_block(seed):
    """1 MiB of log-like lines: words, numbers and hex ids (gzip -1 makes about a third of it)."""
    rng = random.Random(seed)
    vocab = WORDS + [f"{rng.choice(WORDS)}{rng.randrange(1000)}" for _ in range(2000)]
    out = bytearray()
    n = 0
    while len(out) < MIB:
        line = (f"{n:08d} {rng.choice(vocab)} {rng.choice(vocab)}={rng.randrange(1 << 20)} "
                f"id={rng.getrandbits(64):016x} {' '.join(rng.choices(vocab, k=rng.randint(2, 8)))}\n")
        out += line.encode()
        n += 1
    return bytes(out[:MIB])


def big(args):
    stamp = args.gz + ".sha512"
    want = f"{args.mib} "
    if not (os.path.isfile(args.gz) and os.path.isfile(stamp)
            and open(stamp).read().startswith(want)):
        block = text_block(args.seed)
        digest = hashlib.sha512()
        with open(args.gz + ".part", "wb") as out:
            gz = subprocess.Popen(["gzip", "-1", "-n"], stdin=subprocess.PIPE, stdout=out)
            for _ in range(args.mib):
                gz.stdin.write(block)
                digest.update(block)
            gz.stdin.close()
            if gz.wait() != 0:
                sys.exit("gen_engine.py: gzip failed")
        os.replace(args.gz + ".part", args.gz)
        with open(stamp, "w") as f:
            f.write(f"{args.mib} sha512-{digest.hexdigest()}\n")
    _, hash_ = open(stamp).read().split()
    files = [{
        "path": "/srv/big/disk.img",
        "mode": 0o644,
        "contents": {"source": args.url, "compression": "gzip", "verification": {"hash": hash_}},
    }]
    write_config(args.out, files)
    gz_size = os.path.getsize(args.gz)
    print(f"one file of {args.mib:,} MiB served gzip -1 compressed ({gz_size / MIB:,.0f} MiB, "
          f"ratio {args.mib * MIB / gz_size:.1f}), with sha512; spec {VERSION}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("small")
    p.add_argument("--out", required=True)
    p.add_argument("--files", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("remote")
    p.add_argument("--out", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--mib", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("big")
    p.add_argument("--out", required=True)
    p.add_argument("--gz", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--mib", type=int, default=2048)
    p.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    {"small": small, "remote": remote, "big": big}[args.mode](args)


if __name__ == "__main__":
    main()
