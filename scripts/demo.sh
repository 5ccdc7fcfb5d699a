#!/usr/bin/env bash
# The main job, end to end on a fresh Debian machine with Swift (as root):
#   1. installs what it needs and builds smtp-sidecar;
#   2. starts a private journald (scripts/journald-sandbox.sh; no PID 1 systemd needed)
#      and, inside it, the sidecar under systemd-socket-activate, exactly as the
#      packaged smtp-sidecar.socket would;
#   3. talks to it over the Unix socket: hello and 200 pipelined pings, then stats;
#   4. stops it with SIGTERM and shows its journal entries with their structured fields.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
echo "== building"
swift build --product smtp-sidecar 2>&1 | tail -1
bin="$root/.build/debug/smtp-sidecar"

work=$(mktemp -d /tmp/smtp-sidecar-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
journal_json="$work/journal.json"

cat >"$work/inside.sh" <<INSIDE
set -euo pipefail
socket="$work/smtp-sidecar.sock"
echo "== starting smtp-sidecar under systemd-socket-activate on \$socket"
systemd-socket-activate -l "\$socket" --fdname=smtp-sidecar \\
    "$bin" serve --log-target journald --log-level debug 2>"$work/stderr.log" &
daemon=\$!
for _ in \$(seq 1 100); do [ -S "\$socket" ] && break; sleep 0.05; done

echo "== smtp-sidecar ping (the first connection starts the daemon)"
"$bin" ping --socket "\$socket" --count 200
echo "== smtp-sidecar stats"
"$bin" stats --socket "\$socket"

echo "== SIGTERM: the daemon drains and exits"
kill -TERM \$daemon
wait \$daemon && echo "exit status 0"

journalctl --sync
echo
echo "== journalctl -D /run/log/journal SYSLOG_IDENTIFIER=smtp-sidecar -o short-iso"
journalctl -D /run/log/journal SYSLOG_IDENTIFIER=smtp-sidecar -o short-iso --no-pager
echo
echo "== one entry with all its fields: journalctl ... MESSAGE='Client connected' -o verbose -n 1"
journalctl -D /run/log/journal SYSLOG_IDENTIFIER=smtp-sidecar MESSAGE="Client connected" -o verbose -n 1 --no-pager
INSIDE

scripts/journald-sandbox.sh "$journal_json" -- bash "$work/inside.sh"
