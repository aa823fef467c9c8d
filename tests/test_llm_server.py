"""`tunewise serve` over real HTTP: OpenAI shapes, errors, SSE format, micro-batching, stop strings, adapters."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tools.llm.server import BadRequest, parse_chat_request, served_model_id

USER = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def served(embedded):
    from tools.llm.server import start_background_server

    base_url, stop = start_background_server(provider=embedded, batch_size=8)
    yield base_url
    stop()


def _post(base_url: str, body, **kw) -> httpx.Response:
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=120, **kw)


# ---------------------------------------------------------------- pure request parsing
def test_parse_chat_request_maps_openai_fields():
    req = parse_chat_request(
        {
            "model": "m",
            "max_completion_tokens": 7,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 3,
            "stop": "END",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            ],
        }
    )
    assert req.messages == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "ab"}]
    assert (req.params.max_tokens, req.params.temperature, req.params.top_p, req.params.seed) == (
        7,
        0.5,
        0.9,
        3,
    )
    assert req.params.stop == ("END",) and req.stream and req.include_usage


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": USER}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content[0]",
        ),
        ({"model": "m", "messages": USER, "n": 2}, "n"),
        ({"model": "m", "messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"model": "m", "messages": USER, "temperature": 9}, "temperature"),
        ({"model": "m", "messages": USER, "stop": 5}, "stop"),
        ({"model": "m", "messages": USER, "response_format": {"type": "xml"}}, "response_format"),
    ],
)
def test_parse_chat_request_names_the_bad_field(body, param):
    with pytest.raises(BadRequest) as e:
        parse_chat_request(body)
    assert e.value.param == param and e.value.status == 400


def test_served_model_id_names_model_and_adapter(tmp_path):
    assert served_model_id("embedded", None) == "embedded"
    assert served_model_id("/models/qwen.gguf", None) == "qwen"
    assert served_model_id("embedded", str(tmp_path / "train" / "v2" / "adapter")) == "embedded+v2"
    assert served_model_id("embedded", None, name="mine") == "mine"


# ---------------------------------------------------------------- over HTTP
def test_models_and_health(served):
    models = httpx.get(f"{served}/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["embedded"]
    assert httpx.get(f"{served}/models/embedded").json()["id"] == "embedded"
    assert httpx.get(f"{served}/models/other").status_code == 404
    assert httpx.get(served.removesuffix("/v1") + "/health").json()["status"] == "ok"


def test_chat_completion_shape(served):
    r = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 8})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"]
    assert choice["finish_reason"] in ("stop", "length")
    u = body["usage"]
    assert (
        u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] and 0 < u["completion_tokens"] <= 8
    )


def test_errors_are_openai_shaped(served):
    import openai

    client = openai.OpenAI(base_url=served, api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="gpt-nope", messages=USER, max_tokens=4)
    assert nf.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as br:
        client.chat.completions.create(model="embedded", messages=USER, max_tokens=4, n=3)
    assert br.value.body["param"] == "n"
    bad_json = httpx.post(
        f"{served}/chat/completions",
        content=b"{not json",
        timeout=30,
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 400 and "error" in bad_json.json()
    too_long = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 10_000_000})
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "context_length_exceeded"
    unknown_path = httpx.get(served.removesuffix("/v1") + "/v2/nothing")
    assert unknown_path.status_code == 404 and unknown_path.json()["error"]["type"] == "not_found_error"


def test_sse_stream_format(served):
    lines = []
    body = {
        "model": "embedded",
        "messages": USER,
        "max_tokens": 8,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", f"{served}/chat/completions", json=body, timeout=120) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    plain = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 8}).json()
    assert text == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["usage"] == plain["usage"]


def test_concurrent_requests_are_micro_batched(served):
    root = served.removesuffix("/v1")
    before = httpx.get(f"{root}/stats").json()

    async def burst():
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(
                *[
                    client.post(
                        f"{served}/chat/completions",
                        json={
                            "model": "embedded",
                            "max_tokens": 4,
                            "messages": [{"role": "user", "content": f"Count to {i}."}],
                        },
                    )
                    for i in range(6)
                ]
            )

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 6
    after = httpx.get(f"{root}/stats").json()
    assert after["requests"] - before["requests"] == 6
    assert after["batches"] - before["batches"] < 6, "concurrent requests should share generate() calls"
    assert after["max_batch"] > 1


def test_stop_strings_cut_streamed_and_plain_answers(served):
    first = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 16}).json()
    text = first["choices"][0]["message"]["content"]
    words = text.split()
    assert len(words) >= 3
    stop = words[2]
    expected = text.split(stop, 1)[0].strip()
    plain = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 16, "stop": [stop]}).json()
    assert plain["choices"][0]["message"]["content"] == expected
    assert plain["choices"][0]["finish_reason"] == "stop"
    with httpx.stream(
        "POST",
        f"{served}/chat/completions",
        timeout=120,
        json={"model": "embedded", "messages": USER, "max_tokens": 16, "stop": [stop], "stream": True},
    ) as r:
        chunks = [json.loads(line[6:]) for line in r.iter_lines() if line and line != "data: [DONE]"]
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert streamed == expected
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_serves_model_plus_lora_adapter(embedded_dir, tmp_path):
    """A LoRA adapter directory is applied on top of the base model and named in /v1/models."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tools.llm.openai_provider import OpenAIProvider
    from tools.llm.server import start_background_server

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    # init_lora_weights=False: random (non-zero) B matrices, so the adapter visibly changes outputs
    lora = get_peft_model(
        base, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    adapter_dir = tmp_path / "train" / "v1" / "adapter"
    lora.save_pretrained(str(adapter_dir))
    del base, lora

    url, stop = start_background_server("embedded", str(adapter_dir), dtype="float32")
    try:
        ids = [m["id"] for m in httpx.get(f"{url}/models").json()["data"]]
        assert ids == ["embedded+v1"]
        tuned = OpenAIProvider("embedded+v1", base_url=url).complete(USER, max_tokens=8)
        assert tuned.text and tuned.usage.completion_tokens > 0
    finally:
        stop()
    from tools.llm.local import LocalProvider

    plain = LocalProvider("embedded", dtype="float32").complete(USER, max_tokens=8)
    assert tuned.text != plain.text


def test_openai_provider_streams_from_the_server_over_sse(served, tmp_path):
    """The `openai` provider's stream against `tunewise serve` over real HTTP: the same answer as a
    plain call, in several pieces, with the server's usage; the finished answer is cached."""
    from tools.llm.cache import ResponseCache
    from tools.llm.openai_provider import OpenAIProvider
    from tools.llm.types import GenParams

    p = OpenAIProvider("embedded", base_url=served, cache=ResponseCache(tmp_path / "cache.sqlite"))
    info: dict = {}
    pieces = list(p.stream(USER, GenParams(max_tokens=12), info=info))
    plain = _post(served, {"model": "embedded", "messages": USER, "max_tokens": 12}).json()
    assert len(pieces) >= 2
    assert "".join(pieces).strip() == plain["choices"][0]["message"]["content"].strip()
    assert info["completion_tokens"] == plain["usage"]["completion_tokens"]
    assert info["finish_reason"] == plain["choices"][0]["finish_reason"]
    calls = p.calls
    again = p.complete(USER, max_tokens=12)
    assert again.cached and p.calls == calls and again.text == "".join(pieces).strip()


# ---------------------------------------------------------------- --prompt: a session's prompt, no model needed
def _prompt_session(tmp_path):
    import yaml

    session = tmp_path / "runs" / "r1"
    session.mkdir(parents=True)
    shots = [{"input": "cat", "output": "CAT"}, {"input": "dog", "output": "DOG"}]
    doc = {"system": "Write the word in capitals.", "shots": shots, "trials": [], "best": {"shots": 2}}
    (session / "prompt.json").write_text(json.dumps(doc))
    (session / "spec.yaml").write_text(yaml.safe_dump({"spec": "caps", "student": {"model": "embedded"}}))
    return session


def test_with_prompt_puts_the_sessions_prompt_before_the_callers_messages():
    from tools.llm.server import with_prompt

    prompt = {"system": "Be brief.", "shots": [{"input": "q", "output": "a"}]}
    assert with_prompt([{"role": "user", "content": "x"}], prompt) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "x"},
    ]
    # a caller's own system message follows the prompt's instructions, not in place of them
    mine = with_prompt(
        [{"role": "system", "content": "In French."}, {"role": "user", "content": "x"}], prompt
    )
    assert mine[0] == {"role": "system", "content": "Be brief.\n\nIn French."} and mine[-1]["content"] == "x"


def test_a_prompt_to_serve_is_read_from_the_session_or_refused_with_where(tmp_path, monkeypatch):
    from tools.errors import UserError
    from tools.llm.server import load_served_prompt

    session = _prompt_session(tmp_path)
    for given in (session, session / "prompt.json"):
        got = load_served_prompt(given)
        assert got["system"] == "Write the word in capitals." and got["model"] == "embedded"
        assert got["shots"] == [{"input": "cat", "output": "CAT"}, {"input": "dog", "output": "DOG"}]
    # by the session's id, from the folder its workspace is in (the report's command)
    from tools.workspace import Workspace

    ws = Workspace(tmp_path / "home")
    ws.ensure()
    by_id = ws.run("20261204-082032-plants")
    by_id.path.mkdir(parents=True)
    (by_id.path / "prompt.json").write_text((session / "prompt.json").read_text())
    monkeypatch.setenv("TUNEWISE_HOME", str(tmp_path / "home"))
    assert load_served_prompt("20261204-082032-plants")["shots"][0] == {"input": "cat", "output": "CAT"}
    with pytest.raises(UserError, match="no prompt.json in") as e:
        load_served_prompt(tmp_path)
    assert "--prompt" in str(e.value) and "fix:" in str(e.value)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"system": "s", "shots": [{"input": "q"}]}))
    with pytest.raises(UserError, match=r"shots\[0\]"):
        load_served_prompt(bad)


def test_serve_answers_with_a_sessions_prompt_as_it_was_measured(embedded, tmp_path):
    """Walk 17 was told 'use this prompt with your model' and had none: `serve --prompt` answers with the
    model the prompt was measured on and the prompt — the same greedy answer as that prompt sent by hand."""
    from tools.llm.server import load_served_prompt, start_background_server, with_prompt

    prompt = load_served_prompt(_prompt_session(tmp_path))
    url, stop = start_background_server(provider=embedded, prompt=prompt)
    try:
        user = [{"role": "user", "content": "bird"}]
        served = _post(url, {"model": "embedded", "messages": user, "max_tokens": 6, "temperature": 0})
    finally:
        stop()
    assert served.status_code == 200
    body = served.json()
    by_hand = embedded.complete(with_prompt(user, prompt), max_tokens=6, temperature=0.0)
    assert body["choices"][0]["message"]["content"] == by_hand.text
    bare = embedded.complete(user, max_tokens=6, temperature=0.0)
    # the prompt reached the model: its instructions and examples are counted in the request's tokens
    assert body["usage"]["prompt_tokens"] == by_hand.usage.prompt_tokens > bare.usage.prompt_tokens
