"""The Batch API path over real HTTP: `tools/data/batch.py` and `data generate --batch` against the stand-in
server (bench/standin.py), which serves `/v1/files` and `/v1/batches` like OpenAI and like the compatible
servers that have them. Polls wait on the batch's status; the stand-in's latency is milliseconds."""

from __future__ import annotations

import time

import pytest

from tests.test_llm_adaptive import _requests, _standin


class Killed(Exception):
    pass


@pytest.fixture
def server():
    base_url, state, stop = _standin().start_standin(latency_lo=0.001, latency_hi=0.005)
    yield base_url, state
    stop()


def _teacher(base_url: str):
    from tools.llm.openai_provider import OpenAIProvider

    return OpenAIProvider("standin", base_url=base_url)


def _poll(seconds: float) -> None:
    time.sleep(min(seconds, 0.02))


def test_a_batch_at_a_compatible_server_answers_in_order_and_resumes_after_a_kill(server, tmp_path):
    from tools.data.batch import run_batch

    base_url, state = server
    teacher = _teacher(base_url)
    assert teacher.name == "compatible"
    reqs = _requests(30)
    path = tmp_path / "batch.json"

    def killed(_seconds):
        raise Killed  # the process dies while it waits for the batch

    state.hold_batches = True  # still in progress at the first poll
    with pytest.raises(Killed):
        run_batch(teacher, reqs, state_path=path, sleep=killed)
    state.hold_batches = False
    comps = run_batch(teacher, reqs, state_path=path, sleep=_poll)
    assert [c.text for c in comps] == [f"echo: request {i}" for i in range(30)]
    stats = state.stats()
    assert stats["batches_created"] == 1  # resumed by its id, not submitted again
    assert stats["batch_lines"] == 30 and stats["repeated"] == 0
    assert stats["requests"] == 0  # no live chat completions
    assert all(c.usage.prompt_tokens > 0 for c in comps)


def test_a_server_without_a_batch_api_says_to_drop_batch(tmp_path):
    import httpx

    from tools.data.batch import run_batch
    from tools.errors import ProviderError

    def no_batches(request):
        return httpx.Response(404, json={"error": {"message": "not found"}})

    client = httpx.Client(transport=httpx.MockTransport(no_batches), base_url="http://localhost:9/v1")
    with pytest.raises(ProviderError) as e:
        run_batch(
            _teacher("http://localhost:9/v1"), _requests(2), state_path=tmp_path / "b.json", client=client
        )
    assert "HTTP 404" in e.value.message and "drop --batch" in (e.value.fix or "")
    assert not (tmp_path / "b.json").exists()  # nothing to resume


def test_generation_with_batch_at_a_compatible_server(server, tmp_path, monkeypatch):
    import tools.data.batch as batch
    from tools.data.generate import generate_examples
    from tools.spec import parse_spec_dict

    base_url, state = server
    monkeypatch.setattr(batch.time, "sleep", _poll)
    spec = parse_spec_dict(
        {
            "name": "routing",
            "spec": "Route a customer support message to the team that handles it.",
            "output": {"format": "label", "labels": ["billing", "technical", "shipping", "account"]},
            "examples": [
                {"input": "I was charged twice for my order 12345. Please fix it.", "output": "billing"},
                {"input": "My router keeps dropping off the Wi-Fi since the update.", "output": "technical"},
                {
                    "input": "Tracking says delivered but no parcel arrived (order 55555).",
                    "output": "shipping",
                },
                {"input": "I cannot log in: the password reset email never comes.", "output": "account"},
            ],
        }
    )
    result = generate_examples(
        spec, 8, teacher=_teacher(base_url), workdir=tmp_path, batch=True, on_task_check=False
    )
    stats = state.stats()
    assert stats["requests"] == 0 and stats["batches_created"] >= 2  # inputs, then answers, all by batch
    assert len(result) >= 6
    for row in result:
        text, label = row["messages"][-2]["content"], row["messages"][-1]["content"]
        assert label in ("billing", "technical", "shipping", "account")
        assert text not in {ex.input for ex in spec.examples}
