"""asyncio client: one connection multiplexes requests by id; a small pool per client."""
from __future__ import annotations

import asyncio
import errno
import itertools
import os
import socket
import time
from typing import Any, Dict, List, Mapping, Optional

from .errors import (
    ClientTimeoutError,
    FrameTooLargeError,
    SidecarConnectionError,
    SidecarError,
    error_from_response,
)
from .framing import FrameDecoder, FramingError, encode_payload, frame_payload
from .types import HelloResult, Limits, PingResult, SendResult, VerifyResult, to_wire

DEFAULT_SOCKET_PATH = "/run/smtp-sidecar/smtp-sidecar.sock"
CLIENT_NAME = "smtp-sidecar-python/0.1.0"
PROTOCOL_VERSIONS = [1]
_MISSING: Any = object()


class _NotSent(Exception):
    """The request never reached the daemon (the connection was already closed):
    safe to send again on a new connection."""

    def __init__(self, cause: Optional[BaseException] = None) -> None:
        super().__init__(str(cause) if cause else "connection closed")
        self.cause = cause


class _Connection:
    def __init__(self, path: str, client_name: str, hello_timeout: float) -> None:
        self.path = path
        self.client_name = client_name
        self.hello_timeout = hello_timeout
        self.sock: Optional[socket.socket] = None
        self.limits = Limits()
        self.hello: Optional[HelloResult] = None
        self._ids = itertools.count(1)
        self._pending: Dict[int, "asyncio.Future[Dict[str, Any]]"] = {}
        self._null_errors: List[Dict[str, Any]] = []
        self._slots: Optional[asyncio.Semaphore] = None
        self._in_flight = 0
        self._wlock = asyncio.Lock()
        self._reader: Optional["asyncio.Task[None]"] = None
        self.closed = False
        self.draining = False  # no new requests (broken framing or id:null refusal)
        self.last_activity = time.monotonic()
        self._writing = False

    def _close_fd(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    # -- lifecycle -----------------------------------------------------------
    async def open(self) -> HelloResult:
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, self.path)
        except OSError as e:
            s.close()
            raise SidecarConnectionError(
                "sidecar_unavailable", f"cannot connect to {self.path}: {e.strerror or e}", retryable=True
            ) from e
        self.sock = s
        self._reader = loop.create_task(self._read_loop())
        # hello runs alone: limits are unknown until it answers.
        self._slots = asyncio.Semaphore(1)
        try:
            res = await self._request("hello", {"versions": PROTOCOL_VERSIONS, "client": self.client_name}, self.hello_timeout)
        except _NotSent as e:
            await self.close()
            raise SidecarConnectionError("connection_lost", f"the daemon closed the connection during hello: {e}", retryable=True) from e
        except BaseException:
            await self.close()
            raise
        if res.get("ok") is not True:
            await self.close()
            err = res.get("error")
            raise error_from_response(err if isinstance(err, dict) else {}, None)
        result = res.get("result")
        self.hello = HelloResult.from_dict(result if isinstance(result, dict) else {})
        self.limits = self.hello.limits
        self._slots = asyncio.Semaphore(self.limits.max_in_flight)
        return self.hello

    async def close(self) -> None:
        self.draining = True
        if self.sock is not None and not self.closed:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass
        self._finish(None)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def usable(self) -> bool:
        return not self.closed and not self.draining

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity if self._in_flight == 0 else 0.0

    # -- reading -------------------------------------------------------------------
    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        dec = FrameDecoder()
        reason: Optional[SidecarError] = None
        assert self.sock is not None
        try:
            while True:
                try:
                    data = await loop.sock_recv(self.sock, 262144)
                except (ConnectionResetError, BrokenPipeError):
                    # A Unix socket returns what the daemon sent first, then the error: treat as EOF.
                    break
                except OSError as e:
                    reason = SidecarConnectionError("connection_lost", f"read failed: {e}", retryable=True)
                    break
                if not data:
                    break
                self.last_activity = time.monotonic()
                try:
                    frames = dec.feed(data)
                except FramingError as e:
                    reason = SidecarError("invalid_response", str(e))
                    break
                for obj in frames:
                    self._dispatch(obj)
        except asyncio.CancelledError:
            pass
        finally:
            self._finish(reason)

    def _dispatch(self, obj: Dict[str, Any]) -> None:
        rid = obj.get("id")
        fut = self._pending.pop(rid, None) if isinstance(rid, int) and not isinstance(rid, bool) else None
        if fut is not None:
            self._release()
            if not fut.done():
                fut.set_result(obj)
        elif rid is None and obj.get("ok") is False:
            # Cannot be matched to a request (frame_too_large, truncated_frame,
            # peer_not_allowed, too_many_connections, invalid_json, duplicate_id…).
            # Take no new request here; the requests the daemon leaves unanswered
            # are the refused ones.
            e = obj.get("error")
            err: Dict[str, Any] = e if isinstance(e, dict) else {"code": "internal_error", "message": "", "retryable": False}
            self._null_errors.append(err)
            self.draining = True
        # else: an answer to a request we gave up on (client timeout): ignore.
        self._settle_null_errors()

    def _settle_null_errors(self) -> None:
        # Once only as many requests are unanswered as there were id:null
        # refusals, those requests are the refused ones.
        if self._null_errors and 0 < len(self._pending) <= len(self._null_errors):
            for (rid, fut), err in zip(list(self._pending.items()), self._null_errors):
                self._pending.pop(rid, None)
                self._release()
                if not fut.done():
                    fut.set_result({"id": None, "ok": False, "error": err})

    def _finish(self, reason: Optional[SidecarError]) -> None:
        if self.closed:
            return
        self.closed = True
        self.draining = True
        if self.sock is not None:
            # shutdown wakes a write in progress (EPIPE); the fd is closed once
            # no write uses it (closing it under sock_sendall would hang it).
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            if not self._writing:
                self._close_fd()
        pending = list(self._pending.items())
        self._pending.clear()
        for _, fut in pending:
            self._release()
            if fut.done():
                continue
            if self._null_errors:
                fut.set_result({"id": None, "ok": False, "error": self._null_errors[0]})
            else:
                fut.set_exception(_ConnectionEnded(reason))

    def _release(self) -> None:
        self._in_flight -= 1
        self.last_activity = time.monotonic()
        if self._slots is not None:
            self._slots.release()

    # -- requests -------------------------------------------------------------------
    async def request(self, op: str, params: Optional[Mapping[str, Any]], timeout: Optional[float]) -> Dict[str, Any]:
        return await self._request(op, params, timeout)

    async def _request(self, op: str, params: Optional[Mapping[str, Any]], timeout: Optional[float]) -> Dict[str, Any]:
        loop = asyncio.get_running_loop()
        assert self._slots is not None
        slots = self._slots
        await slots.acquire()
        if self.closed or self.draining or slots is not self._slots:
            slots.release()
            raise _NotSent()
        self._in_flight += 1
        rid = next(self._ids)
        msg: Dict[str, Any] = {"id": rid, "op": op}
        if params is not None:
            msg["params"] = params
        try:
            payload = encode_payload(msg)
        except (TypeError, ValueError) as e:
            self._release()
            raise SidecarError("invalid_params", f"params are not JSON: {e}") from None
        if len(payload) > self.limits.max_frame_bytes:
            self._release()
            raise FrameTooLargeError(
                "frame_too_large",
                f"the request is {len(payload)} bytes, over the daemon's max_frame_bytes {self.limits.max_frame_bytes}; attach large files by URL",
            )
        fut: "asyncio.Future[Dict[str, Any]]" = loop.create_future()
        self._pending[rid] = fut
        self.last_activity = time.monotonic()
        try:
            async with self._wlock:
                if self.closed:
                    raise BrokenPipeError(errno.EPIPE, "connection closed")
                assert self.sock is not None
                self._writing = True
                try:
                    await loop.sock_sendall(self.sock, frame_payload(payload))
                finally:
                    self._writing = False
                    if self.closed:
                        self._close_fd()
        except (OSError, asyncio.CancelledError) as e:
            if isinstance(e, asyncio.CancelledError):
                # A partial frame may be on the wire: this connection is unusable.
                self.draining = True
                self._shutdown_write()
                raise
            # EPIPE/ECONNRESET: the daemon closed, maybe after a refusal frame
            # (frame_too_large, peer_not_allowed…). Read what it sent first.
            self.draining = True
            if self._reader is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(self._reader), 2.0)
                except (asyncio.TimeoutError, Exception):
                    pass
            if not fut.done():
                if self._pending.pop(rid, None) is not None:
                    self._release()
                raise _NotSent(e) from None
            if fut.exception() is not None:
                raise _NotSent(e) from None
            return fut.result()
        try:
            if timeout is None:
                return await asyncio.shield(fut)
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            # The request keeps its slot until the daemon answers (it still runs there).
            fut.add_done_callback(_consume)
            raise ClientTimeoutError(
                "client_timeout",
                f"no answer to {op} within {timeout:g} s",
                retryable=op != "send",
                may_have_been_sent=op == "send",
            ) from None
        except _ConnectionEnded as e:
            raise SidecarConnectionError(
                "connection_lost",
                f"the connection to the daemon closed before it answered {op}" + (f" ({e.reason.message})" if e.reason else ""),
                retryable=True,
                may_have_been_sent=op == "send",
            ) from None

    def _shutdown_write(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def _consume(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()  # nobody awaits it any more: no "exception never retrieved"


class _ConnectionEnded(Exception):
    def __init__(self, reason: Optional[SidecarError]) -> None:
        super().__init__(reason.message if reason else "connection closed")
        self.reason = reason


class AsyncSidecarClient:
    """asyncio client.

    ``send``, ``verify``, ``ping`` and ``hello`` return typed objects
    (:class:`SendResult`, :class:`VerifyResult`, :class:`PingResult`,
    :class:`HelloResult`, each with ``raw``, the dict as received); ``stats``
    returns the dict as received. Failures raise :class:`SidecarError`
    subclasses.

    Up to ``max_connections`` connections are opened on demand; each is started
    with ``hello`` and carries at most the daemon's ``max_in_flight`` requests.
    A connection the daemon closed (idle timeout) is replaced transparently.
    """

    def __init__(
        self,
        socket_path: Optional[str] = None,
        *,
        max_connections: int = 4,
        timeout: Optional[float] = 300.0,
        client_name: str = CLIENT_NAME,
    ) -> None:
        self.socket_path = socket_path or os.environ.get("SMTP_SIDECAR_SOCKET") or DEFAULT_SOCKET_PATH
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.timeout = timeout
        self.client_name = client_name
        self._conns: List[_Connection] = []
        self._lock: Optional[asyncio.Lock] = None
        self._closed = False

    async def __aenter__(self) -> "AsyncSidecarClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        conns, self._conns = self._conns, []
        for c in conns:
            await c.close()

    # -- pool ------------------------------------------------------------------------
    async def _pick(self) -> _Connection:
        if self._closed:
            raise SidecarConnectionError("client_closed", "the client is closed")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            keep = []
            for c in self._conns:
                stale = c.in_flight == 0 and c.idle_for() * 1000 > max(c.limits.idle_timeout_ms - 1000, c.limits.idle_timeout_ms * 0.8)
                if c.usable and not stale:
                    keep.append(c)
                elif c.in_flight == 0:
                    await c.close()
                # a draining connection with requests in flight closes itself
            # draining connections with answers still due stay until they close
            self._conns = [c for c in self._conns if not c.closed and (c in keep or c.in_flight > 0)]
            usable = [c for c in self._conns if c.usable]
            free = [c for c in usable if c.in_flight < c.limits.max_in_flight]
            if free:
                return min(free, key=lambda c: c.in_flight)
            if len(self._conns) < self.max_connections or not usable:
                c = _Connection(self.socket_path, self.client_name, 30.0 if self.timeout is None else min(30.0, self.timeout))
                await c.open()
                self._conns.append(c)
                return c
            return min(usable, key=lambda c: c.in_flight)

    async def request(self, op: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Any = _MISSING) -> Dict[str, Any]:
        """Send one request and return the ``result`` dict; raise on ``ok: false``."""
        if timeout is _MISSING:
            timeout = self.timeout
            if params and isinstance(params.get("timeout_ms"), int) and timeout is not None:
                timeout = max(timeout, params["timeout_ms"] / 1000.0 + 10.0)
        wire = to_wire(params) if params is not None else None
        last: Optional[BaseException] = None
        for attempt in range(3):
            conn = await self._pick()
            try:
                resp = await conn.request(op, wire, timeout)
            except _NotSent as e:
                last = e  # closed under us (idle close): try a fresh connection
                continue
            except SidecarConnectionError as e:
                # Lost with the request in flight. Only a send has effects worth
                # protecting; hello, ping, stats and verify are asked again once.
                if op == "send" or e.code != "connection_lost" or attempt > 0:
                    raise
                last = e
                continue
            if resp.get("ok") is True:
                res = resp.get("result")
                return res if isinstance(res, dict) else {}
            err = resp.get("error")
            raise error_from_response(err if isinstance(err, dict) else {}, resp.get("result"))
        if isinstance(last, SidecarConnectionError):
            raise last
        raise SidecarConnectionError("connection_lost", f"the daemon kept closing the connection ({last})", retryable=True)

    # -- operations -------------------------------------------------------------------
    async def hello(self) -> HelloResult:
        """The ``hello`` answer of a pooled connection (opening one if needed)."""
        conn = await self._pick()
        assert conn.hello is not None
        return conn.hello

    async def ping(self, data: Optional[str] = None, *, delay_ms: Optional[int] = None, timeout: Any = _MISSING) -> PingResult:
        params: Dict[str, Any] = {}
        if data is not None:
            params["data"] = data
        if delay_ms is not None:
            params["delay_ms"] = delay_ms
        return PingResult.from_dict(await self.request("ping", params or None, timeout=timeout))

    async def stats(self) -> Dict[str, Any]:
        return await self.request("stats")

    async def metrics(self) -> Dict[str, Any]:
        """The daemon's metrics: {"content_type": "text/plain; version=0.0.4", "text": <Prometheus text>}."""
        return await self.request("metrics")

    async def credential_status(
        self, credential_id: Optional[str] = None, workspace_id: Optional[str] = None
    ) -> Dict[str, Any]:
        """The health of the daemon's stored credentials (proto-spec §5.7): {"credentials": [...]},
        all of them, one workspace's, or the one named (``credential_not_found`` if none)."""
        params: Dict[str, Any] = {}
        if credential_id is not None:
            params["credential_id"] = credential_id
        if workspace_id is not None:
            params["workspace_id"] = workspace_id
        return await self.request("credential_status", params or None)

    async def send(self, params: Optional[Mapping[str, Any]] = None, /, **kw: Any) -> SendResult:
        """``send`` with a dict of params, keyword arguments, or both (keywords win)."""
        return SendResult.from_dict(await self.request("send", _merge(params, kw)))

    async def verify(self, params: Optional[Mapping[str, Any]] = None, /, **kw: Any) -> VerifyResult:
        return VerifyResult.from_dict(await self.request("verify", _merge(params, kw)))


def _merge(params: Optional[Mapping[str, Any]], kw: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = dict(params or {})
    out.update(kw)
    return out
