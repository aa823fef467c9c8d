"""The smaller ones of issue #14 (item 8): --base-url with --provider openai, a 400 not told to retry,
crash logs that never overwrite each other, serve's batch size, one retry layer for the Batch API and
managed fine-tuning (the private workspace: test_workspace_private.py; --backend:
test_cli_generate_train_flags.py)."""

from __future__ import annotations

import pytest

from tests.scripted_server import ScriptedBackend, scripted_servers
from tests.test_cli_fuzz import cli

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def backend():
    return ScriptedBackend()


@pytest.fixture
def server(backend):
    yield from scripted_servers(backend)


def test_base_url_counts_with_provider_openai(server, monkeypatch):
    from tools.llm import get_provider

    base = server()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    p = get_provider("chat", "openai", "fake", base_url=base, use_cache=False)
    assert p.base_url == base
    assert p.complete(USER, max_tokens=4).text == "echo hi"


def test_an_http_400_is_not_told_to_retry_later(server):
    from tools.errors import ProviderError
    from tools.llm import get_provider

    base = server()
    p = get_provider("chat", "compatible", "fake", base_url=base, use_cache=False)
    too_long = [{"role": "user", "content": "word " * 5000}]  # over the scripted 4096-token context
    with pytest.raises(ProviderError) as e:
        p.complete(too_long, max_tokens=4)
    line = e.value.one_line()
    assert "HTTP 400" in line and "retry later" not in line and "retrying will not help" in line


@pytest.mark.parametrize(
    "status, fragment", [(400, "will not help"), (429, "retry later"), (503, "retry later")]
)
def test_status_hints(status, fragment):
    from tools.llm.retry import status_fix

    assert fragment in status_fix(status)


def test_two_crashes_in_one_second_keep_both_logs():
    from tui.cli.common import crash_log

    paths = [crash_log(RuntimeError(f"crash {i}")) for i in range(3)]
    assert len(set(paths)) == 3
    for i, p in enumerate(paths):
        assert f"crash {i}" in open(p).read()


def test_serve_batch_size_0_is_a_usage_error():
    code, out, err = cli("serve", "--batch-size", "0")
    assert code == 2 and "--batch-size" in err and "internal error" not in err


# ---------------------------------------------------------------- one retry layer for batch and managed
class Flaky:
    """A mock transport handler that answers `status` to the first `times` requests matching `match`,
    then hands every request to `inner`; it records each request's method, path and Idempotency-Key."""

    def __init__(self, inner, match: str, status: int = 503, times: int = 1):
        self.inner, self.match, self.status, self.left = inner, match, status, times
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, request):
        import httpx

        self.seen.append((request.method, request.url.path, request.headers.get("idempotency-key")))
        if self.left and self.match in f"{request.method} {request.url.path}":
            self.left -= 1
            return httpx.Response(
                self.status, headers={"Retry-After": "0"}, json={"error": {"message": "busy"}}
            )
        return self.inner(request)


@pytest.fixture
def no_waiting(monkeypatch):
    """Retries happen, their waits are recorded instead of slept."""
    import tools.data.batch
    import tools.train.managed

    waits: list[float] = []
    monkeypatch.setattr(tools.train.managed, "retry_sleep", waits.append)
    monkeypatch.setattr(tools.data.batch, "retry_sleep", waits.append)
    return waits


def test_openai_fine_tuning_goes_through_the_retry_layer(workspace, monkeypatch, no_waiting):
    import httpx

    from tests.test_train_managed import TODAY, openai_server
    from tests.test_train_run import write_data
    from tools.train.managed import start_managed, wait_managed

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    run = workspace.create_run("managed")
    write_data(run)
    state, plain = openai_server()
    flaky = Flaky(plain._transport.handler, "POST /v1/fine_tuning/jobs", status=429)
    client = httpx.Client(transport=httpx.MockTransport(flaky))
    out = start_managed(
        run, "openai", model="gpt-4.1-mini-2025-04-14", data_version="v1", client=client, today=TODAY
    )
    creates = [s for s in flaky.seen if s[:2] == ("POST", "/v1/fine_tuning/jobs")]
    assert len(creates) == 2 and creates[0][2] and creates[0][2] == creates[1][2]  # one key: made once
    assert no_waiting == [0.0]  # the server's Retry-After
    flaky.left, flaky.match, flaky.status = 1, "GET /v1/fine_tuning/jobs/ftjob-abc123", 503
    assert wait_managed(out, client=client, poll_s=0)["status"] == "completed"
    assert len(no_waiting) == 2


def test_together_fine_tuning_goes_through_the_retry_layer(workspace, monkeypatch, no_waiting):
    import httpx

    from tools.errors import ProviderError
    from tools.train.managed import TogetherFineTuning

    monkeypatch.setenv("TOGETHER_API_KEY", "tg-test")

    def ok(request):
        return httpx.Response(200, json={"id": "file-1"})

    flaky = Flaky(ok, "POST /v1/files/upload", status=502, times=2)
    api = TogetherFineTuning(client=httpx.Client(transport=httpx.MockTransport(flaky)))
    assert api.upload(b'{"messages": []}\n', "t.jsonl") == "file-1"
    assert len(flaky.seen) == 3 and len({s[2] for s in flaky.seen}) == 1
    flaky.left, flaky.status = 99, 503  # it never recovers: one line, after the policy's retries
    with pytest.raises(ProviderError, match="503"):
        api.upload(b"x", "t.jsonl")


def test_the_batch_api_goes_through_the_retry_layer(tmp_path, no_waiting):
    import httpx

    from tests.test_data_generate import FakeBatchAPI, FakeOpenAI, _teacher
    from tools.data.batch import run_batch
    from tools.llm.types import GenParams, Request

    api = FakeBatchAPI()
    flaky = Flaky(api, "GET /v1/batches/batch_1", status=500)
    client = httpx.Client(transport=httpx.MockTransport(flaky), base_url="https://api.openai.com/v1")
    reqs = [Request([{"role": "user", "content": "Peru"}], GenParams(max_tokens=8))]
    comps = run_batch(
        _teacher(FakeOpenAI()), reqs, state_path=tmp_path / "b.json", client=client, sleep=lambda s: None
    )
    assert [c.text for c in comps] == ["Lima"]
    assert no_waiting == [0.0]
    assert api.calls.count("POST /v1/batches") == 1


def test_library_warnings_stay_out_of_the_output():
    """The sizes bench's `tunewise run` printed bitsandbytes' "Failed to load CPU gemm_4bit_forward from
    kernels-community …" in the middle of its evaluation (a CPU with AVX-512 BF16, `kernels` installed, no Hub):
    the CLI and the trainer's process quiet bitsandbytes and kernels with the other libraries."""
    import logging

    from tui.cli.common import quiet_libraries

    quiet_libraries()
    for name in ("bitsandbytes.backends.cpu.ops", "kernels._internals.hf_hub", "transformers.modeling_utils"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.ERROR, name
