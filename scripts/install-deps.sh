#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need. Idempotent and quick
# when everything is present; runs `apt-get update` only when something is missing.
# Needs root (apt-get). Swift itself is assumed installed.
set -euo pipefail

packages=(
    libsystemd-dev   # CSystemd: sd_notify, sd_listen_fds, sd_journal_sendv
    libsqlite3-dev   # CSQLite: the state database (dedup records, rate counters, credentials)
    pkg-config       # SwiftPM finds libsystemd through it
    systemd          # systemd-journald, systemd-socket-activate, systemd-analyze, journalctl
    util-linux       # unshare, for the private journald of the tests
    python3          # round-trip and schema checks in the tests; scripts/hostile-smtp (stdlib only)
    python3-venv     # the venvs of the Python client's tests and of the aiosmtpd-based harnesses
    openssl          # the test harnesses' certificates
    strace           # the syscalls the daemon makes, checked against the unit's SystemCallFilter=
    ca-certificates
)

missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# apt-get install "$@" with services kept from starting: a policy-rc.d that answers 101
# ("action forbidden") for the install, unless the machine has one already (left alone).
install_kept_stopped() {
    echo "install-deps: installing $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    { apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }; } || rc=$?
    if ((added_policy)); then rm -f "$policy"; fi
    if ((rc)); then echo "install-deps: apt-get install $* failed" >&2; exit "$rc"; fi
}

# PostgreSQL 15, the tests' own servers: scripts/postgres-harness.sh runs initdb in a private
# directory and starts the server itself on a random port. The system cluster is never used.
# The package creates one (`main`, port 5432) and would start it through invoke-rc.d; a
# policy-rc.d that answers 101 ("action forbidden") for the install keeps it stopped, as
# scripts/postfix-harness.sh does for Postfix. One that the machine already has is left alone.
postgres_packages=(
    postgresql          # Debian 12's PostgreSQL 15 server: initdb, pg_ctl, postgres in /usr/lib/postgresql/15/bin
    postgresql-client   # psql, pg_isready
)
missing=()
for package in "${postgres_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then install_kept_stopped "${missing[@]}"; fi
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "install-deps: PostgreSQL 15 is not in /usr/lib/postgresql/15" >&2; exit 1; }

# promtool, which checks the `metrics` operation's Prometheus text in the integration tests.
# Debian ships it only inside the Prometheus server's package, which would start the server
# through invoke-rc.d: the same policy-rc.d as above keeps it stopped.
if ! command -v promtool >/dev/null 2>&1; then install_kept_stopped prometheus; fi

# JSON Schema validation of the protocol messages (proto-spec/tools/validate.py).
if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "install-deps: installing the jsonschema Python package" >&2
    if [ "$(command -v python3)" = /usr/bin/python3 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends python3-jsonschema >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-jsonschema >/dev/null; }
    else
        python3 -m pip install --quiet jsonschema
    fi
fi

# The interop tests' real SMTP servers (scripts/interop-harness.sh): Exim, chasquid and
# OpenSMTPD downloaded and unpacked into a cache (Debian's MTA packages conflict with
# postfix), their libraries and system users, aiosmtpd from PyPI in its own venv, and the
# Postfix of the Postfix harness. Quick when everything is there.
"$(dirname "$0")/interop-harness.sh" install
