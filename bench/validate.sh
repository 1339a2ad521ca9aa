#!/usr/bin/env bash
# Benchmark: `kindling validate` against Ignition's `ignition-validate` on the same large config.
#
#   bench/validate.sh [--write] [--runs N] [--files N] [--loop]
#
#   --write    update the results section of docs/src/benchmarks.md
#   --runs N   timed runs per tool (default 20)
#   --files N  storage.files entries in the generated config (default 25000, about 5 MB)
#   --loop     time with a plain shell loop even if hyperfine is installed
#
# Needs: cargo, python3, ignition-validate (apt-get install ignition) and /usr/bin/time
# (apt-get install time). Uses hyperfine when it is installed (apt-get install hyperfine),
# otherwise times a loop with `date +%s%N`. This script installs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."

write=0
runs=20
files=25000
use_hyperfine=1
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --loop) use_hyperfine=0 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --files) files=${2:?--files needs a number}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "validate.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "validate.sh: --runs must be a positive integer" >&2; exit 2; }
[[ $files =~ ^[1-9][0-9]*$ ]] || { echo "validate.sh: --files must be a positive integer" >&2; exit 2; }

die() { echo "validate.sh: $*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------
ignition=$(command -v ignition-validate || true)
[[ -z $ignition && -x /usr/bin/ignition-validate ]] && ignition=/usr/bin/ignition-validate
if [[ -z $ignition ]]; then
    die "ignition-validate not found. Install Debian's Ignition package first:
    sudo apt-get update && sudo apt-get install ignition"
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (needed for peak RSS). Install it:
    sudo apt-get update && sudo apt-get install time"
command -v python3 >/dev/null || die "python3 not found (needed to generate the config)"
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain"

target_dir=${CARGO_TARGET_DIR:-target}
out=$target_dir/bench
mkdir -p "$out"
config=$out/validate-config.ign
kindling=$target_dir/release/kindling

# --- build and generate --------------------------------------------------------------------
echo "== cargo build --release"
cargo build --release
[[ -x $kindling ]] || die "$kindling was not built"

echo "== generating $config"
summary=$(python3 bench/gen_config.py --out "$config" --files "$files" 2>&1 >/dev/null) ||
    die "gen_config.py failed: $summary"
echo "$summary"

# --- both must call the config valid -------------------------------------------------------
check_valid() { # name, command...
    local name=$1 rc=0
    shift
    "$@" >"$out/$name.out" 2>&1 || rc=$?
    if ((rc != 0)); then
        echo "validate.sh: $name says the config is not valid (exit $rc):" >&2
        head -n 20 "$out/$name.out" >&2
        die "the validators disagree or the generator is broken; not timing"
    fi
    if [[ -s $out/$name.out ]]; then
        echo "note: $name printed $(wc -l <"$out/$name.out") line(s) (exit 0), first ones:"
        head -n 5 "$out/$name.out"
    fi
}
# Other work on the machine inflates and scatters the timings; record how busy it was.
load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")

echo "== checking both accept the config"
check_valid kindling "$kindling" validate "$config"
check_valid ignition-validate "$ignition" "$config"
echo "both exit 0"

kindling_version=$("$kindling" --version 2>&1 | head -n 1)
if git rev-parse --git-dir >/dev/null 2>&1; then
    rev=$(git rev-parse --short HEAD)
    [[ -z $(git status --porcelain -- spec src Cargo.toml Cargo.lock 2>/dev/null) ]] || rev+="+uncommitted changes"
    kindling_version+=" (git $rev)"
fi
ignition_version=$("$ignition" --version 2>&1 | head -n 1)

# --- time ----------------------------------------------------------------------------------
# Each timing file holds one line per run, in seconds.
k_times=$out/kindling.times
i_times=$out/ignition.times
if ((use_hyperfine)) && command -v hyperfine >/dev/null; then
    method="$(hyperfine --version | head -n 1), 3 warm-up runs, $runs timed runs each"
    shell_opt=()
    # -N (no intermediate shell) exists since hyperfine 1.13.
    [[ $(hyperfine --help 2>&1) == *--shell=none* ]] && shell_opt=(-N)
    echo "== timing with $method"
    hyperfine "${shell_opt[@]}" --warmup 3 --runs "$runs" --export-json "$out/hyperfine.json" \
        -n "kindling validate" "$(printf '%q validate %q' "$kindling" "$config")" \
        -n "ignition-validate" "$(printf '%q %q' "$ignition" "$config")"
    python3 - "$out/hyperfine.json" "$k_times" "$i_times" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
for r, path in zip(results, sys.argv[2:]):
    with open(path, "w") as f:
        f.writelines(f"{t}\n" for t in r["times"])
EOF
else
    method="a shell loop timed with date +%s%N, 1 warm-up run, $runs timed runs each"
    echo "== timing with $method"
    time_loop() { # times-file, command...
        local file=$1 t0 t1
        shift
        "$@" >/dev/null 2>&1 || die "warm-up run failed: $*"
        : >"$file"
        for ((i = 0; i < runs; i++)); do
            t0=$(date +%s%N)
            "$@" >/dev/null 2>&1 || die "timed run failed: $*"
            t1=$(date +%s%N)
            echo "$(((t1 - t0) / 1000))e-6" >>"$file"
        done
    }
    time_loop "$k_times" "$kindling" validate "$config"
    time_loop "$i_times" "$ignition" "$config"
fi

# --- peak RSS ------------------------------------------------------------------------------
# Median of 5 runs of /usr/bin/time -f %M (KiB).
peak_rss() { # command...
    local samples=() rc
    for ((i = 0; i < 5; i++)); do
        rc=0
        /usr/bin/time -f %M -o "$out/rss" "$@" >/dev/null 2>&1 || rc=$?
        ((rc == 0)) || die "run for peak RSS failed (exit $rc): $*"
        samples+=("$(tail -n 1 "$out/rss")")
    done
    printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}
echo "== peak RSS (median of 5 runs of /usr/bin/time -f %M)"
k_rss=$(peak_rss "$kindling" validate "$config")
i_rss=$(peak_rss "$ignition" "$config")

# --- report --------------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
[[ -n $cpu ]] || cpu=$(uname -m)
load_end=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
machine="$(nproc) CPUs, $cpu, Linux $(uname -r); load average $load_start before, $load_end after"
today=$(date -u +%Y-%m-%d)

export BENCH_K_TIMES=$k_times BENCH_I_TIMES=$i_times BENCH_K_RSS=$k_rss BENCH_I_RSS=$i_rss \
    BENCH_K_VERSION=$kindling_version BENCH_I_VERSION=$ignition_version BENCH_METHOD=$method \
    BENCH_MACHINE=$machine BENCH_DATE=$today BENCH_SUMMARY=$summary \
    BENCH_WRITE=$write BENCH_DOC=docs/src/benchmarks.md
python3 - <<'EOF'
import os, re, statistics, sys

e = os.environ
def load(path):
    return [float(line) for line in open(path) if line.strip()]

def stats(times):
    ms = [t * 1000 for t in times]
    sd = statistics.stdev(ms) if len(ms) > 1 else 0.0
    return statistics.mean(ms), sd, min(ms), max(ms)

k = stats(load(e["BENCH_K_TIMES"]))
i = stats(load(e["BENCH_I_TIMES"]))
k_rss, i_rss = int(e["BENCH_K_RSS"]), int(e["BENCH_I_RSS"])
time_ratio = i[0] / k[0]
rss_ratio = i_rss / k_rss
mib = lambda kib: kib / 1024

rows = [
    ("kindling validate", e["BENCH_K_VERSION"], k, k_rss),
    ("ignition-validate", e["BENCH_I_VERSION"], i, i_rss),
]
print()
print(f"config: {e['BENCH_SUMMARY']}")
print(f"machine: {e['BENCH_MACHINE']}")
print(f"method: {e['BENCH_METHOD']}")
print()
print(f"{'tool':<19} {'mean ± σ (ms)':>17} {'min (ms)':>9} {'max (ms)':>9} {'peak RSS (MiB)':>15}  version")
for name, version, (mean, sd, lo, hi), rss in rows:
    print(f"{name:<19} {mean:>9.1f} ± {sd:<5.1f} {lo:>9.1f} {hi:>9.1f} {mib(rss):>15.1f}  {version}")
print()
min_ratio = i[2] / k[2]
print(f"ratio ignition-validate / kindling: time {time_ratio:.1f}x (mean), {min_ratio:.1f}x (min); "
      f"peak RSS {rss_ratio:.1f}x")
goal = "meets" if time_ratio >= 10 else "MISSES"
print(f"goal (kindling at least 10x faster): {goal}")

if e["BENCH_WRITE"] != "1":
    sys.exit(0)

doc = e["BENCH_DOC"]
start, end = "<!-- bench:validate:start -->", "<!-- bench:validate:end -->"
text = open(doc).read()
if start not in text or end not in text:
    sys.exit(f"validate.sh: {doc} lacks the markers {start} and {end}")
body = f"""
Measured {e['BENCH_DATE']} with `bench/validate.sh --write`.

- Machine: {e['BENCH_MACHINE']}
- Input: {e['BENCH_SUMMARY']}
- Method: {e['BENCH_METHOD']}; peak RSS is the median of 5 runs of `/usr/bin/time -f %M`
- Versions: {e['BENCH_K_VERSION']}; {e['BENCH_I_VERSION']}

| | mean ± σ | min | max | peak RSS |
|---|---:|---:|---:|---:|
| `kindling validate` | {k[0]:.1f} ms ± {k[1]:.1f} | {k[2]:.1f} ms | {k[3]:.1f} ms | {mib(k_rss):.1f} MiB |
| `ignition-validate` | {i[0]:.1f} ms ± {i[1]:.1f} | {i[2]:.1f} ms | {i[3]:.1f} ms | {mib(i_rss):.1f} MiB |
| **Ignition ÷ Kindling** | **{time_ratio:.1f}×** | {min_ratio:.1f}× | | **{rss_ratio:.1f}×** |
"""
new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: start + "\n" + body + "\n" + end,
             text, count=1, flags=re.S)
open(doc, "w").write(new)
print(f"updated {doc}")
EOF
