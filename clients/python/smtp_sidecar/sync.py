"""Synchronous client: the asyncio client run on a private event-loop thread."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Dict, Mapping, Optional, TypeVar

from .aio import _MISSING, CLIENT_NAME, AsyncSidecarClient, _merge
from .types import HelloResult, PingResult, SendResult, VerifyResult

T = TypeVar("T")


class SidecarClient:
    """Thread-safe synchronous client with the same methods as
    :class:`AsyncSidecarClient`. Calls from many threads share its pooled
    connections (and pipeline on them)."""

    def __init__(
        self,
        socket_path: Optional[str] = None,
        *,
        max_connections: int = 4,
        timeout: Optional[float] = 300.0,
        client_name: str = CLIENT_NAME,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sidecar-client", daemon=True)
        self._thread.start()

        async def make() -> AsyncSidecarClient:
            return AsyncSidecarClient(socket_path, max_connections=max_connections, timeout=timeout, client_name=client_name)

        self._client = self._run(make())
        self._closed = False

    @property
    def socket_path(self) -> str:
        return self._client.socket_path

    def _run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()  # type: ignore[arg-type]

    def __enter__(self) -> "SidecarClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self._run(self._client.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()

    def request(self, op: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Any = _MISSING) -> Dict[str, Any]:
        return self._run(self._client.request(op, params, timeout=timeout))

    def hello(self) -> HelloResult:
        return self._run(self._client.hello())

    def ping(self, data: Optional[str] = None, *, delay_ms: Optional[int] = None, timeout: Any = _MISSING) -> PingResult:
        return self._run(self._client.ping(data, delay_ms=delay_ms, timeout=timeout))

    def stats(self) -> Dict[str, Any]:
        return self._run(self._client.stats())

    def metrics(self) -> Dict[str, Any]:
        return self._run(self._client.metrics())

    def credential_status(self, credential_id: Optional[str] = None, workspace_id: Optional[str] = None) -> Dict[str, Any]:
        return self._run(self._client.credential_status(credential_id, workspace_id))

    def send(self, params: Optional[Mapping[str, Any]] = None, /, **kw: Any) -> SendResult:
        return self._run(self._client.send(_merge(params, kw)))

    def verify(self, params: Optional[Mapping[str, Any]] = None, /, **kw: Any) -> VerifyResult:
        return self._run(self._client.verify(_merge(params, kw)))
