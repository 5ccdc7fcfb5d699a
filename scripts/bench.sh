#!/usr/bin/env bash
# The pool benchmark, from a fresh clone on a Debian machine with Swift (as root). Sets up
# everything it needs and prints one line per scenario:
#
#   servers   a real Postfix with STARTTLS/implicit TLS + SASL AUTH delivering to discard(8),
#             and a fast sink (Postfix's smtp-sink behind stunnel4 for implicit TLS) so the
#             sidecar's own cost is visible;
#   sidecar   release build, pooled (4 connections per pool) and unpooled ("cold");
#   driver    sidecar-bench: N concurrent clients on the Unix socket, messages/s, latency
#             p50/p90/p99, the daemon's CPU time per message and peak RSS;
#   reference a persistent Python smtplib connection to the same Postfix (latency), and
#             Postfix's smtp-source against the plain port (the server's own ceiling);
#   dedup     the scenarios send with duplicate suppression off; two run again with the
#             daemon's default (a state-database record per send);
#   logging   the scenarios run at log level warning (nothing logged for a successful
#             send); two run again at the default, info, writing one entry per send to
#             a private systemd-journald (scripts/journald-sandbox.sh);
#   rtt       warm sequential sends at 0 and 20 ms round-trip time through a delay proxy
#             (scripts/bench/delay-proxy.py; no netem here) with PIPELINING + CHUNKING,
#             PIPELINING only and neither, against persistent aiosmtplib (PyPI) and smtplib
#             connections through the same proxy, and a cold send (new connection) at
#             each RTT.
#
#   default   first, the send a caller gets by default (duplicate suppression on: a
#             state-database record per send), sequential and 16 clients; with
#             BENCH_BASELINE_BIN, the same rows from that binary (another build, e.g. an
#             earlier commit) in the same run, alternating, so the two are compared on
#             the same machine minutes apart (its fleet rows too, on tables of its own);
#   fleet     the default rows again from a sidecar whose duplicate records and rate
#             counters live in a PostgreSQL 15 (state_backend = postgres; a private server
#             on loopback, scripts/postgres-harness.sh), in the same rounds as SQLite's;
#   big       an 8 MB text and a 7 MB attachment (9.5 MB as base64, under Postfix's
#             default 10 MB limit) with another client pinging every 5 ms meanwhile: how long
#             other clients wait while a big message goes out (also for the baseline).
#
# Environment: BENCH_ONLY=default stops after the default-send and fleet rows;
# BENCH_MESSAGES (default 2000: fewer leave the CPU figure, counted in clock
# ticks, a few per cent coarse), BENCH_QUICK=1 for a short run, BENCH_BASELINE_BIN (an
# smtp-sidecar binary to compare the default-send and big-message rows with).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
messages=${BENCH_MESSAGES:-2000}
[ "${BENCH_QUICK:-0}" = 1 ] && messages=100

scripts/install-deps.sh
scripts/postfix-harness.sh install
python3 -c 'import aiosmtplib' 2>/dev/null \
    || PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install -q aiosmtplib
if ! dpkg -s stunnel4 >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stunnel4 >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stunnel4 >/dev/null; }
fi
echo "== building (release)" >&2
swift build -c release --product smtp-sidecar >&2
swift build -c release --product sidecar-bench >&2
bin="$root/.build/release/smtp-sidecar"
bench="$root/.build/release/sidecar-bench"

# shellcheck source=scripts/bench/common.sh
source scripts/bench/common.sh
bench_start_postfix smtp-sidecar-bench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sink_port=$(free_port)
sink_tls_port=$(free_port)
smtp-sink -u postfix -c 127.0.0.1:"$sink_port" 256 >/dev/null 2>&1 &
pids+=($!)
cat >"$work/stunnel.conf" <<CONF
foreground = yes
pid =
[sink]
accept = 127.0.0.1:$sink_tls_port
connect = 127.0.0.1:$sink_port
cert = $work/postfix/tls/server.pem
key = $work/postfix/tls/server.key
sslVersionMin = TLSv1.2
CONF
stunnel4 "$work/stunnel.conf" >/dev/null 2>&1 &
pids+=($!)
sleep 1

start_sidecar "$bin" warm --set pool_max_connections_per_key=4
warm=$started_pid
start_sidecar "$bin" cold --set pool_enabled=false
cold=$started_pid
# The fleet's shared state: a real PostgreSQL on loopback, stock settings.
scripts/postgres-harness.sh start "$work/pg" --owner-pid $$ --destroy-with-owner >/dev/null
# shellcheck source=/dev/null
source "$work/pg/postgres.env"
start_sidecar "$bin" fleet --set pool_max_connections_per_key=4 --set state_backend=postgres \
    --set postgres_url="$PG_URL" --set postgres_password_file="$PG_PASSWORD_FILE"
fleet=$started_pid
for _ in $(seq 1 100); do
    "$bin" stats --socket "$work/fleet.sock" 2>/dev/null | grep -q '"available" *: *true' && break
    sleep 0.1
done
baseline=${BENCH_BASELINE_BIN:-}
if [ -n "$baseline" ]; then
    start_sidecar "$baseline" before --set pool_max_connections_per_key=4
    before=$started_pid
    # The baseline's fleet rows: the same database, tables of its own.
    start_sidecar "$baseline" beforefleet --set pool_max_connections_per_key=4 --set state_backend=postgres \
        --set postgres_url="$PG_URL" --set postgres_password_file="$PG_PASSWORD_FILE" \
        --set postgres_table_prefix=baseline_
    beforefleet=$started_pid
    for _ in $(seq 1 100); do
        "$baseline" stats --socket "$work/beforefleet.sock" 2>/dev/null | grep -q '"available" *: *true' && break
        sleep 0.1
    done
fi

request "$work/postfix-starttls.json" "$SUBMISSION_PORT" starttls yes
request "$work/postfix-tls.json" "$SMTPS_PORT" tls yes
request "$work/sink-tls.json" "$sink_tls_port" tls no

run() { # label, socket name, daemon pid, request, clients, size, messages, [bench options]
    "$bench" --label "$1" --socket "$work/$2.sock" --daemon-pid "$3" --request "$work/$4" \
        --clients "$5" --size "$6" --messages "$7" --warmup 5 "${@:8}"
}

smtplib_reference() { # port, messages, label
    python3 - "$1" "$SMTP_USER" "$SMTP_PASSWORD" "$SMTP_CA_FILE" "$2" "$3" <<'PY'
import smtplib, ssl, sys, time
port, user, password, ca, count, label = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
context = ssl.create_default_context(cafile=ca)
body = "Subject: benchmark\r\n\r\n" + "The quick brown fox jumps over the lazy dog.\r\n" * 45
server = smtplib.SMTP("localhost", int(port))
server.starttls(context=context)
server.login(user, password)
latencies = []
for i in range(count + 5):
    started = time.perf_counter()
    server.sendmail(user, ["sink@example.test"], body)
    if i >= 5:
        latencies.append((time.perf_counter() - started) * 1000)
server.quit()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies) + 0.999) - 1)]
print(f"{label:<34} {len(latencies):6d} msgs {1000 / (sum(latencies) / len(latencies)):8.1f} msg/s  p50 {p(50):7.2f} ms  p90 {p(90):7.2f} ms  p99 {p(99):7.2f} ms")
PY
}

echo
echo "== the default send: duplicate suppression on, as a request that does not mention it gets (one hour)"
# Every send writes a dedup record to the state database before it goes out (synced to
# disk: a power cut must not let a retry send twice) and its outcome after.
default_rows() { # suffix, socket name, pid
    run "default: warm sequential$1"      "$2" "$3" postfix-starttls.json 1  2048 "$messages" --dedup-window default
    run "default: warm 16 clients$1"      "$2" "$3" postfix-starttls.json 16 2048 "$((messages * 2))" --dedup-window default
}
big_row() { # suffix, socket name, pid
    run "8 MB text, others' pings$1"       "$2" "$3" postfix-starttls.json 1 8000000 3 --ping-probe
    run "7 MB attachment, others' pings$1" "$2" "$3" postfix-starttls.json 1 2048 3 --ping-probe \
        --attachment-bytes 7000000
}
for round in 1 2; do
    default_rows "" warm "$warm"
    default_rows " (postgres)" fleet "$fleet"
    if [ -n "$baseline" ]; then
        default_rows " (baseline)" before "$before"
        default_rows " (postgres, baseline)" beforefleet "$beforefleet"
    fi
done
if [ "${BENCH_ONLY:-}" = default ]; then exit 0; fi
big_row "" warm "$warm"
if [ -n "$baseline" ]; then big_row " (baseline)" before "$before"; fi

echo
echo "== reference: a persistent Python smtplib connection (STARTTLS + AUTH) to the same Postfix"
smtplib_reference "$SUBMISSION_PORT" "$messages" "python smtplib persistent"
# Postfix's speed drifts within a run (its queue files go to disk), so the ceiling is
# measured here and again right after the concurrent sidecar scenarios.
ceiling() { # label
    local start end
    start=$(date +%s.%N)
    smtp-source -s 4 -m "$((messages * 4))" -l 2048 -f sink@example.test -t sink@example.test 127.0.0.1:"$PLAIN_PORT"
    end=$(date +%s.%N)
    python3 -c "print(f\"{'$1':<34} {$messages*4:6d} msgs {($messages*4)/($end-$start):8.1f} msg/s\")"
}
echo "== reference: Postfix's own ceiling (smtp-source, 4 sessions, plain port, 2 KB)"
ceiling "smtp-source ceiling (4 sessions)"

echo
echo "== through the sidecar, duplicate suppression off (2 KB unless noted)"
run "cold: new connection per send"     cold "$cold" postfix-starttls.json 1  2048   "$((messages / 4))"
run "warm sequential, STARTTLS"         warm "$warm" postfix-starttls.json 1  2048   "$messages"
run "warm sequential, implicit TLS"     warm "$warm" postfix-tls.json      1  2048   "$messages"
# This VM's speed drifts within minutes: the latency reference again, right after.
smtplib_reference "$SUBMISSION_PORT" "$messages" "python smtplib persistent, again"
run "warm 4 clients / 4 connections"    warm "$warm" postfix-starttls.json 4  2048   "$((messages * 2))"
run "warm 16 clients / 4 connections"   warm "$warm" postfix-starttls.json 16 2048   "$((messages * 2))"
run "warm 64 clients / 4 connections"   warm "$warm" postfix-starttls.json 64 2048   "$((messages * 2))"
ceiling "smtp-source ceiling, again"
run "warm 100 KB"                       warm "$warm" postfix-starttls.json 4  102400 "$((messages / 2))"
run "warm 5 MB"                         warm "$warm" postfix-starttls.json 2  5000000 20
run "sink: warm sequential (TLS)"       warm "$warm" sink-tls.json         1  2048   "$messages"
run "sink: warm 16 clients (TLS)"       warm "$warm" sink-tls.json         16 2048   "$((messages * 4))"

# The rows since the default ones sent dedup_window_seconds 0: the sidecar's own cost
# without the state database.

echo
echo "== the default log level: one journald entry per send (info; a private journald, scripts/journald-sandbox.sh)"
# The scenarios above run at log level warning, which writes nothing for a successful
# send; the daemon's default (info) writes one structured journald entry per send.
cat >"$work/journal-scenario.sh" <<'INNER'
set -euo pipefail
bin=$1 bench=$2 work=$3 request=$4 messages=$5
# shellcheck source=scripts/bench/common.sh
source scripts/bench/common.sh
start_sidecar "$bin" journal --log-level info --log-target journald --set pool_max_connections_per_key=4
pid=$started_pid
"$bench" --label "journald (info): warm sequential" --socket "$work/journal.sock" --daemon-pid "$pid" \
    --request "$request" --clients 1 --size 2048 --messages "$messages" --warmup 5
"$bench" --label "journald (info): warm 16 clients" --socket "$work/journal.sock" --daemon-pid "$pid" \
    --request "$request" --clients 16 --size 2048 --messages "$((messages * 2))" --warmup 5
kill "$pid"
wait "$pid" 2>/dev/null || true
INNER
scripts/journald-sandbox.sh "$work/journal.json" -- \
    bash "$work/journal-scenario.sh" "$bin" "$bench" "$work" "$work/postfix-starttls.json" "$messages"
echo "journald entries \"Sent\": $(grep -c '"MESSAGE":"Sent"' "$work/journal.json" || true)"

echo
echo "== round trips: warm sequential sends at 0 and 20 ms RTT (delay proxy)"
proxy_port=
start_proxy() { # rtt in ms; sets proxy_port (a delay proxy in front of the submission port)
    python3 scripts/bench/delay-proxy.py --listen 127.0.0.1:0 --target 127.0.0.1:"$SUBMISSION_PORT" \
        --rtt-ms "$1" >"$work/proxy-$1.port" 2>"$work/proxy-$1.log" &
    pids+=($!)
    for _ in $(seq 1 100); do [ -s "$work/proxy-$1.port" ] && break; sleep 0.05; done
    proxy_port=$(head -n 1 "$work/proxy-$1.port")
    [ -n "$proxy_port" ] || { cat "$work/proxy-$1.log" >&2; echo "delay proxy did not start" >&2; exit 1; }
}
rtt_messages=$((messages / 4))
for rtt in 0 20; do
    start_proxy "$rtt"
    request "$work/rtt$rtt-both.json"    "$proxy_port" starttls yes "{\"id\": \"bench-rtt$rtt-both\"}"
    request "$work/rtt$rtt-pipe.json"    "$proxy_port" starttls yes "{\"id\": \"bench-rtt$rtt-pipe\", \"chunking\": false}"
    request "$work/rtt$rtt-neither.json" "$proxy_port" starttls yes \
        "{\"id\": \"bench-rtt$rtt-neither\", \"pipelining\": false, \"chunking\": false}"
    run "rtt $rtt ms: pipelining + chunking" warm "$warm" "rtt$rtt-both.json"    1 2048 "$rtt_messages"
    run "rtt $rtt ms: pipelining only"       warm "$warm" "rtt$rtt-pipe.json"    1 2048 "$rtt_messages"
    run "rtt $rtt ms: neither (forced off)"  warm "$warm" "rtt$rtt-neither.json" 1 2048 "$rtt_messages"
    python3 scripts/bench/aiosmtplib-reference.py localhost "$proxy_port" "$SMTP_USER" "$SMTP_PASSWORD" \
        "$SMTP_CA_FILE" "$rtt_messages" "rtt $rtt ms: aiosmtplib persistent"
    smtplib_reference "$proxy_port" "$rtt_messages" "rtt $rtt ms: smtplib persistent"
    # What the pool saves where it matters: a new connection costs several round trips.
    run "rtt $rtt ms: cold, new connection per send" cold "$cold" "rtt$rtt-both.json" 1 2048 20
done
