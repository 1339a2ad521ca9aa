#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time: tools/fuzz.sh [SECONDS per target] [TARGET…]
# Targets: signed_message and signed_message_bounded (the signed-config front end),
# config_parse (JSON + validation), cmdline (the kernel command line), policy (policy.json).
# `canary` fails on its first input, on purpose: `tools/fuzz.sh 5 canary` must exit 1.
#
# Every target runs; then the script exits 1 if any of them found a crash, a leak, a timeout
# or ran out of memory (or failed to build). libFuzzer keeps the reproducer in
# fuzz/artifacts/TARGET/ (crash-…, oom-…, …), with the run's whole log as last-run.log;
# `cargo fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/crash-…` replays it.
# Seeds come from fuzz/seeds/TARGET/ (small, in git); what the fuzzer finds goes to
# fuzz/corpus/TARGET/ (not in git).
# Needs cargo-fuzz (installed on first use). cargo-fuzz needs nightly features; on a stable
# toolchain RUSTC_BOOTSTRAP=1 enables them for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(signed_message signed_message_bounded config_parse cmdline policy)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# With RUST_BACKTRACE=1 in the environment, anyhow (sequoia's errors) captures a backtrace
# for every error it makes, and sequoia makes one per byte when it skips junk: 1 kB of input
# took 11 s instead of a few ms. Panics still print their backtrace.
export RUST_LIB_BACKTRACE=0
failed=()
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    artifacts=$PWD/fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    [[ -d fuzz/seeds/$t ]] && dirs+=("fuzz/seeds/$t")
    flags=(-max_total_time="$secs" -max_len=65536 -artifact_prefix="$artifacts/")
    # The bounded front end keeps at most 64 KiB of payload: any single allocation above
    # 32 MiB (an unpacked bomb held in memory) is reported as a finding. (Not -rss_limit_mb:
    # under ASan the process sits at 400-600 MB whatever the target does.)
    if [[ $t == signed_message_bounded ]]; then flags+=(-malloc_limit_mb=32); fi
    log=$artifacts/last-run.log
    stamp=$(mktemp)
    echo "== fuzzing $t for ${secs}s"
    set +e
    cargo fuzz run --fuzz-dir fuzz "$t" "${dirs[@]}" -- "${flags[@]}" 2>&1 | tee "$log" |
        grep --line-buffered -E "^(#[0-9]+.*(DONE|pulse)|Done|==[0-9]+==|SUMMARY|artifact)"
    rc=${PIPESTATUS[0]}
    set -e
    if ((rc != 0)); then
        echo "!! $t failed (exit $rc); the whole log: $log" >&2
        found=$(find "$artifacts" -maxdepth 1 -type f ! -name last-run.log -newer "$stamp" -print)
        if [[ -n $found ]]; then
            sed 's/^/!! reproducer: /' <<<"$found" >&2
        else
            echo "!! no reproducer was written (did the build fail? see the log)" >&2
        fi
        failed+=("$t")
    fi
    rm -f "$stamp"
done
if ((${#failed[@]})); then
    echo "fuzzing failed for: ${failed[*]}" >&2
    exit 1
fi
