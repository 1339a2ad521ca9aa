#!/usr/bin/env python3
"""Object store stand-ins for Kindling's s3:// and gs:// tests, on 127.0.0.1 with random ports.

    objstore.py s3 --state state.json      moto's S3, IAM and STS, with SigV4 checked
    objstore.py gcs --state state.json     gcp-storage-emulator (the GCS JSON API)

Each one seeds its objects, writes what the tests need to know (the port, the objects'
version ids, and for S3 a role session's credentials) to the state file, and serves until it
is killed or its standard input closes (the test process exited). Run it with the interpreter of the virtualenv that tests/standins/objstore-venv.sh
prepares.

S3 seeding (before SigV4 checks are switched on):
  - bucket `kindling-public` (us-east-1): `public.ign`, readable by anyone (bucket policy);
  - bucket `kindling-private` (eu-west-3), versioned: `config.ign` twice (v1, then v2), and
    `dir/with space.ign` and `merge.ign` (a config); readable only by the role `kindling-node`;
  - an STS session of that role: the credentials the metadata stand-in hands out.
Then every signed request must carry a valid signature, and unsigned requests are anonymous.
"""

import argparse
import json
import os
import sys
import time
import urllib.request

PUBLIC_BUCKET = "kindling-public"
PRIVATE_BUCKET = "kindling-private"
PRIVATE_REGION = "eu-west-3"
ROLE = "kindling-node"
# A config for merge tests: it adds one file.
MERGE_CONFIG = (
    b'{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/from-s3",'
    b'"contents":{"source":"data:,merged%20from%20s3"}}]}}'
)


def exit_with_parent():
    """The test process holds our stdin; when it exits, so does this stand-in."""
    import threading

    def watch():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def write_state(path, state):
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)


class AnonymousAsS3Does:
    """moto, once SigV4 checks are on, fails every unsigned request with a 500. S3 treats an
    unsigned request as the anonymous principal, which bucket policies and ACLs govern. So an
    unsigned request runs with moto's checks off for that one request, where moto's own
    anonymous path applies the bucket policy and ACLs; requests are served one at a time."""

    def __init__(self, app):
        import threading

        self.app = app
        self.lock = threading.Lock()
        self.enforce = False

    def __call__(self, environ, start_response):
        from moto import settings

        signed = "HTTP_AUTHORIZATION" in environ or "X-Amz-Signature" in environ.get("QUERY_STRING", "")
        with self.lock:
            if self.enforce:
                settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if signed else float("inf")
            return list(self.app(environ, start_response))


def serve_s3(state_path):
    import threading

    import boto3
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = AnonymousAsS3Does(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    endpoint = f"http://127.0.0.1:{port}"
    # Setup runs before authentication is switched on, so any key will do here.
    setup = dict(
        endpoint_url=endpoint,
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
        region_name="us-east-1",
    )
    iam = boto3.client("iam", **setup)
    sts = boto3.client("sts", **setup)
    s3 = boto3.client("s3", **setup)

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    read_private = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"arn:aws:s3:::{PRIVATE_BUCKET}/*"}
        ],
    }
    iam.put_role_policy(RoleName=ROLE, PolicyName="read-private", PolicyDocument=json.dumps(read_private))
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="i-0123456789")["Credentials"]

    s3.create_bucket(Bucket=PUBLIC_BUCKET)
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{PUBLIC_BUCKET}/*"}
        ],
    }
    s3.put_bucket_policy(Bucket=PUBLIC_BUCKET, Policy=json.dumps(public_read))
    s3.put_object(Bucket=PUBLIC_BUCKET, Key="public.ign", Body=b"public object\n")

    s3.create_bucket(Bucket=PRIVATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": PRIVATE_REGION})
    s3.put_bucket_versioning(Bucket=PRIVATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=PRIVATE_BUCKET, Key="config.ign", Body=b"private v1\n")["VersionId"]
    v2 = s3.put_object(Bucket=PRIVATE_BUCKET, Key="config.ign", Body=b"private v2\n")["VersionId"]
    s3.put_object(Bucket=PRIVATE_BUCKET, Key="dir/with space.ign", Body=b"spaced key\n")
    s3.put_object(Bucket=PRIVATE_BUCKET, Key="merge.ign", Body=MERGE_CONFIG)

    # From here on every signed request needs a valid SigV4 signature, and unsigned ones are
    # anonymous (see AnonymousAsS3Does).
    with app.lock:
        ActionAuthenticatorMixin.request_count = 0
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        app.enforce = True

    write_state(
        state_path,
        {
            "endpoint": endpoint,
            "role": ROLE,
            "access_key_id": creds["AccessKeyId"],
            "secret_access_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiration": creds["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "versions": {"v1": v1, "v2": v2},
        },
    )
    while True:
        time.sleep(3600)


def serve_gcs(state_path):
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True, default_bucket="kindling-gcs")
    server.start()
    port = server._api._httpd.server_address[1]
    endpoint = f"http://127.0.0.1:{port}"
    for name, body in [("config.ign", b"gcs object\n"), ("dir/with space.ign", b"gcs spaced\n")]:
        q = urllib.parse.urlencode({"uploadType": "media", "name": name})
        req = urllib.request.Request(
            f"{endpoint}/upload/storage/v1/b/kindling-gcs/o?{q}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/octet-stream"},
        )
        urllib.request.urlopen(req).read()
    write_state(state_path, {"endpoint": endpoint})
    while True:
        time.sleep(3600)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", choices=["s3", "gcs"])
    p.add_argument("--state", required=True, help="write the port and seeded facts here (JSON)")
    args = p.parse_args()
    import logging

    logging.disable(logging.CRITICAL)
    exit_with_parent()
    if args.store == "s3":
        serve_s3(args.state)
    else:
        import urllib.parse  # noqa: F401  (used by serve_gcs)

        serve_gcs(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
