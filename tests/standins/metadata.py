#!/usr/bin/env python3
"""A stand-in for the cloud metadata services Kindling reads user data from.

It speaks one platform's API at a time (the paths, methods, required headers and encodings
of the real service) on 127.0.0.1, and can misbehave on request: answer 404 or 410, storm
with 5xx, answer 429 with Retry-After, send a body slowly or cut it short, or refuse the
AWS IMDSv2 token. Every request is logged, one JSON object a line, so tests can check what
the engine sent (headers, method, source port) without the engine knowing it is a test.

    metadata.py --platform aws --userdata config.ign --port-file port --log requests.jsonl \
        [--fault 503x5] [--fault slow] [--fault truncate] [--fault token-404] ...
        [--aws-role NAME --aws-credentials creds.json]   (IAM role credentials, for s3://)
        [--gcp-token TOKEN]                               (service account token, for gs://)

Standard library only: the QEMU scenarios run it on the host behind a guestfwd.
"""

import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "stand-in-session-token"

# Each platform: route -> (method, what to serve, required request headers, encoding).
# "userdata" serves the user data file; "token" serves TOKEN; anything else is literal text.
# A request that lacks a required header gets the status the real service gives.
PLATFORMS = {
    "aws": [
        ("PUT", "/latest/api/token", "token", {"x-aws-ec2-metadata-token-ttl-seconds": None}, None),
        ("GET", "/2019-10-01/user-data", "userdata", {"x-aws-ec2-metadata-token": TOKEN}, None),
        ("GET", "/latest/dynamic/instance-identity/document", "identity", {"x-aws-ec2-metadata-token": TOKEN}, None),
        ("GET", "/latest/meta-data/placement/region", "region", {"x-aws-ec2-metadata-token": TOKEN}, None),
        ("GET", "/latest/meta-data/iam/security-credentials/", "role-list", {"x-aws-ec2-metadata-token": TOKEN}, None),
        ("GET", "/latest/meta-data/iam/security-credentials/*", "role-credentials", {"x-aws-ec2-metadata-token": TOKEN}, None),
    ],
    "gcp": [
        ("GET", "/computeMetadata/v1/instance/attributes/user-data", "userdata", {"metadata-flavor": "Google"}, None),
        ("GET", "/computeMetadata/v1/instance/service-accounts/default/token", "sa-token", {"metadata-flavor": "Google"}, None),
    ],
    "azure": [
        ("GET", "/metadata/instance/compute/userData", "userdata", {"metadata": "true"}, "base64"),
    ],
    "akamai": [
        ("PUT", "/v1/token", "token", {"metadata-token-expiry-seconds": None}, None),
        ("GET", "/v1/user-data", "userdata", {"metadata-token": TOKEN}, "base64"),
    ],
    "aliyun": [("GET", "/latest/user-data", "userdata", {}, None)],
    "digitalocean": [("GET", "/metadata/v1/user-data", "userdata", {}, None)],
    "exoscale": [("GET", "/1.0/user-data", "userdata", {}, None)],
    "hetzner": [("GET", "/hetzner/v1/userdata", "userdata", {}, None)],
    "upcloud": [("GET", "/metadata/v1/user_data", "userdata", {}, None)],
    "vultr": [("GET", "/user-data/user-data", "userdata", {}, None)],
    "oraclecloud": [
        ("GET", "/opc/v2/instance/metadata/user_data", "userdata", {"authorization": "Bearer Oracle"}, "base64"),
    ],
    "packet": [("GET", "/userdata", "userdata", {"accept": "*/*"}, None)],
    "scaleway": [("GET", "/user_data/cloud-init", "userdata", {}, None)],
    "openstack": [("GET", "/openstack/latest/user_data", "userdata", {}, None)],
    "cloudstack": [("GET", "/latest/user-data", "userdata", {}, None)],
}

# What the real services answer a request without the header they insist on.
REQUIRED_STATUS = {"aws": 401, "gcp": 403, "azure": 400, "akamai": 401, "oraclecloud": 401, "packet": 406}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.hits = {}
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.faults = parse_faults(args.fault)

    def count(self, key):
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]


def parse_faults(specs):
    """'503x5' -> five 503s first; 'status=404' -> always 404; others are flags."""
    faults = {"first": [], "flags": set(), "always": None, "retry_after": None}
    for spec in specs or []:
        if "x" in spec and spec.split("x")[0].isdigit():
            code, times = spec.split("x", 1)
            faults["first"].extend([int(code)] * int(times))
        elif spec.startswith("status="):
            faults["always"] = int(spec.split("=", 1)[1])
        elif spec.startswith("retry-after="):
            faults["retry_after"] = spec.split("=", 1)[1]
        else:
            faults["flags"].add(spec)
    return faults


def encode(platform_encoding, data):
    if platform_encoding == "base64":
        return base64.b64encode(data)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "metadata-stand-in"

    def log_message(self, *_):
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")

    def handle_any(self, method):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        entry = {
            "method": method,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "port": self.client_address[1],
        }
        if state.log:
            state.log.write(json.dumps(entry) + "\n")
        platform = state.args.platform
        path = self.path
        bare = path.split("?")[0]
        for r_method, r_path, what, required, encoding in PLATFORMS[platform]:
            if r_path.endswith("*"):
                if not (bare.startswith(r_path[:-1]) and len(bare) > len(r_path) - 1):
                    continue
            elif r_path != bare and r_path != path:
                continue
            if r_method != method:
                return self.reply(405, b"")
            return self.route(platform, what, required, encoding)
        self.reply(404, b"not found")

    def route(self, platform, what, required, encoding):
        state = self.server.state
        faults = state.faults
        flags = faults["flags"]
        if what == "token" and "token-404" in flags:
            return self.reply(404, b"")
        if what == "token" and "token-403" in flags:
            return self.reply(403, b"")
        for name, want in required.items():
            got = self.headers.get(name)
            if got is None or (want is not None and got != want):
                if platform == "aws" and "token-404" in flags and name.startswith("x-aws") and got is None:
                    continue  # IMDSv1: no token needed when v2 is off
                return self.reply(REQUIRED_STATUS.get(platform, 400), b"missing or wrong " + name.encode())
        if platform == "scaleway" and self.client_address[1] >= 1024:
            return self.reply(403, b"source port must be privileged")
        if what == "token":
            return self.reply(200, TOKEN.encode())
        if what == "region":
            return self.reply(200, b"eu-west-3")
        if what == "identity":
            return self.reply(200, json.dumps({"region": "eu-west-3"}).encode())
        if what == "role-list":
            if state.args.aws_role is None:
                return self.reply(404, b"")
            return self.reply(200, state.args.aws_role.encode())
        if what == "role-credentials":
            role = self.path.split("?")[0].rsplit("/", 1)[-1]
            if state.args.aws_role != role or state.args.aws_credentials is None:
                return self.reply(404, b"")
            with open(state.args.aws_credentials, "rb") as f:
                return self.reply(200, f.read())
        if what == "sa-token":
            if state.args.gcp_token is None:
                return self.reply(404, b"")
            doc = {"access_token": state.args.gcp_token, "expires_in": 3599, "token_type": "Bearer"}
            return self.reply(200, json.dumps(doc).encode())
        if what != "userdata":
            return self.reply(200, what.encode())
        n = state.count("userdata")
        if n <= len(faults["first"]):
            return self.reply(faults["first"][n - 1], b"", retry_after=faults["retry_after"])
        if faults["always"] is not None:
            return self.reply(faults["always"], b"", retry_after=faults["retry_after"])
        if state.args.userdata is None:
            return self.reply(404, b"")
        with open(state.args.userdata, "rb") as f:
            body = encode(encoding, f.read())
        if "truncate" in flags:
            return self.reply(200, body[: len(body) // 2], claimed=len(body))
        if "slow" in flags:
            return self.reply(200, body, slow=True)
        self.reply(200, body)

    def reply(self, status, body, retry_after=None, claimed=None, slow=False):
        self.send_response(status)
        self.send_header("Content-Length", str(claimed if claimed is not None else len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if slow:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(1)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--platform", required=True, choices=sorted(PLATFORMS))
    p.add_argument("--userdata", help="file whose bytes are the user data (absent: 404)")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--aws-role", help="aws: the instance role's name (absent: no role, 404)")
    p.add_argument("--aws-credentials", help="aws: file served as the role's credentials document")
    p.add_argument("--gcp-token", help="gcp: the default service account's access token (absent: 404)")
    p.add_argument("--fault", action="append", help="503x5, status=404, retry-after=1, slow, truncate, token-404, token-403")
    args = p.parse_args()
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os

        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
