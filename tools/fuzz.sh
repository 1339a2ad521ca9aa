#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time: tools/fuzz.sh [SECONDS per target] [TARGET…]
# Without targets it runs every target in fuzz/Cargo.toml but `canary` (the list in
# docs/src/security.md, "Fuzzing"); `make test`, and so CI, runs them all for 60 s each.
# `canary` fails on its first input, on purpose: `tools/fuzz.sh 5 canary` must exit 1.
#
# Every target runs; then the script exits 1 if any of them found a crash, a leak, a timeout
# or ran out of memory (or failed to build). libFuzzer keeps the reproducer in
# fuzz/artifacts/TARGET/ (crash-…, oom-…, …), with the run's whole log as last-run.log;
# `cargo fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/crash-…` replays it.
# Seeds come from fuzz/seeds/TARGET/ (small, in git); what the fuzzer finds goes to
# fuzz/corpus/TARGET/ (not in git).
# cargo-fuzz (a pinned version) is installed on first use into target/tools, so the script
# does not depend on what ~/.cargo holds. cargo-fuzz needs nightly features; on a stable
# toolchain RUSTC_BOOTSTRAP=1 enables them for this build only. libFuzzer itself is C++: the
# build needs a C++ compiler (g++).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if [[ ! $secs =~ ^[0-9]+$ ]]; then
    echo "usage: tools/fuzz.sh [SECONDS per target] [TARGET…] (got seconds ${secs@Q})" >&2
    exit 2
fi
# libFuzzer reads -max_total_time=0 as "no limit": 0 here means "do not fuzz" instead
# (`make test FUZZ_SECONDS=0` skips the step).
if ((secs == 0)); then
    echo "== fuzzing skipped (0 seconds per target)"
    exit 0
fi
cargo_fuzz_version=0.13.2
tools=$PWD/target/tools
if [[ $("$tools/bin/cargo-fuzz" --version 2>/dev/null) != "cargo-fuzz $cargo_fuzz_version" ]]; then
    echo "== installing cargo-fuzz $cargo_fuzz_version into $tools"
    start=$SECONDS
    cargo install --quiet --locked --force --root "$tools" --version "$cargo_fuzz_version" cargo-fuzz
    echo "== installed in $((SECONDS - start))s"
fi
# `cargo fuzz` runs the first cargo-fuzz on PATH: this one.
export PATH=$tools/bin:$PATH
export RUSTC_BOOTSTRAP=1
if ! ((${#targets[@]})); then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz | grep -vx canary)
    ((${#targets[@]})) || { echo "!! cargo fuzz list found no targets" >&2; exit 1; }
fi
# With RUST_BACKTRACE=1 in the environment, anyhow (sequoia's errors) captures a backtrace
# for every error it makes, and sequoia makes one per byte when it skips junk: 1 kB of input
# took 11 s instead of a few ms. Panics still print their backtrace.
export RUST_LIB_BACKTRACE=0
# One build for all of them (cargo links the targets in parallel); each run below then only
# checks that it is up to date.
echo "== building the fuzz targets"
start=$SECONDS
if ! cargo fuzz build --fuzz-dir fuzz; then
    echo "!! building the fuzz targets failed" >&2
    exit 1
fi
echo "== built in $((SECONDS - start))s"
failed=()
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    artifacts=$PWD/fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    [[ -d fuzz/seeds/$t ]] && dirs+=("fuzz/seeds/$t")
    # One input running 30 s (libFuzzer's default is 20 minutes, longer than a CI run) is a
    # finding: inputs are at most 64 KiB, and they take milliseconds.
    flags=(-max_total_time="$secs" -max_len=65536 -timeout=30 -artifact_prefix="$artifacts/")
    # The bounded front end keeps at most 64 KiB of payload, and so does data_url's gzip
    # path: any single allocation above 32 MiB (an unpacked bomb held in memory) is reported
    # as a finding. (Not -rss_limit_mb: under ASan the process sits at 400-600 MB whatever
    # the target does.)
    if [[ $t == signed_message_bounded || $t == data_url ]]; then flags+=(-malloc_limit_mb=32); fi
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
