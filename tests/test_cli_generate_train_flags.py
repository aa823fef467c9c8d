"""Two flags that read or reach something new (issue #14, items 4 and 8), in their own module because
they live in `data generate` and `train`:

- `data generate --general-file FILE` checks FILE before a run is created or a teacher called (it used to
  be read at the mixing step, after paid generation): a bad file is one line, exit 2; random files never
  end in "internal error".
- `tunewise train RUN --backend together|openai --model M` runs managed fine-tuning from the CLI (the error
  texts pointed at this flag before it existed); `train resume/stop RUN vN` follow or cancel such a job.
"""

from __future__ import annotations

import json
import random

import pytest

from tests.test_cli_fuzz import (
    SEED,
    VALID,
    _assert_no_crash,
    _prepare,
    cli,
    fuzz_cases,
    run_with_data,  # noqa: F401 - fixture
    stubs,  # noqa: F401 - fixture
)

GENERAL = ["data", "generate", "--spec", "task.yaml", "--general-file"]


def test_a_bad_general_file_is_one_line_before_anything_is_written(tmp_path, stubs):  # noqa: F811
    _prepare(tmp_path)
    (tmp_path / "general.jsonl").write_bytes(bytes(range(256)) * 8)
    code, out, err = cli(*GENERAL, "general.jsonl")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "binary data" in lines[0] and " — fix: " in lines[0], err
    assert not (tmp_path / ".tunewise" / "runs").exists() or not any(
        (tmp_path / ".tunewise" / "runs").iterdir()
    )


def test_random_general_files_never_end_in_an_internal_error(tmp_path, stubs):  # noqa: F811
    _prepare(tmp_path)
    rng = random.Random(f"{SEED}:general-file")
    codes: dict[int, int] = {}
    cases = fuzz_cases(rng, ".jsonl", VALID[".jsonl"])
    for i, data in enumerate(cases):
        path = tmp_path / f"fuzz{i}.jsonl"
        path.write_bytes(data)
        code, out, err = cli(*GENERAL, str(path))
        _assert_no_crash(code, out, err, f"--general-file case {i} ({data[:200]!r})")
        codes[code] = codes.get(code, 0) + 1
    assert sum(n for c, n in codes.items() if c != 0) >= len(cases) // 2, codes


def test_the_managed_backends_are_reachable_from_the_cli():
    """The error text names a flag that exists."""
    code, out, err = cli("train", "--help")
    assert code == 0 and "--backend" in out


def _together_mock():
    import httpx

    calls: list[str] = []
    job = {"id": "ft-1", "status": "pending", "output_name": "me/base-tuned-1", "total_tokens": None}

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(f"{req.method} {req.url.path}")
        if req.url.path == "/v1/files/upload":
            return httpx.Response(200, json={"id": f"file-{len(calls)}"})
        if req.url.path == "/v1/fine-tunes" and req.method == "POST":
            return httpx.Response(200, json=job)
        if req.url.path == "/v1/fine-tunes/ft-1":
            return httpx.Response(200, json={**job, "status": "completed", "total_tokens": 900})
        if req.url.path == "/v1/fine-tunes/ft-1/events":
            return httpx.Response(200, json={"data": [{"message": "Job finished", "type": "JOB_COMPLETE"}]})
        return httpx.Response(404, json={"error": {"message": "no route"}})

    return calls, httpx.Client(transport=httpx.MockTransport(handler))


def test_train_backend_together_runs_a_managed_job_from_the_cli(workspace, monkeypatch):
    from tests.test_train_run import write_data
    from tools.train import managed

    monkeypatch.setenv("TOGETHER_API_KEY", "tg-test")
    run = workspace.create_run("m", run_id="m1")
    write_data(run)
    calls, client = _together_mock()
    real = managed.get_backend  # the service answers from a mock transport; it finishes at the first poll
    monkeypatch.setattr(managed, "get_backend", lambda name, client_=None, **kw: real(name, client, **kw))
    code, out, err = cli("train", "m1", "--backend", "together", "--model", "base")
    assert code == 0, err
    assert "fine-tuned model me/base-tuned-1" in out
    assert calls.count("POST /v1/fine-tunes") == 1
    m = json.loads((run.path / "train" / "v1" / "metrics.json").read_text())
    assert m["status"] == "completed" and m["backend"] == "together"
    code, out, err = cli("train", "resume", "m1", "v1")
    assert code == 0 and "already completed" in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--backend", "together"], "name it with --model"),
        (["--backend", "bogus", "--model", "x"], "unknown backend 'bogus'"),
    ],
)
def test_train_backend_bad_flags_are_one_line(workspace, args, fragment):
    from tests.test_train_run import write_data

    write_data(workspace.create_run("m", run_id="m1"))
    code, out, err = cli("train", "m1", *args)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and fragment in lines[0], err
