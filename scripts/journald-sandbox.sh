#!/usr/bin/env bash
# journald-sandbox.sh: run a command against a private, real systemd-journald and dump
# what it logged.
#
#   scripts/journald-sandbox.sh OUTPUT_JSON_FILE -- CMD [ARGS...]
#
# Runs CMD inside a private mount namespace in which a fresh systemd-journald listens on
# the standard paths (/run/systemd/journal/socket, the path libsystemd hard-codes), with
# volatile storage on a tmpfs and rate limiting off. When CMD has exited, the journal is
# synced and written to OUTPUT_JSON_FILE as `journalctl -o json --all` (one JSON object a
# line, long fields included), journald is stopped and the mounts vanish with the
# namespace. The host's journal and /run are never touched (beyond creating the empty
# mount-point directories if they do not exist).
#
# Exit status: CMD's status; 2 for a usage error; 125 when the sandbox itself failed (not
# root, journald did not come up, the journal could not be written out). CMD's stdin,
# stdout and stderr are the script's. Safe to run concurrently: each call has its own
# namespace, tmpfs mounts and journald.
#
# Needs root, unshare(1) (util-linux) and systemd-journald. No PID 1 systemd needed.
#
# Environment:
#   JOURNALD_SANDBOX_TIMEOUT   seconds to wait for journald's socket (default 10)
#   JOURNALD_BINARY            journald to run (default: systemd-journald in /lib/systemd
#                              or /usr/lib/systemd)
set -euo pipefail

readonly SANDBOX_FAILURE=125

die() {
    echo "journald-sandbox: $*" >&2
    exit "$SANDBOX_FAILURE"
}

usage() {
    echo "usage: $0 OUTPUT_JSON_FILE -- CMD [ARGS...]" >&2
    exit 2
}

# --- Outer half: check the arguments, then re-enter this script in a new mount namespace.
if [[ "${1:-}" != "--inside-namespace" ]]; then
    [[ $# -ge 3 && "$2" == "--" ]] || usage
    [[ "$(id -u)" -eq 0 ]] || die "must run as root (needs a mount namespace and tmpfs mounts)"
    command -v unshare >/dev/null || die "unshare(1) not found (util-linux)"
    output=$1
    [[ -n "$output" ]] || usage
    # Resolve the output path now; it must live outside the directories we mount over.
    output=$(realpath -m -- "$output")
    case "$output" in
        /run/systemd/journal/* | /run/log/journal/* | /etc/systemd/journald.conf.d/*)
            die "OUTPUT_JSON_FILE must not be inside a directory the sandbox mounts over: $output" ;;
    esac
    shift 2
    # Mount points must exist to mount on; creating empty directories is harmless and
    # mkdir -p is safe when several sandboxes start at once.
    mkdir -p /run/systemd/journal /run/log/journal /etc/systemd/journald.conf.d ||
        die "cannot create mount points"
    # unshare without --fork execs in place: the script keeps its PID, so signals sent to
    # the caller's child reach the inner half and its trap.
    exec unshare --mount --propagation private -- "$0" --inside-namespace "$output" "$@"
fi

# --- Inner half: we are alone in our mount namespace.
shift
output=$1
shift

journald=${JOURNALD_BINARY:-}
if [[ -z "$journald" ]]; then
    for candidate in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
        [[ -x "$candidate" ]] && { journald=$candidate; break; }
    done
fi
timeout_seconds=${JOURNALD_SANDBOX_TIMEOUT:-10}
[[ -n "$journald" && -x "$journald" ]] || die "systemd-journald not found (${journald:-/lib/systemd or /usr/lib/systemd})"
[[ "$timeout_seconds" =~ ^[0-9]+$ ]] || die "JOURNALD_SANDBOX_TIMEOUT must be whole seconds"

workdir=$(mktemp -d -t journald-sandbox.XXXXXX)
journald_pid=""
cmd_pid=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [[ -n "$cmd_pid" ]] && kill -0 "$cmd_pid" 2>/dev/null; then
        kill -TERM "$cmd_pid" 2>/dev/null || true
        wait "$cmd_pid" 2>/dev/null || true
    fi
    if [[ -n "$journald_pid" ]] && kill -0 "$journald_pid" 2>/dev/null; then
        kill -TERM "$journald_pid" 2>/dev/null || true
        # journald flushes and exits promptly on SIGTERM; do not hang if it does not.
        for _ in $(seq 50); do
            kill -0 "$journald_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$journald_pid" 2>/dev/null || true
        wait "$journald_pid" 2>/dev/null || true
    fi
    rm -rf -- "$workdir"
    # The tmpfs mounts belong to this namespace alone and disappear with it.
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mount -t tmpfs -o mode=0755 journald-sandbox /run/systemd/journal || die "cannot mount /run/systemd/journal"
mount -t tmpfs -o mode=2755 journald-sandbox /run/log/journal || die "cannot mount /run/log/journal"
mount -t tmpfs -o mode=0755 journald-sandbox /etc/systemd/journald.conf.d ||
    die "cannot mount /etc/systemd/journald.conf.d"

# Drop-ins apply in file name order across all drop-in directories: sort last to win.
cat >/etc/systemd/journald.conf.d/zzzz-journald-sandbox.conf <<'EOF'
[Journal]
Storage=volatile
RateLimitBurst=0
RateLimitIntervalSec=0
MaxLevelStore=debug
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
EOF

# journald must not talk to a service manager the caller might be running under.
env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
    "$journald" </dev/null >"$workdir/journald.log" 2>&1 &
journald_pid=$!

deadline=$((SECONDS + timeout_seconds))
until [[ -S /run/systemd/journal/socket ]]; do
    if ! kill -0 "$journald_pid" 2>/dev/null; then
        cat "$workdir/journald.log" >&2 || true
        journald_pid=""
        die "journald exited before its socket appeared"
    fi
    if ((SECONDS >= deadline)); then
        cat "$workdir/journald.log" >&2 || true
        die "journald's socket did not appear within ${timeout_seconds}s"
    fi
    sleep 0.05
done

# Run CMD in the background so that a signal to this script is handled at once (a
# foreground child would defer the trap until it exits). The explicit <&0 keeps our stdin:
# a background job would otherwise get /dev/null.
set +e
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
cmd_status=$?
cmd_pid=""
set -e

journalctl --sync >/dev/null 2>"$workdir/sync.log" || {
    cat "$workdir/sync.log" >&2
    die "journalctl --sync failed"
}
# -D limits reading to the sandbox's journal even if the host has a persistent one.
journalctl -D /run/log/journal -o json --all --no-pager >"$workdir/journal.json" 2>"$workdir/read.log" || {
    cat "$workdir/read.log" >&2
    die "journalctl could not read the sandbox journal"
}
mv -f -- "$workdir/journal.json" "$output" 2>/dev/null || cp -f -- "$workdir/journal.json" "$output" ||
    die "cannot write $output"

exit "$cmd_status"
