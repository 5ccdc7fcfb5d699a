#!/usr/bin/env bash
# Stored OAuth credentials under load (issue 17): 1,000 sends over about 30 s from 20
# concurrent clients, with 5-second access tokens from a real token endpoint
# (scripts/oauth-harness.sh), through one stored credential. Prints the sends' line
# (sidecar-bench) and what the token endpoint and the SMTP server counted:
#   - token requests, against duration / lifetime (one refresh at a time per credential);
#   - AUTH attempts and failures (a token must never be refused);
#   - SMTP connections against messages (pooled connections reused between refreshes).
#
#   scripts/bench/oauth.sh [BINARY]     (default: a release build of this tree)
#
# Environment: MESSAGES (1000), CLIENTS (20), DURATION (30 s), LIFETIME (5 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
messages=${MESSAGES:-1000}
clients=${CLIENTS:-20}
duration=${DURATION:-30}
lifetime=${LIFETIME:-5}

if [ $# -ge 1 ]; then
    binary=$(realpath "$1")
else
    swift build -c release --product smtp-sidecar >&2
    binary="$(pwd)/.build/release/smtp-sidecar"
fi
swift build -c release --product sidecar-bench >&2
bench="$(pwd)/.build/release/sidecar-bench"

work=$(mktemp -d /tmp/smtp-sidecar-oauth-bench.XXXXXX)
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    scripts/oauth-harness.sh stop "$work/harness" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

OAUTH_TOKEN_LIFETIME=$lifetime scripts/oauth-harness.sh start "$work/harness" >/dev/null
# shellcheck disable=SC1091
source "$work/harness/oauth.env"

"$binary" credentials generate-key "$work/key" >/dev/null
OAUTH_CLIENT_SECRET=$CLIENT_SECRET OAUTH_REFRESH_TOKEN=$REFRESH_TOKEN "$binary" credentials add \
    --state-directory "$work/state" --key-file "$work/key" --workspace bench --id oauth-bench \
    --oauth custom --token-url "$TOKEN_URL" --scope "https://mail.google.com/" --client-id "$CLIENT_ID" \
    --client-secret-env OAUTH_CLIENT_SECRET --refresh-token-env OAUTH_REFRESH_TOKEN \
    --host localhost --port "$TLS_PORT" --security tls --ca-file "$SMTP_CA_FILE" --username "$OAUTH_USER" >/dev/null

"$binary" serve --socket "$work/sidecar.sock" --log-target stderr --log-level warning \
    --set state_directory="$work/state" --set credential_key_file="$work/key" \
    --set oauth_token_ca_file="$TOKEN_CA_FILE" --set egress_allowed_cidrs=127.0.0.1/32,::1/128 \
    --set max_in_flight_per_connection=64 >/dev/null 2>"$work/sidecar.log" &
daemon_pid=$!
for _ in $(seq 1 100); do [ -S "$work/sidecar.sock" ] && break; sleep 0.05; done

python3 - "$work/request.json" "$OAUTH_USER" <<'PY'
import json, sys
json.dump({"workspace_id": "bench", "credential_id": "oauth-bench", "from": sys.argv[2], "to": "sink@example.test",
           "subject": "oauth benchmark", "dedup_window_seconds": 0}, open(sys.argv[1], "w"))
PY

"$bench" --socket "$work/sidecar.sock" --request "$work/request.json" --clients "$clients" --messages "$messages" \
    --warmup 0 --size 2048 --duration "$duration" --daemon-pid "$daemon_pid" --label "oauth ${lifetime}s tokens"

python3 - "$CONTROL_URL" "$duration" "$lifetime" <<'PY'
import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + "/state", timeout=30))
duration, lifetime = float(sys.argv[2]), float(sys.argv[3])
tokens = state["token_requests"]
auth = {name: counts for name, counts in state["auth"].items() if counts["attempts"]}
attempts = sum(c["attempts"] for c in auth.values())
failures = sum(c["failures"] for c in auth.values())
print(f"token requests {tokens['total']} (ok {tokens['ok']}, most at once {tokens['max_in_flight']}; "
      f"duration / lifetime = {duration / lifetime:.0f})")
print(f"AUTH attempts {attempts}, failures {failures} {json.dumps(auth)}")
print(f"SMTP connections {state['smtp_connections']}, messages {state['messages']} "
      f"({state['messages'] / max(1, state['smtp_connections']):.1f} a connection)")
PY
echo "daemon warnings and errors: $(grep -c . "$work/sidecar.log" || true)"
