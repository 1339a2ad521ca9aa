#!/usr/bin/env python3
"""Generates a large, valid Ignition config for the `kindling validate` benchmark.

The config is deterministic for a given seed, so reruns measure the same input. It is shaped
like a real (if unusually big) machine config: many files with inline `data:` contents in three
encodings (percent-encoded, base64, gzip+base64), assorted modes and owners, some verification
hashes, plus directories, symlinks, users, groups and systemd units with drop-ins.

Only spec 3.3.0 features are used: Debian's ignition-validate (Ignition 2.14) reads 3.0.0 to
3.3.0, and both validators must accept the file.

    bench/gen_config.py --out target/bench/config.ign [--files 25000] [--seed 1]
"""

import argparse
import base64
import gzip
import hashlib
import json
import random
import sys
import urllib.parse

VERSION = "3.3.0"

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu cache proxy "
    "worker queue metrics listen timeout retries backend frontend region zone replica shard"
).split()

# Top-level trees the files are spread over, with the extensions typical for each.
TREES = [
    ("/etc/{app}/conf.d", (".conf", ".ini", ".toml")),
    ("/etc/{app}/certs", (".pem", ".crt")),
    ("/usr/local/share/{app}", (".json", ".yaml", ".txt")),
    ("/usr/local/lib/{app}/scripts", (".sh", ".py")),
    ("/var/lib/{app}/seed", (".json", ".csv", ".dat")),
    ("/opt/{app}/etc", (".env", ".properties")),
    ("/srv/{app}/www", (".html", ".css", ".js")),
]
APPS = [f"{w}-{i}" for i, w in enumerate(WORDS)]

# Modes as JSON integers (Ignition wants decimal numbers): 0644, 0600, 0755, 0444, 0640, 0700.
FILE_MODES = [0o644, 0o644, 0o644, 0o600, 0o755, 0o444, 0o640, 0o700]


def text_body(rng, lines):
    out = []
    for n in range(lines):
        key = rng.choice(WORDS)
        val = rng.choice(WORDS) + str(rng.randrange(10000))
        out.append(f"{key}_{n} = {val}")
    return "\n".join(out) + "\n"


def data_url(rng, body):
    """Returns (contents object, decompressed bytes) in one of three encodings."""
    raw = body.encode()
    pick = rng.random()
    if pick < 0.6:
        src = "data:," + urllib.parse.quote(body, safe="")
        return {"source": src}, raw
    if pick < 0.9:
        src = "data:;base64," + base64.b64encode(raw).decode()
        return {"source": src}, raw
    packed = gzip.compress(raw, mtime=0)
    src = "data:;base64," + base64.b64encode(packed).decode()
    return {"source": src, "compression": "gzip"}, raw


def make_config(n_files, seed):
    rng = random.Random(seed)
    users = [
        {
            "name": f"svc{i:03d}",
            "uid": 2000 + i,
            "gecos": f"service account {i}",
            "homeDir": f"/var/home/svc{i:03d}",
            "shell": "/bin/bash" if i % 3 else "/usr/sbin/nologin",
            "groups": ["wheel"] if i % 10 == 0 else [f"grp{i % 12:02d}"],
            "sshAuthorizedKeys": [
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"
                + base64.b64encode(hashlib.sha256(f"k{i}".encode()).digest()).decode()[:43]
                + f" svc{i:03d}@bench"
            ],
        }
        for i in range(60)
    ]
    for u in users[::4]:
        u["passwordHash"] = "$6$rounds=4096$benchsalt$" + hashlib.sha512(u["name"].encode()).hexdigest()[:86]
    groups = [{"name": f"grp{i:02d}", "gid": 3000 + i} for i in range(12)]

    units = []
    for i in range(120):
        app = APPS[i % len(APPS)]
        unit = {
            "name": f"{app}-worker{i:03d}.service",
            "enabled": i % 4 != 3,
            "contents": (
                "[Unit]\n"
                f"Description=Bench worker {i} for {app}\n"
                "After=network-online.target\nWants=network-online.target\n\n"
                "[Service]\nType=simple\n"
                f"ExecStart=/usr/local/lib/{app}/scripts/run --worker {i}\n"
                "Restart=on-failure\n\n"
                "[Install]\nWantedBy=multi-user.target\n"
            ),
        }
        if i % 5 == 0:
            unit["dropins"] = [
                {"name": "10-limits.conf", "contents": "[Service]\nLimitNOFILE=65536\n"},
                {"name": "20-env.conf", "contents": f"[Service]\nEnvironment=WORKER={i}\n"},
            ]
        units.append(unit)
    units.append({"name": "bench.timer", "enabled": True,
                  "contents": "[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n"})
    units.append({"name": "bench.service", "contents": "[Service]\nExecStart=/bin/true\n"})
    units.append({"name": "legacy.service", "mask": True})

    directories = []
    seen_dirs = set()
    for app in APPS:
        for tree, _ in TREES:
            d = tree.format(app=app)
            if d not in seen_dirs:
                seen_dirs.add(d)
                directories.append({"path": d, "mode": 0o755 if "certs" not in d else 0o750})

    files = []
    for i in range(n_files):
        app = rng.choice(APPS)
        tree, exts = rng.choice(TREES)
        path = f"{tree.format(app=app)}/{rng.choice(WORDS)}-{i:05d}{rng.choice(exts)}"
        body = text_body(rng, rng.randint(1, 3))
        contents, raw = data_url(rng, body)
        if rng.random() < 0.2:
            contents["verification"] = {"hash": "sha512-" + hashlib.sha512(raw).hexdigest()}
        entry = {"path": path, "mode": rng.choice(FILE_MODES), "contents": contents}
        if rng.random() < 0.3:
            entry["overwrite"] = True
        if rng.random() < 0.15:
            owner = rng.choice(users)["name"]
            entry["user"] = {"name": owner}
            entry["group"] = {"name": rng.choice(groups)["name"]}
        elif rng.random() < 0.05:
            entry["user"] = {"id": 0}
            entry["group"] = {"id": 0}
        files.append(entry)

    links = [
        {
            "path": f"/usr/local/bin/{APPS[i % len(APPS)]}-tool{i:03d}",
            "target": f"/usr/local/lib/{APPS[i % len(APPS)]}/scripts/tool{i:03d}.sh",
            "overwrite": True,
        }
        for i in range(200)
    ]

    return {
        "ignition": {"version": VERSION, "timeouts": {"httpTotal": 600}},
        "kernelArguments": {"shouldExist": ["console=ttyS0,115200n8"], "shouldNotExist": ["quiet"]},
        "passwd": {"users": users, "groups": groups},
        "storage": {"directories": directories, "files": files, "links": links},
        "systemd": {"units": units},
    }


def layout(value, indent=0):
    """Indented JSON down to the lists, then one compact list item a line: readable in an
    editor, line numbers mean something, and little of the size is whitespace."""
    pad = "  " * indent
    if isinstance(value, dict) and indent < 2:
        items = [f'{pad}  {json.dumps(k)}: {layout(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        items = [pad + "  " + json.dumps(v, separators=(",", ":")) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="where to write the config ('-' for stdout)")
    ap.add_argument("--files", type=int, default=25000, help="number of storage.files entries")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    cfg = make_config(args.files, args.seed)
    text = layout(cfg) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    st, sd = cfg["storage"], cfg["systemd"]
    size = len(text.encode())
    print(
        f"{size:,} bytes ({size / 2**20:.1f} MiB), spec {VERSION}: {len(st['files']):,} files, "
        f"{len(st['directories'])} directories, {len(st['links'])} links, "
        f"{len(cfg['passwd']['users'])} users, {len(sd['units'])} units",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
