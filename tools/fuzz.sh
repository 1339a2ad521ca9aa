#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time: tools/fuzz.sh [SECONDS per target] [TARGET…]
# Targets: signed_message (the signed-config front end), config_parse (JSON + validation).
# Needs cargo-fuzz (installed on first use). cargo-fuzz needs nightly features; on a stable
# toolchain RUSTC_BOOTSTRAP=1 enables them for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(signed_message config_parse)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    echo "== fuzzing $t for ${secs}s"
    cargo fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -max_len=65536 2>&1 |
        grep -E "^(#[0-9]+.*(DONE|pulse)|Done|==[0-9]+==|SUMMARY|artifact)" || true
done
