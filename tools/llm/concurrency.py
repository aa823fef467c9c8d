"""Adaptive concurrency for API providers: AIMD on the server's rate-limit answers.

A fixed number of requests in flight (the provider's `concurrency`, 8 by default) leaves a fast or
generous server idle: against a 300–800 ms endpoint, 8 in flight is ≈ 15 requests/s however much the
account allows. `AdaptiveLimit` starts at the configured value, grows by one after a window of
successes as long as that window (`limit` successes: about one round trip of every slot, as TCP grows
once per round trip), up to a cap, and halves on a rate-limit answer (429). One burst of 429s — every
request sent before the cut that comes back throttled — halves the limit once, not once per answer:
each request remembers the cut count (`epoch`) when it was sent, and only an answer sent after the
last cut cuts again. The throttled request itself is retried by the one retry layer
(tools/llm/retry.py), which honours the server's `Retry-After`; it holds no slot while it waits.

The limit is plain numbers, so it outlives the event loops `Provider.map` runs in (each sync call gets a
fresh loop); `Gate` is the per-loop part that makes requests wait for a free slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdaptiveLimit:
    """The AIMD state: the current limit, requests in flight, and what the limit did (for reports)."""

    def __init__(self, start: int, cap: int, floor: int = 1):
        self.floor = max(1, int(floor))
        self.cap = max(self.floor, int(cap))
        self.limit = min(self.cap, max(self.floor, int(start)))
        self.in_flight = 0
        self.epoch = 0  # how many times the limit was cut
        self._successes = 0
        # reported: the highest limit and in-flight count reached, the throttled answers, and the time
        # integral of the in-flight count (mean concurrency = area / busy seconds)
        self.peak_limit = self.limit
        self.peak_in_flight = 0
        self.throttled = 0
        self.cuts = 0
        self.changes: list[tuple[str, int]] = []  # ("grow" | "cut", the new limit), in order
        self._area = 0.0
        self._busy = 0.0
        self._t = time.perf_counter()

    def has_room(self) -> bool:
        return self.in_flight < self.limit

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.in_flight:
            self._area += self.in_flight * (now - self._t)
            self._busy += now - self._t
        self._t = now

    def enter(self) -> int:
        """A request is sent: returns the epoch it was sent in."""
        self._tick()
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return self.epoch

    def leave(self) -> None:
        self._tick()
        self.in_flight -= 1

    def on_success(self) -> None:
        """Additive increase: +1 after `limit` successes in a row since the last change."""
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.cap:
            self.limit += 1
            self.changes.append(("grow", self.limit))
            self.peak_limit = max(self.peak_limit, self.limit)
            self._successes = 0

    def on_throttle(self, epoch: int) -> None:
        """Multiplicative decrease: halve once per burst (answers to requests sent before the last cut
        are that burst's and change nothing)."""
        self.throttled += 1
        self._successes = 0
        if epoch != self.epoch:
            return
        self.limit = max(self.floor, self.limit // 2)
        self.changes.append(("cut", self.limit))
        self.epoch += 1
        self.cuts += 1

    def stats(self) -> dict:
        self._tick()
        return {
            "limit": self.limit,
            "peak_limit": self.peak_limit,
            "peak_in_flight": self.peak_in_flight,
            "mean_in_flight": round(self._area / self._busy, 2) if self._busy else 0.0,
            "throttled": self.throttled,
            "cuts": self.cuts,
        }


class Gate:
    """One event loop's view of an `AdaptiveLimit`: `async with gate.slot() as epoch` waits for room."""

    def __init__(self, limit: AdaptiveLimit):
        self.limit = limit
        self._cond = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        async with self._cond:
            await self._cond.wait_for(self.limit.has_room)
            epoch = self.limit.enter()
        try:
            yield epoch
        finally:
            async with self._cond:
                self.limit.leave()
                self._cond.notify_all()  # room may have grown by more than one (a success raised the limit)
