"""Client behaviour against an in-process fake daemon."""
from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time

import pytest

import smtp_sidecar as ss
from fake_daemon import HELLO, FakeDaemon, Peer, serve_forever
from smtp_sidecar.framing import FrameDecoder, encode_frame


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def fake():
    daemons = []

    def make(handler=serve_forever, hello=None):
        d = FakeDaemon(handler, hello)
        daemons.append(d)
        return d

    yield make
    for d in daemons:
        d.close()


def hello_with(**limits):
    h = json.loads(json.dumps(HELLO))
    h["limits"].update(limits)
    return h


# --- framing -----------------------------------------------------------------------
def test_frame_bytes_match_spec_example():
    assert encode_frame({"id": 1, "op": "ping"}).hex() == "000000147b226964223a312c226f70223a2270696e67227d"


def test_decoder_handles_split_and_joined_frames():
    a, b = encode_frame({"id": 1, "ok": True, "result": {}}), encode_frame({"id": 2, "ok": True, "result": {"é": "✉"}})
    dec = FrameDecoder()
    stream = a + b
    out = []
    for i in range(len(stream)):
        out += dec.feed(stream[i : i + 1])
    assert [o["id"] for o in out] == [1, 2] and out[1]["result"] == {"é": "✉"}
    assert [o["id"] for o in FrameDecoder().feed(stream)] == [1, 2]


def test_hello_first_with_version_1_and_ping_roundtrip(fake):
    d = fake()
    with ss.SidecarClient(d.path) as c:
        assert c.ping("héllo ✉").data == "héllo ✉"
        h = c.hello()
    assert d.requests[0]["op"] == "hello" and d.requests[0]["params"]["versions"] == [1]
    assert h.limits.max_in_flight == 32 and h.server == "smtp-sidecar"
    # UTF-8 on the wire, not \u escapes
    assert "héllo ✉".encode() in d.raw_frames[1]


def test_unknown_members_ignored_and_stats_dict(fake):
    d = fake()
    with ss.SidecarClient(d.path) as c:
        st = c.stats()
    assert st["future_member"] == {"x": 1}


def test_credential_status_sends_its_filters_and_returns_the_result(fake):
    answer = {"credentials": [{"id": "c1", "workspace_id": "w1", "label": "", "host": "h", "quota": {},
                               "pool": {"pools": 0, "open": 0, "idle": 0, "leased": 0, "waiting": 0},
                               "last_error": {"code": "auth_failed", "at": "2027-01-15T08:00:01.000Z"}}]}

    def handler(p: Peer):
        p.handshake()
        while True:
            req = p.read()
            if req is None:
                break
            if req["op"] != "credential_status":
                p.answer(req)
            elif (req.get("params") or {}).get("credential_id") == "nope":
                p.send({"id": req["id"], "ok": False, "error": {
                    "code": "credential_not_found", "message": "No stored credential.", "retryable": False,
                    "field": "params.credential_id"}})
            else:
                p.ok(req, answer)

    d = fake(handler)
    with ss.SidecarClient(d.path) as c:
        assert c.credential_status() == answer
        assert c.credential_status(workspace_id="w1")["credentials"][0]["last_error"]["code"] == "auth_failed"
        with pytest.raises(ss.SidecarError) as raised:
            c.credential_status("nope")
        assert raised.value.code == "credential_not_found"
    sent = [r for r in d.requests if r["op"] == "credential_status"]
    assert [r.get("params") for r in sent] == [None, {"workspace_id": "w1"}, {"credential_id": "nope"}]


# --- multiplexing ------------------------------------------------------------------------
def test_out_of_order_answers_matched_by_id(fake):
    def handler(p: Peer):
        p.handshake()
        reqs = [p.read() for _ in range(3)]
        for r in reversed(reqs):
            p.answer(r)
        serve_forever(p)

    d = fake(handler)

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=1) as c:
            return await asyncio.gather(*(c.ping(f"d{i}") for i in range(3)))

    res = run(main())
    assert [r.data for r in res] == ["d0", "d1", "d2"]
    assert d.connections == 1


def test_sync_client_from_many_threads_shares_connections(fake):
    d = fake()
    out = []
    with ss.SidecarClient(d.path, max_connections=2) as c:
        ts = [threading.Thread(target=lambda i=i: out.append(c.ping(str(i)).data)) for i in range(20)]
        [t.start() for t in ts]
        [t.join() for t in ts]
    assert sorted(out, key=int) == [str(i) for i in range(20)]
    assert d.connections <= 2


# --- id:null refusals ------------------------------------------------------------------------
def test_id_null_refusal_goes_to_the_unanswered_request(fake):
    def handler(p: Peer):
        p.handshake()
        a, b = p.read(), p.read()
        p.send({"id": None, "ok": False, "error": {"code": "frame_too_large", "message": "too big", "retryable": False}})
        p.answer(a)  # answers of requests already read still come, then the daemon closes
        p.close()

    d = fake(handler)

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=1) as c:
            ta = asyncio.ensure_future(c.ping("a"))
            await asyncio.sleep(0.05)
            tb = asyncio.ensure_future(c.ping("b"))
            return await asyncio.gather(ta, tb, return_exceptions=True)

    ra, rb = run(main())
    assert isinstance(ra, ss.PingResult) and ra.data == "a"
    assert isinstance(rb, ss.FrameTooLargeError) and rb.code == "frame_too_large" and rb.retryable is False


def test_id_null_refusal_then_close_fails_all_in_flight(fake):
    def handler(p: Peer):
        p.handshake()
        p.read(), p.read()
        p.send({"id": None, "ok": False, "error": {"code": "truncated_frame", "message": "cut", "retryable": False}})
        p.close()

    d = fake(handler)

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=1) as c:
            return await asyncio.gather(c.ping("a", delay_ms=1), c.ping("b"), return_exceptions=True)

    for r in run(main()):
        assert isinstance(r, ss.ProtocolError) and r.code == "truncated_frame"


def test_peer_not_allowed_right_after_connect(fake):
    def handler(p: Peer):
        p.send({"id": None, "ok": False, "error": {"code": "peer_not_allowed", "message": "uid 0", "retryable": False}})
        p.close()

    d = fake(handler)
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(ss.PeerNotAllowedError) as ei:
            c.ping()
    assert isinstance(ei.value, PermissionError)


def test_too_many_connections_is_a_retryable_connection_error(fake):
    def handler(p: Peer):
        p.send({"id": None, "ok": False, "error": {"code": "too_many_connections", "message": "full", "retryable": True}})
        p.close()

    d = fake(handler)
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(ConnectionError) as ei:
            c.ping()
    assert ei.value.code == "too_many_connections" and ei.value.retryable


# --- EPIPE before the refusal ------------------------------------------------------------------
def test_write_fails_with_epipe_refusal_frame_is_read_first(fake):
    def handler(p: Peer):
        p.handshake()
        n = p.read_header()  # refuse from the header alone, never read the payload
        assert n > 1_000_000
        p.send({"id": None, "ok": False, "error": {"code": "frame_too_large", "message": f"{n} bytes", "retryable": False}})
        p.sock.shutdown(socket.SHUT_WR)
        time.sleep(0.05)
        p.close()  # unread data: the client's write fails (EPIPE/ECONNRESET)

    d = fake(handler)
    with ss.SidecarClient(d.path, max_connections=1) as c:
        with pytest.raises(ss.FrameTooLargeError) as ei:
            c.ping("x" * 8_000_000)
    assert ei.value.code == "frame_too_large" and "bytes" in ei.value.message


def test_request_over_announced_max_frame_bytes_refused_locally(fake):
    d = fake(hello=hello_with(max_frame_bytes=200))
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(ss.FrameTooLargeError):
            c.ping("y" * 300)
        assert c.ping("ok").data == "ok"  # the connection is still usable
    assert all(len(f) <= 200 for f in d.raw_frames)


# --- idle close and reconnect ------------------------------------------------------------------------
def test_reconnects_after_idle_close(fake):
    def handler(p: Peer):
        p.handshake()
        p.answer(p.read())
        p.close()  # idle timeout

    d = fake(handler)
    with ss.SidecarClient(d.path, max_connections=1) as c:
        assert c.ping("1").data == "1"
        time.sleep(0.1)
        assert c.ping("2").data == "2"
        time.sleep(0.1)
        assert c.ping("3").data == "3"
    assert d.connections == 3


def test_write_racing_an_idle_close_is_sent_again(fake):
    state = {"n": 0}

    def handler(p: Peer):
        state["n"] += 1
        p.handshake()
        if state["n"] == 1:
            p.close()  # closes right after hello, before the client's request is read
            return
        serve_forever(p)

    d = fake(handler)

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=1) as c:
            await c.hello()
            await asyncio.sleep(0.1)
            return await c.ping("again")

    assert run(main()).data == "again"


def test_connection_lost_with_send_in_flight_may_have_been_sent(fake):
    def handler(p: Peer):
        p.handshake()
        p.read()
        p.close()

    d = fake(handler)
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(ss.SidecarConnectionError) as ei:
            c.send(workspace_id="w", credential_id="c", to="a@example.org")
    assert ei.value.code == "connection_lost" and ei.value.may_have_been_sent
    assert not ss.should_retry(ei.value)


def test_no_daemon_is_sidecar_unavailable(tmp_path):
    with ss.SidecarClient(str(tmp_path / "none.sock")) as c:
        with pytest.raises(ConnectionError) as ei:
            c.ping()
    assert ei.value.code == "sidecar_unavailable" and ei.value.retryable


# --- max_in_flight --------------------------------------------------------------------------------------
def test_max_in_flight_respected(fake):
    seen = {"max": 0}

    def handler(p: Peer):
        p.handshake()
        outstanding = []
        while True:
            # read what is available without blocking long, answer the oldest after a pause
            p.sock.settimeout(0.05)
            try:
                r = p.read()
            except socket.timeout:
                r = False
            p.sock.settimeout(None)
            if r is None:
                return
            if r:
                outstanding.append(r)
                seen["max"] = max(seen["max"], len(outstanding))
            elif outstanding:
                p.answer(outstanding.pop(0))

    d = fake(handler, hello=hello_with(max_in_flight=2))

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=1) as c:
            return await asyncio.gather(*(c.ping(str(i)) for i in range(7)))

    res = run(main())
    assert sorted(int(r.data) for r in res) == list(range(7))
    assert seen["max"] == 2


def test_pool_opens_up_to_max_connections(fake):
    def handler(p: Peer):
        p.handshake()
        while True:
            r = p.read()
            if r is None:
                return
            time.sleep(0.2)
            p.answer(r)

    d = fake(handler, hello=hello_with(max_in_flight=1))

    async def main():
        async with ss.AsyncSidecarClient(d.path, max_connections=3) as c:
            t = time.monotonic()
            await asyncio.gather(*(c.ping(str(i)) for i in range(3)))
            return time.monotonic() - t

    assert run(main()) < 0.55
    assert d.connections == 3


def test_client_timeout(fake):
    def handler(p: Peer):
        p.handshake()
        p.read()
        time.sleep(1)

    d = fake(handler)
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(TimeoutError) as ei:
            c.ping(timeout=0.2)
    assert ei.value.code == "client_timeout"


# --- errors -------------------------------------------------------------------------------------------------------
def test_error_mapping_and_partial_result(fake):
    answers = {
        "a": {"code": "rate_limited", "message": "slow down", "retryable": True, "retry_after_ms": 1500},
        "b": {"code": "brand_new_code", "message": "?", "retryable": True, "new_member": 1},
        "c": {"code": "auth_failed", "message": "no", "retryable": False, "smtp": {"code": 535, "enhanced_code": "5.7.8", "text": "bad"}},
        "d": {"code": "invalid_params", "message": "x", "retryable": False, "field": "params.to[1]"},
        "e": {"code": "outcome_unknown", "message": "?", "retryable": False},
        "f": {"code": "request_timeout", "message": "t", "retryable": True},
        "g": {"code": "connection_failed", "message": "t", "retryable": True},
    }

    def handler(p: Peer):
        p.handshake()
        while True:
            r = p.read()
            if r is None:
                return
            k = r["params"]["subject"]
            p.send({"id": r["id"], "ok": False, "error": answers[k], "result": {"outcome": "not_sent", "phase": "rcpt", "recipients": []}})

    d = fake(handler)
    got = {}
    with ss.SidecarClient(d.path) as c:
        for k in answers:
            with pytest.raises(ss.SidecarError) as ei:
                c.send({"workspace_id": "w", "credential_id": "c", "to": "a@example.org", "subject": k})
            got[k] = ei.value
    assert type(got["a"]) is ss.RateLimitedError and got["a"].retry_after == 1.5 and got["a"].retryable
    assert type(got["b"]) is ss.SidecarError and got["b"].retryable and got["b"].error["new_member"] == 1
    assert isinstance(got["c"], ss.AuthError) and got["c"].smtp["code"] == 535 and got["c"].phase == "rcpt"
    assert isinstance(got["d"], ss.InvalidParamsError) and got["d"].field == "params.to[1]"
    assert isinstance(got["e"], ss.OutcomeUnknownError) and got["e"].may_have_been_sent
    assert isinstance(got["f"], TimeoutError) and isinstance(got["g"], ConnectionError)
    assert got["c"].result == {"outcome": "not_sent", "phase": "rcpt", "recipients": []}


# --- helpers -------------------------------------------------------------------------------------------------------
def test_secrets_hidden_in_repr():
    cred = ss.Credential(host="smtp.example.com", username="u", password="hunter2", access_token="tok-xyz", tls={"ca_pem": "-----BEGIN CERT"})
    att = ss.Attachment(filename="a.pdf", content=b"secret-bytes")
    att2 = ss.Attachment(filename="b.pdf", content_base64="c2VjcmV0")
    for text in (repr(cred), str(cred), repr(att), repr(att2), repr([cred, att])):
        for s in ("hunter2", "tok-xyz", "secret-bytes", "c2VjcmV0", "BEGIN CERT"):
            assert s not in text
    assert cred.to_dict()["password"] == "hunter2"
    assert att.to_dict()["content_base64"] == "c2VjcmV0LWJ5dGVz"


def test_typed_params_serialized(fake):
    d = fake()
    with ss.SidecarClient(d.path) as c:
        with pytest.raises(ss.NotImplementedBySidecarError):
            c.send(workspace_id="w", credential=ss.Credential(host="h", password="p"), to="a@example.org",
                   attachments=[ss.Attachment(filename="x.txt", content=b"hi")])
    p = d.requests[-1]["params"]
    assert p["credential"] == {"host": "h", "password": "p"} and p["attachments"][0]["content_base64"] == "aGk="


def test_idempotency_key():
    assert ss.idempotency_key("ex_9", "smtp_1") == "ex_9/smtp_1"
    assert ss.idempotency_key("ex_9", "smtp_1", 2) == "ex_9/smtp_1/2"
    assert ss.idempotency_key("a/b", "c") != ss.idempotency_key("a", "b/c")
    with pytest.raises(ValueError):
        ss.idempotency_key("", "n")


def test_retry_never_resends_after_outcome_unknown():
    calls = []

    def fn():
        calls.append(1)
        raise ss.OutcomeUnknownError("outcome_unknown", "?", retryable=True, may_have_been_sent=True)

    with pytest.raises(ss.OutcomeUnknownError):
        ss.retry(fn, attempts=5, sleep=lambda s: None)
    assert len(calls) == 1


def test_retry_retries_retryable_with_retry_after():
    sleeps = []
    n = {"i": 0}

    def fn():
        n["i"] += 1
        if n["i"] < 3:
            raise ss.RateLimitedError("rate_limited", "x", retryable=True, retry_after=2.5)
        return "done"

    assert ss.retry(fn, attempts=3, sleep=sleeps.append) == "done"
    assert sleeps == [2.5, 2.5]

    def bad():
        raise ss.AuthError("auth_failed", "x", retryable=False)

    with pytest.raises(ss.AuthError):
        ss.retry(bad, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_retry_async():
    n = {"i": 0}

    async def fn():
        n["i"] += 1
        if n["i"] == 1:
            raise ss.SidecarError("future_code", "x", retryable=True)
        return n["i"]

    assert run(ss.retry_async(fn, base_delay=0.001)) == 2


def test_lost_ping_is_asked_again_once_send_is_not(fake):
    state = {"n": 0}

    def handler(p: Peer):
        state["n"] += 1
        p.handshake()
        if state["n"] in (1, 3):
            p.read()
            p.close()  # lost with the request in flight
            return
        serve_forever(p)

    d = fake(handler)
    with ss.SidecarClient(d.path, max_connections=1) as c:
        assert c.ping("again").data == "again"  # connections 1 (lost) and 2
        c.close()
    with ss.SidecarClient(d.path, max_connections=1) as c:
        with pytest.raises(ss.SidecarConnectionError):  # connection 3: a send is not repeated
            c.send(workspace_id="w", credential_id="c", to="a@example.org")
    assert [r["op"] for r in d.requests].count("send") == 1
