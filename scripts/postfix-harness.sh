#!/usr/bin/env bash
# postfix-harness.sh — run a REAL, fully private Postfix on 127.0.0.1 high ports
# for smtp-sidecar's integration tests, benchmark and demo.
#
#   scripts/postfix-harness.sh install
#   scripts/postfix-harness.sh start DIR [--discard]
#   scripts/postfix-harness.sh stop DIR
#   scripts/postfix-harness.sh status DIR
#   scripts/postfix-harness.sh logs DIR
#   scripts/postfix-harness.sh wait-mail DIR COUNT [TIMEOUT_SECONDS]
#
# See scripts/postfix-harness.md for details. Must run as root (Postfix's master
# runs as root from a private config directory; no systemd, no syslog needed).
set -euo pipefail

PROG=${0##*/}
PACKAGES=(postfix sasl2-bin libsasl2-modules openssl swaks libnet-ssleay-perl)

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# ---------------------------------------------------------------- install ----

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# If a system-wide postfix (default config dir /etc/postfix) is running, stop it.
stop_system_postfix() {
  local pidf=/var/spool/postfix/pid/master.pid pid
  if [ -s "$pidf" ]; then
    pid=$(tr -dc '0-9' <"$pidf")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "stopping the system postfix instance (pid $pid) started by the package"
      postfix stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
}

cmd_install() {
  need_root
  local missing=() p
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # Keep the package's maintainer scripts from starting any service
    # (postfix on :25, saslauthd). Only install our policy if none exists.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; added_policy=1
    fi
    local rc=0 aptlog
    aptlog=$(mktemp /tmp/postfix-harness-apt.XXXXXX)
    { apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"; } >"$aptlog" 2>&1 || rc=$?
    if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi
    if [ "$rc" != 0 ]; then tail -n 30 "$aptlog" >&2; die "apt-get install failed (rc=$rc), full log: $aptlog"; fi
    rm -f "$aptlog"
  fi
  stop_system_postfix
  if ss -Hltn 'sport = :25' 2>/dev/null | grep -q .; then
    die "something listens on port 25 after install: $(ss -Hltnp 'sport = :25')"
  fi
  log "installed: ${PACKAGES[*]} ($(postconf -d -h mail_version 2>/dev/null || echo '?'))"
}

# ------------------------------------------------------------------ start ----

# Listener names, in order; PORT_VARS[i] is the env var / ports.env key.
LISTENERS=(submission smtps plain nochunking nopipelining badcert stockerrors stocksubmission)
PORT_VARS=(SUBMISSION_PORT SMTPS_PORT PLAIN_PORT NOCHUNKING_PORT NOPIPELINING_PORT BADCERT_PORT STOCK_ERRORS_PORT STOCK_SUBMISSION_PORT)

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A free port in [20000, first ephemeral port) not in use and not already in "$@".
# Below the kernel's ephemeral range (ip_local_port_range), so no outgoing connection and
# no bind to port 0 takes it while its server is stopped for a restart.
pick_port() {
  local p tries=0 first
  first=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true)
  [ "${first:-0}" -gt 21000 ] 2>/dev/null || first=60000
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % (first - 20000) ))
    tries=$((tries + 1)); [ $tries -lt 500 ] || die "could not find a free port"
    case " $* " in *" $p "*) continue ;; esac
    port_in_use "$p" && continue
    echo "$p"; return 0
  done
}

abspath() { (cd "$1" && pwd -P); }

gen_tls() {
  local t=$1
  mkdir -p "$t"
  (
    cd "$t"
    umask 022
    # Private test CA.
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.pem -subj "/O=smtp-sidecar test/CN=smtp-sidecar Test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # Server cert for localhost / 127.0.0.1, signed by the CA.
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
      -subj "/O=smtp-sidecar test/CN=localhost" 2>/dev/null
    cat >server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EOF
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days 3650 -sha256 -extfile server.ext -out server.pem 2>/dev/null
    # "Bad" cert: self-signed, wrong hostname, not issued by the test CA.
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout bad.key -out bad.pem -subj "/O=wrong/CN=wrong.invalid" \
      -addext "subjectAltName=DNS:wrong.invalid" 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 600 ca.key server.key bad.key
    openssl verify -CAfile ca.pem server.pem >/dev/null || exit 1
  ) || die "TLS material generation failed in $t"
}

# Cyrus sasldb. Cyrus splits a login "user@realm" at the last '@' and looks up
# (user, realm) in sasldb, so "sender@example.test" is stored as user "sender"
# in realm "example.test". A login without '@' gets realm = $myhostname
# (smtpd_sasl_local_domain below).
sasl_add_user() {
  local db=$1 login=$2 pass=$3 user realm
  case "$login" in
    *@*) user=${login%@*}; realm=${login##*@} ;;
    *) user=$login; realm=$MYHOSTNAME ;;
  esac
  printf '%s' "$pass" | saslpasswd2 -p -c -f "$db" -u "$realm" "$user" ||
    die "saslpasswd2 failed for $login"
}

instance_pid() {
  local f=$1/queue/pid/master.pid pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Wait until 127.0.0.1:$1 sends a "220 " banner. $2 = implicit TLS (1/0).
banner_ok() {
  local port=$1 tls=$2 out
  if [ "$tls" = 1 ]; then
    # -quiet implies -ign_eof, so feed QUIT after a moment; server then closes.
    out=$({ sleep 0.3; printf 'QUIT\r\n'; } |
          timeout 5 openssl s_client -connect "127.0.0.1:$port" -quiet 2>/dev/null | head -n1) || true
  else
    out=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -n1 <&3; printf 'QUIT\r\n' >&3" 2>/dev/null) || true
  fi
  case "$out" in 220\ *) return 0 ;; *) return 1 ;; esac
}

write_config() {
  local D=$1 discard=$2
  local etc=$D/etc
  local uid gid
  uid=${MAILDIR_UID:-$(id -u postfix)}
  gid=${MAILDIR_GID:-$(id -g postfix)}

  cat >"$etc/main.cf" <<EOF
# Generated by $PROG for a private test instance. Do not edit; re-run start.
compatibility_level = 3.6
meta_directory = /etc/postfix
queue_directory = $D/queue
data_directory = $D/data
mail_owner = postfix
setgid_group = postdrop
harness_syslog_name = postfix-harness/$(basename "$D")
syslog_name = \$harness_syslog_name
maillog_file = $D/log/maillog
maillog_file_prefixes = $D/log

myhostname = $MYHOSTNAME
mydomain = example.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
disable_vrfy_command = yes
smtputf8_enable = yes
message_size_limit = ${MESSAGE_SIZE_LIMIT:-10240000}
smtpd_banner = \$myhostname ESMTP postfix-harness
# Let a test hammer us from loopback without being slowed down.
smtpd_client_event_limit_exceptions = 127.0.0.0/8
# The error limits (smtpd_error_sleep_time, smtpd_soft_error_limit,
# smtpd_hard_error_limit) stay at Postfix's defaults here; every listener but
# stockerrors relaxes them in master.cf.
default_process_limit = ${POSTFIX_PROCESS_LIMIT:-100}

# Delivery: every address of every domain goes to ONE Maildir, $D/maildir/.
virtual_mailbox_domains = static:all
virtual_mailbox_base = $D
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
EOF
  if [ "$discard" = 1 ]; then
    cat >>"$etc/main.cf" <<'EOF'
# --discard: accept everything, deliver nothing (benchmarks).
virtual_transport = discard:harness-discard
default_transport = discard:harness-discard
relay_transport = discard:harness-discard
local_transport = discard:harness-discard
EOF
  fi
  cat >>"$etc/main.cf" <<EOF

# Default relay policy (the plain port): loopback may send anything.
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
smtpd_recipient_restrictions =

# TLS (server side). Listener-specific levels are set in master.cf.
smtpd_tls_cert_file = $D/tls/server.pem
smtpd_tls_key_file = $D/tls/server.key
harness_bad_cert_file = $D/tls/bad.pem
harness_bad_key_file = $D/tls/bad.key
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database = btree:\${data_directory}/smtpd_scache

# SASL (Cyrus, private sasldb via $D/etc/sasl/smtpd.conf).
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $D/etc/sasl
smtpd_sasl_local_domain = \$myhostname
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
EOF

  # master.cf: chroot = n everywhere (SASL/sasldb and our paths are outside
  # any chroot). Listener services are named 127.0.0.1:PORT.
  local auth="-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
  # Errors never slow down or end a session of a test that makes many of them...
  local lenient="-o smtpd_error_sleep_time=0 -o smtpd_soft_error_limit=100 -o smtpd_hard_error_limit=200"
  # ...except on stockerrors, which refuses every recipient whose address contains
  # "unknown", as an unknown user.
  printf '/unknown/ 550 5.1.1 User unknown in virtual mailbox table\n' >"$etc/refused-recipients.regexp"
  cat >"$etc/master.cf" <<EOF
# Generated by $PROG. service type private unpriv chroot wakeup maxproc command
# 1. submission-like: STARTTLS required + AUTH required to relay
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/submission
  $lenient
  -o smtpd_tls_security_level=encrypt
  $auth
# 2. implicit TLS (smtps) + AUTH
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/smtps
  $lenient
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  $auth
# 3. plain: no TLS, no AUTH; loopback may relay anywhere
127.0.0.1:$PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/plain
  $lenient
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
# 4a. STARTTLS + AUTH, CHUNKING not advertised
127.0.0.1:$NOCHUNKING_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/nochunking
  $lenient
  -o smtpd_tls_security_level=encrypt
  -o smtpd_discard_ehlo_keywords=chunking
  $auth
# 4b. STARTTLS + AUTH, neither PIPELINING nor CHUNKING advertised
127.0.0.1:$NOPIPELINING_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/nopipelining
  $lenient
  -o smtpd_tls_security_level=encrypt
  -o smtpd_discard_ehlo_keywords=pipelining,chunking
  $auth
# 5. STARTTLS + AUTH with a self-signed cert for the WRONG name (not from ca.pem)
127.0.0.1:$BADCERT_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/badcert
  $lenient
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_cert_file=\$harness_bad_cert_file
  -o smtpd_tls_key_file=\$harness_bad_key_file
  $auth
# 6. plain like 3, with Postfix's STOCK error limits (not overridden here):
#    after smtpd_soft_error_limit (10) errors every reply waits
#    smtpd_error_sleep_time (1s); at smtpd_hard_error_limit (20) the session
#    ends with 421. Recipients containing "unknown" are refused (an error each).
127.0.0.1:$STOCK_ERRORS_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/stockerrors
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=check_recipient_access,regexp:$etc/refused-recipients.regexp
# 7. submission as a stock Postfix has it: STARTTLS + AUTH like 1, with the STOCK error
#    limits and "unknown" recipients refused like 6 (the interop harness's Postfix).
127.0.0.1:$STOCK_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=\$harness_syslog_name/stocksubmission
  -o smtpd_tls_security_level=encrypt
  $auth
  -o smtpd_recipient_restrictions=check_recipient_access,regexp:$etc/refused-recipients.regexp
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

  cat >"$D/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $D/sasldb2
EOF
}

try_start() {
  local D=$1
  local out rc=0
  out=$(postfix -c "$D/etc" start 2>&1) || rc=$?
  [ "$rc" = 0 ] || { [ -z "$out" ] || echo "$out" >&2; return 1; }
  return 0
}

cmd_start() {
  need_root
  local D="" discard=0 a
  for a in "$@"; do
    case "$a" in
      --discard) discard=1 ;;
      -*) die "unknown option $a" ;;
      *) [ -z "$D" ] || die "one DIR only"; D=$a ;;
    esac
  done
  [ -n "$D" ] || usage
  command -v postfix >/dev/null && command -v saslpasswd2 >/dev/null ||
    die "postfix/sasl2-bin missing: run '$PROG install' first"
  mkdir -p "$D"
  D=$(abspath "$D")
  case "$D" in *[[:space:]]*|*,*|*=*|*\$*) die "DIR must not contain whitespace, ',', '=' or '\$': $D" ;; esac
  if instance_pid "$D" >/dev/null; then die "an instance is already running in $D (stop it first)"; fi
  # Safety: start wipes DIR/etc, queue, maildir...; only do that in an empty DIR
  # or one that this script made (marker file).
  [ "$D" != / ] || die "DIR must not be /"
  if [ ! -e "$D/.postfix-harness" ] && [ -n "$(ls -A "$D")" ]; then
    die "$D is not empty and was not made by $PROG; use an empty or new DIR"
  fi
  : >"$D/.postfix-harness"

  local t0=$SECONDS
  MYHOSTNAME=${POSTFIX_MYHOSTNAME:-localhost}

  # The postfix user must be able to reach DIR (queue, data, maildir, sasldb).
  chmod 755 "$D"
  local p=$D
  while [ "$p" != / ]; do
    p=$(dirname "$p")
    runuser -u postfix -- test -x "$p" || die "postfix user cannot traverse $p (chmod o+x it or pick another DIR)"
  done

  # Fresh state every start (but keep TLS material if present and valid).
  rm -rf "${D:?}/etc" "$D/queue" "$D/data" "$D/sasldb2" "$D/maildir" "$D/log"
  mkdir -p "$D/etc/sasl" "$D/queue" "$D/data" "$D/log"
  mkdir -p "$D/maildir/new" "$D/maildir/cur" "$D/maildir/tmp"
  chown -R "${MAILDIR_UID:-$(id -u postfix)}:${MAILDIR_GID:-$(id -g postfix)}" "$D/maildir"
  chmod 755 "$D/maildir" "$D/maildir/new" "$D/maildir/cur" "$D/maildir/tmp"
  chown postfix:postfix "$D/data"; chmod 700 "$D/data"
  chmod 755 "$D/log"
  if ! { [ -s "$D/tls/ca.pem" ] && [ -s "$D/tls/server.pem" ] && [ -s "$D/tls/bad.pem" ] &&
         openssl verify -CAfile "$D/tls/ca.pem" "$D/tls/server.pem" >/dev/null 2>&1 &&
         openssl x509 -checkend 86400 -noout -in "$D/tls/server.pem" >/dev/null 2>&1; }; then
    rm -rf "$D/tls"; gen_tls "$D/tls"
  fi
  chmod 755 "$D/tls"
  chmod 644 "$D/tls/"*.pem

  # SASL users.
  SMTP_USER=${SMTP_USER:-sender@example.test}
  SMTP_PASSWORD=${SMTP_PASSWORD:-sender-secret-1}
  SMTP_USER2=${SMTP_USER2:-other@example.test}
  SMTP_PASSWORD2=${SMTP_PASSWORD2:-other-secret-2}
  sasl_add_user "$D/sasldb2" "$SMTP_USER" "$SMTP_PASSWORD"
  sasl_add_user "$D/sasldb2" "$SMTP_USER2" "$SMTP_PASSWORD2"
  chown root:postfix "$D/sasldb2"; chmod 640 "$D/sasldb2"
  {
    printf 'SMTP_USER=%q\n' "$SMTP_USER"
    printf 'SMTP_PASSWORD=%q\n' "$SMTP_PASSWORD"
    printf 'SMTP_USER2=%q\n' "$SMTP_USER2"
    printf 'SMTP_PASSWORD2=%q\n' "$SMTP_PASSWORD2"
  } >"$D/users.env"

  # Ports: POSTFIX_HARNESS_BASE_PORT=N gives N..N+7; each *_PORT env var
  # overrides; anything else is auto-picked (and re-picked on a bind clash).
  local attempt auto i v used
  local -a fixed=()
  for i in "${!PORT_VARS[@]}"; do
    v=${PORT_VARS[$i]}
    if [ -n "${!v:-}" ]; then fixed[$i]=${!v}
    elif [ -n "${POSTFIX_HARNESS_BASE_PORT:-}" ]; then fixed[$i]=$((POSTFIX_HARNESS_BASE_PORT + i))
    else continue; fi
    case "${fixed[$i]}" in ''|*[!0-9]*) die "$v=${fixed[$i]}: not a number" ;; esac
    [ "${fixed[$i]}" -ge 1024 ] && [ "${fixed[$i]}" -le 65535 ] ||
      die "$v=${fixed[$i]}: need a port in 1024..65535 (never 25)"
    ! port_in_use "${fixed[$i]}" || die "$v=${fixed[$i]}: port already in use"
  done
  if [ -n "$(printf '%s\n' "${fixed[@]}" | sort | uniq -d)" ]; then die "the same port is given twice: ${fixed[*]}"; fi
  for attempt in 1 2 3 4 5; do
    auto=0; used=""
    for i in "${!PORT_VARS[@]}"; do
      v=${PORT_VARS[$i]}
      if [ -n "${fixed[$i]:-}" ]; then
        printf -v "$v" '%s' "${fixed[$i]}"
      else
        printf -v "$v" '%s' "$(pick_port $used "${fixed[@]}")"; auto=1
      fi
      used="$used ${!v}"
    done
    write_config "$D" "$discard"
    {
      for v in "${PORT_VARS[@]}"; do printf '%s=%s\n' "$v" "${!v}"; done
      printf 'SMTP_HOST=127.0.0.1\n'
      printf 'SMTP_TLS_NAME=localhost\n'
      printf 'SMTP_CA_FILE=%s\n' "$D/tls/ca.pem"
      printf 'MAILDIR=%s\n' "$D/maildir"
      printf 'DELIVERY=%s\n' "$([ "$discard" = 1 ] && echo discard || echo maildir)"
    } >"$D/ports.env"

    local chk
    chk=$(postfix -c "$D/etc" check 2>&1) || { echo "$chk" >&2; die "postfix check failed"; }
    [ -z "$chk" ] || echo "$chk" >&2

    if try_start "$D"; then
      # Wait for every listener's 220 banner.
      local deadline=$((SECONDS + ${POSTFIX_HARNESS_START_TIMEOUT:-30})) pending
      local -a up=()
      while :; do
        pending=""
        for i in "${!PORT_VARS[@]}"; do
          [ -z "${up[$i]:-}" ] || continue
          v=${PORT_VARS[$i]}
          if banner_ok "${!v}" "$([ "${LISTENERS[$i]}" = smtps ] && echo 1 || echo 0)"; then
            up[$i]=1
          else
            pending="$pending ${LISTENERS[$i]}:${!v}"
          fi
        done
        [ -n "$pending" ] || break
        if ! instance_pid "$D" >/dev/null; then break; fi
        [ $SECONDS -lt "$deadline" ] || break
        sleep 0.2
      done
      if [ -z "$pending" ]; then
        log "started $D in $((SECONDS - t0))s (pid $(instance_pid "$D"), $([ "$discard" = 1 ] && echo discard || echo maildir) delivery)"
        cat "$D/ports.env"
        return 0
      fi
    fi
    # Failed. If it was a port clash on auto-picked ports, retry with new ports.
    local clash
    clash=$(sed -n 's/.*fatal: bind 127\.0\.0\.1 port \([0-9]*\): Address already in use.*/\1/p' \
              "$D/log/maillog" 2>/dev/null | tail -n1)
    if [ "$auto" = 1 ] && [ -n "$clash" ] && ! [[ " ${fixed[*]} " == *" $clash "* ]]; then
      log "port clash, retrying with other ports"
      cmd_stop "$D" >/dev/null 2>&1 || true
      mv "$D/log/maillog" "$D/log/maillog.clash.$attempt" 2>/dev/null || true
      continue
    fi
    log "instance in $D did not come up (pending:${pending:-?}); maillog tail:"
    tail -n 40 "$D/log/maillog" >&2 2>/dev/null || echo "(no maillog)" >&2
    cmd_stop "$D" >/dev/null 2>&1 || true
    die "start failed"
  done
  die "start failed after repeated port clashes"
}

# ------------------------------------------------------------------- stop ----

cmd_stop() {
  need_root
  [ $# -eq 1 ] || usage
  local D pid
  D=$(abspath "$1" 2>/dev/null) || { log "no such DIR $1 (nothing to stop)"; return 0; }
  pid=$(instance_pid "$D") || { log "not running: $D"; return 0; }
  postfix -c "$D/etc" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "master $pid still alive after 10s; SIGKILL to its process group"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  log "stopped $D"
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local D pid
  D=$(abspath "$1") || die "no such DIR $1"
  if pid=$(instance_pid "$D"); then
    echo "running: pid $pid, dir $D"
    [ -f "$D/ports.env" ] && cat "$D/ports.env"
    echo "maildir/new: $(find "$D/maildir/new" -type f 2>/dev/null | wc -l) message(s)"
    return 0
  fi
  echo "stopped: $D"
  return 3
}

cmd_logs() {
  [ $# -eq 1 ] || usage
  local f=$1/log/maillog
  [ -f "$f" ] || die "no maillog at $f"
  cat "$f"
}

cmd_wait_mail() {
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  local D=$1 want=$2 timeout=${3:-30} n=0
  local dl=$((SECONDS + timeout))
  while :; do
    n=$(find "$D/maildir/new" -maxdepth 1 -type f 2>/dev/null | wc -l)
    [ "$n" -lt "$want" ] || { echo "$n"; return 0; }
    [ $SECONDS -lt $dl ] || break
    sleep 0.1
  done
  echo "$PROG: timeout after ${timeout}s: $n of $want message(s) in $D/maildir/new" >&2
  return 1
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  logs) shift; cmd_logs "$@" ;;
  wait-mail) shift; cmd_wait_mail "$@" ;;
  *) usage ;;
esac
