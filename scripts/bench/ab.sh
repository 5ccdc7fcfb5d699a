#!/usr/bin/env bash
# Paired A/B of two daemon builds: which one spends less CPU per warm send?
#
#   scripts/bench/ab.sh BINARY_A BINARY_B
#
# One Postfix (STARTTLS + AUTH, discard delivery) and both daemons run side by side; the
# driver alternates batches between them (A, B, A, B, ...), so the drift of this VM's speed
# (the same binary has measured 0.28 and 0.35 ms per send hours apart) falls on both
# alike. Each batch's CPU is read from /proc/PID/task/*/schedstat (nanoseconds, not clock
# ticks), divided by the batch's messages. Prints a line per batch, then the means and the
# medians of the paired B/A ratios (CPU per send, and throughput). Run after scripts/bench.sh
# has installed what it needs (or the test suite has); needs root for Postfix.
#
# Environment: ROUNDS (pairs of batches, default 12), N (messages per batch, default 800),
# CLIENTS (default 1), EXTRA_A / EXTRA_B (extra `serve` options for one side, e.g.
# "--log-level info"), BENCH_EXTRA (extra sidecar-bench options for both, e.g.
# "--dedup-window default").
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BINARY_A BINARY_B" >&2; exit 2; }
cd "$(dirname "$0")/../.."
binaries=("$(realpath "$1")" "$(realpath "$2")")
rounds=${ROUNDS:-12}
messages=${N:-800}
clients=${CLIENTS:-1}
extras=("${EXTRA_A:-}" "${EXTRA_B:-}")
read -r -a bench_extra <<<"${BENCH_EXTRA:-}"
names=(a b)

swift build -c release --product sidecar-bench >&2
bench="$(pwd)/.build/release/sidecar-bench"

# shellcheck source=scripts/bench/common.sh
source scripts/bench/common.sh
POSTFIX_PROCESS_LIMIT=100 bench_start_postfix smtp-sidecar-ab

daemons=()
for side in 0 1; do
    # shellcheck disable=SC2086  # EXTRA_* are option lists
    start_sidecar "${binaries[$side]}" "${names[$side]}" --set pool_max_connections_per_key=4 ${extras[$side]}
    daemons+=("$started_pid")
done
request "$work/request.json" "$SUBMISSION_PORT" starttls yes

cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f\n", ns}'; }
for side in 0 1; do
    "$bench" --socket "$work/${names[$side]}.sock" --request "$work/request.json" --daemon-pid "${daemons[$side]}" \
        --clients 1 --messages 200 --label warm-up "${bench_extra[@]}" >/dev/null
done
for _ in $(seq 1 "$rounds"); do
    for side in 0 1; do
        pid=${daemons[$side]}
        before=$(cpu_ns "$pid")
        line=$("$bench" --socket "$work/${names[$side]}.sock" --request "$work/request.json" --daemon-pid "$pid" \
            --clients "$clients" --messages "$messages" --warmup 0 --label "${names[$side]}" "${bench_extra[@]}")
        after=$(cpu_ns "$pid")
        echo "$line  cpu_ns/msg $(((after - before) / messages))"
    done
done | tee "$work/batches.txt"

python3 - "$work/batches.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = line.split()
    runs.setdefault(fields[0], []).append(
        (int(fields[fields.index("cpu_ns/msg") + 1]) / 1000, float(fields[fields.index("p50") + 1]),
         float(fields[fields.index("msg/s") - 1])))
a, b = runs["a"], runs["b"]
for name, batches in (("A", a), ("B", b)):
    print(f"{name}: CPU per send mean {statistics.mean(c for c, _, _ in batches):.1f} us, "
          f"p50 mean {statistics.mean(p for _, p, _ in batches):.3f} ms, "
          f"throughput mean {statistics.mean(t for _, _, t in batches):.1f} msg/s ({len(batches)} batches)")
ratios = [y[0] / x[0] for x, y in zip(a, b)]
print(f"paired B/A CPU ratio: median {statistics.median(ratios):.3f}, mean {statistics.mean(ratios):.3f}")
speed = [y[2] / x[2] for x, y in zip(a, b)]
print(f"paired B/A throughput ratio: median {statistics.median(speed):.3f}, mean {statistics.mean(speed):.3f}")
PY
