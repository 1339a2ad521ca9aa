#!/usr/bin/env bash
# Benchmark: Kindling's fetch and files stages against their peers, in the same run.
#
#   bench/engine.sh [OPTIONS] [small] [remote] [big] [size]     (default: all four)
#
#   small    10,000 small inline (data: URL) files, fetch-offline + files: Kindling against
#            Ignition 2.14, wall time and peak RSS
#   remote   200 x 1 MiB files with sha512 from an HTTP server on 127.0.0.1, fetch-offline +
#            fetch + files: Kindling against Ignition 2.14
#   big      one 2 GiB gzip-compressed file with sha512 from the same server: Kindling's files
#            stage against `curl | gunzip | tee FILE | sha512sum` writing to the same disk
#   size     the stripped release binary
#
#   --write      record the results in docs/src/benchmarks.md (section "Engine: fetch and files")
#   --runs N     timed runs per tool for small and remote (default 10 and 5)
#   --big-runs N timed runs per command for big (default 3)
#   --files N    files for small (default 10000)
#   --big-mib N  size of the big file in MiB (default 2048; scaled down when the disk is short)
#   --port N     first port to try for the HTTP server (default 18473; the next free one is used)
#   --loop       time small and remote with an interleaved shell loop instead of hyperfine
#   --in-place   write the roots under target/bench/engine instead of a fresh ext4 filesystem
#
# Each benchmark writes its roots to a fresh ext4 filesystem (a sparse image in
# target/bench/engine on a loop device with direct I/O, so on the same disk), and never
# deletes within it while timing: ext4 slows inode allocation down for minutes after many
# deletions, which made runs after a cleanup several times slower than the rest.
#
# Needs: cargo, python3, curl, gzip, /usr/bin/time (apt-get install time), mkfs.ext4 and
# losetup, Debian's Ignition (apt-get install ignition) for small and remote, and hyperfine
# unless --loop. Runs as root: the stages chown files, and the filesystem is mounted. Inputs
# and raw timings stay in target/bench/engine/.
set -euo pipefail

cd "$(dirname "$0")/.."

write=0
runs=
big_runs=3
files=10000
big_mib=2048
port=18473
use_hyperfine=1
selected=()
in_place=0
usage() { sed -n '2,34s/^# \{0,1\}//p' "$0"; }
while (($#)); do
    case "$1" in
        --write) write=1 ;;
        --loop) use_hyperfine=0 ;;
        --in-place) in_place=1 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --big-runs) big_runs=${2:?--big-runs needs a number}; shift ;;
        --files) files=${2:?--files needs a number}; shift ;;
        --big-mib) big_mib=${2:?--big-mib needs a number}; shift ;;
        --port) port=${2:?--port needs a number}; shift ;;
        small | remote | big | size) selected+=("$1") ;;
        -h | --help) usage; exit 0 ;;
        *) echo "engine.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
((${#selected[@]})) || selected=(small remote big size)
for n in ${runs:+"$runs"} "$big_runs" "$files" "$big_mib" "$port"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "engine.sh: numbers must be positive integers, not $n" >&2; exit 2; }
done
wants() { [[ " ${selected[*]} " == *" $1 "* ]]; }

die() { echo "engine.sh: $*" >&2; exit 1; }
note() { echo "== $*"; }
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }

# --- prerequisites -------------------------------------------------------------------------
IGNITION=/usr/lib/dracut/modules.d/30ignition/ignition
((EUID == 0)) || die "run as root: the files stages chown what they write"
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain"
command -v python3 >/dev/null || die "python3 not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (peak RSS). Install it: apt-get install time"
if wants small || wants remote; then
    [[ -x $IGNITION ]] || die "$IGNITION not found. Install Debian's Ignition: apt-get install ignition"
    if ((use_hyperfine)) && ! command -v hyperfine >/dev/null; then
        echo "note: hyperfine not found; timing with an interleaved loop (apt-get install hyperfine)"
        use_hyperfine=0
    fi
fi
if wants remote || wants big; then
    command -v curl >/dev/null || die "curl not found (apt-get install curl)"
fi
wants big && { command -v gzip >/dev/null || die "gzip not found"; }
if ((!in_place)) && ! { command -v mkfs.ext4 && command -v losetup; } >/dev/null; then
    die "mkfs.ext4 or losetup not found (apt-get install e2fsprogs mount), or use --in-place"
fi

target_dir=${CARGO_TARGET_DIR:-target}
out=$(mkdir -p "$target_dir/bench/engine" && cd "$target_dir/bench/engine" && pwd)
kindling=$(cd "$target_dir" && pwd)/release/kindling
doc=docs/src/benchmarks.md

# --- build ---------------------------------------------------------------------------------
note "cargo build --release"
cargo build --release
[[ -x $kindling ]] || die "$kindling was not built"
kindling_version=$("$kindling" --version 2>&1 | head -n 1)
if git rev-parse --git-dir >/dev/null 2>&1; then
    rev=$(git rev-parse --short HEAD)
    [[ -z $(git status --porcelain -- spec src Cargo.toml Cargo.lock 2>/dev/null) ]] || rev+="+uncommitted changes"
    kindling_version+=" (git $rev)"
fi
ignition_version="Ignition $(dpkg-query -W -f '${Version}' ignition 2>/dev/null || "$IGNITION" -version 2>&1 | head -n 1)"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
disk="$(findmnt -no FSTYPE -T "$out" 2>/dev/null || echo '?') on $(findmnt -no SOURCE -T "$out" 2>/dev/null || echo '?')"
if ((in_place)); then
    where="roots under target/bench/engine ($disk)"
else
    where="roots on a fresh ext4 filesystem per benchmark (loop device, direct I/O, image on $disk)"
fi
machine="$(nproc) CPUs, ${cpu:-$(uname -m)}, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, Linux $(uname -r); $where"

# --- shared fixtures -----------------------------------------------------------------------
# A minimal target root (as tests/integration/common/mod.rs make_files_root), copied fresh for each run.
tmpl=$out/root-template
rm -rf "$tmpl"
mkdir -p "$tmpl/etc/selinux" "$tmpl/root"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tmpl/etc/passwd"
printf 'root:x:0:\nusers:x:100:\n' >"$tmpl/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$tmpl/etc/shadow"
printf 'root:*::\nusers:*::\n' >"$tmpl/etc/gshadow"
printf 'SELINUX=disabled\nSELINUXTYPE=x\n' >"$tmpl/etc/selinux/config"
chmod 644 "$tmpl/etc/passwd" "$tmpl/etc/group" "$tmpl/etc/selinux/config"
chmod 640 "$tmpl/etc/shadow" "$tmpl/etc/gshadow"
chmod 700 "$tmpl/root"
chmod 755 "$tmpl"
# Ignition relabels with setfiles when it finds an SELinux config; a no-op stands in.
mkdir -p "$out/bin" "$out/trust" "$out/base.d"
printf '#!/bin/sh\nexit 0\n' >"$out/bin/setfiles"
chmod 755 "$out/bin/setfiles"
: >"$out/cmdline"

# The run dirs (Kindling's config.json and state.json, Ignition's config cache and state)
# live on a tmpfs, as /run does in the initramfs.
runfs=$out/run-tmpfs
mkdir -p "$runfs"

# run-kindling.sh / run-ignition.sh WORK CONFIG STAGE...: the stages in order, as the dracut
# units run them (umask 022, each stage its own process), into WORK/root, with the run dir
# on the tmpfs. With RSS_OUT set,
# each stage runs under /usr/bin/time and appends its peak RSS (KiB) to that file.
allocator_env=$(sed -n 's/^Environment=//p' dracut-module/30kindling/kindling-files.service)
[[ $allocator_env == *MIMALLOC_* ]] || die "no allocator settings in kindling-files.service"
cat >"$out/run-kindling.sh" <<EOF
#!/bin/sh
set -e
umask 022
work=\$1 config=\$2
run='$runfs'/\$(basename "\$work")
mkdir -p "\$run"
shift 2
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export KINDLING_CONFIG_FILE="\$config"
# The allocator settings the dracut units give every stage (Environment= in the units).
export $allocator_env
for stage; do
    \${RSS_OUT:+/usr/bin/time -f %M -a -o "\$RSS_OUT"} '$kindling' "\$stage" --platform file \\
        --root "\$work/root" --run-dir "\$run" --cmdline-file '$out/cmdline' \\
        --base-dir '$out/base.d' --trust-dir '$out/trust'
done
EOF
cat >"$out/run-ignition.sh" <<EOF
#!/bin/sh
set -e
umask 022
work=\$1 config=\$2
run='$runfs'/\$(basename "\$work")
mkdir -p "\$run"
shift 2
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export IGNITION_CONFIG_FILE="\$config" PATH='$out/bin':\$PATH
for stage; do
    \${RSS_OUT:+/usr/bin/time -f %M -a -o "\$RSS_OUT"} '$IGNITION' -platform file \\
        -root "\$work/root" -config-cache "\$run/cache.json" -state-file "\$run/state" \\
        -neednet "\$run/neednet" -log-to-stdout -stage "\$stage"
done
EOF
# prepare.sh WORK: a fresh root and run dir, and nothing dirty left for the next run's sync.
# The previous WORK is moved aside into the same filesystem's trash, not deleted (see above).
cat >"$out/prepare.sh" <<EOF
#!/bin/sh
set -e
trash="\$(dirname "\$1")/trash"
mkdir -p "\$trash"
[ ! -e "\$1" ] || mv "\$1" "\$trash/\$(date +%s%N)"
mkdir -p "\$1"
rm -rf '$runfs'/"\$(basename "\$1")"
cp -a '$tmpl' "\$1/root"
sync -f "\$1"
EOF
chmod 755 "$out/run-kindling.sh" "$out/run-ignition.sh" "$out/prepare.sh"

# The tree a run left, for comparing the two tools: type, mode, owner, size, content digest.
# The tools' own bookkeeping (result reports) is left out.
tree_of() { # root subdir
    (cd "$1" && find "$2" -printf '%p %y %m %U:%G %s\n' | sort &&
        find "$2" -type f -print0 | sort -z | xargs -0 -r sha1sum)
}

# --- results -------------------------------------------------------------------------------
# Each benchmark leaves $out/result-NAME.json; --write renders those of this run into the doc.
written=()

# The scratch filesystem the roots of one benchmark go to: $fs.
fs=
loopdev=
image=$out/scratch.img
drop_fs() {
    if [[ -n $loopdev ]]; then
        umount "$out/mnt" 2>/dev/null || umount -l "$out/mnt" 2>/dev/null || true
        losetup -d "$loopdev" 2>/dev/null || true
        loopdev=
        rm -f "$image"
    elif [[ -n $fs ]]; then
        rm -rf "$fs"
    fi
    fs=
}
fresh_fs() { # size in MiB, inodes
    drop_fs
    if ((in_place)); then
        fs=$out/scratch
        mkdir -p "$fs"
        return
    fi
    ! mountpoint -q "$out/mnt" || die "$out/mnt is still mounted from an earlier run: umount it (and losetup -d its device)"
    rm -f "$image"
    truncate -s "${1}M" "$image"
    mkfs.ext4 -q -F -N "$2" -E lazy_itable_init=0,lazy_journal_init=0 "$image"
    loopdev=$(losetup --direct-io=on -f --show "$image")
    mkdir -p "$out/mnt"
    mount "$loopdev" "$out/mnt"
    fs=$out/mnt
}

# HTTP server on 127.0.0.1 serving $out/serve, started on demand, stopped on exit.
server_pid=
serve_dir=$out/serve
mkdir -p "$serve_dir"
cleanup() {
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
    drop_fs
    ! mountpoint -q "$runfs" || umount "$runfs" || true
}
trap cleanup EXIT
mountpoint -q "$runfs" || mount -t tmpfs -o size=256m,mode=0755 kindling-bench-run "$runfs"
start_server() {
    [[ -z $server_pid ]] || return 0
    port=$(python3 - "$port" <<'EOF'
import socket, sys
p = int(sys.argv[1])
for candidate in range(p, p + 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", candidate))
    except OSError:
        continue
    finally:
        s.close()
    print(candidate)
    break
else:
    sys.exit(f"no free port in {p}..{p + 199}")
EOF
)
    python3 bench/serve.py --bind 127.0.0.1 --directory "$serve_dir" --port "$port" >"$out/http.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 100; i++)); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    curl -sf -o /dev/null "http://127.0.0.1:$port/" || die "the HTTP server on 127.0.0.1:$port did not start (see $out/http.log)"
    note "HTTP server (bench/serve.py: HTTP/1.1, sendfile) on 127.0.0.1:$port, pid $server_pid"
}

# Times the two tools on one config. Writes $out/NAME.json with the times (s), peak RSS (KiB,
# per stage, median of 3 runs) and the method.
compare_tools() { # name, config, runs, stage...
    local name=$1 config=$2 n=$3
    shift 3
    local stages=("$@")
    local kw=$fs/work-kindling iw=$fs/work-ignition

    note "$name: checking both tools leave the same tree"
    for tool in kindling ignition; do
        local w=$fs/work-$tool
        "$out/prepare.sh" "$w"
        "$out/run-$tool.sh" "$w" "$config" "${stages[@]}" >"$out/$name-$tool.log" 2>&1 ||
            die "$tool failed on the $name config (exit $?); see $out/$name-$tool.log"
        tree_of "$w/root" srv >"$out/$name-$tool.tree"
    done
    cmp -s "$out/$name-kindling.tree" "$out/$name-ignition.tree" ||
        die "Kindling and Ignition left different trees; not timing. diff $out/$name-kindling.tree $out/$name-ignition.tree"
    echo "same tree: $(grep -c ' f ' "$out/$name-kindling.tree") files"

    local method
    if ((use_hyperfine)); then
        method="$(hyperfine --version | head -n 1), 1 warm-up run and $n timed runs per tool, each on a fresh root (--prepare copies the template root and syncs its filesystem)"
        note "$name: timing with $method"
        hyperfine -N --warmup 1 --runs "$n" --export-json "$out/$name.hyperfine.json" \
            --prepare "$out/prepare.sh $kw" --prepare "$out/prepare.sh $iw" \
            -n kindling "$out/run-kindling.sh $kw $config ${stages[*]}" \
            -n ignition "$out/run-ignition.sh $iw $config ${stages[*]}"
        python3 - "$out/$name.hyperfine.json" "$out/$name.kindling.times" "$out/$name.ignition.times" <<'EOF'
import json, sys
for r, path in zip(json.load(open(sys.argv[1]))["results"], sys.argv[2:]):
    open(path, "w").writelines(f"{t}\n" for t in r["times"])
EOF
    else
        method="an interleaved shell loop (date +%s%N), 1 warm-up run and $n timed runs per tool, each on a fresh root"
        note "$name: timing with $method"
        : >"$out/$name.kindling.times"
        : >"$out/$name.ignition.times"
        for ((r = 0; r <= n; r++)); do
            for tool in kindling ignition; do
                local w=$fs/work-$tool t0 t1
                "$out/prepare.sh" "$w"
                t0=$(date +%s%N)
                "$out/run-$tool.sh" "$w" "$config" "${stages[@]}" >/dev/null 2>&1 || die "$tool failed"
                t1=$(date +%s%N)
                ((r == 0)) || echo "$(((t1 - t0) / 1000))e-6" >>"$out/$name.$tool.times"
            done
        done
    fi

    note "$name: peak RSS of each stage (/usr/bin/time -f %M, median of 3 runs)"
    for tool in kindling ignition; do
        local w=$fs/work-$tool
        : >"$out/$name.$tool.rss"
        for ((r = 0; r < 3; r++)); do
            "$out/prepare.sh" "$w"
            : >"$out/rss.tmp"
            RSS_OUT=$out/rss.tmp "$out/run-$tool.sh" "$w" "$config" "${stages[@]}" >/dev/null 2>&1 ||
                die "$tool failed while measuring RSS"
            grep -E '^[0-9]+$' "$out/rss.tmp" | paste -sd' ' >>"$out/$name.$tool.rss"
        done
    done
    echo "$method" >"$out/$name.method"
}

# --- (a) small inline files ----------------------------------------------------------------
if wants small; then
    load0=$(loadavg)
    note "small: generating $files inline files"
    summary=$(python3 bench/gen_engine.py small --out "$out/small.ign" --files "$files" 2>&1 >/dev/null) ||
        die "gen_engine.py failed: $summary"
    echo "$summary"
    # 2 tools x (check + warm-up + runs + 3 RSS runs) roots of FILES files, never deleted.
    roots=$((2 * (${runs:-10} + 5)))
    fresh_fs $((roots * (files / 200 + 8) + 512)) $((roots * (files + 300) + 10000))
    compare_tools small "$out/small.ign" "${runs:-10}" fetch-offline files
    drop_fs
    printf '%s\n' "$summary" "$(loadavg)" "$load0" >"$out/small.info"
    written+=(small)
fi

# --- (b) remote files ----------------------------------------------------------------------
if wants remote; then
    load0=$(loadavg)
    start_server
    note "remote: generating 200 files of 1 MiB (kept for reruns)"
    summary=$(python3 bench/gen_engine.py remote --out "$out/remote.ign" --dir "$serve_dir/remote" \
        --url "http://127.0.0.1:$port/remote" --files 200 --mib 1 2>&1 >/dev/null) ||
        die "gen_engine.py failed: $summary"
    echo "$summary"
    roots=$((2 * (${runs:-5} + 5)))
    fresh_fs $((roots * 210 + 512)) $((roots * 300 + 10000))
    compare_tools remote "$out/remote.ign" "${runs:-5}" fetch-offline fetch files
    drop_fs
    printf '%s\n' "$summary" "$(loadavg)" "$load0" >"$out/remote.info"
    written+=(remote)
fi

# --- (c) one big compressed file -----------------------------------------------------------
if wants big; then
    load0=$(loadavg)
    # Room for the compressed file (at most the size, for safety), two outputs and slack.
    avail_mib=$(($(df -Pk "$out" | awk 'NR == 2 {print $4}') / 1024))
    have_gz=0
    [[ -f $serve_dir/big.gz && -f $serve_dir/big.gz.sha512 && $(cut -d' ' -f1 "$serve_dir/big.gz.sha512") == "$big_mib" ]] && have_gz=1
    need_mib=$((big_mib * (have_gz ? 2 : 3) + 1024))
    scaled=""
    if ((avail_mib < need_mib)); then
        old=$big_mib
        big_mib=$(((avail_mib - 1024) / 3))
        ((big_mib >= 64)) || die "only $avail_mib MiB free under $out: not enough for the big benchmark"
        scaled="scaled down from $old MiB: only $avail_mib MiB free"
        echo "note: $scaled"
    fi
    start_server
    note "big: $big_mib MiB, gzip -1 (generated once, kept in $serve_dir)"
    summary=$(python3 bench/gen_engine.py big --out "$out/big.ign" --gz "$serve_dir/big.gz" \
        --url "http://127.0.0.1:$port/big.gz" --mib "$big_mib" 2>&1 >/dev/null) ||
        die "gen_engine.py failed: $summary"
    [[ -z $scaled ]] || summary+=" ($scaled)"
    echo "$summary"
    want_hash=$(cut -d' ' -f2 "$serve_dir/big.gz.sha512")
    url="http://127.0.0.1:$port/big.gz"
    # One big file at a time is deleted between runs (a single inode costs nothing to forget).
    fresh_fs $((big_mib * 2 + 1024)) 65536
    kw=$fs/work-kindling
    pw=$fs/work-pipeline
    pipe_out=$pw/disk.img
    kout=$kw/root/srv/big/disk.img
    # The peer: the same bytes fetched, decompressed, hashed and written to the same disk, then
    # checked. "+ sync" also makes them durable, as the files stage does before it finishes.
    cat >"$out/pipeline.sh" <<EOF
#!/bin/bash
set -euo pipefail
sum=\$(curl -sf '$url' | gunzip | tee '$pipe_out' | sha512sum)
[[ "sha512-\${sum%% *}" == '$want_hash' ]]
[[ \${1:-} != sync ]] || sync -f '$pipe_out'
EOF
    chmod 755 "$out/pipeline.sh"
    prep_kindling() {
        rm -rf "$kw" "$pw" "$fs/trash"
        "$out/prepare.sh" "$kw"
        "$out/run-kindling.sh" "$kw" "$out/big.ign" fetch-offline fetch >/dev/null 2>&1 ||
            die "kindling fetch-offline/fetch failed on the big config"
        sync -f "$kw"
    }
    prep_pipeline() {
        rm -rf "$kw" "$pw" "$fs/trash"
        mkdir -p "$pw"
        sync -f "$pw"
    }
    note "big: $big_runs runs of each, interleaved: kindling files | pipeline | pipeline + sync"
    : >"$out/big.kindling"
    : >"$out/big.pipeline"
    : >"$out/big.pipeline-sync"
    for ((r = 0; r < big_runs; r++)); do
        prep_kindling
        /usr/bin/time -f '%e %M' -o "$out/time.tmp" "$out/run-kindling.sh" "$kw" "$out/big.ign" files \
            >"$out/big-kindling.log" 2>&1 || die "kindling files failed on the big file; see $out/big-kindling.log"
        [[ $(stat -c %s "$kout") == $((big_mib * 1048576)) ]] || die "kindling wrote $kout with the wrong size"
        tail -n 1 "$out/time.tmp" | tee -a "$out/big.kindling"
        for variant in pipeline pipeline-sync; do
            prep_pipeline
            /usr/bin/time -f '%e %M' -o "$out/time.tmp" "$out/pipeline.sh" "${variant#pipeline-}" ||
                die "the curl pipeline failed or produced the wrong hash"
            tail -n 1 "$out/time.tmp" | tee -a "$out/big.$variant"
        done
    done
    drop_fs
    printf '%s\n' "$summary" "$(loadavg)" "$load0" "$big_runs" >"$out/big.info"
    written+=(big)
fi

# --- binary size ---------------------------------------------------------------------------
if wants size; then
    strip -o "$out/kindling.stripped" "$kindling"
    stat -c %s "$out/kindling.stripped" >"$out/size.info"
    stat -c %s "$kindling" >>"$out/size.info"
    written+=(size)
fi

# --- report --------------------------------------------------------------------------------
today=$(date -u +%Y-%m-%d)
export BENCH_FILES=$files BENCH_OUT=$out BENCH_WRITE=$write BENCH_DOC=$doc BENCH_DONE="${written[*]}" \
    BENCH_MACHINE=$machine BENCH_DATE=$today \
    BENCH_K_VERSION=$kindling_version BENCH_I_VERSION=$ignition_version
python3 - <<'EOF'
import os, re, statistics, sys

e = os.environ
out = e["BENCH_OUT"]
done = e["BENCH_DONE"].split()
mib = lambda kib: kib / 1024

def lines(path):
    return [l.rstrip("\n") for l in open(path) if l.strip()]

def stats(ts):
    ms = [float(t) * 1000 for t in ts]
    return {"mean": statistics.mean(ms), "sd": statistics.stdev(ms) if len(ms) > 1 else 0.0,
            "min": min(ms), "max": max(ms), "n": len(ms)}

def rss(path):
    """Per run: the stages' peak RSS; returns (median over runs of the max, per-stage medians)."""
    runs = [[int(x) for x in l.split()] for l in lines(path)]
    per_stage = [statistics.median(col) for col in zip(*runs)]
    return statistics.median(max(r) for r in runs), per_stage

blocks = {}
goals = []

def tools_block(name, title, stages, time_goal, rss_goal, extra=""):
    info = lines(f"{out}/{name}.info")
    summary, load_end, load_start = info[0], info[1], info[2]
    k = stats(lines(f"{out}/{name}.kindling.times"))
    i = stats(lines(f"{out}/{name}.ignition.times"))
    k_rss, k_st = rss(f"{out}/{name}.kindling.rss")
    i_rss, i_st = rss(f"{out}/{name}.ignition.rss")
    method = lines(f"{out}/{name}.method")[0]
    tr, trmin, rr = i["mean"] / k["mean"], i["min"] / k["min"], i_rss / k_rss
    st = lambda v: " / ".join(f"{mib(x):.1f}" for x in v)
    print(f"\n{title}\n  input: {summary}\n  load average {load_start} before, {load_end} after")
    print(f"  {'':9} {'mean ± σ (ms)':>18} {'min (ms)':>9} {'peak RSS (MiB)':>15}  per stage ({', '.join(stages)})")
    for tool, s, r, per in (("kindling", k, k_rss, k_st), ("ignition", i, i_rss, i_st)):
        print(f"  {tool:9} {s['mean']:>9.1f} ± {s['sd']:<6.1f} {s['min']:>9.1f} {mib(r):>15.1f}  {st(per)}")
    print(f"  Ignition ÷ Kindling: time {tr:.2f}x (mean), {trmin:.2f}x (min); peak RSS {rr:.2f}x")
    ok_t = tr >= time_goal
    goals.append((f"{name}: at least {time_goal}x faster than Ignition", ok_t, f"{tr:.2f}x"))
    if rss_goal:
        ok_r = rr >= rss_goal
        goals.append((f"{name}: at most 1/{rss_goal} of Ignition's peak RSS", ok_r, f"1/{rr:.2f}"))
    return f"""**{title}**

- Input: {summary}
- Stages: {", ".join(stages)}, each its own process, as the dracut units run them
{extra}- Method: {method}; peak RSS is the largest of the stages' `/usr/bin/time -f %M`, median of 3 runs
- Load average {load_start} before, {load_end} after

| | mean ± σ | min | peak RSS | per stage ({" / ".join(stages)}) |
|---|---:|---:|---:|---:|
| Kindling | {k['mean']:.0f} ms ± {k['sd']:.0f} | {k['min']:.0f} ms | {mib(k_rss):.1f} MiB | {st(k_st)} MiB |
| Ignition | {i['mean']:.0f} ms ± {i['sd']:.0f} | {i['min']:.0f} ms | {mib(i_rss):.1f} MiB | {st(i_st)} MiB |
| **Ignition ÷ Kindling** | **{tr:.2f}×** | {trmin:.2f}× | **{rr:.2f}×** | |
"""

if "small" in done:
    blocks["small"] = tools_block("small", f"(a) {int(e['BENCH_FILES']):,} small inline files: Kindling against Ignition",
                                  ["fetch-offline", "files"], 5, 4)
if "remote" in done:
    blocks["remote"] = tools_block("remote", "(b) 200 × 1 MiB remote files with sha512: Kindling against Ignition",
                                   ["fetch-offline", "fetch", "files"], 2, None,
                                   "- Server: `bench/serve.py` on 127.0.0.1 (HTTP/1.1 keep-alive, sendfile)\n")
if "big" in done:
    info = lines(f"{out}/big.info")
    summary, load_end, load_start = info[0], info[1], info[2]
    def runs(variant):
        rows = [l.split() for l in lines(f"{out}/big.{variant}")]
        return stats([r[0] for r in rows]), max(int(r[1]) for r in rows)
    (k, k_rss), (p, _), (ps, _) = runs("kindling"), runs("pipeline"), runs("pipeline-sync")
    r_sync, r_plain = k["mean"] / ps["mean"], k["mean"] / p["mean"]
    title = "(c) one big gzip-compressed remote file with sha512: Kindling's files stage against curl"
    print(f"\n{title}\n  input: {summary}\n  load average {load_start} before, {load_end} after")
    for label, s in (("kindling files", k), ("pipeline", p), ("pipeline + sync", ps)):
        print(f"  {label:16} {s['mean'] / 1000:>7.2f} s ± {s['sd'] / 1000:.2f} (min {s['min'] / 1000:.2f} s)")
    print(f"  kindling peak RSS {mib(k_rss):.1f} MiB (max of {k['n']} runs)")
    print(f"  Kindling ÷ pipeline: {r_sync:.2f}x against pipeline + sync, {r_plain:.2f}x against the pipeline alone")
    goals.append(("big: within 1.3x of the curl pipeline + sync", r_sync <= 1.3, f"{r_sync:.2f}x"))
    goals.append(("big: within 1.3x of the curl pipeline alone", r_plain <= 1.3, f"{r_plain:.2f}x"))
    goals.append(("big: Kindling's peak RSS under 32 MiB", k_rss < 32 * 1024, f"{mib(k_rss):.1f} MiB"))
    blocks["big"] = f"""**{title}**

- Input: {summary}
- Kindling: `kindling files` alone (fetch-offline and fetch ran before, untimed): fetch over
  HTTP, gunzip, sha512, write to a temporary file in the root, link it in, then sync the root's
  filesystem as the stage always does before its report
- Peer: `curl -s URL | gunzip | tee FILE | sha512sum` into the same filesystem, hash
  checked, with and without a final `sync -f` (the files stage's durability, for a
  like-for-like figure); pages are not dropped between runs, so the compressed file is
  served from memory
- Method: {k['n']} runs of each, interleaved, timed with `/usr/bin/time -f "%e %M"`; the
  filesystem synced before each run
- Load average {load_start} before, {load_end} after

| | mean ± σ | min | peak RSS |
|---|---:|---:|---:|
| `kindling files` | {k['mean'] / 1000:.2f} s ± {k['sd'] / 1000:.2f} | {k['min'] / 1000:.2f} s | {mib(k_rss):.1f} MiB |
| curl pipeline + sync | {ps['mean'] / 1000:.2f} s ± {ps['sd'] / 1000:.2f} | {ps['min'] / 1000:.2f} s | |
| curl pipeline alone | {p['mean'] / 1000:.2f} s ± {p['sd'] / 1000:.2f} | {p['min'] / 1000:.2f} s | |
| **Kindling ÷ pipeline + sync** | **{r_sync:.2f}×** | {k['min'] / ps['min']:.2f}× | |
| Kindling ÷ pipeline alone | {r_plain:.2f}× | {k['min'] / p['min']:.2f}× | |
"""
if "size" in done:
    stripped, as_built = (int(x) for x in lines(f"{out}/size.info"))
    print(f"\nrelease binary: {stripped:,} bytes stripped ({stripped / 2**20:.2f} MiB); as built {as_built:,} bytes")
    goals.append(("size: stripped release binary at most 8 MiB", stripped <= 8 << 20, f"{stripped / 2**20:.2f} MiB"))
    blocks["size"] = f"""**Release binary size**

Release binary (`cargo build --release`, then `strip`): **{stripped / 2**20:.2f} MiB**
({stripped:,} bytes; goal ≤ 8 MiB).
"""

print()
for what, ok, figure in goals:
    print(f"goal {what}: {'meets' if ok else 'MISSES'} ({figure})")

if e["BENCH_WRITE"] != "1" or not blocks:
    sys.exit(0)

doc = e["BENCH_DOC"]
start, end = "<!-- bench:engine:start -->", "<!-- bench:engine:end -->"
names = ["small", "remote", "big", "size"]
text = open(doc).read()
if start not in text or end not in text:
    body = "\n".join(f"<!-- engine:{n}:start -->\n_not measured yet_\n<!-- engine:{n}:end -->\n" for n in names)
    text = text.rstrip("\n") + f"""

## Engine: fetch and files

`bench/engine.sh --write` measures Kindling's stages against their peers in the same run
(Ignition 2.14 for the stages, a `curl | gunzip | sha512sum` pipeline for one big download)
and records the ratios here.

{start}
{body}{end}
"""
head, rest = text.split(start, 1)
block, tail = rest.split(end, 1)
stamp = (f"Measured {e['BENCH_DATE']} with `bench/engine.sh --write` on {e['BENCH_MACHINE']}; "
         f"{e['BENCH_K_VERSION']}, {e['BENCH_I_VERSION']}.\n\n")
def with_stamp(b):
    title, body = b.split("\n\n", 1)
    return f"{title}\n\n{stamp}{body}"
for n in names:
    s, t = f"<!-- engine:{n}:start -->", f"<!-- engine:{n}:end -->"
    if s not in block:
        block = block.rstrip("\n") + f"\n\n{s}\n_not measured yet_\n{t}\n"
    if n in blocks:
        block = re.sub(re.escape(s) + ".*?" + re.escape(t),
                       lambda _: f"{s}\n{with_stamp(blocks[n])}{t}", block, count=1, flags=re.S)
open(doc, "w").write(head + start + block + end + tail)
print(f"updated {doc}")
EOF
