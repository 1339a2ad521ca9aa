#!/usr/bin/env bash
# Benchmark: what verifying a signature adds to reading a 5 MB config.
#
#   bench/verify.sh [--write] [--runs N]
#
# Generates the validate benchmark's config (bench/gen_config.py), signs it with a throwaway
# gpg key (a detached signature and a signed message), and times in the same run:
#   kindling validate CONFIG                            (parse + validate)
#   kindling verify --signature CONFIG.asc CONFIG       (verify + parse + validate)
#   kindling verify CONFIG.gpg                          (unwrap signed message + parse + validate)
# The overhead is the difference of the means. Needs cargo, python3, gpg and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

write=0
runs=20
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        *) echo "verify.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
for tool in gpg hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "verify.sh: $tool is missing (apt-get install ${tool/python3/python3})" >&2; exit 1; }
done

out=target/bench/verify
mkdir -p "$out"
cargo build --release --quiet
kindling=$PWD/target/release/kindling
python3 bench/gen_config.py --files 25000 --out "$out/config.ign" >/dev/null

export GNUPGHOME="$out/gnupg"
rm -rf "$GNUPGHOME" "$out/trust"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Bench <bench@example.org>" ed25519 sign 1d
mkdir -p "$out/trust/trust"
gpg --armor --export bench@example.org >"$out/trust/trust/bench.asc"
echo '{"require":"signature"}' >"$out/trust/policy.json"
gpg --batch --yes --armor --detach-sign --local-user bench@example.org "$out/config.ign"
gpg --batch --yes --sign --local-user bench@example.org --output "$out/config.ign.gpg" "$out/config.ign"

"$kindling" verify --trust-dir "$out/trust" --signature "$out/config.ign.asc" "$out/config.ign" | grep -q "verdict: accepted"
"$kindling" verify --trust-dir "$out/trust" "$out/config.ign.gpg" | grep -q "verdict: accepted"

hyperfine -N -w 3 -r "$runs" --export-json "$out/hyperfine.json" \
    -n validate "$kindling validate $out/config.ign" \
    -n detached "$kindling verify --trust-dir $out/trust --signature $out/config.ign.asc $out/config.ign" \
    -n message "$kindling verify --trust-dir $out/trust $out/config.ign.gpg"

summary=$(python3 - "$out/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["validate"]["mean"] * 1000
lines = [f"| validate (parse only) | {base:.1f} ms | |"]
for name, label in (("detached", "detached signature"), ("message", "signed message (gpg, compressed)")):
    mean = r[name]["mean"] * 1000
    lines.append(f"| {label} | {mean:.1f} ms | +{mean - base:.1f} ms |")
print("\n".join(lines))
PY
)
echo "$summary"
if ((write)); then
    python3 - docs/src/benchmarks.md "$summary" "$(nproc)" "$(date -u +%Y-%m-%d)" "$(stat -c %s "$out/config.ign")" <<'PY'
import re, sys
path, table, cpus, day, size = sys.argv[1:]
text = open(path).read()
block = f"""<!-- bench:verify:start -->
Measured {day} on {cpus} CPUs with `bench/verify.sh --write` (hyperfine, mean of the runs),
on a {int(size)/1e6:.1f} MB config signed with an ed25519 gpg key. `kindling verify` reads,
verifies, then parses and validates; the overhead is what it takes beyond `kindling validate`.

| command | mean | overhead |
|---|---|---|
{table}
<!-- bench:verify:end -->"""
if "<!-- bench:verify:start -->" in text:
    text = re.sub(r"<!-- bench:verify:start -->.*<!-- bench:verify:end -->", block, text, flags=re.S)
else:
    text += "\n## Signature verification overhead\n\nGoal: verifying a 5 MB signed config adds at most 20 ms.\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi
