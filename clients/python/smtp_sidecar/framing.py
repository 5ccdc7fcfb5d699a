"""Framing: a 4-byte big-endian length, then one JSON object in UTF-8."""
from __future__ import annotations

import json
import struct
from typing import Any, Dict, List

#: Largest response frame this client accepts (proto-spec §2: SHOULD accept 64 MiB).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class FramingError(Exception):
    pass


def encode_payload(obj: Dict[str, Any]) -> bytes:
    # allow_nan=False: NaN/Infinity are not JSON (RFC 8259).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def encode_frame(obj: Dict[str, Any]) -> bytes:
    payload = encode_payload(obj)
    return struct.pack(">I", len(payload)) + payload


def frame_payload(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


class FrameDecoder:
    """Incremental decoder: feed bytes, get complete JSON objects."""

    def __init__(self, max_frame_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._buf = bytearray()
        self.max_frame_bytes = max_frame_bytes

    def feed(self, data: bytes) -> List[Dict[str, Any]]:
        self._buf += data
        out: List[Dict[str, Any]] = []
        while len(self._buf) >= 4:
            (n,) = struct.unpack_from(">I", self._buf, 0)
            if n > self.max_frame_bytes:
                raise FramingError(f"response frame of {n} bytes is over {self.max_frame_bytes}")
            if len(self._buf) < 4 + n:
                break
            payload = bytes(self._buf[4 : 4 + n])
            del self._buf[: 4 + n]
            try:
                obj = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise FramingError(f"response is not JSON: {e}") from None
            if not isinstance(obj, dict):
                raise FramingError("response is not a JSON object")
            out.append(obj)
        return out

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)
