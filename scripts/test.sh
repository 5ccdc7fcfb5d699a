#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a Debian machine with Swift: installs what
# the tests need, builds, and runs every test (unit, protocol vectors and schemas, the
# SMTP client and the daemon against a real Postfix, the daemon through its socket against
# Exim, chasquid, aiosmtpd, OpenSMTPD and stock Postfix (Tests/IntegrationTests/Interop)
# and against a scripted hostile server (scripts/hostile-smtp), the daemon under
# systemd-socket-activate, a real journald), then the checks that must run alone and the
# .deb booted under a real systemd. Needs root, as CI
# has: the journald tests run it in a private mount namespace, the tests start their own
# servers, and the package boot test runs systemd-nspawn.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/postfix-harness.sh install
# The PostgreSQL harness against the real server (initdb, SCRAM over TCP, restart on the
# same port, the owner watchdog): ~12 s, and a broken harness fails here, plainly.
scripts/postgres-harness.sh selftest
# Package.swift's arrows match the imports (ARCHITECTURE.md).
scripts/check-imports.py
swift build --build-tests
swift test
# Checks that read machine-wide TCP counters, alone (among the parallel suite they would
# count the other tests): warm sends to Postfix must not stall on a delayed ACK.
SIDECAR_ALONE_CHECKS=1 swift test --skip-build --filter warmSequentialSendsDoNotStall
# The client libraries (clients/), each against fakes, the protocol vectors and schemas, and
# the daemon just built with a real Postfix, replaying clients/fixtures/scenarios.json.
SMTP_SIDECAR_BIN="$(swift build --show-bin-path)/smtp-sidecar" clients/python/run-tests.sh
SMTP_SIDECAR_BIN="$(swift build --show-bin-path)/smtp-sidecar" node --test clients/node/test/
# The four libFuzzer targets (frame, request, SMTP reply, address), 30 s each from their
# seed corpora (every earlier finding is a seed, so it is replayed first), in their own
# sanitizer build (.build-fuzz). A crash fails the run; its input is in
# .build-fuzz/artifacts/TARGET/.
scripts/fuzz.sh all 30
# The .deb under a real systemd: builds the --static-swift-stdlib release binary and the
# package, boots a Debian 12 root (built once into /var/cache) with systemd-nspawn, and
# checks the installed units end to end (scripts/package-boot-test.md).
# SIDECAR_SKIP_PACKAGE_BOOT=1 leaves it out.
if [[ "${SIDECAR_SKIP_PACKAGE_BOOT:-0}" != 1 ]]; then
    scripts/package-boot-test.sh
fi
if [[ "${SIDECAR_SKIP_PACKAGE_BOOT:-0}" != 1 ]]; then
    echo "test.sh: every part passed (the Swift suite, the alone checks, the client libraries, the fuzz targets, the package boot)"
else
    echo "test.sh: every part passed (the Swift suite, the alone checks, the client libraries, the fuzz targets; the package boot was skipped)"
fi
