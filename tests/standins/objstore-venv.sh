#!/usr/bin/env bash
# Prepares the virtualenv with the object store stand-ins (moto's S3 and gcp-storage-emulator)
# once, and prints its python. Safe to rerun and to run concurrently: a stamp file records a
# finished install, and a lock keeps two installs apart. The venv lives under target/ unless
# KINDLING_STANDINS_VENV names another place.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${KINDLING_STANDINS_VENV:-$repo/target/standins-venv}
# Bump the stamp's name when the list below changes.
stamp=$venv/.objstore-standins-1
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -f $stamp ]]; then
    echo "objstore-venv: installing moto[server] and gcp-storage-emulator into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'moto[server]==5.2.6' 'gcp-storage-emulator==2026.7.19' >&2
    "$venv/bin/python" -c 'import boto3, moto.server, gcp_storage_emulator.server' >&2
    touch "$stamp"
fi
echo "$venv/bin/python"
