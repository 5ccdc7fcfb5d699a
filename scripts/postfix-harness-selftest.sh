#!/usr/bin/env bash
# postfix-harness-selftest.sh [WORKDIR]
# End-to-end check of scripts/postfix-harness.sh with swaks and openssl:
# installs (if needed), starts two instances concurrently plus a --discard
# one, checks every listener, stops them. Ends with "N passed, N failed".
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
H=$HERE/postfix-harness.sh
OWN_WORK=0
if [ -n "${1:-}" ]; then WORK=$1; else WORK=$(mktemp -d /tmp/pfh-selftest.XXXXXX); OWN_WORK=1; fi
mkdir -p "$WORK" && chmod 755 "$WORK"   # the postfix user must traverse it
A=$WORK/a B=$WORK/b C=$WORK/discard
PASS=0 FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

cleanup() { for d in "$A" "$B" "$C"; do "$H" stop "$d" >/dev/null 2>&1; done; }
trap cleanup EXIT

sw() { timeout 20 swaks --server 127.0.0.1 --helo selftest.example "$@" 2>&1; }

# Raw SMTP: connect to 127.0.0.1:$1, send the remaining args as lines (0.3 s apart).
smtp_raw() {
  local port=$1; shift
  timeout 10 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    cat <&3 &
    for l in "$@"; do sleep 0.3; printf "%s\r\n" "$l" >&3; done
    wait' "$port" "$@" 2>/dev/null
}

has_mail_with() { grep -rlqF -- "$2" "$1/maildir/new" 2>/dev/null; }

"$H" install >/dev/null || { echo "install failed"; exit 1; }

# Two instances started concurrently, auto-picked ports.
t0=$(date +%s.%N)
"$H" start "$A" >"$WORK/start-a.out" 2>&1 & pa=$!
"$H" start "$B" >"$WORK/start-b.out" 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
t1=$(date +%s.%N)
check "instance A started" [ $ra = 0 ]
check "instance B started (concurrently with A)" [ $rb = 0 ]
echo "# concurrent start of A and B: $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"
[ $ra = 0 ] && [ $rb = 0 ] || { cat "$WORK"/start-*.out; echo "$PASS passed, $((FAIL + 1)) failed"; exit 1; }

check "nothing listens on port 25" bash -c '! ss -Hltn "sport = :25" | grep -q .'

for D in "$A" "$B"; do
  n=$(basename "$D")
  # shellcheck disable=SC1091
  . "$D/ports.env"; . "$D/users.env"
  CA=$D/tls/ca.pem
  sent=0
  for L in SUBMISSION NOCHUNKING NOPIPELINING SMTPS; do
    pv=${L}_PORT; port=${!pv}
    if [ $L = SMTPS ]; then tls=(--tlsc); else tls=(--tls); fi
    for mech in PLAIN LOGIN; do
      tok="tok-$n-$L-$mech-$RANDOM$RANDOM"
      out=$(sw -p "$port" "${tls[@]}" --tls-verify --tls-ca-path "$CA" -a $mech \
              -au "$SMTP_USER" -ap "$SMTP_PASSWORD" --from "$SMTP_USER" \
              --to "rcpt-$mech@example.org" --h-Subject "$tok" --body "body $tok")
      check "$n $L AUTH $mech right password -> 235 + queued" \
        bash -c 'grep -q "235 2.7.0" <<<"$1" && grep -q "250 2.0.0 Ok: queued" <<<"$1"' _ "$out"
      sent=$((sent + 1))
      "$H" wait-mail "$D" $sent 15 >/dev/null
      check "$n $L AUTH $mech message landed in Maildir" has_mail_with "$D" "$tok"
    done
    out=$(sw -p "$port" "${tls[@]}" -a PLAIN -au "$SMTP_USER" -ap wrong-password --quit-after AUTH)
    check "$n $L wrong password -> 535" grep -q '535 5.7.8' <<<"$out"
    out=$(sw -p "$port" "${tls[@]}" -a LOGIN -au "$SMTP_USER2" -ap "$SMTP_PASSWORD2" --quit-after AUTH)
    check "$n $L second user (LOGIN) -> 235" grep -q '235 2.7.0' <<<"$out"
    out=$(sw -p "$port" "${tls[@]}" --to x@example.org --quit-after RCPT)
    check "$n $L unauthenticated RCPT after TLS is refused (no open relay)" grep -qE '^<~\* 554 5.7.1 .*Access denied' <<<"$out"
  done

  # plain port: no TLS, no AUTH, delivers.
  tok="tok-$n-PLAIN-$RANDOM$RANDOM"
  out=$(sw -p "$PLAIN_PORT" --from a@example.org --to b@example.net --h-Subject "$tok")
  check "$n PLAIN port accepts unauthenticated mail" grep -q "250 2.0.0 Ok: queued" <<<"$out"
  check "$n PLAIN port does not offer STARTTLS/AUTH" bash -c '! grep -qE "250.(STARTTLS|AUTH)" <<<"$1"' _ "$out"
  sent=$((sent + 1)); "$H" wait-mail "$D" $sent 15 >/dev/null
  check "$n PLAIN message landed in Maildir" has_mail_with "$D" "$tok"

  # CHUNKING really works (BDAT), on the plain port.
  tok="tok-$n-BDAT-$RANDOM$RANDOM"
  msg=$'Subject: '"$tok"$'\r\n\r\nbdat body\r\n'
  out=$(smtp_raw "$PLAIN_PORT" "EHLO raw.example" "MAIL FROM:<a@example.org>" "RCPT TO:<b@example.net>" \
          "BDAT ${#msg} LAST"$'\r\n'"${msg%$'\r\n'}" QUIT)
  check "$n PLAIN BDAT LAST accepted" grep -q "250 2.0.0 Ok: ${#msg} bytes queued" <<<"$out"
  sent=$((sent + 1)); "$H" wait-mail "$D" $sent 15 >/dev/null
  check "$n BDAT message landed in Maildir" has_mail_with "$D" "$tok"

  # Username form: without the realm it must fail.
  out=$(sw -p "$SUBMISSION_PORT" --tls -a PLAIN -au "${SMTP_USER%@*}" -ap "$SMTP_PASSWORD" --quit-after AUTH)
  check "$n bare username '${SMTP_USER%@*}' (no @realm) -> 535" grep -q '535 5.7.8' <<<"$out"

  # STARTTLS port before STARTTLS.
  out=$(smtp_raw "$SUBMISSION_PORT" "EHLO raw.example" "AUTH PLAIN AHNlbmRlckBleGFtcGxlLnRlc3QAeA==" "MAIL FROM:<a@example.org>" QUIT)
  check "$n SUBMISSION hides AUTH before STARTTLS" bash -c 'grep -q "STARTTLS" <<<"$1" && ! grep -q "AUTH" <<<"$(grep ^250 <<<"$1")"' _ "$out"
  check "$n SUBMISSION AUTH before STARTTLS -> 530" grep -q '^530 5.7.0 Must issue a STARTTLS command first' <<<"$(sed -n 3,99p <<<"$out")"
  check "$n SUBMISSION MAIL before STARTTLS -> 530" bash -c '[ "$(grep -c "^530" <<<"$1")" -ge 2 ]' _ "$out"

  # EHLO keywords after STARTTLS.
  ehlo() { sw -p "$1" --tls --quit-after EHLO | sed -n 's/^<~  250[- ]//p'; }
  e=$(ehlo "$SUBMISSION_PORT")
  for k in PIPELINING CHUNKING SIZE 8BITMIME SMTPUTF8 DSN ENHANCEDSTATUSCODES "AUTH PLAIN LOGIN"; do
    check "$n SUBMISSION EHLO advertises $k" grep -q "^$k" <<<"$e"
  done
  e=$(ehlo "$NOCHUNKING_PORT")
  check "$n NOCHUNKING EHLO lacks CHUNKING" bash -c '! grep -q ^CHUNKING <<<"$1"' _ "$e"
  check "$n NOCHUNKING EHLO still has PIPELINING" grep -q ^PIPELINING <<<"$e"
  e=$(ehlo "$NOPIPELINING_PORT")
  check "$n NOPIPELINING EHLO lacks PIPELINING and CHUNKING" bash -c '! grep -qE "^(PIPELINING|CHUNKING)" <<<"$1"' _ "$e"

  # Certificates.
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$SUBMISSION_PORT" -starttls smtp -CAfile "$CA" -verify_return_error -verify_hostname localhost </dev/null 2>&1)
  check "$n openssl s_client -starttls verifies SUBMISSION cert (localhost)" grep -q 'Verify return code: 0 (ok)' <<<"$out"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$SMTPS_PORT" -CAfile "$CA" -verify_return_error -verify_ip 127.0.0.1 </dev/null 2>&1)
  check "$n openssl s_client verifies SMTPS cert (IP 127.0.0.1)" grep -q 'Verify return code: 0 (ok)' <<<"$out"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$BADCERT_PORT" -starttls smtp -CAfile "$CA" -verify_return_error </dev/null 2>&1)
  check "$n openssl s_client rejects BADCERT cert" bash -c '! grep -q "Verify return code: 0 (ok)" <<<"$1"' _ "$out"
  out=$(sw -p "$BADCERT_PORT" --tls --tls-verify --tls-ca-path "$CA" -a PLAIN -au "$SMTP_USER" -ap "$SMTP_PASSWORD" --quit-after AUTH)
  check "$n swaks --tls-verify fails on BADCERT" grep -q 'certificate verify failed' <<<"$out"
  out=$(sw -p "$BADCERT_PORT" --tls -a PLAIN -au "$SMTP_USER" -ap "$SMTP_PASSWORD" --quit-after AUTH)
  check "$n BADCERT works when not verifying (AUTH 235)" grep -q '235 2.7.0' <<<"$out"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$SMTPS_PORT" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1)
  check "$n TLS 1.1 is refused (alert protocol version)" grep -q 'alert protocol version' <<<"$out"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$SMTPS_PORT" -tls1_2 -CAfile "$CA" -verify_return_error </dev/null 2>&1)
  check "$n TLS 1.2 is accepted" grep -q 'New, TLSv1.2' <<<"$out"

  check "$n Maildir holds exactly $sent messages" [ "$(find "$D/maildir/new" -type f | wc -l)" = "$sent" ]
done

# --discard instance.
"$H" start "$C" --discard >"$WORK/start-c.out" 2>&1
check "discard instance started" [ $? = 0 ]
. "$C/ports.env"; . "$C/users.env"
out=$(sw -p "$SUBMISSION_PORT" --tls -a PLAIN -au "$SMTP_USER" -ap "$SMTP_PASSWORD" --to x@example.org)
check "discard: submission accepts" grep -q "250 2.0.0 Ok: queued" <<<"$out"
out=$(sw -p "$PLAIN_PORT" --to y@example.org)
check "discard: plain accepts" grep -q "250 2.0.0 Ok: queued" <<<"$out"
for _ in $(seq 1 50); do [ "$(grep -c 'status=sent (harness-discard)' "$C/log/maillog")" -ge 2 ] && break; sleep 0.1; done
check "discard: both logged as discarded" [ "$(grep -c 'status=sent (harness-discard)' "$C/log/maillog")" -ge 2 ]
check "discard: Maildir stays empty" [ "$(find "$C/maildir/new" -type f | wc -l)" = 0 ]

# stop
t0=$(date +%s.%N); "$H" stop "$A" >/dev/null 2>&1; t1=$(date +%s.%N)
echo "# stop A: $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"
"$H" status "$A" >/dev/null 2>&1; check "status reports A stopped (rc 3)" [ $? = 3 ]
"$H" status "$B" >/dev/null 2>&1; check "status reports B running (rc 0)" [ $? = 0 ]
. "$A/ports.env"
check "A's ports are closed after stop" bash -c '! ss -Hltn "sport = :$1" | grep -q .' _ "$SUBMISSION_PORT"
pids="$(cat "$B/queue/pid/master.pid" "$C/queue/pid/master.pid" 2>/dev/null | tr -dc '0-9\n ')"
"$H" stop "$B" >/dev/null 2>&1; "$H" stop "$C" >/dev/null 2>&1
check "B and C masters are gone after stop" bash -c 'for p in $1; do ! kill -0 "$p" 2>/dev/null || exit 1; done' _ "$pids"

echo "$PASS passed, $FAIL failed"
# Keep a self-made WORK dir only when something failed (to read the maillogs).
if [ $FAIL = 0 ] && [ $OWN_WORK = 1 ]; then rm -rf "$WORK"; else echo "# logs kept in $WORK/*/log/maillog"; fi
[ $FAIL = 0 ]
