#!/usr/bin/env bash
# interop-harness.sh — real SMTP servers other than our own Postfix set-up, each private,
# on free 127.0.0.1 ports (never 25), for smtp-sidecar's interop tests.
#
#   scripts/interop-harness.sh install
#   scripts/interop-harness.sh start NAME DIR     NAME: exim chasquid aiosmtpd opensmtpd postfix
#   scripts/interop-harness.sh stop DIR
#   scripts/interop-harness.sh restart DIR        stop (every process of it) and start again, same ports
#   scripts/interop-harness.sh status DIR
#   scripts/interop-harness.sh wait-mail DIR COUNT [TIMEOUT_SECONDS]
#
# See scripts/interop-harness.md. Must run as root. `start` prints DIR/server.env: the
# ports, the user and password, the CA file, the Maildir and the log of that server.
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd -P)
CACHE=${INTEROP_CACHE_DIR:-/var/cache/smtp-sidecar-interop}
SERVERS=(exim chasquid aiosmtpd opensmtpd postfix)
# Debian's MTA packages conflict with the installed postfix (mail-transport-agent): they
# are downloaded and unpacked into $CACHE, never installed.
DEBS=(exim4-daemon-heavy chasquid opensmtpd)
AIOSMTPD_VERSION=1.4.6
# Recipients every server delivers (local parts at example.test); chasquid accepts only
# users it knows, so these are its users. A local part starting with "unknown" is refused
# (550 5.1.1) by every server.
MAILBOXES=(sender to cc bcc jörg $(seq -f 'rcpt%g' 1 20))
DOMAIN=example.test

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

apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  export DEBIAN_FRONTEND=noninteractive
  local plan
  plan=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1) ||
    { apt-get update -qq && plan=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1); } ||
    die "apt-get cannot install ${missing[*]}: $plan"
  # Installing must remove nothing (the MTAs would take postfix away).
  if grep -q '^Remv ' <<<"$plan"; then
    die "installing ${missing[*]} would remove: $(grep '^Remv ' <<<"$plan" | tr '\n' ' ')"
  fi
  log "installing: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The library dependencies of an unpacked package: its Depends, less the packages that
# only an installed MTA needs (they are never installed here).
deb_libraries() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
    grep -v -x -E 'exim4-base|debconf|debconf-2.0|adduser|ed|lsb-base|init-system-helpers|' || true
}

add_system_user() {
  local name=$1 home=$2
  id "$name" >/dev/null 2>&1 && return 0
  log "adding system user $name"
  useradd --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin "$name" 2>/dev/null ||
    useradd --badname --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin "$name"
}

cmd_install() {
  need_root
  "$HERE/postfix-harness.sh" install
  # openssl: test CA; util-linux: unshare (OpenSMTPD's private mount namespace);
  # iproute2: ss (free ports); python3-venv: the aiosmtpd environment.
  apt_install openssl util-linux iproute2 python3
  mkdir -p "$CACHE/debs"
  local pkg deb libs=()
  for pkg in "${DEBS[@]}"; do
    deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
      log "downloading $pkg"
      ( cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1 ) ||
        { apt-get update -qq && ( cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null ); } ||
        die "apt-get download $pkg failed"
      deb=$(ls "$CACHE/debs/${pkg}_"*.deb | head -n1)
    fi
    if [ "$(cat "$CACHE/$pkg/.unpacked" 2>/dev/null)" != "$(basename "$deb")" ]; then
      rm -rf "${CACHE:?}/$pkg"; mkdir -p "$CACHE/$pkg"
      dpkg -x "$deb" "$CACHE/$pkg"
      basename "$deb" >"$CACHE/$pkg/.unpacked"
    fi
    mapfile -t -O "${#libs[@]}" libs < <(deb_libraries "$deb")
  done
  apt_install $(printf '%s\n' "${libs[@]}" | sort -u)
  add_system_user Debian-exim /nonexistent
  add_system_user opensmtpd /var/lib/opensmtpd/empty
  add_system_user opensmtpq /var/lib/opensmtpd/empty
  # aiosmtpd from PyPI, in its own environment.
  local venv=$CACHE/aiosmtpd-venv
  if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      rm -rf "$venv"
      [ "$(command -v python3)" = /usr/bin/python3 ] || die "python3 -m venv failed"
      apt_install python3-venv
      python3 -m venv "$venv"
    fi
    log "installing aiosmtpd $AIOSMTPD_VERSION from PyPI"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  log "installed: $(cat "$CACHE/exim4-daemon-heavy/.unpacked") $(cat "$CACHE/chasquid/.unpacked") $(cat "$CACHE/opensmtpd/.unpacked") aiosmtpd $AIOSMTPD_VERSION"
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

abspath() { (cd "$1" && pwd -P); }

gen_tls() {
  local t=$1
  mkdir -p "$t"
  (
    cd "$t"
    umask 022
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.pem -subj "/O=smtp-sidecar interop/CN=smtp-sidecar Interop CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout server.key -out server.csr \
      -subj "/O=smtp-sidecar interop/CN=localhost" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days 3650 -sha256 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl ca.key
    # Read by the servers' unprivileged users (Debian-exim); a test key.
    chmod 644 server.key
    openssl verify -CAfile ca.pem server.pem >/dev/null
  ) || die "TLS material generation failed in $t"
}

# Waits until 127.0.0.1:$1 greets with "220 ". $2 = implicit TLS (1/0).
banner_ok() {
  local port=$1 tls=$2 out
  if [ "$tls" = 1 ]; then
    out=$({ sleep 0.3; printf 'QUIT\r\n'; } |
          timeout 5 openssl s_client -connect "127.0.0.1:$port" -quiet 2>/dev/null | head -n1) || true
  else
    out=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -n1 <&3; printf 'QUIT\r\n' >&3" 2>/dev/null) || true
  fi
  case "$out" in 220\ *|220-*) return 0 ;; *) return 1 ;; esac
}

# Every process of the server runs in one session started by setsid; its id is the
# leader's pid, kept in DIR/server.pid.
group_alive() { [ -s "$1/server.pid" ] && kill -0 -- "-$(cat "$1/server.pid")" 2>/dev/null; }

# Runs a command with every signal unblocked and at its default disposition, and with no
# descriptor but 0-2 of whoever started us. Started from a test runner, a server would
# otherwise inherit its blocked SIGTERM (and never stop), and the descriptor Foundation's
# Process watches for the end of its child (which would then never come).
UNMASK='
  sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!";
  opendir(my $fds, "/proc/self/fd") or die "/proc/self/fd: $!";
  my @inherited = grep { /^\d+$/ && $_ > 2 } readdir($fds);
  closedir($fds);
  POSIX::close($_) for @inherited;
  exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";'
unmasked() { env --default-signal perl -MPOSIX -e "$UNMASK" "$@"; }

launch() {
  local D=$1
  : >>"$D/log/stdout"
  setsid env --default-signal perl -MPOSIX -e "$UNMASK" "$D/launch" </dev/null >>"$D/log/stdout" 2>&1 &
  echo $! >"$D/server.pid"
}

# Waits for every listener in $LISTEN (port:tls pairs) to greet.
wait_listening() {
  local D=$1 deadline=$((SECONDS + ${INTEROP_START_TIMEOUT:-30})) pending pair
  while :; do
    pending=""
    for pair in ${LISTEN//,/ }; do banner_ok "${pair%:*}" "${pair#*:}" || pending="$pending ${pair%:*}"; done
    [ -n "$pending" ] || return 0
    if [ "$SERVER" != postfix ] && ! group_alive "$D"; then
      log "$SERVER exited during start; its output:"; tail -n 30 "$D/log/stdout" >&2; return 1
    fi
    [ $SECONDS -lt "$deadline" ] || { log "$SERVER: no greeting on port(s)$pending"; tail -n 30 "$D/log/stdout" >&2; return 1; }
    sleep 0.2
  done
}

new_maildir() {
  local m=$1 owner=$2
  mkdir -p "$m/new" "$m/cur" "$m/tmp"
  chown -R "$owner" "$m"
  chmod 755 "$m" "$m/new" "$m/cur" "$m/tmp"
}

setup_exim() {
  local D=$1 exim=$CACHE/exim4-daemon-heavy/usr/sbin/exim4
  [ -x "$exim" ] || die "exim is not unpacked: run '$PROG install' first"
  STARTTLS_PORT=$(pick_port); TLS_PORT=$(pick_port "$STARTTLS_PORT")
  mkdir -p "$D/spool" "$D/etc"
  chown Debian-exim:Debian-exim "$D/spool" "$D/log"
  new_maildir "$D/maildir" Debian-exim:Debian-exim
  # A private configuration: Exim's compiled-in defaults (Debian's build) for everything
  # not set here, e.g. smtp_accept_queue_per_connection = 10, SMTPUTF8, CHUNKING and
  # PIPELINING advertised to all, no DSN advertised, message_size_limit 50M.
  cat >"$D/etc/exim.conf" <<EOF
# Generated by $PROG. Exim runs it with -C, so it gives up root after binding: every
# delivery runs as Debian-exim.
exim_path = $exim
keep_environment =
primary_hostname = localhost
spool_directory = $D/spool
log_file_path = $D/log/%slog
pid_file_path = $D/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = $STARTTLS_PORT : $TLS_PORT
tls_on_connect_ports = $TLS_PORT
tls_advertise_hosts = *
tls_certificate = $D/tls/server.pem
tls_privatekey = $D/tls/server.key
auth_advertise_hosts = \${if eq{\$tls_in_cipher}{}{}{*}}
domainlist local_domains = $DOMAIN
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  deny    message = 5.1.1 <\$local_part@\$domain>: User unknown
          local_parts = ^unknown
  accept  authenticated = *
  deny    message = 5.7.1 Relaying denied

begin routers
everything:
  driver = accept
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = $D/maildir
  maildir_format
  delivery_date_add
  envelope_to_add
  return_path_add
  headers_add = Delivered-To: \$local_part@\$domain
  mode = 0644

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_condition = \${if and{{eq{\$auth2}{$SMTP_USER}}{eq{\$auth3}{$SMTP_PASSWORD}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and{{eq{\$auth1}{$SMTP_USER}}{eq{\$auth2}{$SMTP_PASSWORD}}}}
  server_set_id = \$auth1
EOF
  chown root:Debian-exim "$D/etc/exim.conf"; chmod 640 "$D/etc/exim.conf"
  printf '#!/bin/sh\nexec %q -C %q -bdf\n' "$exim" "$D/etc/exim.conf" >"$D/launch"
  LOG=$D/log/mainlog
  LISTEN="$STARTTLS_PORT:0 $TLS_PORT:1"
  AUTH_MECHANISMS="PLAIN LOGIN"
}

setup_chasquid() {
  local D=$1 bin=$CACHE/chasquid/usr/bin u
  [ -x "$bin/chasquid" ] || die "chasquid is not unpacked: run '$PROG install' first"
  MX_PORT=$(pick_port); STARTTLS_PORT=$(pick_port "$MX_PORT"); TLS_PORT=$(pick_port "$MX_PORT" "$STARTTLS_PORT")
  mkdir -p "$D/etc/certs/localhost" "$D/etc/domains/$DOMAIN" "$D/data"
  cp "$D/tls/server.pem" "$D/etc/certs/localhost/fullchain.pem"
  cp "$D/tls/server.key" "$D/etc/certs/localhost/privkey.pem"
  new_maildir "$D/maildir" root:root
  # The MDA: one Maildir file per recipient, with the envelope in front.
  cat >"$D/deliver" <<EOF
#!/bin/sh
set -e
name=\$(date +%s).\$\$.\$(od -An -N4 -tx4 /dev/urandom | tr -d ' ').localhost
{ printf 'Return-Path: <%s>\nDelivered-To: %s\n' "\$1" "\$2"; cat; } >"$D/maildir/tmp/\$name"
mv "$D/maildir/tmp/\$name" "$D/maildir/new/\$name"
EOF
  chmod 755 "$D/deliver"
  cat >"$D/etc/chasquid.conf" <<EOF
# Generated by $PROG; chasquid's defaults for everything else.
hostname: "localhost"
smtp_address: "127.0.0.1:$MX_PORT"
submission_address: "127.0.0.1:$STARTTLS_PORT"
submission_over_tls_address: "127.0.0.1:$TLS_PORT"
mail_delivery_agent_bin: "$D/deliver"
mail_delivery_agent_args: "%from%"
mail_delivery_agent_args: "%to%"
data_dir: "$D/data"
mail_log_path: "$D/log/mail.log"
EOF
  # chasquid accepts mail only for users it knows. The mailboxes' users (random
  # passwords, never used) are made once, as a template in $CACHE: each user-add hashes
  # with scrypt, about 0.2 s.
  local template=$CACHE/chasquid-users.$(printf '%s ' "${MAILBOXES[@]}" | md5sum | cut -c1-12)
  if [ ! -s "$template" ]; then
    local scratch
    scratch=$(mktemp -d "$D/users.XXXXXX")
    mkdir -p "$scratch/domains/$DOMAIN"
    for u in "${MAILBOXES[@]}"; do
      [ "$u@$DOMAIN" = "$SMTP_USER" ] && continue
      "$bin/chasquid-util" -C="$scratch" user-add "$u@$DOMAIN" --password="$(openssl rand -hex 12)" >/dev/null
    done
    mv "$scratch/domains/$DOMAIN/users" "$template.$$" && mv "$template.$$" "$template"
    rm -rf "$scratch"
  fi
  cp "$template" "$D/etc/domains/$DOMAIN/users"
  "$bin/chasquid-util" -C="$D/etc" user-add "$SMTP_USER" --password="$SMTP_PASSWORD" >/dev/null
  printf '#!/bin/sh\nexec %q -config_dir=%q -logfile=%q\n' "$bin/chasquid" "$D/etc" "$D/log/chasquid.log" >"$D/launch"
  LOG=$D/log/mail.log
  LISTEN="$MX_PORT:0 $STARTTLS_PORT:0 $TLS_PORT:1"
  AUTH_MECHANISMS="PLAIN"
}

setup_aiosmtpd() {
  local D=$1 python=$CACHE/aiosmtpd-venv/bin/python
  [ -x "$python" ] || die "aiosmtpd is not installed: run '$PROG install' first"
  STARTTLS_PORT=$(pick_port); TLS_PORT=$(pick_port "$STARTTLS_PORT")
  new_maildir "$D/maildir" root:root
  umask 077; printf '%s\n' "$SMTP_PASSWORD" >"$D/etc/password"; umask 022
  printf '#!/bin/sh\nexec %q %q --starttls-port %s --tls-port %s --cert %q --key %q --maildir %q --user %q --password-file %q\n' \
    "$python" "$HERE/interop/aiosmtpd-server.py" "$STARTTLS_PORT" "$TLS_PORT" "$D/tls/server.pem" "$D/tls/server.key" \
    "$D/maildir" "$SMTP_USER" "$D/etc/password" >"$D/launch"
  LOG=$D/log/stdout
  LISTEN="$STARTTLS_PORT:0 $TLS_PORT:1"
  AUTH_MECHANISMS="PLAIN LOGIN"
}

setup_opensmtpd() {
  local D=$1 root=$CACHE/opensmtpd
  [ -x "$root/usr/sbin/smtpd" ] || die "opensmtpd is not unpacked: run '$PROG install' first"
  PLAIN_PORT=$(pick_port)
  mkdir -p "$D/spool"; chmod 711 "$D/spool"
  new_maildir "$D/maildir" nobody:nogroup
  printf '@%s nobody\n' "$DOMAIN" >"$D/etc/virtual"
  # Plaintext only: OpenSMTPD 6.8 cannot complete a TLS handshake with OpenSSL 3
  # (upstream issues #1171 and #1239), and it offers AUTH only over TLS.
  cat >"$D/etc/smtpd.conf" <<EOF
# Generated by $PROG; OpenSMTPD's defaults for everything else.
table vusers file:$D/etc/virtual
listen on 127.0.0.1 port $PLAIN_PORT hostname localhost
action "deliver" maildir "$D/maildir" virtual <vusers>
match from any for domain "$DOMAIN" rcpt-to regex "^unknown" reject
match from any for domain "$DOMAIN" action "deliver"
EOF
  # Its paths are compiled in: a private mount namespace gives it its own spool,
  # libexec, run and chroot directories, bound from $D and $CACHE.
  cat >"$D/launch" <<EOF
#!/bin/sh
set -e
exec unshare -m --propagation private /bin/sh -ec '
mount -t tmpfs -o mode=0755 interop-libexec /usr/libexec
mkdir /usr/libexec/opensmtpd
mount --bind "$root/usr/libexec/opensmtpd" /usr/libexec/opensmtpd
mount -t tmpfs -o mode=0755 interop-spool /var/spool
mkdir /var/spool/smtpd
mount --bind "$D/spool" /var/spool/smtpd
mount -t tmpfs -o mode=0755 interop-run /run
mount -t tmpfs -o mode=0755 interop-lib /var/lib
mkdir -p /var/lib/opensmtpd/empty
exec "$root/usr/sbin/smtpd" -d -f "$D/etc/smtpd.conf"'
EOF
  LOG=$D/log/stdout
  LISTEN="$PLAIN_PORT:0"
  SMTP_USER=""; SMTP_PASSWORD=""; AUTH_MECHANISMS=""
}

# Postfix with its stock limits: the Postfix harness's stocksubmission listener (STARTTLS
# and AUTH required, Postfix's stock error limits, "unknown" recipients refused), and its
# smtps listener for implicit TLS.
start_postfix() {
  local D=$1 P=$1/postfix
  unmasked "$HERE/postfix-harness.sh" start "$P" >/dev/null
  # shellcheck disable=SC1091
  . "$P/ports.env"; . "$P/users.env"
  STARTTLS_PORT=$STOCK_SUBMISSION_PORT; TLS_PORT=$SMTPS_PORT
  SMTP_CA_FILE=$P/tls/ca.pem; MAILDIR=$P/maildir; LOG=$P/log/maillog
  LISTEN="$STARTTLS_PORT:0 $TLS_PORT:1"
  AUTH_MECHANISMS="PLAIN LOGIN"
}

write_env() {
  local D=$1
  {
    printf 'SERVER=%s\n' "$SERVER"
    printf 'SMTP_HOST=127.0.0.1\n'
    printf 'SMTP_TLS_NAME=localhost\n'
    printf 'STARTTLS_PORT=%s\n' "${STARTTLS_PORT:-}"
    printf 'TLS_PORT=%s\n' "${TLS_PORT:-}"
    printf 'PLAIN_PORT=%s\n' "${PLAIN_PORT:-}"
    printf 'MX_PORT=%s\n' "${MX_PORT:-}"
    printf 'SMTP_CA_FILE=%s\n' "${SMTP_CA_FILE:-}"
    printf 'SMTP_USER=%s\n' "${SMTP_USER:-}"
    printf 'SMTP_PASSWORD=%s\n' "${SMTP_PASSWORD:-}"
    printf 'AUTH_MECHANISMS=%s\n' "$(tr ' ' , <<<"${AUTH_MECHANISMS:-}")"
    printf 'MAILDIR=%s\n' "$MAILDIR"
    printf 'LOG=%s\n' "$LOG"
    printf 'LISTEN=%s\n' "$(tr ' ' , <<<"${LISTEN:-}")"
  } >"$D/server.env"
}

cmd_start() {
  need_root
  [ $# -eq 2 ] || usage
  SERVER=$1
  local D=$2 t0=$SECONDS
  case " ${SERVERS[*]} " in *" $SERVER "*) ;; *) die "unknown server $SERVER (one of: ${SERVERS[*]})" ;; esac
  mkdir -p "$D"
  D=$(abspath "$D")
  case "$D" in *[[:space:]]*|*,*|*=*|*\$*|*\'*|*\"*) die "DIR must not contain whitespace or , = \$ ' \": $D" ;; esac
  [ "$D" != / ] || die "DIR must not be /"
  if [ -e "$D/.interop-harness" ]; then
    ! group_alive "$D" || die "a server is already running in $D (stop it first)"
    find "$D" -mindepth 1 -maxdepth 1 ! -name .interop-harness -exec rm -rf {} +
  elif [ -n "$(ls -A "$D")" ]; then
    die "$D is not empty and was not made by $PROG; use an empty or new DIR"
  fi
  : >"$D/.interop-harness"
  # The servers' unprivileged users (Debian-exim, nobody, postfix) must reach DIR.
  chmod 755 "$D"
  local p=$D
  while [ "$p" != / ]; do
    p=$(dirname "$p")
    runuser -u nobody -- test -x "$p" || die "other users cannot traverse $p (chmod o+x it or pick another DIR)"
  done

  STARTTLS_PORT="" TLS_PORT="" PLAIN_PORT="" MX_PORT="" LISTEN=""
  if [ "$SERVER" = postfix ]; then
    start_postfix "$D"
  else
    mkdir -p "$D/etc" "$D/log"
    gen_tls "$D/tls"
    SMTP_CA_FILE=$D/tls/ca.pem
    MAILDIR=$D/maildir
    SMTP_USER=sender@$DOMAIN
    SMTP_PASSWORD=$(openssl rand -hex 12)
    "setup_$SERVER" "$D"
    chmod 755 "$D/launch"
    launch "$D"
    wait_listening "$D" || { cmd_stop "$D" >/dev/null 2>&1 || true; die "$SERVER did not start"; }
  fi
  write_env "$D"
  log "started $SERVER in $D in $((SECONDS - t0))s"
  cat "$D/server.env"
}

# ------------------------------------------------------------- stop etc. ----

load_env() {
  local D=$1
  [ -s "$D/server.env" ] || die "no server.env in $D"
  # shellcheck disable=SC1091
  . "$D/server.env"
}

cmd_stop() {
  need_root
  [ $# -eq 1 ] || usage
  local D pgid
  D=$(abspath "$1" 2>/dev/null) || { log "no such DIR $1 (nothing to stop)"; return 0; }
  if [ -d "$D/postfix" ]; then
    "$HERE/postfix-harness.sh" stop "$D/postfix" >/dev/null 2>&1 || true
    log "stopped postfix in $D"; return 0
  fi
  group_alive "$D" || { log "not running: $D"; return 0; }
  pgid=$(cat "$D/server.pid")
  # The whole group, like systemd stopping a unit: the listener and every session.
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 -- "-$pgid" 2>/dev/null; then
    log "process group $pgid still alive after 10s; SIGKILL"
    kill -KILL -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
  fi
  log "stopped $D"
}

cmd_restart() {
  need_root
  [ $# -eq 1 ] || usage
  local D
  D=$(abspath "$1") || die "no such DIR $1"
  load_env "$D"
  cmd_stop "$D"
  if [ "$SERVER" = postfix ]; then
    # Same configuration and ports, the queue and Maildir kept.
    unmasked postfix -c "$D/postfix/etc" start >/dev/null 2>&1 || die "postfix did not start again"
  else
    launch "$D"
  fi
  wait_listening "$D" || die "$SERVER did not start again"
  log "restarted $SERVER in $D"
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local D
  D=$(abspath "$1") || die "no such DIR $1"
  load_env "$D"
  local alive=0
  if [ "$SERVER" = postfix ]; then
    "$HERE/postfix-harness.sh" status "$D/postfix" >/dev/null && alive=1
  else
    group_alive "$D" && alive=1
  fi
  if [ $alive = 1 ]; then
    echo "running: $SERVER in $D"; cat "$D/server.env"
    echo "maildir/new: $(find "$MAILDIR/new" -type f 2>/dev/null | wc -l) message(s)"
    return 0
  fi
  echo "stopped: $SERVER in $D"
  return 3
}

cmd_wait_mail() {
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  local D=$1 want=$2 timeout=${3:-30} n=0
  load_env "$D"
  local dl=$((SECONDS + timeout))
  while :; do
    n=$(find "$MAILDIR/new" -maxdepth 1 -type f 2>/dev/null | wc -l)
    [ "$n" -lt "$want" ] || { echo "$n"; return 0; }
    [ $SECONDS -lt $dl ] || break
    sleep 0.1
  done
  echo "$PROG: timeout after ${timeout}s: $n of $want message(s) in $MAILDIR/new" >&2
  return 1
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  status) shift; cmd_status "$@" ;;
  wait-mail) shift; cmd_wait_mail "$@" ;;
  *) usage ;;
esac
