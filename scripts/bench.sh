#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md and the counts of RELIABILITY.md.
#
#   scripts/bench.sh            # full sizes: 1,000,000-SIM plan, 100,000-SIM read at 20 ms
#   SIMFLEET_LOAD_SIMS=100000 SIMFLEET_FETCH_SIMS=10000 scripts/bench.sh   # quicker
#
# Release mode gives the figures the goals are stated in (plan of 1M SIMs under 3 s and 1 GiB),
# but building it takes minutes and loads every core: the script builds release only when the
# machine is idle (1-minute load average below 2) or BENCH_PROFILE=release is set, and says
# which profile it measured. Peak RSS comes from /usr/bin/time when installed (else the tests
# poll /proc/PID/status VmHWM). Results are printed and left as JSON in
# $CARGO_TARGET_DIR/tmp/{load-plan,load-fetch,faults-*}.json.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simfleet/bench-target}"
export SIMFLEET_LOAD_SIMS="${SIMFLEET_LOAD_SIMS:-1000000}"
export SIMFLEET_FETCH_SIMS="${SIMFLEET_FETCH_SIMS:-100000}"
export SIMFLEET_FETCH_LATENCY_MS="${SIMFLEET_FETCH_LATENCY_MS:-20}"

load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
profile="${BENCH_PROFILE:-}"
if [ -z "$profile" ]; then
    if awk -v l="$load" 'BEGIN { exit !(l < 2) }'; then profile=release; else profile=debug; fi
fi
release_flag=()
if [ "$profile" = release ]; then
    release_flag=(--release)
else
    echo "note: load average $load >= 2: measuring the debug build (times are not the release goals)"
    # Debug is 5-10x slower: do not fail on the release time budget, only record.
    export SIMFLEET_LOAD_MAX_SECS="${SIMFLEET_LOAD_MAX_SECS:-100000}"
fi
echo "== profile: $profile, load average: $load, $(nproc) cores"

tmp="$CARGO_TARGET_DIR/tmp"
mkdir -p "$tmp"

echo "== load: plan --live of $SIMFLEET_LOAD_SIMS SIMs against 20 rules; full read of $SIMFLEET_FETCH_SIMS SIMs at ${SIMFLEET_FETCH_LATENCY_MS} ms"
status=0
cargo test "${release_flag[@]}" --locked --test slow -- --include-ignored --nocapture --test-threads 1 || status=$?

echo "== sandbox page cost (1,000 vs 1,000,000 SIMs)"
cargo test "${release_flag[@]}" --locked --test sandbox_bench -- --ignored --nocapture || status=$?

echo "== faults survived by plan (SIMFLEET_FAULT_SEEDS=${SIMFLEET_FAULT_SEEDS:-default})"
cargo test "${release_flag[@]}" --locked --test faults -- --nocapture || status=$?

echo "== figures"
for f in "$tmp"/load-plan.json "$tmp"/load-fetch.json "$tmp"/faults-*.json; do
    [ -f "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
done
exit "$status"
