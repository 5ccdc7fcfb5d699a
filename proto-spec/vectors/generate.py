#!/usr/bin/env python3
"""Generates the protocol test vectors in vectors.json.

`client_half_closes` means the client shuts down its sending side after the stream
(the end of input is part of the vector).

Each vector is the exact bytes a client writes (`stream_hex`), what a conforming server
decodes from them (`frames`), and the response it sends for each frame (`responses`,
listing only the fields a client may rely on: `id`, `ok`, `error.code`,
`error.retryable`, `error.field`, and stable `result` fields).

Run: python3 proto-spec/vectors/generate.py  (rewrites vectors.json next to it)
"""
import json
import os
import struct

MAX = 1024  # max_frame_bytes the vectors assume


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def obj(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def err(code, id=None, field=None, retryable=False):
    e = {"code": code, "retryable": retryable}
    if field is not None:
        e["field"] = field
    return {"id": id, "ok": False, "error": e}


vectors = []


def add(name, description, stream, frames, responses, max_frame_bytes=MAX, closes=False, half_close=False):
    vectors.append({
        "name": name,
        "description": description,
        "max_frame_bytes": max_frame_bytes,
        "stream_hex": stream.hex(),
        "frames": frames,
        "responses": responses,
        "client_half_closes": half_close,
        "server_closes": closes,
    })


# --- Valid requests -------------------------------------------------------------------
p = obj({"id": "p1", "op": "ping", "params": {"data": "héllo ✉"}})
add("ping-string-id", "A ping with a string id and non-ASCII data echoed back.", frame(p),
    [{"request": {"id": "p1", "op": "ping", "params": {"data": "héllo ✉"}}}],
    [{"id": "p1", "ok": True, "result": {"pong": True, "data": "héllo ✉"}}])

p = obj({"id": 42, "op": "ping"})
add("ping-integer-id-no-params", "Params may be omitted when the operation needs none; an integer id is echoed as an integer.",
    frame(p), [{"request": {"id": 42, "op": "ping", "params": None}}], [{"id": 42, "ok": True, "result": {"pong": True}}])

p = obj({"op": "ping", "params": {"data": "x", "future_field": [1, 2]}, "id": "unknown-fields", "extension": True})
add("unknown-fields-ignored", "Members the server does not know are ignored, at any level and in any order.",
    frame(p), [{"request": {"id": "unknown-fields", "op": "ping", "params": {"data": "x"}}}],
    [{"id": "unknown-fields", "ok": True, "result": {"pong": True, "data": "x"}}])

p = obj({"id": "h1", "op": "hello", "params": {"versions": [1, 2], "client": "vectors/1"}})
add("hello-negotiates-1", "hello picks the highest version both sides speak.", frame(p),
    [{"request": {"id": "h1", "op": "hello", "params": {"versions": [1, 2], "client": "vectors/1"}}}],
    [{"id": "h1", "ok": True, "result": {"version": 1, "server": "smtp-sidecar", "limits": {"max_frame_bytes": MAX}}}])

p = obj({"id": "h2", "op": "hello", "params": {"versions": [7, 8]}})
add("hello-no-common-version", "hello with no common version is refused.", frame(p),
    [{"request": {"id": "h2", "op": "hello", "params": {"versions": [7, 8]}}}],
    [err("unsupported_version", "h2", "params.versions")])

two = frame(obj({"id": "a", "op": "ping", "params": {"data": "1"}})) + frame(obj({"id": "b", "op": "ping", "params": {"data": "2"}}))
add("two-frames-one-write", "Two frames in one write are two requests.", two,
    [{"request": {"id": "a", "op": "ping", "params": {"data": "1"}}}, {"request": {"id": "b", "op": "ping", "params": {"data": "2"}}}],
    [{"id": "a", "ok": True, "result": {"data": "1"}}, {"id": "b", "ok": True, "result": {"data": "2"}}])

p = obj({"id": "exact", "op": "ping", "params": {"data": ""}})
pad = MAX - len(p.encode())
p = obj({"id": "exact", "op": "ping", "params": {"data": "z" * (pad)}})
assert len(p.encode()) == MAX, len(p.encode())
add("frame-at-limit", "A payload of exactly max_frame_bytes is accepted.", frame(p),
    [{"request": {"id": "exact", "op": "ping", "params": {"data": "z" * pad}}}],
    [{"id": "exact", "ok": True, "result": {"pong": True}}])

# --- Malformed payloads (answered, connection stays open) ------------------------------
add("empty-payload", "A zero-length payload is not JSON.", frame(b""), [{"error": {"id": None, "code": "invalid_json"}}],
    [err("invalid_json")])
add("not-json", "Text that is not JSON.", frame("hello, sidecar"), [{"error": {"id": None, "code": "invalid_json"}}],
    [err("invalid_json")])
add("invalid-utf8", "Bytes that are not UTF-8.", frame(b'{"id":"\xff\xfe","op":"ping"}'),
    [{"error": {"id": None, "code": "invalid_json"}}], [err("invalid_json")])
add("truncated-json", "A JSON object cut short inside the frame.", frame('{"id":"t","op":"pi'),
    [{"error": {"id": None, "code": "invalid_json"}}], [err("invalid_json")])
add("array-not-object", "A JSON array is not a request.", frame('[{"id":"x","op":"ping"}]'),
    [{"error": {"id": None, "code": "not_an_object"}}], [err("not_an_object")])
add("string-not-object", "A JSON string is not a request.", frame('"ping"'),
    [{"error": {"id": None, "code": "not_an_object"}}], [err("not_an_object")])
add("missing-id", "A request without an id.", frame(obj({"op": "ping"})),
    [{"error": {"id": None, "code": "missing_id", "field": "id"}}], [err("missing_id", None, "id")])
add("null-id", "A null id is a missing id.", frame(obj({"id": None, "op": "ping"})),
    [{"error": {"id": None, "code": "missing_id", "field": "id"}}], [err("missing_id", None, "id")])
add("bad-id-type", "An id that is neither a string nor an integer.", frame(obj({"id": {"n": 1}, "op": "ping"})),
    [{"error": {"id": None, "code": "missing_id", "field": "id"}}], [err("missing_id", None, "id")])
add("empty-string-id", "An id must have 1 to 128 characters.", frame(obj({"id": "", "op": "ping"})),
    [{"error": {"id": None, "code": "missing_id", "field": "id"}}], [err("missing_id", None, "id")])
add("unknown-op", "An operation the server does not know; the id is echoed.", frame(obj({"id": "u1", "op": "launch"})),
    [{"error": {"id": "u1", "code": "unknown_operation", "field": "op"}}], [err("unknown_operation", "u1", "op")])
add("missing-op", "A request without an op.", frame(obj({"id": "u2"})),
    [{"error": {"id": "u2", "code": "unknown_operation", "field": "op"}}], [err("unknown_operation", "u2", "op")])
add("params-wrong-type", "A field of the wrong type names the field.",
    frame(obj({"id": "w1", "op": "ping", "params": {"data": 5}})),
    [{"error": {"id": "w1", "code": "invalid_params", "field": "params.data"}}], [err("invalid_params", "w1", "params.data")])
add("credential-status-wrong-type", "credential_status's filters are strings of 1 to 256 characters.",
    frame(obj({"id": "cs1", "op": "credential_status", "params": {"credential_id": 7}})),
    [{"error": {"id": "cs1", "code": "invalid_params", "field": "params.credential_id"}}],
    [err("invalid_params", "cs1", "params.credential_id")])
add("send-missing-params", "send needs params.", frame(obj({"id": "s1", "op": "send"})),
    [{"error": {"id": "s1", "code": "invalid_params", "field": "params"}}], [err("invalid_params", "s1", "params")])
add("send-missing-workspace", "send needs params.workspace_id.",
    frame(obj({"id": "s2", "op": "send", "params": {"to": "a@example.com"}})),
    [{"error": {"id": "s2", "code": "invalid_params", "field": "params.workspace_id"}}],
    [err("invalid_params", "s2", "params.workspace_id")])
add("send-bad-enum", "An enum field with a value outside its set.",
    frame(obj({"id": "s3", "op": "send", "params": {"workspace_id": "w", "credential_id": "c", "priority": "urgent"}})),
    [{"error": {"id": "s3", "code": "invalid_params", "field": "params.priority"}}],
    [err("invalid_params", "s3", "params.priority")])

def invalid(name, description, id, op, params, field):
    add(name, description, frame(obj({"id": id, "op": op, "params": params})),
        [{"error": {"id": id, "code": "invalid_params", "field": field}}], [err("invalid_params", id, field)])


# Bounds of the schemas, enforced before anything is done with a request.
invalid("send-dedup-window-too-large", "dedup_window_seconds beyond 30 days (2^62 here) is refused.", "b1", "send",
        {"workspace_id": "w", "credential_id": "c", "dedup_window_seconds": 2 ** 62}, "params.dedup_window_seconds")
invalid("send-dedup-window-negative", "A negative dedup_window_seconds is refused.", "b2", "send",
        {"workspace_id": "w", "credential_id": "c", "dedup_window_seconds": -1}, "params.dedup_window_seconds")
invalid("send-timeout-zero", "timeout_ms is at least 1.", "b3", "send",
        {"workspace_id": "w", "credential_id": "c", "timeout_ms": 0}, "params.timeout_ms")
invalid("send-empty-workspace", "workspace_id has at least one character.", "b4", "send",
        {"workspace_id": "", "credential_id": "c"}, "params.workspace_id")
invalid("verify-empty-workspace", "workspace_id has at least one character.", "b5", "verify",
        {"workspace_id": "", "credential": {"host": "smtp.example.com"}}, "params.workspace_id")
invalid("send-no-credential", "Exactly one of credential and credential_id: neither names credential.", "b6", "send",
        {"workspace_id": "w", "to": "a@example.com"}, "params.credential")
invalid("send-both-credentials", "Exactly one of credential and credential_id: both name credential_id.", "b7", "send",
        {"workspace_id": "w", "credential": {"host": "smtp.example.com"}, "credential_id": "c"}, "params.credential_id")
invalid("send-attachment-without-content", "An attachment needs content_base64 or url.", "b8", "send",
        {"workspace_id": "w", "credential_id": "c", "attachments": [{"filename": "a.txt"}]},
        "params.attachments[0].content_base64")
invalid("send-attachment-with-both-contents", "An attachment has content_base64 or url, not both.", "b9", "send",
        {"workspace_id": "w", "credential_id": "c",
         "attachments": [{"filename": "a.txt", "content_base64": "YQ==", "url": "https://example.com/a.txt"}]},
        "params.attachments[0].url")
invalid("send-to-entry-wrong-type", "An entry of a list is named by its 0-based index.", "b10", "send",
        {"workspace_id": "w", "credential_id": "c", "to": ["a@example.com", 5]}, "params.to[1]")
invalid("send-header-value-wrong-type", "A header entry is named by its index and member.", "b11", "send",
        {"workspace_id": "w", "credential_id": "c", "headers": [{"name": "X-A", "value": "1"}, {"name": "X-B", "value": 2}]},
        "params.headers[1].value")
invalid("ping-delay-not-integer", "An integer member given a fraction.", "b12", "ping", {"delay_ms": 1.5}, "params.delay_ms")
add("id-too-many-code-points", "An id of 129 code points (64 characters of e + U+0301, and one more) is refused: lengths count code points.",
    frame(obj({"id": "e\u0301" * 64 + "a", "op": "ping"})),
    [{"error": {"id": None, "code": "missing_id", "field": "id"}}], [err("missing_id", None, "id")])
add("nesting-513", "513 opening brackets: refused as too deep, like any nesting beyond 64 levels.", frame(b"[" * 513),
    [{"error": {"id": None, "code": "invalid_json"}}], [err("invalid_json")])
deep = "[" * 70 + "]" * 70
add("nesting-too-deep-in-params", "Nesting beyond 64 levels anywhere, even in a member the server ignores, is invalid_json.",
    frame('{"id":"n","op":"ping","params":{"x":' + deep + '}}'),
    [{"error": {"id": None, "code": "invalid_json"}}], [err("invalid_json")])
add("repeated-member", "An object that repeats a member name is invalid_json.", frame('{"id":"a","id":"b","op":"ping"}'),
    [{"error": {"id": None, "code": "invalid_json"}}], [err("invalid_json")])

# --- Broken framing (server answers, then closes) --------------------------------------
add("oversized-frame", "A header announcing more than max_frame_bytes: refused before any payload is read; the server closes.",
    struct.pack(">I", MAX + 1) + b"{" * 16, [{"oversized": {"declared_length": MAX + 1}}], [err("frame_too_large")], closes=True)
add("oversized-huge", "A header announcing 4 GiB - 1.", struct.pack(">I", 0xFFFFFFFF),
    [{"oversized": {"declared_length": 0xFFFFFFFF}}], [err("frame_too_large")], closes=True)
add("truncated-frame", "The client closes its side after part of a frame.", struct.pack(">I", 100) + b'{"id":',
    [{"truncated": {"received": 10, "expected": 104}}], [err("truncated_frame")], closes=True, half_close=True)
add("truncated-header", "The client closes its side after two bytes of a header.", b"\x00\x00",
    [{"truncated": {"received": 2, "expected": 4}}], [err("truncated_frame")], closes=True, half_close=True)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "vectors.json"), "w", encoding="utf-8") as out:
    json.dump({"version": 1, "max_frame_bytes": MAX, "vectors": vectors}, out, indent=2, ensure_ascii=False)
    out.write("\n")
print(f"wrote {len(vectors)} vectors")
