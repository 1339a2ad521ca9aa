#!/usr/bin/env bash
# Benchmark flint on large inline configs: CPU time and peak RSS for 5,000 files (the figure
# compared with Butane v0.29.0: about 3.0-3.3 s CPU and 105 MB RSS on this class of machine),
# and 10,000 and 20,000 files to check that cost grows linearly.
#
# Usage: transpiler/bench/bench.sh [--runs N] [--sizes "5000 10000 20000"]
# Needs: cargo, python3, GNU time (/usr/bin/time). Files land in target/bench/flint/.
set -euo pipefail

runs=5
sizes="5000 10000 20000"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --sizes) sizes="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/target/bench/flint"
mkdir -p "$work"
[ -x /usr/bin/time ] || { echo "bench.sh: GNU time (/usr/bin/time) is required" >&2; exit 1; }

echo "building flint (release profile)..." >&2
cargo build --release -p flint --manifest-path "$root/Cargo.toml" >&2
flint="$root/target/release/flint"

# A seeded generator: every run measures the same files. Contents vary in size and kind
# (text that percent-encodes, text that compresses, binary-looking data that base64s).
gen() {
    python3 - "$1" "$2" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
with open(out, "w") as f:
    f.write("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n")
    for i in range(n):
        f.write(f"    - path: /etc/bench/d{i % 64}/file{i}.conf\n")
        f.write(f"      mode: 0{rng.choice(['644', '600', '755', '640'])}\n")
        f.write("      contents:\n        inline: |\n")
        kind = i % 3
        lines = rng.randint(3, 15)
        for j in range(lines):
            if kind == 0:
                line = f"key{j} = {' '.join(rng.choice(words) for _ in range(rng.randint(2, 8)))}"
            elif kind == 1:
                line = f"# repeated line {j % 2} of a template that compresses well"
            else:
                line = "".join(rng.choice("0123456789abcdef") for _ in range(48))
            f.write(f"          {line}\n")
PY
}

printf '%-8s %10s %12s %12s %12s %14s\n' files "yaml MB" "cpu s" "wall s" "peak RSS MB" "cpu us/file"
for n in $sizes; do
    cfg="$work/inline-$n.bu"
    [ -f "$cfg" ] || gen "$n" "$cfg"
    "$flint" --strict -o "$work/inline-$n.ign" "$cfg"   # must succeed before it is timed
    best_cpu="" best_wall="" best_rss=""
    for _ in $(seq "$runs"); do
        line=$(/usr/bin/time -f '%U %S %e %M' "$flint" --strict -o /dev/null "$cfg" 2>&1 >/dev/null | tail -1)
        read -r user sys wall rss <<<"$line"
        cpu=$(python3 -c "print(f'{$user + $sys:.3f}')")
        if [ -z "$best_cpu" ] || python3 -c "import sys; sys.exit(0 if $cpu < $best_cpu else 1)"; then
            best_cpu=$cpu best_wall=$wall
        fi
        if [ -z "$best_rss" ] || [ "$rss" -lt "$best_rss" ]; then best_rss=$rss; fi
    done
    size=$(python3 -c "import os; print(f'{os.path.getsize(\"$cfg\")/1e6:.2f}')")
    rss_mb=$(python3 -c "print(f'{$best_rss/1024:.1f}')")
    per=$(python3 -c "print(f'{$best_cpu*1e6/$n:.1f}')")
    printf '%-8s %10s %12s %12s %12s %14s\n' "$n" "$size" "$best_cpu" "$best_wall" "$rss_mb" "$per"
    if [ "$n" = 5000 ]; then
        five_cpu=$best_cpu five_rss=$rss_mb
    fi
done
if [ -n "${five_cpu:-}" ]; then
    python3 - "$five_cpu" "$five_rss" <<'PY'
import sys
cpu, rss = float(sys.argv[1]), float(sys.argv[2])
print(f"\n5,000 files: flint {cpu:.3f} s CPU, {rss:.1f} MB peak RSS (best of runs)")
print(f"Butane v0.29.0 (recorded figure): 3.0-3.3 s CPU, 105 MB peak RSS")
if cpu > 0:
    print(f"speed-up: {3.0 / cpu:.0f}x to {3.3 / cpu:.0f}x less CPU; {105 / rss:.1f}x less memory")
PY
fi
