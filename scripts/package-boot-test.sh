#!/usr/bin/env bash
# package-boot-test.sh: install the .deb in a Debian 12 root booted by a real systemd
# (PID 1, under systemd-nspawn) and check what the package promises: the socket, socket
# activation, a send to a Postfix on the host's loopback, the journal, the watchdog, a
# draining stop, a restart after kill -9 with a client waiting in the backlog, and removal.
#
#   scripts/package-boot-test.sh [--deb PATH] [--keep]
#
# Without --deb it builds the release binary with --static-swift-stdlib and packages it
# with packaging/build-deb.sh. The Debian root (debootstrap --variant=minbase plus systemd)
# is built once into $PACKAGE_BOOT_CACHE_DIR (default /var/cache/smtp-sidecar-package-boot)
# and copied for each run, so every run installs into a pristine system. --keep leaves the
# run's directory (root copy, Postfix, logs) for a look after. Prints one PASS/FAIL line
# per check, the wall time of each phase, and exits non-zero on any failure. Needs root.
# See scripts/package-boot-test.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

deb=""
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --deb) deb=$(realpath "$2"); shift 2 ;;
        --keep) keep=1; shift ;;
        *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
[[ $(id -u) = 0 ]] || { echo "package-boot-test: must run as root" >&2; exit 1; }

cache=${PACKAGE_BOOT_CACHE_DIR:-/var/cache/smtp-sidecar-package-boot}
suite=bookworm
# What the root is built from; a root built from another recipe is built again. The
# packages the .deb depends on beyond a minimal systemd system are downloaded into the
# root's apt cache, not installed: the test's `apt-get install` must pull them in through
# the package's Depends (as on a real machine) and can do so without a network.
include=systemd,systemd-sysv,dbus
predownload="libsqlite3-0 ca-certificates"
recipe="debootstrap --variant=minbase --include=$include $suite; apt-get --download-only $predownload"
unit=smtp-sidecar.service
socket_in=/run/smtp-sidecar/smtp-sidecar.sock
client="$repo/scripts/package-boot-client.py"

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check NAME COMMAND...: PASS when the command succeeds
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
say() { echo "package-boot-test: $*" >&2; }
timings=()
phase_start() { phase_name=$1; phase_t0=$(date +%s.%N); say "phase: $1"; }
phase_end() {
    local seconds
    seconds=$(awk -v a="$phase_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    timings+=("$phase_name ${seconds}s")
    say "phase $phase_name took ${seconds}s"
}

# ------------------------------------------------------------------ deps ----
phase_start deps
need=(debootstrap systemd-container python3 util-linux binutils)
missing=()
for package in "${need[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
scripts/postfix-harness.sh install
phase_end

# ----------------------------------------------------------------- build ----
work=$(mktemp -d /var/tmp/package-boot.XXXXXX)
chmod 755 "$work" # the harness Postfix runs as postfix and must enter it
nspawn_pid=""
leader=""
postfix_dir="$work/postfix"

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$nspawn_pid" ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM asks systemd-nspawn for an orderly poweroff of the container.
        kill -TERM "$nspawn_pid"
        for _ in $(seq 1 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$nspawn_pid" 2>/dev/null; then
            say "container did not power off in 30 s: killing systemd-nspawn ($nspawn_pid)"
            kill -KILL "$nspawn_pid"
            sleep 1
        fi
    fi
    # A container whose systemd-nspawn is gone: SIGKILL to its PID 1 ends its namespace.
    # (Only while that pid is still a systemd in another PID namespace, not a reused pid.)
    if [[ -n "$leader" && "$(cat /proc/"$leader"/comm 2>/dev/null)" = systemd &&
        "$(readlink /proc/"$leader"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]]; then
        kill -KILL "$leader"
        sleep 1
    fi
    if [[ -f "$postfix_dir/.postfix-harness" ]]; then
        scripts/postfix-harness.sh stop "$postfix_dir" >/dev/null 2>&1
    fi
    # systemd-nspawn's mounts live in its own mount namespace; never delete through one
    # that is somehow still visible here.
    if grep -q " $work/" /proc/self/mounts; then
        say "mounts left under $work; not deleting it"
    elif [[ $keep = 1 ]]; then
        say "kept $work"
    else
        rm -rf --one-file-system -- "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$deb" ]]; then
    phase_start "static release build"
    swift build -c release --product smtp-sidecar --static-swift-stdlib
    binary=.build/release/smtp-sidecar
    deb=$(packaging/build-deb.sh --binary "$binary" --output "$work/deb")
    phase_end
fi
say "package: $deb"

# ------------------------------------------------------------- the root ----
# Built once per machine: debootstrap into a temporary directory, renamed into place when
# complete, under a lock so that two runs do not build it at once.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ "$(head -n1 "$cache/root/.package-boot-root" 2>/dev/null)" != "$recipe" ]]; then
    phase_start debootstrap
    rm -rf --one-file-system -- "$cache/root" "$cache/root.tmp"
    # The same Debian mirror this machine's apt uses.
    mirror=${PACKAGE_BOOT_MIRROR:-$(apt-get indextargets --format '$(SITE)' "Codename: $suite" | head -n1)}
    [[ -n "$mirror" ]] || { say "no apt source for $suite: set PACKAGE_BOOT_MIRROR"; exit 1; }
    debootstrap --variant=minbase --include="$include" \
        "$suite" "$cache/root.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
        { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
    systemd-nspawn --quiet -D "$cache/root.tmp" --register=no --keep-unit -- \
        sh -c "apt-get update -q && apt-get install -y -q --download-only $predownload" \
        >>"$cache/debootstrap.log" 2>&1 </dev/null ||
        { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
    # A container needs no login prompt on its console.
    ln -sf /dev/null "$cache/root.tmp/etc/systemd/system/console-getty.service"
    echo "package-boot-test" >"$cache/root.tmp/etc/hostname"
    { echo "$recipe"; date -u +%FT%TZ; } >"$cache/root.tmp/.package-boot-root"
    mv "$cache/root.tmp" "$cache/root"
    phase_end
else
    say "root: $cache/root (built $(sed -n 2p "$cache/root/.package-boot-root"))"
fi
phase_start "copy root"
cp -a "$cache/root" "$work/root"
flock -u 9
cp "$deb" "$work/root/root/smtp-sidecar.deb"
phase_end

# ------------------------------------------------------------------ boot ----
phase_start "postfix"
scripts/postfix-harness.sh start "$postfix_dir" >/dev/null
# shellcheck disable=SC1091
. "$postfix_dir/ports.env"
# shellcheck disable=SC1091
. "$postfix_dir/users.env"
phase_end

phase_start boot
machine="sidecar-boot-$$"
# The host network is shared (no --private-network) so that the container reaches the
# harness Postfix on 127.0.0.1. --register=no and --keep-unit: no systemd-machined nor a
# host systemd need run here (without --keep-unit systemd-nspawn asks the host's bus for a
# scope and fails when there is none).
# setsid: its own process group, out of reach of a signal to this script's group.
setsid systemd-nspawn --quiet -D "$work/root" -M "$machine" --register=no --keep-unit --console=read-only \
    -b >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!

# The container's PID 1 is the child of systemd-nspawn that lives in another PID namespace.
for _ in $(seq 1 100); do
    for child in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
        # Before it execs systemd, the container's first process still reads as
        # systemd-nspawn, and so does systemd-nspawn's short-lived helper child.
        if [[ $(cat /proc/"$child"/comm 2>/dev/null) = systemd &&
            $(readlink /proc/"$child"/ns/pid) != $(readlink /proc/self/ns/pid) ]]; then
            leader=$child
        fi
    done
    [[ -n "$leader" ]] && break
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$leader" ]]; then
    fail "container boots (no leader process; console below)"
    cat "$work/console.log" >&2
    exit 1
fi
inside() { nsenter -t "$leader" -a -- "$@"; }
# Until PID 1 listens on its private socket, systemctl cannot reach it: try again.
state=""
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
    state=$(timeout 120 nsenter -t "$leader" -a -- systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in running | degraded | maintenance | stopping) break ;; esac
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 0.5
done
pid1=$(inside cat /proc/1/comm)
if [[ "$state" = running && "$pid1" = systemd ]]; then
    pass "container boots: PID 1 is systemd, system state $state"
else
    fail "container boots: PID 1 is '$pid1', system state '$state'"
    inside systemctl --failed --no-pager >&2 || true
fi
phase_end

# ---------------------------------------------------------------- checks ----
phase_start checks
# From here on a failing command is a FAIL line, not the end of the run.
set +e
socket="/proc/$leader/root$socket_in" # the container's socket, reached from the host
show() { inside systemctl show -P "$2" "$1"; }
journal_sync() { inside journalctl --sync; }

# Install. apt takes the dependencies that the root lacks from its cache (see recipe).
if inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/smtp-sidecar.deb \
    >"$work/install.log" 2>&1; then
    pass "apt-get install ./smtp-sidecar.deb"
else
    fail "apt-get install ./smtp-sidecar.deb"; cat "$work/install.log" >&2; exit 1
fi

# Every shared library the binary needs resolves in the root and belongs to a package the
# .deb depends on (so that apt pulls it in on a system that lacks it).
depends=$(inside dpkg-query -W -f='${Depends}' smtp-sidecar | tr ',' '\n' | sed 's/(.*)//; s/ //g')
unresolved=$(inside ldd /usr/bin/smtp-sidecar | grep 'not found' || true)
uncovered=""
for soname in $(readelf -d "$work/root/usr/bin/smtp-sidecar" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    owner=$(inside dpkg -S "*/$soname" 2>/dev/null | awk -F: 'NR == 1 { print $1 }' || true)
    grep -qxF "${owner:-?}" <<<"$depends" || uncovered+=" $soname(${owner:-no package})"
done
check "the binary's shared libraries resolve and are in Depends ($(echo $depends | tr ' ' ,))" \
    test -z "$unresolved$uncovered"
[[ -z "$unresolved$uncovered" ]] || echo "unresolved: $unresolved; not in Depends:$uncovered" >&2

check "smtp-sidecar.socket is enabled and active" \
    test "$(inside systemctl is-enabled smtp-sidecar.socket)/$(show smtp-sidecar.socket ActiveState)" = enabled/active
owner=$(inside stat -c '%U:%G %a %F' "$socket_in" 2>&1 || true)
check "socket file is root:smtp-sidecar mode 0660 ($owner)" test "$owner" = "root:smtp-sidecar 660 socket"
check "the service is inactive before the first connection ($(show $unit ActiveState))" \
    test "$(show $unit ActiveState)" = inactive

# Loopback is forbidden by the default egress guard: allow the harness Postfix's address.
# Done before the first connection starts the daemon, which reads it at start.
inside sed -i 's|^egress_allowed_cidrs =.*|egress_allowed_cidrs = 127.0.0.1/32|' \
    /etc/smtp-sidecar/smtp-sidecar.conf

hello=$(python3 "$client" --timeout 30 "$socket" hello || true)
check "the first connection is answered (hello: ${hello:0:120})" \
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r.get("ok") else 1)' "${hello:-null}"
check "the first connection started the service ($(show $unit ActiveState)/$(show $unit SubState))" \
    test "$(show $unit ActiveState)" = active
started_pid=$(show $unit MainPID)
started_at=$(date +%s)

# A send through the daemon in the container to the harness Postfix on the host.
subject="package-boot-test $$ $(date +%s%N)"
python3 - "$work/send.json" <<PY
import json, sys
json.dump({
    "workspace_id": "ws-boot",
    "credential": {"id": "cred-boot", "host": "$SMTP_HOST", "port": $SUBMISSION_PORT,
                   "security": "starttls", "username": "$SMTP_USER", "password": "$SMTP_PASSWORD",
                   "tls": {"ca_pem": open("$SMTP_CA_FILE").read(), "server_name": "$SMTP_TLS_NAME"}},
    "from": "$SMTP_USER", "to": "rcpt@example.test",
    "subject": "$subject", "text": "sent by the packaged daemon under a booted systemd",
    "context": {"workflow_id": "wf-boot", "node_id": "smtp-1"},
    "timeout_ms": 30000,
}, open(sys.argv[1], "w"))
PY
sent=$(python3 "$client" --timeout 60 "$socket" send "$work/send.json" || true)
outcome=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("result",{}).get("outcome") or r.get("error",{}).get("code"))' "${sent:-null}" 2>/dev/null || true)
check "send answered outcome=sent ($outcome)" test "$outcome" = sent
if [[ "$outcome" != sent ]]; then echo "$sent" >&2; fi
if scripts/maildir-wait.sh "$postfix_dir" 1 20 >/dev/null 2>&1 &&
    grep -qF "Subject: $subject" "$postfix_dir"/maildir/new/*; then
    pass "the message reached the host's loopback Postfix (maildir)"
else
    fail "the message reached the host's loopback Postfix (maildir)"
    tail -n 20 "$postfix_dir/log/maillog" >&2 || true
fi

# The journal: the send's entry with its structured fields, and nothing at error level.
journal_sync
entry=$(inside journalctl -u smtp-sidecar -o json --no-pager MESSAGE=Sent 2>/dev/null | tail -n1)
fields=$(python3 -c '
import json, sys
e = json.loads(sys.argv[1])
want = {"OUTCOME": "sent", "REQUEST_ID": "boot-send-1", "WORKSPACE_ID": "ws-boot", "CREDENTIAL_ID": "cred-boot",
        "SMTP_HOST": sys.argv[2], "SMTP_PORT": sys.argv[3], "SMTP_REPLY_CODE": "250"}
bad = [k for k, v in want.items() if e.get(k) != v]
print(" ".join(f"{k}={e.get(k)}" for k in want) + (" bad: " + " ".join(bad) if bad else ""))
sys.exit(1 if bad else 0)' "${entry:-null}" "$SMTP_HOST" "$SUBMISSION_PORT" 2>/dev/null) && ok=1 || ok=0
check "journalctl -u smtp-sidecar has the send with its fields ($fields)" test "$ok" = 1
errors=$(inside journalctl -u smtp-sidecar -p err -q --no-pager 2>&1 || true)
check "journalctl -u smtp-sidecar -p err is empty" test -z "$errors"
[[ -z "$errors" ]] || echo "$errors" >&2

# The watchdog: WatchdogSec=30s and the daemon pings every 15 s; the timestamp of the last
# ping must move within 20 s.
watchdog_usec=$(show $unit WatchdogUSec)
first=$(show $unit WatchdogTimestampMonotonic)
moved=0
for _ in $(seq 1 40); do
    sleep 0.5
    now=$(show $unit WatchdogTimestampMonotonic)
    if [[ "$now" != "$first" && "$now" != 0 ]]; then moved=1; break; fi
done
check "the watchdog is fed (WatchdogUSec=$watchdog_usec, last ping moved from $first to $now)" \
    test "$moved" = 1 -a "$first" != 0

# kill -9: systemd restarts the daemon (Restart=on-failure, RestartSec=2s); a client that
# connects while no daemon runs waits in the socket's backlog and is served.
# (A MainPID of 0 would make it `kill -9 0`: this script's own process group.)
[[ "$started_pid" =~ ^[1-9][0-9]*$ ]] && inside sh -c 'kill -9 "$1"' sh "$started_pid"
python3 "$client" --timeout 30 "$socket" hello >"$work/backlog.out" 2>&1 &
backlog_client=$!
sleep 0.2
backlog_state=$(show $unit ActiveState)/$(show $unit SubState)
if wait "$backlog_client"; then backlog_ok=1; else backlog_ok=0; fi
restarted_pid=$(show $unit MainPID)
check "after kill -9 the service restarted (NRestarts=$(show $unit NRestarts), pid $started_pid -> $restarted_pid)" \
    test "$(show $unit NRestarts)" = 1 -a "$restarted_pid" != "$started_pid" -a "$restarted_pid" != 0
check "a client waiting in the backlog was served (state while waiting: $backlog_state)" \
    test "$backlog_ok" = 1 -a "$backlog_state" != active/running
[[ "$backlog_ok" = 1 ]] || cat "$work/backlog.out" >&2
journal_sync
daemon_errors=$(inside journalctl -u smtp-sidecar -p err -q --no-pager _PID="$restarted_pid" 2>&1 || true)
check "the restarted daemon ($restarted_pid) logged nothing at error level" \
    test "$restarted_pid" != 0 -a -z "$daemon_errors"

# systemctl stop drains: a ping that answers after 3 s is still answered, and the daemon
# exits 0.
python3 "$client" --timeout 30 "$socket" ping 3000 >"$work/drain.out" 2>&1 &
drain_client=$!
sleep 1
inside systemctl stop $unit 2>"$work/stop.log" # (it warns that the socket can start it again)
if wait "$drain_client"; then drain_ok=1; else drain_ok=0; fi
check "systemctl stop drained the request in flight ($(head -c 120 "$work/drain.out"))" test "$drain_ok" = 1
stop_result="Result=$(show $unit Result) ExecMainCode=$(show $unit ExecMainCode) ExecMainStatus=$(show $unit ExecMainStatus)"
check "systemctl stop: the daemon exited 0 ($stop_result)" \
    test "$stop_result" = "Result=success ExecMainCode=1 ExecMainStatus=0"

# The hardening score, as systemd-analyze security rates the installed unit.
exposure=$(inside systemd-analyze security --no-pager $unit 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
check "systemd-analyze security: exposure ${exposure:-?} (at most 2.0)" \
    awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'

# Removal stops the socket and removes its file.
if inside env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q smtp-sidecar >"$work/remove.log" 2>&1; then
    pass "apt-get remove smtp-sidecar"
else
    fail "apt-get remove smtp-sidecar"; cat "$work/remove.log" >&2
fi
check "after removal smtp-sidecar.socket is inactive ($(show smtp-sidecar.socket ActiveState))" \
    test "$(show smtp-sidecar.socket ActiveState)" = inactive
check "after removal the socket file is gone" test ! -e "$socket"
phase_end

echo "package-boot-test: wall time: ${timings[*]}"
echo "package-boot-test: $passed passed, $failed failed"
[[ $failed = 0 ]]
