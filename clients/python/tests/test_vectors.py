"""The client against proto-spec/vectors/vectors.json and the JSON Schemas."""
from __future__ import annotations

import json
import os
import socket
import struct
import time

import pytest

import smtp_sidecar as ss
from fake_daemon import FakeDaemon
from live import SCENARIOS, Daemon, substitute
from schemas import load_vectors, validator
from smtp_sidecar.errors import exception_class_for
from smtp_sidecar.framing import FrameDecoder, encode_frame

VEC = load_vectors()
VECTORS = VEC["vectors"]
REQUEST = validator("request.schema.json")
RESPONSE = validator("response.schema.json")
KNOWN_CODES = validator("error.schema.json").schema  # noqa: F841 (loads)


def contains(actual, expected) -> bool:
    """Vector responses list only members a client may rely on; null means absent or null."""
    if expected is None:
        return actual is None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        return all(contains(actual.get(k), v) for k, v in expected.items())
    return actual == expected and type(actual) is type(expected)


def request_frames(v):
    return [f["request"] for f in v["frames"] if "request" in f]


@pytest.mark.parametrize("v", [v for v in VECTORS if all("request" in f for f in v["frames"])], ids=lambda v: v["name"])
def test_decoder_reads_valid_request_streams(v):
    # `frames` lists id, op and params (null when absent); unknown members are dropped there
    stream = bytes.fromhex(v["stream_hex"])
    decoded = FrameDecoder().feed(stream)
    assert len(decoded) == len(request_frames(v))
    for got, exp in zip(decoded, request_frames(v)):
        assert contains(got, exp)  # the daemon drops members it does not know from `frames`
        REQUEST.validate(got)
    # and the client's encoder makes frames that decode to the same requests
    again = b"".join(encode_frame({k: x for k, x in r.items() if x is not None}) for r in request_frames(v))
    assert all(contains(g, e) for g, e in zip(FrameDecoder().feed(again), request_frames(v)))


def test_encoder_matches_vector_bytes_exactly():
    v = next(v for v in VECTORS if v["name"] == "ping-string-id")
    (req,) = request_frames(v)
    assert encode_frame(req).hex() == v["stream_hex"]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_vector_responses_map_to_typed_errors(v):
    for r in v["responses"]:
        full = {k: x for k, x in r.items() if x is not None}
        full.setdefault("id", None)
        if "error" in full:
            full["error"] = {**{k: x for k, x in full["error"].items() if x is not None}, "message": "m"}
        RESPONSE.validate(full)
        if r["ok"]:
            continue
        e = ss.error_from_response(full["error"])
        assert type(e) is exception_class_for(r["error"]["code"])
        assert type(e) is not ss.SidecarError  # every vector code is known to the client
        assert e.code == r["error"]["code"] and e.retryable == r["error"]["retryable"]
        assert e.field == r["error"].get("field")


def test_every_known_code_has_a_class():
    from schemas import SCHEMAS

    for code in SCHEMAS["error.schema.json"]["$defs"]["known_code"]["enum"]:
        assert exception_class_for(code) is not ss.SidecarError, code


def test_requests_the_client_builds_are_schema_valid():
    d = FakeDaemon()
    try:
        with ss.SidecarClient(d.path) as c:
            c.ping()
            c.ping("x", delay_ms=0)
            c.stats()
            cred = ss.Credential(id="cred_9", host="smtp.example.com", port=587, security="starttls", username="apikey",
                                 password="SG.x", tls={"min_version": "1.2"}, limits={"per_minute": 10})
            params = dict(
                workspace_id="ws_1", credential=cred, to='ops@example.com, "Doe, Jane" <jane@example.com>',
                cc=["lead@example.com"], bcc="audit@example.com", reply_to="support@example.com", subject="Digest",
                body_format="html", text="t", html="<p>t</p>", priority="high", headers=[{"name": "X-Campaign", "value": "q4"}],
                attachments=[ss.Attachment(filename="r.pdf", content=b"%PDF", content_type="application/pdf"),
                             ss.Attachment(filename="logo.png", url="https://cdn.example.com/logo.png", content_id="logo")],
                context={"workflow_id": "wf", "execution_id": "ex", "node_id": "n", "idempotency_key": ss.idempotency_key("ex", "n")},
                dedup_window_seconds=3600, on_error="stop", timeout_ms=60000,
            )
            params["from"] = "Alerts <alerts@example.com>"
            for op in (c.send, c.verify):
                with pytest.raises(ss.NotImplementedBySidecarError):
                    op(params) if op is c.send else op(workspace_id="ws_1", credential=cred)
    finally:
        d.close()
    assert [r["op"] for r in d.requests] == ["hello", "ping", "ping", "stats", "send", "verify"]
    for r in d.requests:
        REQUEST.validate(r)


def test_scenario_requests_are_schema_valid():
    with open(SCENARIOS) as f:
        scenarios = json.load(f)
    ph = {k: 1025 if k.endswith("PORT") else "x@example.test" for k in
          ("SMTP_PORT", "SMTPS_PORT", "BADCERT_PORT", "STOCK_SUBMISSION_PORT", "CLOSED_PORT", "HOSTILE_DOT_DROP_PORT",
           "HOSTILE_GREETING_STALL_PORT", "SMTP_USER")}
    ph.update(RUN_ID="r", REPEAT_INDEX=1, SMTP_HOST="127.0.0.1", SMTP_TLS_NAME="localhost", SMTP_PASSWORD="p", SMTP_CA_PEM="pem", HOSTILE_CA_PEM="pem")
    for i, s in enumerate(scenarios):
        req = substitute(s["request"], ph)
        REQUEST.validate({"id": i + 1, **req})


# --- the vectors' byte streams against a live daemon, read with the client's decoder ---------------
@pytest.fixture(scope="module")
def vector_daemon(sidecar_binary):
    d = Daemon(sidecar_binary, f"max_frame_bytes={VEC['max_frame_bytes']}")
    yield d
    d.stop()


def _exchange(path: str, v) -> tuple:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    try:
        s.sendall(bytes.fromhex(v["stream_hex"]))
    except (BrokenPipeError, ConnectionResetError):
        pass
    if v["client_half_closes"]:
        s.shutdown(socket.SHUT_WR)
    dec = FrameDecoder()
    got = []
    closed = False
    deadline = time.time() + 5
    while time.time() < deadline:
        if not v["server_closes"] and len(got) >= len(v["responses"]):
            s.settimeout(0.2)  # nothing more may come, and no close
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not data:
            closed = True
            break
        got += dec.feed(data)
    s.close()
    return got, closed


@pytest.mark.live
@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_live_vector(vector_daemon, v):
    got, closed = _exchange(vector_daemon.path, v)
    assert closed == v["server_closes"]
    assert len(got) == len(v["responses"])
    remaining = list(got)
    for exp in v["responses"]:
        match = next((g for g in remaining if contains(g, exp)), None)
        assert match is not None, (exp, got)
        remaining.remove(match)
    for g in got:
        RESPONSE.validate(g)
        if not g["ok"]:
            e = ss.error_from_response(g["error"], g.get("result"))
            assert e.code == g["error"]["code"] and e.message
