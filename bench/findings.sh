#!/usr/bin/env bash
# Benchmark: the time `kindling validate` and `kindling fetch-offline` take on configs with many
# findings (unused keys), all on one line and one per line. The time must grow linearly with
# the number of findings (issue 15, defect 4: 100k unused keys on one 3 MB line took 38 s).
#
#   bench/findings.sh [--write] [--counts "1000 10000 100000"] [--runs N]
#
#   --write     update the findings section of docs/src/benchmarks.md
#   --counts    numbers of unused keys to try (default "1000 10000 100000")
#   --runs N    timed runs per case; the minimum is reported (default 3)
#
# Needs: cargo, python3. Installs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."

write=0
counts="1000 10000 100000"
runs=3
usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; }
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --counts) counts=${2:?--counts needs a list}; shift ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "findings.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "findings.sh: --runs must be a positive integer" >&2; exit 2; }

die() { echo "findings.sh: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 not found (needed to generate the configs)"
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain"

target_dir=${CARGO_TARGET_DIR:-target}
out=$target_dir/bench/findings
mkdir -p "$out"
kindling=$PWD/$target_dir/release/kindling

echo "== cargo build --release -p kindling --bin kindling"
cargo build --release -p kindling --bin kindling
[[ -x $kindling ]] || die "$kindling was not built"

# config: spec 3.6.0 with N unused keys `"unusedI": I`, on one line or one per line.
generate() { # file, count, layout (one-line | many-lines)
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, n, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sep = "," if layout == "one-line" else ",\n"
keys = sep.join(f'"unused{i}": {i}' for i in range(n))
with open(path, "w") as f:
    f.write('{"ignition": {"version": "3.6.0"}' + sep + keys + "}\n")
EOF
}

# Minimum wall time over $runs runs, in seconds; the command must exit with $want.
time_min() { # want, command...
    local want=$1 best="" t0 t1 rc
    shift
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        t1=$(date +%s%N)
        ((rc == want)) || die "expected exit $want, got $rc: $*"
        local t=$(((t1 - t0) / 1000))
        [[ -z $best || $t -lt $best ]] && best=$t
    done
    echo "$((best / 1000000)).$(printf '%06d' $((best % 1000000)))"
}

load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
results=$out/results.tsv
: >"$results"
for layout in one-line many-lines; do
    for n in $counts; do
        config=$out/$layout-$n.ign
        generate "$config" "$n" "$layout"
        size=$(stat -c %s "$config")
        # validate: warnings only, exit 0. fetch-offline: the same report in the log, exit 0.
        v=$(time_min 0 "$kindling" validate "$config")
        run=$out/run-$layout-$n
        f=$(KINDLING_CONFIG_FILE=$config time_min 0 "$kindling" fetch-offline --platform file \
            --run-dir "$run" --trust-dir "$out/no-trust" --cmdline-file /dev/null)
        printf '%s\t%s\t%s\t%s\t%s\n' "$layout" "$n" "$size" "$v" "$f" | tee -a "$results"
    done
done
load_end=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
machine="$(nproc) CPUs, ${cpu:-$(uname -m)}, Linux $(uname -r); load average $load_start before, $load_end after"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
[[ -z $(git status --porcelain -- spec src 2>/dev/null) ]] || rev+="+uncommitted changes"

export BENCH_RESULTS=$results BENCH_MACHINE=$machine BENCH_DATE=$(date -u +%Y-%m-%d) \
    BENCH_REV=$rev BENCH_RUNS=$runs BENCH_WRITE=$write BENCH_DOC=docs/src/benchmarks.md
python3 - <<'EOF'
import os, re, sys

e = os.environ
rows = [line.rstrip("\n").split("\t") for line in open(e["BENCH_RESULTS"]) if line.strip()]
table = ["| layout | unused keys | config size | `validate` | `fetch-offline` | µs per finding (validate) |",
         "|---|---:|---:|---:|---:|---:|"]
for layout, n, size, v, f in rows:
    per = float(v) * 1e6 / int(n)
    table.append(f"| {layout} | {int(n):,} | {int(size) / 1e6:.2f} MB | {float(v) * 1000:.1f} ms "
                 f"| {float(f) * 1000:.1f} ms | {per:.2f} |")
print("\n".join(table))
if e["BENCH_WRITE"] != "1":
    sys.exit(0)
doc = e["BENCH_DOC"]
start, end = "<!-- bench:findings:start -->", "<!-- bench:findings:end -->"
text = open(doc).read()
if start not in text or end not in text:
    sys.exit(f"findings.sh: {doc} lacks the markers {start} and {end}")
body = f"""
Measured {e['BENCH_DATE']} with `bench/findings.sh --write` (git {e['BENCH_REV']}), release
build, the minimum of {e['BENCH_RUNS']} runs each.

- Machine: {e['BENCH_MACHINE']}

""" + "\n".join(table) + "\n"
new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: start + "\n" + body + "\n" + end,
             text, count=1, flags=re.S)
open(doc, "w").write(new)
print(f"updated {doc}")
EOF
