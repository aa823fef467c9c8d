"""Cost and safety around every call: budget guard, cache bypass, price file errors, and key leaks.

HTTP APIs that cannot be reached here are driven through the official SDKs with httpx2.MockTransport
(the SDKs' own HTTP library) answering with the JSON the real APIs send.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tools.errors import BudgetExceeded, ConfigError, ProviderError
from tools.llm.budget import Budget
from tools.llm.cache import ResponseCache
from tools.llm.pricing import PriceTable
from tools.llm.retry import RetryPolicy

LEAK_KEY = "sk-test-LEAK-abcdefghijklmnop1234"
LEAK_ANTHROPIC = "sk-ant-LEAK-zyxwvutsrqponmlk9876"
HI = [{"role": "user", "content": "Hi"}]


def chat_completion(content: str = "Hello!", prompt_tokens: int = 19, completion_tokens: int = 10) -> dict:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-5-mini-2025-08-07",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


class Scripted:
    def __init__(self, *responses: httpx2.Response):
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.responses.pop(0)


async def _no_sleep(_seconds: float) -> None:
    return None


def openai_provider(script: Scripted, **kw):
    from tools.llm.openai_provider import OpenAIProvider

    return OpenAIProvider(
        "gpt-5-mini",
        api_key=LEAK_KEY,
        retry=RetryPolicy(sleep=_no_sleep),
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)),
        **kw,
    )


# ---------------------------------------------------------------- budget
def test_budget_stops_before_a_call_that_would_exceed_it(workspace):
    script = Scripted(httpx2.Response(200, json=chat_completion()))
    budget = Budget(limit_usd=0.001)
    p = openai_provider(script, budget=budget)
    # worst case: 1000 output tokens × $2/1M = $0.002 > $0.001
    with pytest.raises(BudgetExceeded) as e:
        p.complete(HI, max_tokens=1000)
    assert script.requests == []  # stopped before sending anything
    assert budget.total == 0.0 and p.calls == 0
    assert e.value.exit_code == 3 and "budget" in str(e.value) and "--budget" in str(e.value)


def test_budget_is_charged_persisted_and_shared(workspace):
    run = workspace.create_run("budget")
    script = Scripted(httpx2.Response(200, json=chat_completion()))
    budget = Budget(limit_usd=0.01, path=run.budget_path)
    p = openai_provider(script, budget=budget)
    c = p.complete(HI, max_tokens=1000)
    expected = (19 * 0.25 + 10 * 2.0) / 1e6
    assert c.cost_usd == pytest.approx(expected)
    assert budget.total == pytest.approx(expected)
    saved = json.loads(run.budget_path.read_text())
    assert saved["total"] == pytest.approx(expected) and saved["limit_usd"] == 0.01
    # another process (here: a fresh Budget on the same file) sees the spend and the limit
    again = Budget(path=run.budget_path)
    assert again.limit_usd == 0.01 and again.total == pytest.approx(expected)
    with pytest.raises(BudgetExceeded):
        openai_provider(Scripted(), budget=again).complete(HI, max_tokens=5000)  # $0.01 worst case


def test_cache_hits_skip_the_budget_and_bypass_calls_again(workspace):
    script = Scripted(*[httpx2.Response(200, json=chat_completion()) for _ in range(2)])
    cache = ResponseCache(workspace.llm_cache_path)
    p = openai_provider(script, cache=cache, budget=Budget(limit_usd=1.0))
    first = p.complete(HI, max_tokens=20)
    second = p.complete(HI, max_tokens=20)
    assert second.cached and second.cost_usd == 0 and len(script.requests) == 1
    third = p.complete(HI, max_tokens=20, use_cache=False)
    assert not third.cached and len(script.requests) == 2 and third.text == first.text
    assert p.calls == 2


def test_openai_429_then_success_uses_retry_after_ms(workspace):
    sleeps: list[float] = []

    async def record(s: float) -> None:
        sleeps.append(s)

    from tools.llm.openai_provider import OpenAIProvider

    script = Scripted(
        httpx2.Response(
            429,
            headers={"retry-after-ms": "1500", "x-ratelimit-remaining-requests": "0"},
            json={
                "error": {
                    "message": "Rate limit reached for gpt-5-mini",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        httpx2.Response(200, json=chat_completion("ok")),
    )
    p = OpenAIProvider(
        "gpt-5-mini",
        api_key=LEAK_KEY,
        retry=RetryPolicy(sleep=record),
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)),
    )
    assert p.complete(HI, max_tokens=5).text == "ok"
    assert sleeps == [1.5] and len(script.requests) == 2
    body = json.loads(script.requests[0].content)
    assert body["max_completion_tokens"] == 5 and "temperature" not in body  # reasoning-model parameters


# ---------------------------------------------------------------- price file
def test_malformed_price_file_names_file_and_field(workspace):
    bad = workspace.path / "prices.yaml"
    bad.write_text("models:\n  openai:\n    gpt-x: {input: cheap, output: 1.0}\n")
    with pytest.raises(ConfigError) as e:
        PriceTable.load(workspace_dir=workspace.path)
    msg = e.value.one_line()
    assert str(bad) in msg and "models.openai.gpt-x.input" in msg and "fix:" in msg


def test_price_file_yaml_syntax_error_has_a_line(workspace, monkeypatch):
    bad = workspace.path / "my-prices.yaml"
    bad.write_text("models:\n  openai: {gpt-x: [\n")
    monkeypatch.setenv("TUNEWISE_PRICES", str(bad))
    with pytest.raises(ConfigError) as e:
        PriceTable.load()
    assert f"{bad}:" in str(e.value)
    from tools.llm import get_provider

    with pytest.raises(ConfigError) as e2:  # before any model load
        get_provider("chat", "local", workspace=workspace)
    assert str(bad) in str(e2.value)


def test_price_overrides_merge_with_builtin(workspace):
    (workspace.path / "prices.yaml").write_text(
        "models:\n  openai:\n    gpt-5-mini: {input: 1.0, output: 4.0}\n"
    )
    table = PriceTable.load(workspace_dir=workspace.path)
    assert table.cost("openai", "gpt-5-mini-2025", 1_000_000, 0) == 1.0
    assert table.cost("anthropic", "claude-haiku-4-5", 0, 1_000_000) == 5.0  # built-in kept


# ---------------------------------------------------------------- key leaks
def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_keys_never_reach_files_logs_or_errors(workspace, monkeypatch, caplog, capsys):
    from tools.llm import get_provider
    from tui.cli.common import crash_log

    monkeypatch.setenv("OPENAI_API_KEY", LEAK_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", LEAK_ANTHROPIC)
    caplog.set_level(logging.DEBUG)  # everything, SDK debug logs included

    run = workspace.create_run("leak")
    budget = Budget(limit_usd=5.0, path=run.budget_path)
    echo = f"Your key is {LEAK_KEY}"  # a model that repeats a secret must not get it cached
    script = Scripted(
        httpx2.Response(200, json=chat_completion(echo)),
        httpx2.Response(
            503, json={"error": {"message": f"upstream failed for {LEAK_KEY}", "type": "server_error"}}
        ),
        httpx2.Response(
            401,
            json={
                "error": {
                    "message": f"Incorrect API key provided: {LEAK_KEY}.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
    )
    p = get_provider(
        "teacher",
        workspace=workspace,
        budget=budget,
        retry=RetryPolicy(sleep=_no_sleep),
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)),
    )
    assert p.name == "openai"  # auto-selected from OPENAI_API_KEY
    p.complete(HI, max_tokens=10)
    with pytest.raises(ProviderError) as auth:
        p.complete([{"role": "user", "content": "again"}], max_tokens=10)
    assert "401" in str(auth.value)
    errors = [str(auth.value), auth.value.one_line()]

    ant_script = Scripted(
        httpx2.Response(
            401,
            json={
                "type": "error",
                "error": {"type": "authentication_error", "message": f"invalid x-api-key {LEAK_ANTHROPIC}"},
            },
        )
    )
    a = get_provider(
        "judge",
        "anthropic",
        workspace=workspace,
        retry=RetryPolicy(sleep=_no_sleep),
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(ant_script)),
    )
    with pytest.raises(ProviderError) as ant_err:
        a.complete(HI, max_tokens=10)
    errors.append(str(ant_err.value))

    try:
        raise RuntimeError(f"crash while holding {LEAK_KEY} and {LEAK_ANTHROPIC}")
    except RuntimeError as exc:
        log_path = crash_log(exc)
    assert log_path and Path(log_path).exists()

    out = capsys.readouterr()
    logged = caplog.text + "\n".join(logging.Formatter().format(r) for r in caplog.records)
    for key in (LEAK_KEY, LEAK_ANTHROPIC):
        assert _files_containing(workspace.path, key.encode()) == []
        assert all(key not in e for e in errors)
        assert key not in out.out and key not in out.err
        assert key not in logged
    assert len(ResponseCache(workspace.llm_cache_path)) == 1  # the echoed answer was cached, redacted
    assert len(script.requests) == 3  # answer, 503 retried, 401 not retried


def test_cli_never_prints_the_key(tmp_path):
    env = {
        **os.environ,
        "OPENAI_API_KEY": LEAK_KEY,
        "ANTHROPIC_API_KEY": LEAK_ANTHROPIC,
        "TUNEWISE_HOME": str(tmp_path),
    }
    runs = [
        [sys.executable, "-m", "tui.cli.main", "doctor", "--brief"],
        [
            sys.executable,
            "-m",
            "tui.cli.main",
            "chat",
            "hi",
            "--provider",
            "compatible",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
    ]
    outputs = []
    for cmd in runs:
        r = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        outputs.append(r.stdout + r.stderr)
    assert "OPENAI_API_KEY present" in outputs[0]
    assert "cannot reach" in outputs[1]
    for key in (LEAK_KEY, LEAK_ANTHROPIC):
        assert all(key not in o for o in outputs)
        assert _files_containing(tmp_path, key.encode()) == []
