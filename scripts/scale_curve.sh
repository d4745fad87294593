#!/usr/bin/env bash
# The scale curve of BENCHMARKS.md: how the whole `plan` process's wall time and peak RSS grow
# with the fleet. Plans of 10k, 100k, 1M and 3M SIMs from snapshots (the 20-rule spec of
# tests/slow.rs), and full API reads of 10k, 100k and 1M SIMs through the sandbox (one
# `match: all` rule, so every SIM is read). Writes docs/scale-curve.tsv and, with gnuplot
# (Debian: `apt-get install gnuplot-nox`), docs/scale-curve.png.
#
#   scripts/scale_curve.sh                 # all sizes (about 5 minutes, 4 GiB of memory)
#   SIZES="10000 100000" READS="10000" scripts/scale_curve.sh   # quicker
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES:-10000 100000 1000000 3000000}"
READS="${READS:-10000 100000 1000000}"
cargo build --release --locked --quiet
bin="$PWD/target/release/simfleet"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
    [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/twenty" "$work/all"
cp scripts/twenty-rules.yaml "$work/twenty/rules.yaml"
printf 'rules:\n  - name: every-sim\n    match: all\n    set: { imei_lock: off }\n' > "$work/all/rules.yaml"

# Starts a sandbox serving N generated SIMs; sets $url.
start_sandbox() {
    "$bin" sandbox --generate "$1" --seed 42 --listen 127.0.0.1:0 > "$work/sandbox.out" 2>&1 &
    sandbox_pid=$!
    url=""
    for _ in $(seq 1 600); do
        url="$(grep -o 'http://127.0.0.1:[0-9]*/graphql' "$work/sandbox.out" || true)"
        [ -n "$url" ] && break
        sleep 0.5
    done
    [ -n "$url" ] || { echo "the sandbox did not start"; exit 1; }
}
stop_sandbox() {
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
    sandbox_pid=""
}
# Runs a command; prints "wall_s peak_mib".
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || {
        code=$?
        [ "$code" -eq 2 ] || [ "$code" -eq 3 ] || { cat "$work/stderr"; exit "$code"; }
    }
    # A plan stopped by a guard (exit 3) makes time(1) write a "Command exited…" line first.
    tail -n 1 "$work/time" | awk '{ printf "%s %d\n", $1, $2 / 1024 }'
}

out=docs/scale-curve.tsv
printf 'kind\tsims\twall_s\tpeak_mib\n' > "$out"
for n in $SIZES; do
    start_sandbox "$n"
    curl -sf "${url%/graphql}/state" > "$work/fleet.json"
    stop_sandbox
    cat "$work/fleet.json" > /dev/null # warm the page cache, as a CI job that just wrote it
    read -r wall mib < <(measure "$bin" plan "$work/twenty" --live "$work/fleet.json")
    printf 'snapshot\t%s\t%s\t%s\n' "$n" "$wall" "$mib" | tee -a "$out"
    rm -f "$work/fleet.json"
done
for n in $READS; do
    start_sandbox "$n"
    read -r wall mib < <(WHEREVER_SIM_TOKEN=sandbox measure "$bin" plan "$work/all" \
        --endpoint "$url" --concurrency 8 --rate-limit 100000)
    stop_sandbox
    printf 'read\t%s\t%s\t%s\n' "$n" "$wall" "$mib" | tee -a "$out"
done

if command -v gnuplot > /dev/null; then
    gnuplot <<GNUPLOT
set terminal pngcairo size 1100,450 font ",10"
set output "docs/scale-curve.png"
set datafile separator "\t"
set multiplot layout 1,2 title "simfleet plan, whole process (release, 2 cores)"
set logscale xy
set key top left
set xlabel "SIMs"
set grid
set ylabel "wall time (s)"
plot "$out" using (strcol(1) eq "snapshot" ? \$2 : 1/0):3 with linespoints title "plan --live (20 rules)", \
     "$out" using (strcol(1) eq "read" ? \$2 : 1/0):3 with linespoints title "full API read (sandbox)", \
     "$out" using (strcol(1) eq "snapshot" ? \$2 : 1/0):(\$2 * 1.6e-6) with lines dashtype 2 title "linear"
set ylabel "peak RSS (MiB)"
plot "$out" using (strcol(1) eq "snapshot" ? \$2 : 1/0):4 with linespoints title "plan --live (20 rules)", \
     "$out" using (strcol(1) eq "read" ? \$2 : 1/0):4 with linespoints title "full API read (sandbox)", \
     "$out" using (strcol(1) eq "snapshot" ? \$2 : 1/0):(\$2 * 2.4e-4) with lines dashtype 2 title "linear"
unset multiplot
GNUPLOT
    echo "wrote docs/scale-curve.png"
else
    echo "gnuplot not found (apt-get install gnuplot-nox): docs/scale-curve.tsv only"
fi
