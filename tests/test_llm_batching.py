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
