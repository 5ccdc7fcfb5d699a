"""An in-process fake smtp-sidecar: a Unix-socket server driven by a script per connection."""
from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import tempfile
import threading
from typing import Any, Callable, Dict, List, Optional

HELLO = {
    "version": 1,
    "server": "smtp-sidecar",
    "server_version": "fake",
    "operations": ["hello", "ping", "stats", "send", "verify", "metrics", "credential_status"],
    "limits": {"max_frame_bytes": 33554432, "max_in_flight": 32, "idle_timeout_ms": 300000},
}


class Peer:
    """One accepted connection, with helpers for a handler script."""

    def __init__(self, sock: socket.socket, server: "FakeDaemon") -> None:
        self.sock = sock
        self.server = server
        self.buf = b""
        self.received: List[Dict[str, Any]] = []

    def recv_exact(self, n: int) -> Optional[bytes]:
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_header(self) -> Optional[int]:
        h = self.recv_exact(4)
        return None if h is None else struct.unpack(">I", h)[0]

    def read(self) -> Optional[Dict[str, Any]]:
        n = self.read_header()
        if n is None:
            return None
        p = self.recv_exact(n)
        if p is None:
            return None
        self.server.raw_frames.append(p)
        obj = json.loads(p)
        self.received.append(obj)
        self.server.requests.append(obj)
        return obj

    def send(self, obj: Dict[str, Any]) -> None:
        p = json.dumps(obj).encode()
        self.sock.sendall(struct.pack(">I", len(p)) + p)

    def ok(self, req: Dict[str, Any], result: Dict[str, Any]) -> None:
        self.send({"id": req["id"], "ok": True, "result": result})

    def answer(self, req: Dict[str, Any]) -> None:
        """Answer like the daemon would for hello/ping/stats."""
        op = req.get("op")
        params = req.get("params") or {}
        if op == "hello":
            self.ok(req, self.server.hello)
        elif op == "ping":
            r = {"pong": True}
            if "data" in params:
                r["data"] = params["data"]
            self.ok(req, r)
        elif op == "stats":
            self.ok(req, {"uptime_ms": 1, "connections": {"open": 1}, "future_member": {"x": 1}})
        else:
            self.send({"id": req["id"], "ok": False, "error": {"code": "not_implemented", "message": "fake", "retryable": False}})

    def handshake(self) -> Dict[str, Any]:
        req = self.read()
        assert req is not None and req["op"] == "hello", req
        self.answer(req)
        return req

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def serve_forever(peer: Peer) -> None:
    """Default script: hello, then answer everything in order."""
    while True:
        req = peer.read()
        if req is None:
            break
        peer.answer(req)


class FakeDaemon:
    def __init__(self, handler: Callable[[Peer], None] = serve_forever, hello: Optional[Dict[str, Any]] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="fake-sidecar-")
        self.path = os.path.join(self.dir, "s.sock")
        self.handler = handler
        self.hello = json.loads(json.dumps(hello or HELLO))
        self.requests: List[Dict[str, Any]] = []
        self.raw_frames: List[bytes] = []
        self.connections = 0
        self.errors: List[BaseException] = []
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(self.path)
        self._srv.listen(16)
        self._stop = False
        self._threads: List[threading.Thread] = []
        self._t = threading.Thread(target=self._accept, daemon=True)
        self._t.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                s, _ = self._srv.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._run, args=(Peer(s, self),), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, peer: Peer) -> None:
        try:
            self.handler(peer)
        except (OSError, AssertionError) as e:
            self.errors.append(e)
        finally:
            peer.close()

    def close(self) -> None:
        self._stop = True
        try:
            self._srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._srv.close()
        for t in self._threads:
            t.join(2)
        shutil.rmtree(self.dir, ignore_errors=True)
