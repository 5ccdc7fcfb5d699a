"""The client against a real daemon (skipped when the binary is missing)."""
from __future__ import annotations

import asyncio
import time

import pytest

import smtp_sidecar as ss
from live import Daemon
from smtp_sidecar import aio

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def tight_daemon(sidecar_binary):
    d = Daemon(sidecar_binary, "idle_timeout_seconds=1", "max_in_flight_per_connection=2", "max_frame_bytes=65536")
    yield d
    d.stop()


def test_hello_ping_stats(daemon):
    with ss.SidecarClient(daemon.path) as c:
        h = c.hello()
        assert h.version == 1 and h.server == "smtp-sidecar" and "send" in h.operations
        assert c.ping("héllo ✉").data == "héllo ✉"
        st = c.stats()
        assert st["requests"]["by_operation"]["hello"] >= 1


def test_pipelined_answers_out_of_order(daemon):
    async def main():
        async with ss.AsyncSidecarClient(daemon.path, max_connections=1) as c:
            t = time.monotonic()
            res = await asyncio.gather(*(c.ping(str(i), delay_ms=400 - 100 * i) for i in range(4)))
            return res, time.monotonic() - t

    res, took = run(main())
    assert [r.data for r in res] == ["0", "1", "2", "3"]
    assert took < 1.0  # concurrent on one connection, not one after the other


def test_invalid_params_from_daemon(daemon):
    with ss.SidecarClient(daemon.path) as c:
        with pytest.raises(ss.InvalidParamsError) as ei:
            c.send(workspace_id="w", to="a@example.org")
        assert ei.value.field == "params.credential"
        with pytest.raises(ss.InvalidParamsError) as ei:
            c.ping(delay_ms=20000)
        assert ei.value.field == "params.delay_ms"
        assert c.ping("still usable").data == "still usable"


def test_destination_forbidden_is_not_retried(daemon):
    with ss.SidecarClient(daemon.path) as c:
        calls = []

        def go():
            calls.append(1)
            return c.verify(workspace_id="w", credential=ss.Credential(host="10.1.2.3", port=587, username="u", password="p"))

        with pytest.raises(ss.DestinationForbiddenError):
            ss.retry(go, sleep=lambda s: None)
        assert len(calls) == 1


def test_limits_from_hello_respected(tight_daemon):
    async def main():
        async with ss.AsyncSidecarClient(tight_daemon.path, max_connections=1) as c:
            h = await c.hello()
            assert h.limits.max_in_flight == 2 and h.limits.max_frame_bytes == 65536
            with pytest.raises(ss.FrameTooLargeError):
                await c.ping("x" * 70000)  # refused by the client, not sent
            t = time.monotonic()
            res = await asyncio.gather(*(c.ping(str(i), delay_ms=200) for i in range(6)))
            return res, time.monotonic() - t

    res, took = run(main())
    assert [r.data for r in res] == [str(i) for i in range(6)]
    assert took >= 0.55  # 2 at a time: three rounds of 200 ms


def test_reconnect_after_daemon_idle_close(tight_daemon):
    with ss.SidecarClient(tight_daemon.path, max_connections=1) as c:
        assert c.ping("a").data == "a"
        time.sleep(1.6)  # idle_timeout_seconds=1: the daemon closes the connection
        assert c.ping("b").data == "b"
        assert c.stats()["connections"]["accepted"] >= 2


def test_daemon_refusal_read_after_epipe(tight_daemon, monkeypatch):
    # Make the client believe the daemon accepts big frames, so the daemon
    # refuses from the header and closes while the client is still writing.
    real = ss.HelloResult.from_dict

    def lying(d):
        h = real(d)
        h.limits.max_frame_bytes = 64 * 1024 * 1024
        return h

    monkeypatch.setattr(aio.HelloResult, "from_dict", staticmethod(lying))
    with ss.SidecarClient(tight_daemon.path, max_connections=1) as c:
        with pytest.raises(ss.FrameTooLargeError) as ei:
            c.ping("x" * 8_000_000)
        assert ei.value.code == "frame_too_large"
        assert c.ping("after").data == "after"  # a new connection


def run(coro):
    return asyncio.run(coro)
