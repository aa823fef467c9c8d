"""Exactly one retry layer for every provider (the SDKs' own retries are turned off).

Exponential backoff with full jitter on 429, 5xx (including Anthropic's 529 "overloaded") and
timeouts/connection errors; a server's `Retry-After` is honoured when given.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}


def status_fix(status: int) -> str:
    """What to do about an HTTP error the retry layer gave up on (or never retried): only a busy or
    failing server is worth retrying later; a refused request fails the same way every time."""
    if status in RETRYABLE_STATUS:
        return "the server is busy or failing: retry later, or lower concurrency"
    if status == 413:
        return "the request is too large: shorten the prompt or lower max_tokens"
    if status == 403:
        return "this key may not use this model or endpoint: check the account's access"
    return "the server refused this request (retrying will not help): see its message"


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


def retry_sync(
    fn: Callable[[], T],
    classify: Callable[[BaseException], tuple[bool, float | None]],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """`with_retries` for blocking clients (the Batch API, managed fine-tuning): the same policy."""
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            retryable, retry_after = classify(exc)
            if not retryable or attempt >= policy.max_retries:
                raise
            wait = policy.delay(attempt, retry_after)
            if on_retry:
                on_retry(attempt + 1, wait, exc)
            sleep(wait)
            attempt += 1


def classify_openai(exc: BaseException) -> tuple[bool, float | None]:
    """(retryable, retry_after) for an exception of the `openai` SDK."""
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True, None
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS, parse_retry_after(exc.response.headers)
    return False, None


class RetryableResponse(Exception):
    """An HTTP response with a retryable status, raised so `retry_sync` can retry it."""

    def __init__(self, response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def classify_http(exc: BaseException) -> tuple[bool, float | None]:
    """(retryable, retry_after) for plain httpx calls: transport errors and RetryableResponse."""
    import httpx

    if isinstance(exc, RetryableResponse):
        return True, parse_retry_after(exc.response.headers)
    return isinstance(exc, httpx.TransportError), None
