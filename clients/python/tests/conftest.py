from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # run from a checkout without installing

import live  # noqa: E402


@pytest.fixture(scope="session")
def sidecar_binary():
    b = live.sidecar_bin()
    if not b:
        pytest.skip("smtp-sidecar binary not found (set SMTP_SIDECAR_BIN)")
    return b


@pytest.fixture(scope="session")
def daemon(sidecar_binary):
    d = live.Daemon(sidecar_binary)
    yield d
    d.stop()


@pytest.fixture(scope="session")
def postfix():
    if os.geteuid() != 0:
        pytest.skip("the Postfix harness needs root")
    if os.environ.get("SMTP_SIDECAR_SKIP_POSTFIX"):
        pytest.skip("SMTP_SIDECAR_SKIP_POSTFIX is set")
    try:
        p = live.Postfix()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Postfix harness unavailable: {e}")
    yield p
    p.stop()


def _hostile(fault):
    try:
        h = live.Hostile(fault)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"hostile_smtp.py unavailable: {e}")
    return h


@pytest.fixture(scope="session")
def hostile_dot_drop():
    h = _hostile("dot:drop")
    yield h
    h.stop()


@pytest.fixture(scope="session")
def hostile_greeting_stall():
    h = _hostile("greeting:stall")
    yield h
    h.stop()
