#!/usr/bin/env bash
# The demo, for now: validate a good and a broken example config with the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
kindling=target/release/kindling

echo "== kindling validate examples/webserver.ign"
"$kindling" validate examples/webserver.ign && echo "(exit 0: valid)"

echo
echo "== kindling validate examples/broken.ign"
set +e
"$kindling" validate examples/broken.ign
rc=$?
set -e
echo "(exit $rc: invalid, as expected)"
[[ $rc -eq 1 ]]
