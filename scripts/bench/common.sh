# Shared by scripts/bench.sh and scripts/bench/ab.sh (sourced, from the repository root):
# a work directory torn down on exit, a Postfix to send to, daemons and request files.
#
#   bench_start_postfix PREFIX   make $work (mktemp /tmp/PREFIX.XXXXXX), start a Postfix with
#                                discard delivery in $work/postfix, load its ports and users;
#                                everything in $pids and the Postfix stop on exit
#   start_sidecar BINARY NAME [serve options...]
#                                a daemon on $work/NAME.sock at log level warning (later
#                                options win), its pid in $started_pid and $pids
#   request FILE PORT SECURITY AUTH [JSON]
#                                a send request for that Postfix port (AUTH yes/no; JSON:
#                                credential fields to add or override)

pids=()
bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    scripts/postfix-harness.sh stop "$work/postfix" >/dev/null 2>&1 || true
    [ -d "$work/pg" ] && { scripts/postgres-harness.sh destroy "$work/pg" >/dev/null 2>&1 || true; }
    rm -rf "$work"
}

bench_start_postfix() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$work"
    trap bench_cleanup EXIT
    mkdir "$work/postfix"
    POSTFIX_PROCESS_LIMIT=${POSTFIX_PROCESS_LIMIT:-200} scripts/postfix-harness.sh start "$work/postfix" --discard >/dev/null
    # shellcheck disable=SC1091
    source "$work/postfix/ports.env"
    # shellcheck disable=SC1091
    source "$work/postfix/users.env"
}

started_pid=
start_sidecar() {
    local binary=$1 name=$2
    shift 2
    "$binary" serve --socket "$work/$name.sock" --log-target stderr --log-level warning \
        --set state_directory="$work/state-$name" --set egress_allowed_cidrs=127.0.0.1/32,::1/128 \
        --set max_in_flight_per_connection=64 "$@" >/dev/null 2>"$work/$name.log" &
    started_pid=$!
    pids+=("$started_pid")
    for _ in $(seq 1 100); do [ -S "$work/$name.sock" ] && break; sleep 0.05; done
}

request() {
    python3 - "$1" "$2" "$3" "$4" "${5:-"{}"}" "$SMTP_USER" "$SMTP_PASSWORD" "$SMTP_CA_FILE" <<'PY'
import json, sys
path, port, security, auth, extra, user, password, ca = sys.argv[1:]
credential = {"id": f"bench-{security}-{port}", "host": "localhost", "port": int(port), "security": security,
              "tls": {"ca_pem": open(ca).read()}}
if auth == "yes":
    credential.update(username=user, password=password)
else:
    credential["auth"] = "none"
credential.update(json.loads(extra))
json.dump({"workspace_id": "bench", "credential": credential, "from": user, "to": "sink@example.test",
           "subject": "benchmark", "dedup_window_seconds": 0}, open(path, "w"))
PY
}
