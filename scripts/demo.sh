#!/usr/bin/env bash
# The main job, end to end on a fresh Debian machine with Swift (as root):
#   1. installs what it needs (Debian packages, Postfix) and builds smtp-sidecar;
#   2. starts a local mail server: a private Postfix on loopback with STARTTLS and SASL
#      AUTH (scripts/postfix-harness.sh), delivering into a Maildir;
#   3. starts a private journald (scripts/journald-sandbox.sh; no PID 1 systemd needed)
#      and, inside it, the sidecar under systemd-socket-activate, exactly as the
#      packaged smtp-sidecar.socket would;
#   4. sends an HTML email with an attachment through the sidecar's Unix socket, prints
#      the result, the message Postfix delivered, and the journal entry of the send.
# The local Postfix is on loopback, which the SSRF guard refuses by default: the demo
# allow-lists 127.0.0.1/32 and ::1/128 (egress_allowed_cidrs), as an operator would for a
# corporate relay on a private network.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
scripts/postfix-harness.sh install
echo "== building smtp-sidecar"
swift build --product smtp-sidecar 2>&1 | tail -1
bin="$root/.build/debug/smtp-sidecar"

work=$(mktemp -d /tmp/smtp-sidecar-demo.XXXXXX)
chmod 755 "$work"
postfix_dir="$work/postfix"
mkdir "$postfix_dir"
cleanup() {
    scripts/postfix-harness.sh stop "$postfix_dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== starting Postfix on loopback (STARTTLS + AUTH)"
scripts/postfix-harness.sh start "$postfix_dir" >/dev/null
# shellcheck disable=SC1091
source "$postfix_dir/ports.env"
# shellcheck disable=SC1091
source "$postfix_dir/users.env"
echo "   submission port $SUBMISSION_PORT, user $SMTP_USER, CA $SMTP_CA_FILE"

# The request a workflow worker would send: HTML + text, Cc, Bcc, a custom header, and a
# PDF-like attachment, with the credential inline (its password travels only to the sidecar).
printf '%%PDF-1.4\n%% smtp-sidecar demo attachment\n' >"$work/report.pdf"
python3 - "$work" "$SUBMISSION_PORT" "$SMTP_USER" "$SMTP_PASSWORD" "$SMTP_CA_FILE" <<'PY'
import base64, json, sys
work, port, user, password, ca = sys.argv[1:]
request = {
    "workspace_id": "demo-workspace",
    "credential": {"id": "demo-credential", "host": "localhost", "port": int(port), "security": "starttls",
                   "username": user, "password": password, "tls": {"ca_pem": open(ca).read()}},
    "from": f"Workflow Alerts <{user}>",
    "to": "Ops Team <ops@example.test>, \"Doe, Jane\" <jane@example.test>",
    "bcc": ["audit@example.test"],
    "subject": "Daily digest – 3 new leads ✉",
    "body_format": "html",
    "text": "3 new leads today. See the attached report.",
    "html": "<h1>Daily digest</h1><p><b>3</b> new leads today. See the attached report.</p>",
    "priority": "high",
    "headers": [{"name": "X-Workflow", "value": "daily-digest"}],
    "attachments": [{"filename": "report.pdf", "content_type": "application/pdf",
                     "content_base64": base64.b64encode(open(f"{work}/report.pdf", "rb").read()).decode()}],
    "context": {"workflow_id": "wf-1", "execution_id": "ex-42", "node_id": "smtp-1"},
}
json.dump(request, open(f"{work}/send.json", "w"), indent=2)
PY

cat >"$work/inside.sh" <<INSIDE
set -euo pipefail
socket="$work/smtp-sidecar.sock"
echo "== starting smtp-sidecar under systemd-socket-activate on \$socket"
systemd-socket-activate -l "\$socket" --fdname=smtp-sidecar \\
    "$bin" serve --log-target journald --log-level info --set state_directory="$work/state" \\
    --set egress_allowed_cidrs=127.0.0.1/32,::1/128 2>"$work/stderr.log" &
daemon=\$!
for _ in \$(seq 1 100); do [ -S "\$socket" ] && break; sleep 0.05; done

echo "== smtp-sidecar ping (the first connection starts the daemon)"
"$bin" ping --socket "\$socket" --count 10

echo "== smtp-sidecar send --json send.json   (an HTML email with an attachment, through the socket)"
"$bin" send --socket "\$socket" --json "$work/send.json"

echo "== smtp-sidecar stats"
"$bin" stats --socket "\$socket"

kill -TERM \$daemon
wait \$daemon

journalctl --sync
echo
echo "== the send's journal entry: journalctl SYSLOG_IDENTIFIER=smtp-sidecar MESSAGE=Sent -o verbose"
journalctl -D /run/log/journal SYSLOG_IDENTIFIER=smtp-sidecar MESSAGE=Sent -o verbose --no-pager
echo "== all entries: journalctl SYSLOG_IDENTIFIER=smtp-sidecar -o short-iso"
journalctl -D /run/log/journal SYSLOG_IDENTIFIER=smtp-sidecar -o short-iso --no-pager
INSIDE

scripts/journald-sandbox.sh "$work/journal.json" -- bash "$work/inside.sh"

echo
echo "== what Postfix delivered (one Maildir file per recipient; the first one, headers and MIME structure)"
scripts/postfix-harness.sh wait-mail "$postfix_dir" 3 20 >/dev/null
first=$(find "$postfix_dir/maildir/new" -type f | sort | head -1)
sed -n '/^Date:/,$p' "$first" | head -45
echo "== $(find "$postfix_dir/maildir/new" -type f | wc -l) messages delivered (To: 2, Bcc: 1); Bcc header present: $(grep -c '^Bcc:' "$first" || true)"
