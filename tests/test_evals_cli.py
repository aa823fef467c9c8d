"""`tunewise eval`: both forms of the command line, the table with CIs and verdict, compare, export, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.test_evals_run import REGRESSION, SPEC, TEST, TRAIN
from tools.workspace import atomic_write_jsonl, atomic_write_yaml

ROOT = Path(__file__).resolve().parents[1]


def _run(workspace):
    run = workspace.create_run("sentiment", run_id="clirun")
    atomic_write_yaml(run.spec_path, SPEC)
    d = run.path / "data" / "v1"
    atomic_write_jsonl(d / "train.jsonl", TRAIN)
    atomic_write_jsonl(d / "test.jsonl", TEST[:2])
    atomic_write_jsonl(d / "regression.jsonl", REGRESSION[:1])
    return run


def test_eval_run_shorthand_prints_table_and_verdict_then_compare_and_export(
    workspace, monkeypatch, embedded
):
    from tui.cli.main import app

    monkeypatch.setenv("TUNEWISE_DTYPE", "float32")
    run = _run(workspace)
    runner = CliRunner(env={"COLUMNS": "200"})
    res = runner.invoke(
        app, ["eval", "clirun", "--systems", "base,prompted", "--no-judge", "--max-tokens", "6"]
    )
    assert res.exit_code == (0 if "PASS" in res.output else 3), res.output  # exit code = verdict
    # the plain sentence first, then the short table: the primary metric in words, the candidate first, unstarred
    assert "Your prompt" in res.output and "fully right" in res.output and " ★" not in res.output
    assert sum(w in res.output for w in ("PASS", "FAIL", "INCONCLUSIVE")) == 1
    assert (run.path / "eval" / "v1" / "report.json").exists()
    # the explicit form does the same (served from the cache)
    res = runner.invoke(
        app, ["eval", "run", "clirun", "--systems", "base,prompted", "--no-judge", "--max-tokens", "6"]
    )
    assert res.exit_code == (0 if "PASS" in res.output else 3), res.output
    assert (run.path / "eval" / "v2" / "report.json").exists()
    res = runner.invoke(app, ["eval", "compare", "clirun", "v1", "v2"])
    assert res.exit_code == (0 if "v2 verdict: PASS" in res.output else 3), res.output
    assert "0 better, 0 worse" in res.output  # identical greedy answers
    res = runner.invoke(app, ["eval", "export", "clirun", "--promptfoo"])
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((run.path / "export" / "promptfooconfig.yaml").read_text())
    assert len(cfg["tests"]) == 2 and cfg["tests"][0]["assert"][0]["type"] == "equals"


def test_eval_errors_are_one_line_exit_2(workspace):
    _run(workspace)
    env_python = str(ROOT / ".venv" / "bin" / "python")
    for args, needle in (
        (["eval", "nosuchrun"], "not found"),
        (["eval", "clirun", "--systems", "bogus"], "unknown system"),
        (["eval", "clirun", "--test", "missing.jsonl", "--no-judge", "--systems", "base"], "file not found"),
        (["eval", "compare", "clirun", "v1", "v9"], "eval version v1 not found"),
    ):
        p = subprocess.run(
            [env_python if Path(env_python).exists() else sys.executable, "-m", "tui.cli.main", *args],
            capture_output=True,
            text=True,
            cwd=workspace.path.parent,
            timeout=120,
            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        )
        assert p.returncode == 2, (args, p.stderr)
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and needle in lines[0], p.stderr
        assert "Traceback" not in p.stderr


def test_eval_with_a_brought_test_file_runs_besides_the_own_split(workspace, monkeypatch, embedded, tmp_path):
    """`--test FILE` evaluates every system on the user's file as well as on the run's own test split."""
    from tui.cli.main import app

    monkeypatch.setenv("TUNEWISE_DTYPE", "float32")
    run = _run(workspace)
    mine = tmp_path / "mine.jsonl"
    atomic_write_jsonl(mine, TEST[2:4] or TEST[:1])
    res = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["eval", "clirun", "--systems", "base", "--no-judge", "--max-tokens", "6", "--test", str(mine)]
    )
    # exit 0 only when the verdict passed on both test sets
    assert res.exit_code == (3 if "FAIL" in res.output or "INCONCLUSIVE" in res.output else 0), res.output
    import json

    sources = [
        json.loads((run.path / "eval" / v / "report.json").read_text())["test_source"] for v in ("v1", "v2")
    ]
    assert sources[0].endswith("data/v1/test.jsonl") and sources[1] == str(mine)
    assert f"test set: {mine}" in res.output


def test_eval_on_the_answers_people_corrected_in_a_serve_log(workspace, monkeypatch, embedded, tmp_path):
    """`--test DIR` with a `serve --log` folder: the logged requests whose answers were corrected are the
    test set, the corrections its references (issue 16, item 5); a log without corrections is one line."""
    import json

    from tools.llm.servelog import ServeLog
    from tui.cli.main import app

    monkeypatch.setenv("TUNEWISE_DTYPE", "float32")
    run = _run(workspace)
    log = ServeLog(tmp_path / "log")
    for i, (text, served) in enumerate(
        [("The battery died after a week.", "positive"), ("Best purchase this year!", "positive")]
    ):
        msgs = [{"role": "system", "content": SPEC["system_prompt"]}, {"role": "user", "content": text}]
        log.append(
            {
                "type": "request",
                "request_id": f"r{i}",
                "ts": i,
                "status": 200,
                "messages": msgs,
                "response": served,
            }
        )
    log.append(
        {"type": "request", "request_id": "r9", "ts": 9, "status": 200, "messages": msgs, "response": "x"}
    )
    runner = CliRunner(env={"COLUMNS": "200"})
    args = [
        "eval",
        "run",
        "clirun",
        "--systems",
        "base",
        "--no-judge",
        "--max-tokens",
        "4",
        "--test",
        str(tmp_path / "log"),
    ]
    res = runner.invoke(app, args)
    from tools.errors import UserError

    assert isinstance(res.exception, UserError)  # the CLI prints it as one line, exit 2 (run_cli)
    assert "no corrected answers in this serve log (3 requests)" in str(res.exception)
    assert not (run.path / "eval").exists()  # nothing was evaluated
    log.feedback("r0", 1, "negative")  # a person corrected the first answer
    log.feedback("r1", 5, None)  # a rating alone is no reference
    res = runner.invoke(app, args)
    assert res.exit_code in (0, 3), res.output
    report = json.loads((run.path / "eval" / "v2" / "report.json").read_text())
    source = Path(report["test_source"])
    assert source.parent == run.path / "tests" and source.name.startswith("serve-corrections-1-")
    rows = [json.loads(x) for x in source.read_text().splitlines()]
    assert [r["messages"][-1] for r in rows] == [{"role": "assistant", "content": "negative"}]
    assert rows[0]["messages"][1]["content"] == "The battery died after a week."
