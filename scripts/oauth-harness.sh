#!/usr/bin/env bash
# oauth-harness.sh — a test OAuth 2.0 token endpoint (TLS) and an aiosmtpd SMTP server that
# accepts AUTH XOAUTH2 and OAUTHBEARER with its tokens, in one private process on free
# 127.0.0.1 ports, for smtp-sidecar's OAuth tests.
#
#   scripts/oauth-harness.sh install
#   scripts/oauth-harness.sh start [DIR]     installs if needed; prints DIR/oauth.env
#   scripts/oauth-harness.sh stop [DIR]
#   scripts/oauth-harness.sh env [DIR]       prints DIR/oauth.env
#   scripts/oauth-harness.sh status [DIR]
#
# DIR defaults to $OAUTH_HARNESS_DIR or /tmp/smtp-sidecar-oauth-harness. See
# scripts/OAUTH-HARNESS.md. start and stop are idempotent: start on a running harness
# prints its environment again, stop on a stopped one does nothing.
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd -P)
CACHE=${INTEROP_CACHE_DIR:-/var/cache/smtp-sidecar-interop}
VENV=$CACHE/oauth-venv
AIOSMTPD_VERSION=1.4.6
DEFAULT_DIR=${OAUTH_HARNESS_DIR:-/tmp/smtp-sidecar-oauth-harness}
DOMAIN=example.test

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- install ----

installed() {
  "$VENV/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null
}

cmd_install() {
  installed && return 0
  mkdir -p "$CACHE"
  # Tests started in parallel may all find it missing: one installs, the others wait.
  ( flock 9; installed || install_venv ) 9>"$CACHE/oauth-venv.lock"
}

install_venv() {
  # Debian's interpreter when present (a pyenv shim is slow to start and may move).
  local python=/usr/bin/python3
  [ -x "$python" ] || python=$(command -v python3) || die "python3 is missing"
  rm -rf "$VENV"
  if ! "$python" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    [ "$python" = /usr/bin/python3 ] || die "$python -m venv failed"
    log "installing python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; } ||
      die "apt-get install python3-venv failed"
    "$python" -m venv "$VENV"
  fi
  log "installing aiosmtpd $AIOSMTPD_VERSION from PyPI into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  installed || die "aiosmtpd $AIOSMTPD_VERSION did not install"
}

# ------------------------------------------------------------------ start ----

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A free port in [20000, first ephemeral port), not in "$@".
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

# A private CA and a certificate for localhost and 127.0.0.1 signed by it, in $1.
gen_tls() {
  local t=$1 name=$2
  mkdir -p "$t"
  (
    cd "$t"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.pem -subj "/O=smtp-sidecar oauth harness/CN=smtp-sidecar $name test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout server.key -out server.csr \
      -subj "/O=smtp-sidecar oauth harness/CN=localhost" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days 3650 -sha256 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl ca.key
    chmod 644 ca.pem server.pem
    openssl verify -CAfile ca.pem server.pem >/dev/null
  ) || die "TLS material generation failed in $t"
}

# The server runs in its own session (setsid); its leader's pid is DIR/server.pid.
alive() { [ -s "$1/server.pid" ] && kill -0 -- "-$(cat "$1/server.pid")" 2>/dev/null; }

# Every signal unblocked and at its default disposition, and no descriptor but 0-2 of
# whoever started us: started from a test runner, the server would otherwise inherit its
# blocked SIGTERM (and never stop) and the descriptor Foundation's Process watches for its
# child's end (which would then never come). As in interop-harness.sh.
UNMASK='
  sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!";
  opendir(my $fds, "/proc/self/fd") or die "/proc/self/fd: $!";
  my @inherited = grep { /^\d+$/ && $_ > 2 } readdir($fds);
  closedir($fds);
  POSIX::close($_) for @inherited;
  exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";'

resolve_dir() {
  local d=${1:-$DEFAULT_DIR}
  case "$d" in /*) ;; *) d=$PWD/$d ;; esac
  case "$d" in *[[:space:]]*|*,*|*=*|*\$*|*\'*|*\"*) die "DIR must not contain whitespace or , = \$ ' \": $d" ;; esac
  [ "$d" != / ] || die "DIR must not be /"
  echo "$d"
}

cmd_start() {
  [ $# -le 1 ] || usage
  local D t0=$SECONDS
  D=$(resolve_dir "${1:-}")
  if alive "$D" && [ -s "$D/oauth.env" ]; then
    log "already running in $D"; cat "$D/oauth.env"; return 0
  fi
  for tool in openssl ss perl setsid; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: openssl, iproute2, perl-base, util-linux)"
  done
  cmd_install
  mkdir -p "$D"
  if [ -e "$D/.oauth-harness" ]; then
    find "$D" -mindepth 1 -maxdepth 1 ! -name .oauth-harness -exec rm -rf {} +
  elif [ -n "$(ls -A "$D")" ]; then
    die "$D is not empty and was not made by $PROG; use an empty or new DIR"
  fi
  : >"$D/.oauth-harness"
  mkdir -p "$D/log" "$D/maildir/new" "$D/maildir/cur" "$D/maildir/tmp"
  gen_tls "$D/tls/token" "token endpoint"
  gen_tls "$D/tls/smtp" "SMTP"

  local token_port control_port starttls_port tls_port
  local lifetime=${OAUTH_TOKEN_LIFETIME:-5}
  # The secrets, random for each start; the server reads them from this file.
  (
    umask 077
    printf '%s\n' "CLIENT_ID=harness-client-$(openssl rand -hex 6)" "CLIENT_SECRET=cs-$(openssl rand -hex 16)" \
      "TENANT=$(cat /proc/sys/kernel/random/uuid)" "REFRESH_TOKEN=rt-$(openssl rand -hex 24)" \
      "OAUTH_USER=sender@$DOMAIN" "REFRESH_TOKEN_2=rt-$(openssl rand -hex 24)" "OAUTH_USER_2=other@$DOMAIN" \
      >"$D/secrets.env"
  )
  # shellcheck disable=SC1091
  . "$D/secrets.env"
  # A port found free can be taken by another test's server before ours binds it: on
  # "address already in use", new ports and another try.
  local attempt
  for attempt in 1 2 3 4 5; do
    token_port=$(pick_port)
    control_port=$(pick_port "$token_port")
    starttls_port=$(pick_port "$token_port" "$control_port")
    tls_port=$(pick_port "$token_port" "$control_port" "$starttls_port")
    rm -f "$D/ready"
    : >"$D/log/server.log"
    setsid env --default-signal perl -MPOSIX -e "$UNMASK" "$VENV/bin/python" "$HERE/oauth/oauth_server.py" \
      --token-port "$token_port" --control-port "$control_port" \
      --starttls-port "$starttls_port" --tls-port "$tls_port" --token-lifetime "$lifetime" \
      --access-token-length "${OAUTH_ACCESS_TOKEN_LENGTH:-0}" \
      --token-cert "$D/tls/token/server.pem" --token-key "$D/tls/token/server.key" \
      --smtp-cert "$D/tls/smtp/server.pem" --smtp-key "$D/tls/smtp/server.key" \
      --maildir "$D/maildir" --secrets "$D/secrets.env" --ready-file "$D/ready" \
      </dev/null >>"$D/log/server.log" 2>&1 &
    echo $! >"$D/server.pid"
    local deadline=$((SECONDS + ${OAUTH_START_TIMEOUT:-30})) exited=0
    until [ -s "$D/ready" ]; do
      # The leader itself: its group exists only once setsid has run.
      if ! kill -0 "$(cat "$D/server.pid")" 2>/dev/null; then exited=1; break; fi
      if [ $SECONDS -ge "$deadline" ]; then
        cmd_stop "$D" >/dev/null 2>&1 || true; tail -n 30 "$D/log/server.log" >&2; die "not ready after ${OAUTH_START_TIMEOUT:-30}s"
      fi
      sleep 0.1
    done
    [ "$exited" = 1 ] || break
    if [ "$attempt" -lt 5 ] && grep -q 'address already in use' "$D/log/server.log"; then
      log "a port was taken before the server bound it; trying other ports"
      continue
    fi
    log "the server exited during start; its log:"; tail -n 30 "$D/log/server.log" >&2; die "did not start"
  done
  {
    printf '%s\n' \
      "OAUTH_HARNESS_DIR=$D" \
      "TOKEN_HOST=127.0.0.1" "TOKEN_TLS_NAME=localhost" "TOKEN_PORT=$token_port" \
      "TOKEN_URL=https://localhost:$token_port/token" \
      "TOKEN_URL_MICROSOFT=https://localhost:$token_port/$TENANT/oauth2/v2.0/token" \
      "TOKEN_CA_FILE=$D/tls/token/ca.pem" \
      "TENANT=$TENANT" "CLIENT_ID=$CLIENT_ID" "CLIENT_SECRET=$CLIENT_SECRET" \
      "REFRESH_TOKEN=$REFRESH_TOKEN" "OAUTH_USER=$OAUTH_USER" \
      "REFRESH_TOKEN_2=$REFRESH_TOKEN_2" "OAUTH_USER_2=$OAUTH_USER_2" \
      "TOKEN_LIFETIME=$lifetime" \
      "CONTROL_URL=http://127.0.0.1:$control_port" \
      "SMTP_HOST=127.0.0.1" "SMTP_TLS_NAME=localhost" \
      "STARTTLS_PORT=$starttls_port" "TLS_PORT=$tls_port" "SMTP_CA_FILE=$D/tls/smtp/ca.pem" \
      "AUTH_MECHANISMS=OAUTHBEARER,XOAUTH2" \
      "MAILDIR=$D/maildir" "LOG=$D/log/server.log"
  } >"$D/oauth.env"
  log "started in $D in $((SECONDS - t0))s"
  cat "$D/oauth.env"
}

# ------------------------------------------------------------- stop etc. ----

cmd_stop() {
  [ $# -le 1 ] || usage
  local D pgid
  D=$(resolve_dir "${1:-}")
  alive "$D" || { log "not running: $D"; return 0; }
  pgid=$(cat "$D/server.pid")
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 -- "-$pgid" 2>/dev/null; then
    log "process group $pgid still alive after 5s; SIGKILL"
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  rm -f "$D/ready"
  log "stopped $D"
}

cmd_env() {
  [ $# -le 1 ] || usage
  local D
  D=$(resolve_dir "${1:-}")
  alive "$D" && [ -s "$D/oauth.env" ] || die "not running: $D"
  cat "$D/oauth.env"
}

cmd_status() {
  [ $# -le 1 ] || usage
  local D
  D=$(resolve_dir "${1:-}")
  if alive "$D"; then echo "running: $D"; return 0; fi
  echo "stopped: $D"; return 3
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  env) shift; cmd_env "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) usage ;;
esac
