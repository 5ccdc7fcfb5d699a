#!/usr/bin/env bash
# Issue #19's benchmark row: 16 concurrent sends through each official client against
# sidecar-bench, in one run. One daemon (release build, its defaults: duplicate
# suppression on, a state-database record per send) sends to one real Postfix
# (scripts/postfix-harness.sh, discard delivery); the same message (sidecar-bench's 2 KB
# text, a fresh idempotency key per message), the same count and 16 in flight go through
#
#   sidecar-bench   16 connections, one send at a time on each (Sources/sidecar-bench);
#   python async    clients/python/bench/load.py: one AsyncSidecarClient, 16 tasks;
#   python sync     the same with one SidecarClient shared by 16 threads;
#   node            clients/node/bench/load.mjs: one createClient(), 16 async loops;
#   raw-1-connection  no client: load.mjs's minimal framing loop, all 16 pipelined on one
#                   connection, as both clients' pools do (they open another connection
#                   only when one is full): what pipelining alone costs against
#                   sidecar-bench's 16 connections;
#
# both clients with their default pool (4 connections, requests pipelined). The ways run
# in rounds, the order rotated each round, so drift hits them alike; the table gives each
# way's median over the rounds, and its p50 relative to sidecar-bench's (the issue's
# target: at most +10 %). Every round's own lines are printed first.
#
# Environment: BENCH_MESSAGES (per way and round, default 800), BENCH_ROUNDS (default 5),
# BENCH_SKIP_BUILD=1 (use .build/release as it is), BENCH_SIDECAR_BIN and BENCH_BENCH_BIN
# (other binaries).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
messages=${BENCH_MESSAGES:-800}
rounds=${BENCH_ROUNDS:-5}
concurrency=16
# The daemon reads SMTP_SIDECAR_* variables as configuration keys: none of the caller's.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^SMTP_SIDECAR_' || true)

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "== building (release)" >&2
    # one product per invocation: with several --product, swift build builds only the last
    swift build -c release --product smtp-sidecar >&2
    swift build -c release --product sidecar-bench >&2
fi
bin=${BENCH_SIDECAR_BIN:-$root/.build/release/smtp-sidecar}
bench=${BENCH_BENCH_BIN:-$root/.build/release/sidecar-bench}
command -v node >/dev/null || { echo "node is needed" >&2; exit 1; }
scripts/postfix-harness.sh install >/dev/null

# shellcheck source=scripts/bench/common.sh
source scripts/bench/common.sh
bench_start_postfix smtp-sidecar-bench-clients
start_sidecar "$bin" clients
daemon=$started_pid
request "$work/request.json" "$SUBMISSION_PORT" starttls yes

way() { # name: the command of that way, in $cmd
    case $1 in
    sidecar-bench)
        cmd=("$bench" --label "$1" --socket "$work/clients.sock" --request "$work/request.json"
            --clients "$concurrency" --size 2048 --messages "$messages" --warmup 5 --dedup-window default) ;;
    python-async | python-sync)
        cmd=(python3 clients/python/bench/load.py --mode "${1#python-}" --label "$1" --socket "$work/clients.sock"
            --request "$work/request.json" --clients "$concurrency" --size 2048 --messages "$messages" --warmup 5) ;;
    node)
        cmd=(node clients/node/bench/load.mjs --label "$1" --socket "$work/clients.sock" --request "$work/request.json"
            --clients "$concurrency" --size 2048 --messages "$messages" --warmup 5) ;;
    raw-1-connection)
        cmd=(node clients/node/bench/load.mjs --label "$1" --raw-connections 1 --socket "$work/clients.sock"
            --request "$work/request.json" --clients "$concurrency" --size 2048 --messages "$messages" --warmup 5) ;;
    esac
}

ticks() { # CPU clock ticks (user + system) the daemon used so far
    awk '{print $14 + $15}' "/proc/$daemon/stat"
}
hz=$(getconf CLK_TCK)
sends=$((messages + 5 * concurrency)) # with the warm-up

ways=(sidecar-bench python-async python-sync node raw-1-connection)
echo "== $concurrency concurrent sends, $messages messages per way and round, $rounds rounds, duplicate suppression on"
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < ${#ways[@]}; i++)); do
        w=${ways[$(((i + r) % ${#ways[@]}))]}
        before=$(ticks)
        way "$w"
        line=$(/usr/bin/time -f '%U %S' -o "$work/time" "${cmd[@]}")
        after=$(ticks)
        # the driver's own CPU (client library, JSON, event loop) and the daemon's, per send
        line="$line  $(python3 -c "import sys; u, s = map(float, open(sys.argv[1]).read().split()[-2:]); print(f'driver cpu/msg {1000 * (u + s) / $sends:.3f} ms  daemon cpu/msg {1000 * ($after - $before) / $hz / $sends:.3f} ms')" "$work/time")"
        echo "round $((r + 1))  $line"
        echo "$line" >>"$work/lines"
    done
done

echo
python3 - "$work/lines" "${ways[@]}" <<'PY'
import re, statistics, sys
lines, ways = open(sys.argv[1]).read().splitlines(), sys.argv[2:]
num = lambda key, l: float(re.search(key + r"\s+([0-9.]+)", l).group(1))
rows = {}
for l in lines:
    name = l.split()[0]
    rows.setdefault(name, []).append(
        dict(rate=float(re.search(r"([0-9.]+) msg/s", l).group(1)), p50=num("p50", l), p99=num("p99", l),
             drv=num("driver cpu/msg", l), dmn=num("daemon cpu/msg", l),
             failures=int(re.search(r"failures (\d+)", l).group(1))))
keys = ("rate", "p50", "p99", "drv", "dmn")
med = {w: {k: statistics.median(r[k] for r in rows[w]) for k in keys} for w in ways}
base = med["sidecar-bench"]["p50"]
# paired: each round's p50 against sidecar-bench's of the same round (minutes apart at
# most), then the median over the rounds: steadier than the ratio of the medians when
# the machine's load drifts during the run
paired = {w: statistics.median(100 * (r["p50"] / b["p50"] - 1) for r, b in zip(rows[w], rows["sidecar-bench"]))
          for w in ways}
print(f"{'way (median of ' + str(len(rows[ways[0]])) + ' rounds)':<28} {'p50 ms':>8} {'p99 ms':>8} {'msg/s':>8} {'p50 vs bench':>13}"
      f" {'paired':>8} {'driver cpu/msg':>15} {'daemon cpu/msg':>15} {'failures':>9}")
for w in ways:
    m = med[w]
    rel = "" if w == "sidecar-bench" else f"{100 * (m['p50'] - base) / base:+.1f} %"
    pr = "" if w == "sidecar-bench" else f"{paired[w]:+.1f} %"
    print(f"{w:<28} {m['p50']:8.2f} {m['p99']:8.2f} {m['rate']:8.1f} {rel:>13} {pr:>8} {m['drv']:12.3f} ms {m['dmn']:12.3f} ms"
          f" {sum(r['failures'] for r in rows[w]):9d}")
PY
