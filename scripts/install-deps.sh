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
