"""Sampled requests with their own seeds still share one batch (the teacher's input writing)."""

from __future__ import annotations


def test_requests_differing_only_in_seed_are_batched_together():
    from tools.llm.base import Provider
    from tools.llm.types import GenParams, RawResult, Request

    class Recording(Provider):
        name = "local"
        batched = True

        def __init__(self):
            super().__init__("recording")
            self.batches: list[int] = []

        def _generate_batch(self, batch):
            self.batches.append(len(batch))
            return [RawResult(text=f"x{p.seed}") for _, p, _ in batch]

    p = Recording()
    reqs = [
        Request([{"role": "user", "content": f"write {i}"}], GenParams(temperature=0.9, max_tokens=8, seed=i))
        for i in range(8)
    ]
    reqs.append(Request([{"role": "user", "content": "greedy"}], GenParams(temperature=0.0, max_tokens=8)))
    out = p.map(reqs)
    assert [c.text for c in out[:8]] == [f"x{i}" for i in range(8)]  # each answer back in its place
    assert sorted(p.batches) == [1, 8]  # the 8 seeded requests in one batch; other params apart


def test_a_sampled_batch_is_reproducible_from_its_seeds(embedded):
    from tools.llm.types import GenParams, Request

    reqs = [
        Request(
            [{"role": "user", "content": "Name a fruit."}], GenParams(temperature=0.9, max_tokens=6, seed=s)
        )
        for s in (1, 2, 3)
    ]
    a = [c.text for c in embedded.map(reqs)]
    b = [c.text for c in embedded.map(reqs)]
    assert a == b


def test_json_answers_are_reported_as_each_batch_ends_and_repairs_after_their_round():
    """Progress of JSON answers moves batch by batch (it used to come all at once after the last batch);
    an answer that needs a repair is reported once, repaired."""
    from tools.llm.base import Provider
    from tools.llm.types import GenParams, RawResult, Request

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    events: list[tuple[str, int]] = []

    class Scripted(Provider):
        name = "local"
        batched = True
        batch_size = 2

        def __init__(self):
            super().__init__("scripted")

        def _generate_batch(self, batch):
            events.append(("batch", len(batch)))
            out = []
            for msgs, _, _ in batch:
                text = next(m["content"] for m in msgs if m["role"] == "user")
                repair = any(m["role"] == "assistant" for m in msgs)
                out.append(RawResult(text='{"n": 1}' if repair or "good" in text else "not json"))
            return out

    reqs = [
        Request([{"role": "user", "content": c}], GenParams(max_tokens=8), json_schema=schema)
        for c in ("good a", "good b", "bad c", "good d")
    ]
    out = Scripted().map(reqs, on_result=lambda i, c: events.append(("result", i)))
    assert [c.parsed for c in out] == [{"n": 1}] * 4
    results = [e for e in events if e[0] == "result"]
    assert sorted(i for _, i in results) == [0, 1, 2, 3]  # each reported once
    first_result = events.index(results[0])
    assert first_result < len(events) - 1 and ("batch", 2) in events[first_result + 1 :], events
    assert events[-2:] == [("batch", 1), ("result", 2)], events  # the repaired one, after its repair batch


def test_a_stop_cuts_the_running_batch_and_keeps_none_of_its_answers(embedded, tmp_path):
    """Walk 12: s on the progress screen took minutes to land (a safe point only after a whole batch).
    With the step's stop event set, the embedded model's batch ends at its next token, nothing of it is
    cached or returned, and the step's own stop is raised."""
    import threading

    import pytest

    from tools.llm.base import StopRequested
    from tools.llm.cache import ResponseCache
    from tools.llm.types import GenParams, Request

    cache = ResponseCache(tmp_path / "cache.sqlite")
    old_cache, embedded.cache = embedded.cache, cache
    stopped: list[bool] = []
    embedded.stop_event, embedded.on_stop = threading.Event(), lambda: stopped.append(True)
    try:
        embedded.stop_event.set()
        reqs = [
            Request([{"role": "user", "content": f"Count to {n}."}], GenParams(max_tokens=64))
            for n in (50, 60)
        ]
        with pytest.raises(StopRequested):
            embedded.map(reqs)
        assert stopped == [True] and embedded.calls >= 1
        embedded.stop_event.clear()
        out = embedded.map(reqs)  # asked again after the stop: answered in full, nothing cut was cached
        assert all(not c.cached and c.usage.completion_tokens > 1 for c in out)
    finally:
        embedded.cache, embedded.stop_event, embedded.on_stop = old_cache, None, None
