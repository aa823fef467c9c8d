"""One provider conformance suite, run against `local` (the embedded model in this process) and
against `openai` (the official SDK) pointed at a real `tunewise serve` on a free localhost port.

Both share the session's embedded weights, so the model loads once. Greedy decoding with few tokens
keeps it quick and deterministic.
"""

from __future__ import annotations

import pytest

from tools.llm import GenParams, Request
from tools.llm.cache import ResponseCache

HELLO = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Say hello in one short sentence."},
]
GREETING_SCHEMA = {
    "type": "object",
    "properties": {"greeting": {"type": "string"}},
    "required": ["greeting"],
}


@pytest.fixture(scope="module")
def served(embedded):
    """A real `tunewise serve` (uvicorn on a free port) sharing the session's embedded weights."""
    from tools.llm.server import start_background_server

    base_url, stop = start_background_server(provider=embedded, batch_size=8)
    yield base_url
    stop()


@pytest.fixture(params=["local", "openai"])
def provider(request, workspace, embedded):
    cache = ResponseCache(workspace.llm_cache_path)
    if request.param == "local":
        from tools.llm.local import LocalProvider

        # same path/dtype/device as the session fixture: the weights are shared, not reloaded
        return LocalProvider("embedded", dtype="float32", cache=cache)
    from tools.llm.openai_provider import OpenAIProvider

    base_url = request.getfixturevalue("served")
    return OpenAIProvider("embedded", base_url=base_url, cache=cache)


def _stream_text(provider, messages, max_tokens: int) -> list[str]:
    if provider.name == "local":
        return list(provider.stream(messages, GenParams(max_tokens=max_tokens)))
    import openai

    client = openai.OpenAI(base_url=provider.base_url, api_key="not-needed")
    stream = client.chat.completions.create(
        model=provider.model, messages=messages, max_tokens=max_tokens, stream=True
    )
    return [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]


def test_completion_has_text_usage_and_latency(provider):
    c = provider.complete(HELLO, max_tokens=12)
    assert c.text.strip()
    assert c.usage.prompt_tokens > 10
    assert 0 < c.usage.completion_tokens <= 12
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    assert c.latency_s > 0
    assert not c.cached
    assert c.cost_usd == 0.0  # local and self-hosted servers are free in the price table
    assert c.finish_reason in ("stop", "length")
    assert provider.calls == 1


def test_map_keeps_request_order_under_concurrency(provider):
    # prompts of clearly different lengths, shuffled: each answer's prompt_tokens shows where it came from
    words = ["one two three", "one", "one two three four five six seven eight", "one two three four five"]
    reqs = [
        Request([{"role": "user", "content": f"Repeat these words: {w}"}], GenParams(max_tokens=6), tag=w)
        for w in words
    ]
    seen: list[int] = []
    out = provider.map(reqs, concurrency=4, on_result=lambda i, c: seen.append(i))
    assert [c.tag for c in out] == words
    assert sorted(seen) == [0, 1, 2, 3]
    assert all(c.text.strip() for c in out)
    by_prompt_len = sorted(range(4), key=lambda i: out[i].usage.prompt_tokens)
    by_words = sorted(range(4), key=lambda i: len(words[i].split()))
    assert by_prompt_len == by_words


def test_structured_output_is_parsed_or_explained_after_one_repair(provider):
    c = provider.complete(
        [{"role": "user", "content": 'Greet me as JSON, like {"greeting": "hi"}.'}],
        json_schema=GREETING_SCHEMA,
        max_tokens=24,
    )
    assert (c.parsed is None) != (c.parse_error is None)
    if c.parsed is not None:
        assert isinstance(c.parsed["greeting"], str)
    else:
        assert provider.calls == 2  # the first reply failed validation: exactly one repair attempt
    assert provider.calls in (1, 2)


def test_second_identical_call_is_a_cache_hit_and_bypass_works(provider):
    first = provider.complete(HELLO, max_tokens=8)
    calls = provider.calls
    again = provider.complete(HELLO, max_tokens=8)
    assert again.cached and again.text == first.text
    assert provider.calls == calls  # no backend call
    assert again.cost_usd == 0.0
    fresh = provider.complete(HELLO, max_tokens=8, use_cache=False)
    assert not fresh.cached
    assert provider.calls == calls + 1
    assert fresh.text == first.text  # greedy decoding is deterministic


async def test_async_complete(provider):
    c = await provider.acomplete(HELLO, max_tokens=6)
    assert c.text.strip() and c.usage.completion_tokens > 0


def test_streaming_yields_pieces_that_add_up_to_the_completion(provider):
    pieces = _stream_text(provider, HELLO, 12)
    assert sum(1 for p in pieces if p) > 1, "streaming should deliver the answer in several pieces"
    full = provider.complete(HELLO, max_tokens=12, use_cache=False)
    assert "".join(pieces).strip() == full.text


def test_served_model_answers_like_the_embedded_model(served, embedded, workspace):
    """The server adds no drift: same greedy answer and token counts as the in-process model."""
    from tools.llm.openai_provider import OpenAIProvider

    remote = OpenAIProvider("embedded", base_url=served).complete(HELLO, max_tokens=10)
    local = embedded.complete(HELLO, max_tokens=10)
    assert remote.text == local.text
    assert remote.usage.prompt_tokens == local.usage.prompt_tokens
    assert remote.usage.completion_tokens == local.usage.completion_tokens
