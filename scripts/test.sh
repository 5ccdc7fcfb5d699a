#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a Debian machine with Swift: installs what
# the tests need, builds, and runs every test (unit, protocol vectors and schemas, the
# SMTP client and the daemon against a real Postfix, the daemon under
# systemd-socket-activate, a real journald). Needs root, as CI has: the journald tests run
# it in a private mount namespace, and the tests start their own Postfix instances.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/postfix-harness.sh install
swift build --build-tests
swift test
# Checks that read machine-wide TCP counters, alone (among the parallel suite they would
# count the other tests): warm sends to Postfix must not stall on a delayed ACK.
SIDECAR_ALONE_CHECKS=1 swift test --skip-build --filter warmSequentialSendsDoNotStall
# The four libFuzzer targets (frame, request, SMTP reply, address), 30 seconds each, after
# the suite (their build in .build-fuzz and their runs would count as load in the checks
# above). A crash fails the run; the input is kept in .build-fuzz/artifacts/TARGET/.
scripts/fuzz.sh all 30
