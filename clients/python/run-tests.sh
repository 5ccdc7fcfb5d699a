#!/bin/sh
# Runs the Python client's suite: unit (fake daemon), vectors and schemas, live daemon and
# scenarios. Live tests use SMTP_SIDECAR_BIN (default /work/bin-clients/smtp-sidecar) and,
# as root, scripts/postfix-harness.sh; they skip when those are missing.
# Extra arguments go to pytest (e.g. -m "not live").
set -eu
VENV=${SMTP_SIDECAR_PY_VENV:-/var/cache/smtp-sidecar-clients/venv}
cd "$(dirname "$0")"
if ! "$VENV/bin/python" -c 'import pytest, jsonschema' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pytest jsonschema
fi
exec "$VENV/bin/python" -m pytest -q "$@"
