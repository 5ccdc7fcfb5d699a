"""Idempotency keys and a retry helper that never re-sends a possibly delivered message."""
from __future__ import annotations

import asyncio
import random
import time
from typing import Awaitable, Callable, Optional, TypeVar, Union

from .errors import SidecarError

T = TypeVar("T")


def idempotency_key(execution_id: Union[str, int], node_id: Union[str, int], attempt: Union[str, int, None] = None) -> str:
    """``context.idempotency_key`` for one node of one workflow execution.

    Pass ``attempt`` only when each attempt is meant to be a new message (a
    user pressing "send again"); the retries of one attempt must share the key,
    so that the daemon's duplicate suppression answers a retry with the first
    send's result instead of sending twice."""
    parts = [str(execution_id), str(node_id)]
    if attempt is not None:
        parts.append(str(attempt))
    for p in parts:
        if not p:
            raise ValueError("execution_id and node_id must not be empty")
    return "/".join(p.replace("%", "%25").replace("/", "%2F") for p in parts)


def should_retry(exc: BaseException) -> bool:
    """Whether ``exc`` allows sending the same request again."""
    if not isinstance(exc, SidecarError):
        return False
    if exc.code == "outcome_unknown" or exc.may_have_been_sent:
        return False
    return exc.retryable


def _delay(exc: SidecarError, attempt: int, base: float, cap: float) -> float:
    if exc.retry_after is not None:
        return min(max(exc.retry_after, 0.0), cap)
    return float(min(cap, base * (2.0 ** attempt)) * (0.5 + random.random() / 2))


def retry(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Optional[Callable[[SidecarError, float], None]] = None,
) -> T:
    """Call ``fn`` until it succeeds, retrying only errors that are retryable
    (``retry_after`` respected). ``outcome_unknown`` and any error after which
    the message may have gone out are raised at once, never re-sent."""
    for i in range(attempts):
        try:
            return fn()
        except SidecarError as e:
            if i == attempts - 1 or not should_retry(e):
                raise
            d = _delay(e, i, base_delay, max_delay)
            if on_retry:
                on_retry(e, d)
            sleep(d)
    raise AssertionError("unreachable")


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 60.0,
    on_retry: Optional[Callable[[SidecarError, float], None]] = None,
) -> T:
    """:func:`retry` for coroutines."""
    for i in range(attempts):
        try:
            return await fn()
        except SidecarError as e:
            if i == attempts - 1 or not should_retry(e):
                raise
            d = _delay(e, i, base_delay, max_delay)
            if on_retry:
                on_retry(e, d)
            await asyncio.sleep(d)
    raise AssertionError("unreachable")
