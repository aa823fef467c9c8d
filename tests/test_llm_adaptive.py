"""Adaptive concurrency (tools/llm/concurrency.py) against a real rate-limited HTTP stand-in (bench/standin.py):
the limit halves on 429s and grows without them, and no request is lost or answered twice. Nothing here
waits on or asserts wall-clock time: the stand-in's latency is a few milliseconds so requests overlap, and
Retry-After waits are recorded instead of slept."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _standin():
    if "bench_standin" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_standin", ROOT / "bench" / "standin.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_standin"] = mod  # registered first: its dataclass looks its module up
        spec.loader.exec_module(mod)
    return sys.modules["bench_standin"]


@pytest.fixture
def standin():
    mod = _standin()
    stops = []

    def start(**options):
        base_url, state, stop = mod.start_standin(latency_lo=0.005, latency_hi=0.02, **options)
        stops.append(stop)
        return base_url, state

    yield start
    for stop in stops:
        stop()


class Waits:
    """A RetryPolicy.sleep that records each wait and yields once instead of sleeping."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def _provider(base_url: str, *, start: int, cap: int, waits: Waits, **kw):
    from tools.llm.openai_provider import OpenAIProvider
    from tools.llm.retry import RetryPolicy

    return OpenAIProvider(
        "standin",
        base_url=base_url,
        concurrency=start,
        max_concurrency=cap,
        retry=RetryPolicy(max_retries=1000, sleep=waits),
        **kw,
    )


def _requests(n: int):
    from tools.llm.types import GenParams, Request

    return [
        Request([{"role": "user", "content": f"echo: request {i}"}], GenParams(temperature=0.0, max_tokens=8))
        for i in range(n)
    ]


def test_limit_grows_by_one_per_window_and_halves_once_per_burst():
    from tools.llm.concurrency import AdaptiveLimit

    lim = AdaptiveLimit(start=4, cap=6)
    for _ in range(3):
        lim.on_success()
    assert lim.limit == 4  # a window is `limit` successes
    lim.on_success()
    assert lim.limit == 5
    for _ in range(5 + 6 + 6):
        lim.on_success()
    assert lim.limit == 6  # never past the cap
    burst = [lim.enter() for _ in range(6)]  # six requests out, all sent before any cut
    for epoch in burst:
        lim.on_throttle(epoch)
        lim.leave()
    assert lim.limit == 3 and lim.cuts == 1 and lim.throttled == 6  # one burst, one halving
    lim.on_throttle(lim.enter())  # sent after the cut: a new burst
    assert lim.limit == 1
    lim.on_throttle(lim.epoch)
    assert lim.limit == 1  # the floor
    assert [c for c, _ in lim.changes] == ["grow", "grow", "cut", "cut", "cut"]


def test_concurrency_grows_without_429s_and_nothing_is_lost_or_doubled(standin):
    base_url, state = standin(max_in_flight=1000)
    waits = Waits()
    p = _provider(base_url, start=2, cap=16, waits=waits)
    reqs = _requests(300)
    seen: list[int] = []
    out = p.map(reqs, on_result=lambda i, c: seen.append(i))
    assert [c.text for c in out] == [f"echo: request {i}" for i in range(300)]  # each answer in its place
    assert sorted(seen) == list(range(300))  # every result reported once
    s = state.stats()
    assert s["throttled"] == 0 and s["answered"] == 300 and s["repeated"] == 0
    stats = p.concurrency_stats()
    assert stats["cuts"] == 0 and stats["peak_limit"] == 16  # grew from 2 to the cap
    assert all(kind == "grow" for kind, _ in p._limit.changes)
    assert s["peak_in_flight"] > 2  # the server saw more than the starting concurrency
    assert waits.waits == []


def test_concurrency_backs_off_on_429s_and_honours_retry_after(standin):
    base_url, state = standin(max_in_flight=4, retry_after="0.25")
    waits = Waits()
    p = _provider(base_url, start=2, cap=32, waits=waits)
    out = p.map(_requests(300))
    assert [c.text for c in out] == [f"echo: request {i}" for i in range(300)]
    s = state.stats()
    assert s["answered"] == 300 and s["repeated"] == 0  # each request answered exactly once
    assert s["throttled"] > 0 and s["peak_in_flight"] <= 4
    lim = p._limit
    assert lim.cuts >= 1 and lim.throttled == s["throttled"]
    previous = 2
    for kind, limit in lim.changes:  # every change is +1 or a halving
        assert limit == (previous + 1 if kind == "grow" else max(1, previous // 2))
        previous = limit
    assert waits.waits and all(w == 0.25 for w in waits.waits)  # the server's Retry-After, each time
    assert len(waits.waits) == s["throttled"]  # every 429 retried, none given up


def test_fixed_concurrency_is_unchanged_without_a_cap(standin):
    base_url, state = standin(max_in_flight=1000)
    p = _provider(base_url, start=3, cap=None, waits=Waits())
    p.max_concurrency = None
    out = p.map(_requests(60))
    assert [c.text for c in out] == [f"echo: request {i}" for i in range(60)]
    assert p.concurrency_stats() is None and state.stats()["peak_in_flight"] <= 3


def test_cache_and_budget_hold_under_adaptive_concurrency(standin, tmp_path):
    from tools.llm.budget import Budget
    from tools.llm.cache import ResponseCache

    base_url, state = standin(max_in_flight=5, retry_after="0")
    budget = Budget(100.0)
    p = _provider(
        base_url, start=2, cap=20, waits=Waits(), cache=ResponseCache(tmp_path / "c.sqlite"), budget=budget
    )
    first = p.map(_requests(120))
    again = p.map(_requests(120))
    assert [c.text for c in again] == [c.text for c in first]
    assert all(c.cached for c in again) and not any(c.cached for c in first)
    assert state.stats()["answered"] == 120  # the second map asked nothing
    assert p.calls == 120
    assert budget._reserved == pytest.approx(0.0)  # every reservation released


def test_input_pieces_follow_the_adaptive_limit(standin):
    from tools.data.generate import piece_size

    base_url, _ = standin(max_in_flight=1000)
    p = _provider(base_url, start=2, cap=16, waits=Waits())
    assert piece_size(p, 2) == 4
    p.map(_requests(200))
    assert piece_size(p, 2) == 2 * p._limit.limit > 4


def _open_sockets() -> int:
    import os

    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed while listed
    return n


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts sockets in /proc")
def test_each_map_closes_its_connections(standin):
    """Each sync `map` runs in a loop of its own with an SDK client of its own: left open, their sockets
    piled up and a 20,000-example generation stopped at 13,834 on 'Too many open files'."""
    import gc
    import time

    from tools.llm.openai_provider import OpenAIProvider

    base_url, _ = standin(max_in_flight=64)
    provider = OpenAIProvider("standin", base_url=base_url, concurrency=4)
    provider.map(_requests(4), use_cache=False)  # the first map's imports and pools
    gc.collect()
    before = _open_sockets()
    for _ in range(25):
        provider.map(_requests(4), use_cache=False)
    gc.collect()
    # the stand-in (same process) closes its side once the client has: wait for that, never on a clock
    deadline = time.monotonic() + 30
    while _open_sockets() > before + 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_sockets() <= before + 4  # leaking, 25 maps left at least 25 connections open
