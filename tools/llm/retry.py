"""Exactly one retry layer for every provider (the SDKs' own retries are turned off).

Exponential backoff with full jitter on 429, 5xx (including Anthropic's 529 "overloaded") and
timeouts/connection errors; a server's `Retry-After` is honoured when given.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}


@dataclass
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # how to wait; tests pass a recorder so honoured Retry-After values are checked without sleeping
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay * 4)
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(cap / 2, cap)


def parse_retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            import email.utils
            import time

            dt = email.utils.parsedate_to_datetime(value)
            return max(0.0, dt.timestamp() - time.time())
    except Exception:
        return None


async def with_retries(
    fn: Callable[[], Awaitable[T]],
    classify: Callable[[BaseException], tuple[bool, float | None]],
    policy: RetryPolicy,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    attempt = 0
    while True:
        try:
            return await fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            retryable, retry_after = classify(exc)
            if not retryable or attempt >= policy.max_retries:
                raise
            wait = policy.delay(attempt, retry_after)
            if on_retry:
                on_retry(attempt + 1, wait, exc)
            await policy.sleep(wait)
            attempt += 1
