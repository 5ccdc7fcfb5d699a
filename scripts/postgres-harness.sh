#!/usr/bin/env bash
# postgres-harness.sh — a REAL PostgreSQL 15 (Debian's) in a private data directory on a
# random 127.0.0.1 port, for smtp-sidecar's tests. Never the system cluster, never a mock.
#
#   scripts/postgres-harness.sh start DIR [--owner-pid PID [--destroy-with-owner]]
#                                                              initdb if needed; prints DIR/postgres.env
#   scripts/postgres-harness.sh stop DIR                       fast shutdown; waits
#   scripts/postgres-harness.sh status DIR                     exit 0 running, 3 stopped
#   scripts/postgres-harness.sh psql DIR [PSQL_ARGS...]        superuser psql over the Unix socket
#   scripts/postgres-harness.sh createdb DIR NAME              a fresh database owned by sidecar
#   scripts/postgres-harness.sh logs DIR                       prints the server log
#   scripts/postgres-harness.sh destroy DIR                    stop, end the watchdog, remove DIR
#   scripts/postgres-harness.sh selftest                       end-to-end check ("N passed, N failed")
#
# See scripts/postgres-harness.md. Runs as root (the server then runs as the `postgres` OS
# user; initdb and postgres refuse root) or as any user (the server runs as that user).
# start is idempotent: on a running server it prints the environment again; on a stopped
# one it starts it again on the same port.
set -euo pipefail

PROG=${0##*/}
SELF=$(cd "$(dirname "$0")" && pwd -P)/$PROG
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.postgres-harness
START_TIMEOUT=${POSTGRES_HARNESS_START_TIMEOUT:-60}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

is_root() { [ "$(id -u)" = 0 ]; }

# A command as the cluster's OS user: `postgres` when we are root, ourselves otherwise. Run
# from DIR: initdb and pg_ctl fail when they cannot read the current directory (/root).
as_owner() {
  if is_root; then
    (cd "$D" && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
  else
    (cd "$D" && "$@")
  fi
}

# Every signal unblocked and at its default disposition, and no descriptor but 0-2 of
# whoever started us: started from a test runner, the server would otherwise inherit its
# blocked signals and the descriptor Foundation's Process watches for its child's end
# (which would then never come). As in oauth-harness.sh.
UNMASK='
  sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!";
  opendir(my $fds, "/proc/self/fd") or die "/proc/self/fd: $!";
  my @inherited = grep { /^\d+$/ && $_ > 2 } readdir($fds);
  closedir($fds);
  POSIX::close($_) for @inherited;
  exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";'

resolve_dir() {
  local d=${1:-}
  [ -n "$d" ] || usage
  case "$d" in /*) ;; *) d=$PWD/$d ;; esac
  case "$d" in *[[:space:]]*|*,*|*=*|*\$*|*\'*|*\"*|*\\*) die "DIR must not contain whitespace or , = \$ ' \" \\: $d" ;; esac
  [ "$d" != / ] || die "DIR must not be /"
  # The socket is DIR/socket/.s.PGSQL.PORT, and a Unix socket path has at most 107 bytes.
  [ ${#d} -le 80 ] || die "DIR is too long for a Unix socket path under it (at most 80 bytes): $d"
  echo "$d"
}

has_cluster() { [ -s "$D/data/PG_VERSION" ]; }
need_cluster() { has_cluster || die "no cluster in $D (run start first)"; }

# The port the cluster is configured for (DIR/data/harness.conf).
configured_port() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$D/data/harness.conf" 2>/dev/null; }

# pg_ctl status alone is not enough: a postmaster that died (kill -9, an OOM kill) is a
# zombie until whoever adopted it reaps it, and kill(pid, 0), which pg_ctl uses, succeeds
# on a zombie.
running() {
  has_cluster && [ -s "$D/data/postmaster.pid" ] || return 1
  local pid state
  pid=$(head -n 1 "$D/data/postmaster.pid")
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  case "$state" in ''|Z|X) return 1 ;; esac
  as_owner "$PG_BIN/pg_ctl" status -D "$D/data" >/dev/null 2>&1
}

wait_ready() {
  local port=$1 deadline=$((SECONDS + START_TIMEOUT))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; do
    [ $SECONDS -lt "$deadline" ] || { tail -n 30 "$D/log/postgres.log" >&2; die "running but not accepting connections after ${START_TIMEOUT}s"; }
    sleep 0.1
  done
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A free port in [20000, first ephemeral port).
# Below the kernel's ephemeral range (ip_local_port_range), so no outgoing connection and
# no bind to port 0 takes it while its server is stopped for a restart.
pick_port() {
  local p tries=0 first
  first=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true)
  [ "${first:-0}" -gt 21000 ] 2>/dev/null || first=60000
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % (first - 20000) ))
    tries=$((tries + 1)); [ $tries -lt 500 ] || die "could not find a free port"
    port_in_use "$p" && continue
    echo "$p"; return 0
  done
}

write_harness_conf() {
  # Only what the harness needs; every other setting stays PostgreSQL's stock one.
  printf '%s\n' \
    "# Written by $PROG; included from postgresql.conf." \
    "listen_addresses = '127.0.0.1'" \
    "port = $1" \
    "unix_socket_directories = '$D/socket'" \
    >"$D/data/harness.conf"
  if is_root; then chown postgres:postgres "$D/data/harness.conf"; fi
}

# -------------------------------------------------------------------- start ----

init_cluster() {
  log "initdb in $D/data"
  : >"$D/$MARKER"
  chmod 755 "$D"
  rm -rf "$D/data" "$D/socket" "$D/log" "$D/provisioned" "$D/postgres.env"
  mkdir -p "$D/data" "$D/socket" "$D/log"
  chmod 700 "$D/data"
  chmod 755 "$D/socket" "$D/log"
  if is_root; then
    getent passwd postgres >/dev/null || die "no postgres user; run scripts/install-deps.sh"
    chown postgres:postgres "$D/data" "$D/socket" "$D/log"
    as_owner test -x "$D" || die "the postgres user cannot enter $D (check the modes of its parents)"
  fi
  # --no-sync: only skips initdb's own fsync of the new files (a test cluster); the server's
  # settings stay stock. C.UTF-8 and UTF8 whatever the caller's locale (CI may have none).
  as_owner "$PG_BIN/initdb" -D "$D/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$D/log/initdb.log" 2>&1 ||
    { cat "$D/log/initdb.log" >&2; die "initdb failed"; }
  cat >"$D/data/pg_hba.conf" <<'EOF'
# Written by postgres-harness.sh. The harness's superuser over the Unix socket without a
# password; every other role, and every TCP client, with a SCRAM-SHA-256 password.
local   all   postgres                  trust
local   all   all                       scram-sha-256
host    all   all       127.0.0.1/32    scram-sha-256
EOF
  printf '\n%s\n' "include = 'harness.conf'" >>"$D/data/postgresql.conf"
  if is_root; then chown postgres:postgres "$D/data/pg_hba.conf"; fi
}

# Starts the server on the configured port. Returns 2 when the port was taken (the log says
# so), dies on any other failure.
start_server() {
  local logf=$D/log/postgres.log size port
  port=$(configured_port)
  # After a kill -9 the old postmaster may still be a zombie: the new one would take the
  # pid in postmaster.pid for a live server and refuse to start. Its adopter reaps it soon.
  local old state deadline=$((SECONDS + 15))
  old=$(head -n 1 "$D/data/postmaster.pid" 2>/dev/null || true)
  while [ -n "$old" ] && state=$(sed 's/^.*) //' "/proc/$old/stat" 2>/dev/null | cut -d' ' -f1) &&
      [ "$state" = Z ] && [ $SECONDS -lt "$deadline" ]; do
    sleep 0.2
  done
  [ -e "$logf" ] || { : >"$logf"; if is_root; then chown postgres:postgres "$logf"; fi; }
  size=$(stat -c %s "$logf")
  if setsid -w env --default-signal perl -MPOSIX -e "$UNMASK" \
      "$SELF" _as-owner "$D" "$PG_BIN/pg_ctl" start -D "$D/data" -l "$logf" -w -t "$START_TIMEOUT" -s \
      </dev/null >>"$D/log/pg_ctl.log" 2>&1; then
    wait_ready "$port"
    return 0
  fi
  if tail -c "+$((size + 1))" "$logf" | grep -q 'could not bind IPv4 address.*Address already in use'; then
    return 2
  fi
  tail -c "+$((size + 1))" "$logf" | tail -n 30 >&2
  tail -n 10 "$D/log/pg_ctl.log" >&2
  die "the server did not start; log: $logf"
}

# The sidecar role (a random password, stored SCRAM-SHA-256) and its database, once.
provision() {
  local pw
  pw=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  [ ${#pw} = 48 ] || die "could not read /dev/urandom"
  (umask 022; printf '%s' "$pw" >"$D/password.new")
  chmod 644 "$D/password.new"
  mv -f "$D/password.new" "$D/password"
  superuser_psql -q -d postgres -v pw="$pw" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS sidecar;
DROP ROLE IF EXISTS sidecar;
CREATE ROLE sidecar LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
CREATE DATABASE sidecar OWNER sidecar;
SQL
  : >"$D/provisioned"
}

write_env() {
  local port=$1
  printf '%s\n' \
    "PG_HOST=127.0.0.1" \
    "PG_PORT=$port" \
    "PG_USER=sidecar" \
    "PG_DATABASE=sidecar" \
    "PG_PASSWORD_FILE=$D/password" \
    "PG_SOCKET_DIR=$D/socket" \
    "PG_SUPERUSER=postgres" \
    "PG_URL=postgres://sidecar@127.0.0.1:$port/sidecar" \
    "PG_LOG=$D/log/postgres.log" \
    >"$D/postgres.env.new"
  chmod 644 "$D/postgres.env.new"
  mv -f "$D/postgres.env.new" "$D/postgres.env"
}

cmd_start() {
  local dir="" owner="" then=stop
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner-pid) [ $# -ge 2 ] || usage; owner=$2; shift 2 ;;
      --owner-pid=*) owner=${1#*=}; shift ;;
      --destroy-with-owner) then=destroy; shift ;;
      -*) usage ;;
      *) [ -z "$dir" ] || usage; dir=$1; shift ;;
    esac
  done
  D=$(resolve_dir "$dir")
  [ -n "$owner" ] || [ "$then" = stop ] || die "--destroy-with-owner needs --owner-pid"
  if [ -n "$owner" ]; then
    case "$owner" in ''|*[!0-9]*) die "--owner-pid needs a pid: $owner" ;; esac
    [ -e "/proc/$owner/stat" ] || die "--owner-pid $owner: no such process"
  fi
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb is missing; run scripts/install-deps.sh (Debian: postgresql-15)"
  for tool in setsid setpriv perl ss od; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: util-linux, perl-base, iproute2, coreutils)"
  done
  local t0=$SECONDS
  mkdir -p "$D"
  if has_cluster; then
    [ -e "$D/$MARKER" ] || die "$D has a cluster that $PROG did not make"
  elif [ -e "$D/$MARKER" ] || [ -z "$(ls -A "$D")" ]; then
    init_cluster
  else
    die "$D is not empty and was not made by $PROG; use an empty or new DIR"
  fi

  # The watchdog before the server: an owner that dies while the server starts is seen too.
  if [ -n "$owner" ]; then start_watchdog "$owner" "$then"; fi

  local port
  if running; then
    log "already running in $D"
    wait_ready "$(configured_port)"
  elif [ -n "$(configured_port)" ]; then
    # A cluster that ran before: the same port again, so clients configured for it reconnect.
    port=$(configured_port)
    local rc=0
    start_server || rc=$?
    [ "$rc" = 0 ] || die "port $port, this cluster's port, is taken by another process; cannot start again on it"
  else
    # A port found free can be taken by another test's server before ours binds it: on
    # "Address already in use", another port and another try.
    local attempt rc
    for attempt in 1 2 3 4 5; do
      # POSTGRES_HARNESS_FIRST_PORT: the first try's port, unchecked (the selftest's race).
      if [ "$attempt" = 1 ] && [ -n "${POSTGRES_HARNESS_FIRST_PORT:-}" ]; then
        write_harness_conf "$POSTGRES_HARNESS_FIRST_PORT"
      else
        write_harness_conf "$(pick_port)"
      fi
      rc=0
      start_server || rc=$?
      [ "$rc" = 0 ] && break
      [ "$attempt" -lt 5 ] || die "every port tried was taken before the server bound it"
      log "port $(configured_port) was taken before the server bound it; trying another"
    done
  fi
  [ -e "$D/provisioned" ] || provision
  write_env "$(configured_port)"
  # The watchdog may have seen the owner go before the server was up, and found nothing to
  # stop: then it is done here.
  if [ -n "$owner" ] && [ "$(start_time "$owner")" != "$(cut -d' ' -f2 "$D/watchdog.owner")" ]; then
    owner_gone "$then"
    die "the owner, pid $owner, exited while the server started; $then done"
  fi
  log "running in $D on 127.0.0.1:$(configured_port) ($((SECONDS - t0))s)"
  cat "$D/postgres.env"
}

# ----------------------------------------------------------------- watchdog ----

# The start time of a process (field 22 of /proc/PID/stat, after the parenthesised name),
# so that a reused pid is not taken for the owner.
# Empty when there is no such process.
start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20 || true; }

watchdog_alive() {
  local pid
  pid=$(cat "$D/watchdog.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- " _watch $D "
}

# One watchdog a DIR: a start with another owner (or action) replaces it.
start_watchdog() {
  local owner=$1 then=$2 started
  started=$(start_time "$owner")
  if [ -z "$started" ]; then
    owner_gone "$then"
    die "--owner-pid $owner: no such process (it exited before the server started; $then done)"
  fi
  if watchdog_alive; then
    if [ "$(cat "$D/watchdog.owner" 2>/dev/null)" = "$owner $started $then" ]; then return 0; fi
    kill "$(cat "$D/watchdog.pid")" 2>/dev/null || true
  fi
  setsid env --default-signal perl -MPOSIX -e "$UNMASK" "$SELF" _watch "$D" "$owner" "$started" "$then" \
    </dev/null >>"$D/log/watchdog.log" 2>&1 &
  echo $! >"$D/watchdog.pid"
  echo "$owner $started $then" >"$D/watchdog.owner"
}

# What the owner's exit calls for: stop the server, or stop it and remove DIR.
owner_gone() {
  if running; then as_owner "$PG_BIN/pg_ctl" stop -D "$D/data" -m fast -w -t 60 -s || true; fi
  if [ "$1" = destroy ] && [ -e "$D/$MARKER" ]; then rm -rf "$D"; fi
}

# Stops the server (and with `destroy`, removes DIR) when the owner has exited; ends by
# itself when DIR is removed. Polls: the owner is not our child, so nothing can wait for it.
cmd_watch() {
  D=$1
  local owner=$2 started=$3 then=$4
  while [ -d "$D/data" ]; do
    if [ "$(start_time "$owner")" != "$started" ]; then
      echo "$(date -Is) owner $owner exited; $then"
      owner_gone "$then"
      exit 0
    fi
    sleep 0.5
  done
}

# ------------------------------------------------------------ the others ----

cmd_stop() {
  [ $# -eq 1 ] || usage
  D=$(resolve_dir "$1")
  if ! running; then log "not running: $D"; return 0; fi
  as_owner "$PG_BIN/pg_ctl" stop -D "$D/data" -m fast -w -t 60 -s || die "pg_ctl stop failed; see $D/log/postgres.log"
  log "stopped $D"
}

cmd_status() {
  [ $# -eq 1 ] || usage
  D=$(resolve_dir "$1")
  if running; then echo "running: $D on 127.0.0.1:$(configured_port)"; return 0; fi
  if has_cluster; then echo "stopped: $D"; else echo "stopped: $D (no cluster)"; fi
  return 3
}

superuser_psql() {
  env -u PGPASSWORD -u PGPASSFILE -u PGSERVICE -u PGSERVICEFILE -u PGOPTIONS -u PGSSLMODE \
    PGHOST="$D/socket" PGPORT="$(configured_port)" PGUSER=postgres PGDATABASE=postgres \
    "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 "$@"
}

cmd_psql() {
  [ $# -ge 1 ] || usage
  D=$(resolve_dir "$1"); shift
  need_cluster
  superuser_psql "$@"
}

cmd_createdb() {
  [ $# -eq 2 ] || usage
  D=$(resolve_dir "$1")
  local name=$2
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_-]{0,62}$ ]] || die "a database name is [A-Za-z_][A-Za-z0-9_-]{0,62}: $name"
  need_cluster
  superuser_psql -q -v name="$name" >/dev/null <<'SQL'
CREATE DATABASE :"name" OWNER sidecar;
SQL
}

cmd_logs() {
  [ $# -eq 1 ] || usage
  D=$(resolve_dir "$1")
  [ -f "$D/log/postgres.log" ] || die "no log at $D/log/postgres.log"
  cat "$D/log/postgres.log"
}

cmd_destroy() {
  [ $# -eq 1 ] || usage
  D=$(resolve_dir "$1")
  [ -d "$D" ] || return 0
  [ -e "$D/$MARKER" ] || die "$D was not made by $PROG; not removing it"
  if running; then as_owner "$PG_BIN/pg_ctl" stop -D "$D/data" -m immediate -w -t 60 -s || true; fi
  if watchdog_alive; then kill "$(cat "$D/watchdog.pid")" 2>/dev/null || true; fi
  rm -rf "$D"
}

# ---------------------------------------------------------------- selftest ----

cmd_selftest() {
  [ $# -eq 0 ] || usage
  local T passed=0 failed=0 out port t0=$SECONDS
  T=$(mktemp -d /tmp/pg-harness-selftest.XXXXXX)
  # shellcheck disable=SC2064
  trap "'$SELF' destroy '$T' >/dev/null 2>&1 || rm -rf '$T'" EXIT
  ok() { passed=$((passed + 1)); echo "ok: $1"; }
  bad() { failed=$((failed + 1)); echo "FAIL: $1${2:+: $2}"; }
  check() { local what=$1; shift; if out=$("$@" 2>&1); then ok "$what"; else bad "$what" "$out"; fi; }
  as_sidecar() { # DATABASE PASSWORD SQL
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U sidecar -d "$1" -c "$3"
  }
  expect_out() { # WHAT EXPECTED COMMAND...
    local what=$1 want=$2; shift 2
    if out=$("$@" 2>&1) && [ "$out" = "$want" ]; then ok "$what"; else bad "$what" "wanted '$want', got '$out'"; fi
  }

  check "start in a new directory" "$SELF" start "$T"
  if [ ! -s "$T/postgres.env" ]; then echo "$passed passed, $failed failed"; return 1; fi
  # shellcheck disable=SC1091
  . "$T/postgres.env"
  port=$PG_PORT
  local pw
  pw=$(cat "$PG_PASSWORD_FILE")
  expect_out "password file is 48 hex digits without a newline" 48 sh -c "wc -c <'$PG_PASSWORD_FILE'"
  expect_out "password file mode 0644" 644 stat -c %a "$PG_PASSWORD_FILE"
  expect_out "PG_URL carries no password" "postgres://sidecar@127.0.0.1:$port/sidecar" echo "$PG_URL"
  expect_out "sidecar connects over TCP with the password" "sidecar|sidecar|t" \
    as_sidecar sidecar "$pw" "select current_user, current_database(), inet_server_addr() = '127.0.0.1'"
  if out=$(as_sidecar sidecar "wrong-$pw" "select 1" 2>&1); then
    bad "a wrong password is refused" "it connected"
  elif grep -q 'password authentication failed for user "sidecar"' <<<"$out"; then
    ok "a wrong password is refused"
  else
    bad "a wrong password is refused" "another error: $out"
  fi
  expect_out "the password is stored as SCRAM-SHA-256" t \
    "$SELF" psql "$T" -At -c "select rolpassword like 'SCRAM-SHA-256\$%' from pg_authid where rolname = 'sidecar'"
  expect_out "sidecar is no superuser" f "$SELF" psql "$T" -At -c "select rolsuper from pg_roles where rolname = 'sidecar'"
  expect_out "listens on 127.0.0.1 only" 127.0.0.1 "$SELF" psql "$T" -At -c "show listen_addresses"
  expect_out "max_connections is stock" 100 "$SELF" psql "$T" -At -c "show max_connections"
  check "createdb makes a database" "$SELF" createdb "$T" selftest_db
  expect_out "sidecar owns the new database and can create tables in it" 1 \
    as_sidecar selftest_db "$pw" "create table t (x int); insert into t values (1); select count(*) from t"
  check "status: running" "$SELF" status "$T"

  check "stop" "$SELF" stop "$T"
  expect_out "status: stopped (exit 3)" 3 sh -c "'$SELF' status '$T' >/dev/null; echo \$?"
  if port_in_use "$port"; then bad "nothing listens on the port after stop"; else ok "nothing listens on the port after stop"; fi
  check "start again" "$SELF" start "$T"
  # shellcheck disable=SC1091
  . "$T/postgres.env"
  expect_out "the same port after a restart" "$port" echo "$PG_PORT"
  expect_out "the same password after a restart" "$pw" cat "$PG_PASSWORD_FILE"
  expect_out "sidecar connects again, and the data survived" 1 as_sidecar selftest_db "$pw" "select x from t"

  # The watchdog: the server stops when its owner exits.
  sleep 300 </dev/null >/dev/null 2>&1 &
  local owner=$!
  check "start with --owner-pid on a running server" "$SELF" start "$T" --owner-pid "$owner"
  kill "$owner"; wait "$owner" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while "$SELF" status "$T" >/dev/null 2>&1 && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  expect_out "the watchdog stops the server when the owner exits" 3 sh -c "'$SELF' status '$T' >/dev/null; echo \$?"
  [ -d "$T/data" ] && ok "... and leaves DIR" || bad "... and leaves DIR"

  # A server killed outright (kill -9 of the postmaster) starts again too, on its port.
  check "start after the watchdog's stop" "$SELF" start "$T"
  kill -9 "$(head -n 1 "$T/data/postmaster.pid")"
  if out=$("$SELF" status "$T"); then bad "status: a killed server is stopped" "$out"; else ok "status: a killed server is stopped"; fi
  check "start after kill -9" "$SELF" start "$T"
  expect_out "sidecar connects after the crash on the same port, and the data survived" 1 as_sidecar selftest_db "$pw" "select x from t"

  check "destroy" "$SELF" destroy "$T"
  if [ -e "$T" ]; then bad "destroy removes DIR"; else ok "destroy removes DIR"; fi

  # A port taken between the pick and the bind: start tries another.
  local taken
  taken=$(pick_port)
  perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
    Listen => 1, ReuseAddr => 1) or die "listen: $!"; sleep 60' "$taken" </dev/null >/dev/null 2>&1 &
  local squatter=$!
  for _ in $(seq 1 50); do port_in_use "$taken" && break; sleep 0.1; done
  mkdir -p "$T"
  if out=$(POSTGRES_HARNESS_FIRST_PORT=$taken "$SELF" start "$T" 2>&1) &&
      grep -q "port $taken was taken before the server bound it" <<<"$out"; then
    ok "a port taken before the bind: start tries another"
  else
    bad "a port taken before the bind: start tries another" "$out"
  fi
  # shellcheck disable=SC1091
  . "$T/postgres.env" 2>/dev/null || true
  if [ "${PG_PORT:-}" != "$taken" ]; then ok "it runs on another port"; else bad "it runs on another port"; fi
  kill "$squatter" 2>/dev/null || true; wait "$squatter" 2>/dev/null || true

  # --destroy-with-owner: the server stops and DIR goes when the owner exits.
  sleep 300 </dev/null >/dev/null 2>&1 &
  owner=$!
  check "start with --owner-pid --destroy-with-owner" "$SELF" start "$T" --owner-pid "$owner" --destroy-with-owner
  kill "$owner"; wait "$owner" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while [ -e "$T" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if [ -e "$T" ]; then bad "the watchdog removes DIR when the owner exits"; else ok "the watchdog removes DIR when the owner exits"; fi
  if port_in_use "${PG_PORT:-0}"; then bad "... after stopping the server"; else ok "... after stopping the server"; fi
  trap - EXIT
  echo "selftest took $((SECONDS - t0))s"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  psql) shift; cmd_psql "$@" ;;
  createdb) shift; cmd_createdb "$@" ;;
  logs) shift; cmd_logs "$@" ;;
  destroy) shift; cmd_destroy "$@" ;;
  selftest) shift; cmd_selftest "$@" ;;
  # Internal: a command as the cluster's OS user, from DIR (start_server); the watchdog.
  _as-owner) shift; D=$1; shift; as_owner "$@" ;;
  _watch) shift; cmd_watch "$@" ;;
  *) usage ;;
esac
