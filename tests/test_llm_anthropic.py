"""The `anthropic` provider against httpx.MockTransport with Messages API payloads as the real API sends them."""

from __future__ import annotations

import json

import httpx2 as httpx  # the anthropic and openai SDKs use httpx2 (httpx objects are refused)
import pytest

from tools.errors import ProviderError
from tools.llm.anthropic_provider import AnthropicProvider, split_system
from tools.llm.retry import RetryPolicy

FAKE_KEY = "sk-ant-test-abcdefghijklmnopqrstuvwxyz0123"


def message_payload(text: str = "Hello there!", input_tokens: int = 21, output_tokens: int = 4) -> dict:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def error_payload(kind: str, message: str) -> dict:
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


class Recorder:
    """A scripted Messages API: answers requests in turn and remembers what was sent."""

    def __init__(self, *responses: httpx.Response):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


def make_provider(recorder: Recorder, sleeps: list[float], **kw) -> AnthropicProvider:
    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0, sleep=record_sleep)
    return AnthropicProvider(
        "claude-sonnet-4-5",
        api_key=FAKE_KEY,
        retry=policy,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)),
        **kw,
    )


def test_split_system_merges_system_and_same_role_turns():
    system, turns = split_system(
        [
            {"role": "system", "content": "A"},
            {"role": "user", "content": "q1"},
            {"role": "user", "content": "q2"},
            {"role": "system", "content": "B"},
            {"role": "assistant", "content": "a"},
        ]
    )
    assert system == "A\n\nB"
    assert turns == [{"role": "user", "content": "q1\n\nq2"}, {"role": "assistant", "content": "a"}]


def test_system_prompt_goes_top_level_and_usage_is_costed():
    rec = Recorder(httpx.Response(200, json=message_payload()))
    p = make_provider(rec, [])
    c = p.complete(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=50,
        stop=["\n\n"],
    )
    body = rec.bodies[0]
    assert rec.requests[0].url.path == "/v1/messages"
    headers = rec.requests[0].headers
    assert FAKE_KEY in (headers.get("x-api-key") or headers.get("authorization", ""))  # the key is sent, once
    assert "anthropic-version" in rec.requests[0].headers
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["max_tokens"] == 50 and body["stop_sequences"] == ["\n\n"] and "temperature" not in body
    assert c.text == "Hello there!"
    assert (c.usage.prompt_tokens, c.usage.completion_tokens) == (21, 4)
    assert c.finish_reason == "end_turn" and c.model == "claude-sonnet-4-5-20250929"
    assert c.cost_usd == pytest.approx((21 * 3.0 + 4 * 15.0) / 1e6)


def test_429_retry_after_is_honoured():
    rec = Recorder(
        httpx.Response(
            429,
            headers={"retry-after": "7", "anthropic-ratelimit-requests-remaining": "0"},
            json=error_payload("rate_limit_error", "Number of requests has exceeded your rate limit"),
        ),
        httpx.Response(200, json=message_payload()),
    )
    sleeps: list[float] = []
    p = make_provider(rec, sleeps)
    c = p.complete([{"role": "user", "content": "Hi"}], max_tokens=10)
    assert c.text == "Hello there!"
    assert len(rec.requests) == 2
    assert sleeps == [7.0]  # the server's Retry-After, not our own backoff
    assert p.calls == 1


def test_529_overloaded_is_retried_with_backoff():
    overloaded = error_payload("overloaded_error", "Overloaded")
    rec = Recorder(
        httpx.Response(529, json=overloaded),
        httpx.Response(529, json=overloaded),
        httpx.Response(200, json=message_payload("ok")),
    )
    sleeps: list[float] = []
    p = make_provider(rec, sleeps)
    assert p.complete([{"role": "user", "content": "Hi"}], max_tokens=10).text == "ok"
    assert len(rec.requests) == 3
    # exponential backoff with jitter: attempt n waits within [cap/2, cap], cap = 0.5 * 2**n
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_retries_give_up_with_a_clear_error():
    overloaded = error_payload("overloaded_error", "Overloaded")
    rec = Recorder(*[httpx.Response(529, json=overloaded) for _ in range(4)])
    sleeps: list[float] = []
    p = make_provider(rec, sleeps)
    with pytest.raises(ProviderError) as e:
        p.complete([{"role": "user", "content": "Hi"}], max_tokens=10)
    assert len(rec.requests) == 4 and len(sleeps) == 3  # max_retries=3: one layer, no SDK retries stacked
    assert "529" in str(e.value) and "\n" not in str(e.value)


def test_401_is_one_line_without_the_key():
    rec = Recorder(httpx.Response(401, json=error_payload("authentication_error", "invalid x-api-key")))
    sleeps: list[float] = []
    p = make_provider(rec, sleeps)
    with pytest.raises(ProviderError) as e:
        p.complete([{"role": "user", "content": "Hi"}], max_tokens=10)
    msg = str(e.value)
    assert "401" in msg and "ANTHROPIC_API_KEY" in msg
    assert FAKE_KEY not in msg and "\n" not in msg
    assert len(rec.requests) == 1 and sleeps == []  # auth errors are not retried
    assert e.value.__cause__ is None and e.value.__suppress_context__  # no SDK traceback chained


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider("claude-sonnet-4-5")


def sse(*events: tuple[str, dict]) -> httpx.Response:
    """A Messages API stream as the real API sends it (server-sent events)."""
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def stream_events(
    pieces: list[str], input_tokens: int = 25, output_tokens: int = 6
) -> list[tuple[str, dict]]:
    start = message_payload("", input_tokens, 1) | {"content": [], "stop_reason": None}
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
    ]
    events += [
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
        )
        for p in pieces
    ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def test_stream_yields_text_deltas_charges_the_budget_and_fills_the_cache(tmp_path):
    from tools.llm.budget import Budget
    from tools.llm.cache import ResponseCache
    from tools.llm.types import GenParams

    rec = Recorder(sse(*stream_events(["Hel", "lo ", "there!"])))
    budget = Budget(1.0, tmp_path / "budget.json")
    p = make_provider(rec, [], budget=budget, cache=ResponseCache(tmp_path / "cache.sqlite"))
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    info: dict = {}
    pieces = list(p.stream(msgs, GenParams(max_tokens=50), info=info))
    assert pieces == ["Hel", "lo ", "there!"]
    assert rec.bodies[0]["stream"] is True and rec.bodies[0]["system"] == "Be brief."
    assert (info["prompt_tokens"], info["completion_tokens"], info["finish_reason"]) == (25, 6, "end_turn")
    assert budget.total == pytest.approx((25 * 3.0 + 6 * 15.0) / 1e6)
    again = p.complete(msgs, max_tokens=50)  # the streamed answer is cached: no second request
    assert again.cached and again.text == "Hello there!" and len(rec.requests) == 1


def test_stream_error_is_one_clear_line_without_the_key(tmp_path):
    from tools.llm.budget import Budget
    from tools.llm.types import GenParams

    rec = Recorder(httpx.Response(401, json=error_payload("authentication_error", f"bad key {FAKE_KEY}")))
    budget = Budget(1.0)
    p = make_provider(rec, [], budget=budget)
    with pytest.raises(ProviderError) as e:
        list(p.stream([{"role": "user", "content": "Hi"}], GenParams(max_tokens=5)))
    assert "rejected the API key" in str(e.value) and FAKE_KEY not in str(e.value)
    assert budget.remaining == pytest.approx(1.0)  # nothing was spent, nothing stays reserved


def test_stream_retries_an_overloaded_api_before_the_first_token():
    from tools.llm.types import GenParams

    rec = Recorder(
        httpx.Response(529, json=error_payload("overloaded_error", "Overloaded")),
        sse(*stream_events(["O", "k"])),
    )
    sleeps: list[float] = []
    p = make_provider(rec, sleeps)
    assert "".join(p.stream([{"role": "user", "content": "Hi"}], GenParams(max_tokens=5))) == "Ok"
    assert len(rec.requests) == 2 and len(sleeps) == 1
