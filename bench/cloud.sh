#!/usr/bin/env bash
# Benchmark: the fetch stage on a cloud, against curl making the same requests.
#
#   bench/cloud.sh [--write] [--runs N]
#
# Starts the metadata stand-in (tests/standins/metadata.py) on 127.0.0.1 for aws and for
# openstack, serving the demo's config as user data, and times in the same run:
#   kindling fetch --platform aws        (IMDSv2 token PUT + user-data GET, verify, parse,
#                                         validate, write the run directory)
#   curl: the same PUT and GET           (bytes only, to /dev/null)
#   kindling fetch --platform openstack  (the config drive raced with the metadata service;
#                                         no drive here, so the metadata service answers)
#   curl: the same GET
# and the engine's peak RSS (/usr/bin/time). Goals (issue 13): at most 1.5x curl's time, and
# peak RSS under 20 MiB. Needs cargo, python3, curl, hyperfine and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

write=0
runs=30
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        *) echo "cloud.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
for tool in curl hyperfine python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "cloud.sh: $tool is missing (apt-get install curl hyperfine python3 time)" >&2; exit 1; }
done

out=$PWD/target/bench/cloud
rm -rf "$out"
mkdir -p "$out/empty" "$out/trust"
# The run directory is /run/kindling at boot, a tmpfs: the fsyncs of its atomic writes cost
# nothing there, and so they should here.
run=$(mktemp -d /dev/shm/kindling-bench.XXXXXX)
trap 'rm -rf "$run"' EXIT
: >"$out/cmdline"
cargo build --release --quiet -p kindling -p flint
kindling=$PWD/target/release/kindling
target/release/flint --strict -d examples -o "$out/userdata.ign" examples/demo-webserver.bu

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || :; rm -rf "$run"' EXIT
start() { # platform -> port
    local platform=$1
    python3 tests/standins/metadata.py --platform "$platform" --userdata "$out/userdata.ign" \
        --port-file "$out/$platform.port" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        [[ -s $out/$platform.port ]] && break
        sleep 0.05
    done
    cat "$out/$platform.port"
}
aws=$(start aws)
openstack=$(start openstack)

# The engine runs with the allocator settings of the fetch unit, as at boot.
unit_env=$(sed -n 's/^Environment=//p' dracut-module/30kindling/kindling-fetch.service | tr '\n' ' ')
stage() { # platform port -> command line
    echo "env $unit_env KINDLING_TEST_METADATA_URL=http://127.0.0.1:$2 KINDLING_TEST_DISK_BY_LABEL=$out/empty $kindling fetch --platform $1 --run-dir $run/run-$1 --cmdline-file $out/cmdline --trust-dir $out/trust --base-dir $out/empty --config-dir $out/empty"
}
cat >"$out/curl-aws.sh" <<EOF
t=\$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' http://127.0.0.1:$aws/latest/api/token)
curl -sf -H "X-aws-ec2-metadata-token: \$t" -o /dev/null http://127.0.0.1:$aws/2019-10-01/user-data
EOF
cat >"$out/curl-openstack.sh" <<EOF
curl -sf -o /dev/null http://127.0.0.1:$openstack/openstack/latest/user_data
EOF

# One run each first: they must succeed, and their peak RSS is recorded.
rss() { # platform port -> KiB
    rm -rf "$run/run-$1"
    /usr/bin/time -f %M -o "$out/$1.rss" $(stage "$1" "$2") 2>"$out/$1.log" ||
        { cat "$out/$1.log" >&2; exit 1; }
    cat "$out/$1.rss"
}
aws_rss=$(rss aws "$aws")
openstack_rss=$(rss openstack "$openstack")

hyperfine -N -w 3 -r "$runs" --export-json "$out/hyperfine.json" \
    --prepare "rm -rf $run/run-aws $run/run-openstack" \
    -n engine-aws "$(stage aws "$aws")" \
    -n curl-aws "sh $out/curl-aws.sh" \
    -n engine-openstack "$(stage openstack "$openstack")" \
    -n curl-openstack "sh $out/curl-openstack.sh" >&2

summary=$(python3 - "$out/hyperfine.json" "$aws_rss" "$openstack_rss" "$(stat -c %s "$out/userdata.ign")" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
rss = {"aws": int(sys.argv[2]), "openstack": int(sys.argv[3])}
lines = []
for p in ("aws", "openstack"):
    e, c = r[f"engine-{p}"], r[f"curl-{p}"]
    lines.append(f"| {p} | {e:.1f} ms | {c:.1f} ms | {e / c:.2f} | {rss[p] / 1024:.1f} MiB |")
print("\n".join(lines))
PY
)
echo "$summary"
if ((write)); then
    python3 - docs/src/benchmarks.md "$summary" "$(nproc)" "$(date -u +%Y-%m-%d)" "$(stat -c %s "$out/userdata.ign")" "$runs" <<'PY'
import re, sys
path, table, cpus, day, size, runs = sys.argv[1:]
text = open(path).read()
block = f"""<!-- bench:cloud:start -->
Measured {day} on {cpus} CPUs with `bench/cloud.sh --write` (hyperfine, median of {runs} runs),
against the metadata stand-in on 127.0.0.1 serving the demo's config ({size} bytes) as user
data. The engine runs the whole fetch stage (requests, verify, parse, validate, write the run
directory on a tmpfs, as /run is at boot) with the fetch unit's allocator settings; curl only makes the same requests (`sh`
running two curls for aws).

| platform | `kindling fetch` | curl | ratio | engine peak RSS |
|---|---|---|---|---|
{table}
<!-- bench:cloud:end -->"""
if "<!-- bench:cloud:start -->" in text:
    text = re.sub(r"<!-- bench:cloud:start -->.*<!-- bench:cloud:end -->", block, text, flags=re.S)
else:
    text += "\n## Fetching user data on a cloud\n\nGoal (issue 13): the fetch stage for aws and openstack within 1.5x the time of curl making the same requests, at under 20 MiB peak RSS.\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi
