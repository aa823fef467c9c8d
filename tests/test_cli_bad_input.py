"""Bad input gets one clear answer and exit code 2, before anything is written or any model is called.

The cases tried (issue #14, items 2, 3 and 5; item 1 — another task under an existing run id, exit 2 — is
in test_cli_run_id.py):

| command or task field                               | what is wrong                       | exit | output                  |
|-----------------------------------------------------|-------------------------------------|------|-------------------------|
| `tunewise frobnicate`                               | unknown command                     | 2    | usage line + problem    |
| `tunewise run`                                      | missing TASK                        | 2    | usage line + problem    |
| `tunewise chat hi --temperature hot`                | not a number                        | 2    | usage line + problem    |
| `tunewise chat hi --max-tokens 0`                   | below 1                             | 2    | usage line + problem    |
| `tunewise serve --port 70000`                       | above 65535                         | 2    | usage line + problem    |
| `tunewise run T --train-max-steps -1`               | below 1                             | 2    | usage line + problem    |
| `tunewise run T --max-iterations 0`                 | below 1                             | 2    | usage line + problem    |
| `tunewise run T --budget -5`                        | below 0                             | 2    | usage line + problem    |
| `tunewise --version`                                | (not bad: prints the version)       | 0    | `tunewise X.Y.Z`        |
| `tunewise run missing.yaml`                         | no such file                        | 2    | one `error:` line       |
| task `budget: -5`                                   | out of range (≥ 0)                  | 2    | one `error:` line       |
| task `n_examples: 0` / `10**12`                     | out of range (1–100000)             | 2    | one `error:` line       |
| task `max_iterations: -1`                           | out of range (1–100)                | 2    | one `error:` line       |
| task `general_share: 7`                             | out of range (0–0.5)                | 2    | one `error:` line       |
| task `budget: .nan`                                 | not a finite number                 | 2    | one `error:` line       |
| task `training: {learning_rate: fast}`              | not a float (training config rules) | 2    | one `error:` line       |
| task `training: {learning_rate: 5}`                 | out of range (training config)      | 2    | one `error:` line       |
| task `training: {epochs: 2}`                        | unknown training field              | 2    | one `error:` line       |
| task `training: {method: qlora, dtype: float32}`    | fields that contradict each other   | 2    | one `error:` line       |
| task `output.schema: {type: objekt}`                | not a JSON Schema                   | 2    | one `error:` line       |
| task `output.regex: "([a-z"`                        | not a regular expression            | 2    | one `error:` line       |
| task `output.labels: [a, a]`                        | duplicate label                     | 2    | one `error:` line       |
| task `output: {min_chars: 10, max_chars: 5}`        | min above max                       | 2    | one `error:` line       |
| task json example output `nope`                     | not JSON                            | 2    | one `error:` line       |
| task json example not matching `output.schema`      | schema mismatch                     | 2    | one `error:` line       |
| task label example not in `output.labels`           | unknown label                       | 2    | one `error:` line       |
| task `teacher: {provider: opnai}`                   | unknown provider                    | 2    | one `error:` line       |
| task `teacher: {base_url: localhost:8000}`          | not an http(s) URL                  | 2    | one `error:` line       |
| task `success.primary_metric: acc`                  | unknown metric                      | 2    | one `error:` line       |
| task `success.min_format_rate: 2`                   | out of range (0–1)                  | 2    | one `error:` line       |
| task `axes: {difficulty: []}`                       | an axis without values              | 2    | one `error:` line       |
| task `inputs: missing.txt`                          | no such file                        | 2    | one `error:` line       |
| task `test: mine.jsonl` whose row has no answer       | not a test row (file:line)          | 2    | one `error:` line       |
| task `answers: {goals: [fly]}`                      | unknown goal (the decide step's)    | 2    | one `error:` line       |
| `tunewise eval run R --test bad.jsonl`              | invalid JSON on line 2              | 2    | one line; no eval/ dir  |
| `tunewise eval run R --test noref.jsonl`            | last turn not the assistant's       | 2    | one line; no eval/ dir  |
| `tunewise eval run R --test empty.jsonl`            | no rows                             | 2    | one line; no eval/ dir  |
| `tunewise resume R --set training.learning_rate=-1` | out of range; nothing written       | 2    | one `error:` line       |
| `tunewise resume R --set oops`                      | not FIELD=VALUE                     | 2    | one `error:` line       |
| `tunewise resume R --set budget=3` (finished R)     | nothing to change                   | 2    | one `error:` line       |

Usage errors write nothing (no `.tunewise/logs/` crash log in the folder the person stood in).
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.test_cli_basic import run_cli

GOOD = {"name": "t", "spec": "Say hello."}


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stdout + r.stderr and "internal error" not in r.stderr


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    _no_traceback(r)
    return lines[0]


# ---------------------------------------------------------------- usage errors (item 2)
@pytest.mark.parametrize(
    "args, problem",
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["run"], "Missing argument"),
        (["chat", "hi", "--temperature", "hot"], "--temperature"),
        (["chat", "hi", "--max-tokens", "0"], "--max-tokens"),
        (["serve", "--port", "70000"], "--port"),
        (["run", "task.yaml", "--train-max-steps", "-1"], "--train-max-steps"),
        (["run", "task.yaml", "--max-iterations", "0"], "--max-iterations"),
        (["run", "task.yaml", "--budget", "-5"], "--budget"),
    ],
)
def test_usage_errors_show_the_usage_line_exit_2_and_write_nothing(tmp_path, args, problem):
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(GOOD))
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Usage: tunewise"), r.stderr
    assert "Error:" in r.stderr and problem in r.stderr
    _no_traceback(r)
    assert r.stdout == ""
    assert not (tmp_path / ".tunewise").exists()  # no crash log in the folder the person stood in


def test_version():
    from importlib.metadata import version

    r = run_cli("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"tunewise {version('tunewise')}"


def test_help_documents_the_exit_codes():
    r = run_cli("--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "3 the verdict failed or is inconclusive" in text and "2 bad input" in text
    assert "1 internal error" in text


def test_usage_errors_of_plain_click_are_recognised_too():
    """Older typer raises the `click` package's exceptions, newer typer its bundled copy's: both are usage
    errors, whichever typer the pin allows."""
    import click
    import typer

    from tui.cli.common import click_error_kind

    assert click_error_kind(click.UsageError("x")) == "usage"
    assert click_error_kind(click.exceptions.Abort()) == "abort"
    assert click_error_kind(typer.BadParameter("x")) == "usage"
    assert click_error_kind(typer.Abort()) == "abort"
    assert click_error_kind(ValueError("x")) is None


# ---------------------------------------------------------------- task files (item 3)
BAD_TASKS = [
    ({"budget": -5}, "budget", "out of range"),
    ({"n_examples": 0}, "n_examples", "1 to 100000"),
    ({"n_examples": 10**12}, "n_examples", "1 to 100000"),
    ({"max_iterations": -1}, "max_iterations", "1 to 100"),
    ({"general_share": 7}, "general_share", "0 to 0.5"),
    ({"budget": math.nan}, "budget", "finite"),
    ({"training": {"learning_rate": "fast"}}, "training.learning_rate", "invalid value 'fast'"),
    ({"training": {"learning_rate": 5}}, "training.learning_rate", "out of range"),
    ({"training": {"epochs": 2}}, "training.epochs", "num_train_epochs"),
    ({"training": {"method": "qlora", "dtype": "float32"}}, "training.dtype", "half-precision"),
    (
        {"output": {"format": "json", "schema": {"type": "objekt"}}},
        "output.schema",
        "not a valid JSON Schema",
    ),
    ({"output": {"regex": "([a-z"}}, "output.regex", "not a valid regular expression"),
    ({"output": {"format": "label", "labels": ["a", "a"]}}, "output.labels", "duplicate"),
    ({"output": {"min_chars": 10, "max_chars": 5}}, "output.min_chars", "larger than max_chars"),
    (
        {"output": {"format": "json"}, "examples": [{"input": "x", "output": "nope"}]},
        "examples.0.output",
        "not valid JSON",
    ),
    (
        {
            "output": {"format": "json", "schema": {"type": "object", "required": ["name"]}},
            "examples": [{"input": "x", "output": '{"city": "Rome"}'}],
        },
        "examples.0.output",
        "does not match output.schema",
    ),
    (
        {
            "output": {"format": "label", "labels": ["pos", "neg"]},
            "examples": [{"input": "x", "output": "meh"}],
        },
        "examples.0.output",
        "not one of output.labels",
    ),
    ({"teacher": {"provider": "opnai"}}, "teacher.provider", "unknown provider"),
    ({"teacher": {"base_url": "localhost:8000"}}, "teacher.base_url", "http(s) URL"),
    ({"success": {"primary_metric": "acc"}}, "success.primary_metric", "unknown metric"),
    ({"success": {"min_format_rate": 2}}, "success.min_format_rate", "0 to 1"),
    ({"axes": {"difficulty": []}}, "axes", "at least one"),
]


@pytest.mark.parametrize("bad, field, fragment", BAD_TASKS, ids=[c[1] + ":" + c[2] for c in BAD_TASKS])
def test_every_task_field_is_checked_when_loaded(bad, field, fragment):
    from tools.errors import ConfigError
    from tools.spec import parse_spec_dict

    with pytest.raises(ConfigError) as e:
        parse_spec_dict({**GOOD, **bad}, where="task.yaml")
    line = e.value.one_line()
    assert line.startswith(f"task.yaml: field `{field}`"), line
    assert fragment in line and e.value.field == field


def test_all_problems_are_counted_in_the_one_line():
    from tools.errors import ConfigError
    from tools.spec import parse_spec_dict

    with pytest.raises(ConfigError) as e:
        parse_spec_dict({**GOOD, "budget": -5, "n_examples": 0, "max_iterations": -1})
    assert "(and 2 more: n_examples, max_iterations)" in e.value.one_line()


def test_valid_values_at_the_edges_still_load():
    from tools.spec import load_spec, parse_spec_dict

    spec = parse_spec_dict(
        {
            **GOOD,
            "budget": 0,
            "n_examples": 1,
            "max_iterations": 1,
            "general_share": 0,
            "training": {"learning_rate": "2e-4", "num_train_epochs": 2, "method": "qlora"},
            "output": {"format": "json", "schema": {"type": "object"}, "regex": "^\\{"},
            "examples": [{"input": "x", "output": '{"a": 1}'}],
            "success": {"min_improvement": -0.1, "primary_metric": "json_field_accuracy"},
        }
    )
    assert spec.training["learning_rate"] == "2e-4"
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo_task.yaml"
    assert load_spec(demo).training == {"num_train_epochs": 2}


@pytest.mark.parametrize(
    "bad",
    [
        {"training": {"learning_rate": "fast"}},
        {"n_examples": 0},
        {"inputs": "missing.txt"},
        {"answers": {"goals": ["fly"]}},
    ],
)
def test_run_refuses_a_bad_task_before_anything_is_written(tmp_path, bad):
    (tmp_path / "task.yaml").write_text(yaml.safe_dump({**GOOD, **bad}))
    line = one_error_line(run_cli("run", "task.yaml", "--yes"))
    assert line.startswith("error: task.yaml")
    assert not (tmp_path / ".tunewise").exists()  # no run, no session, no model call


def test_run_checks_the_tasks_own_test_file_before_anything_is_written(tmp_path):
    (tmp_path / "mine.jsonl").write_text('{"messages": [{"role": "user", "content": "x"}]}\n')
    (tmp_path / "task.yaml").write_text(yaml.safe_dump({**GOOD, "test": "mine.jsonl"}))
    line = one_error_line(run_cli("run", "task.yaml", "--yes"))
    assert "mine.jsonl:1" in line and "final assistant turn" in line
    assert not (tmp_path / ".tunewise").exists()


def test_run_with_a_missing_task_file(tmp_path):
    assert "file not found" in one_error_line(run_cli("run", "missing.yaml", "--yes"))
    assert not (tmp_path / ".tunewise").exists()


# ---------------------------------------------------------------- eval run --test (item 5)
def _eval_run(workspace):
    from tools.workspace import atomic_write_jsonl, atomic_write_yaml

    run = workspace.create_run("ev", run_id="evrun")
    atomic_write_yaml(run.spec_path, GOOD)
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    atomic_write_jsonl(run.path / "data" / "v1" / "train.jsonl", [row])
    atomic_write_jsonl(run.path / "data" / "v1" / "test.jsonl", [row])
    return run, row


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{row}\n{{not json\n", "bad.jsonl:2: invalid JSON"),
        ('{{"messages": [{{"role": "user", "content": "hi"}}]}}\n', "bad.jsonl:1: each row needs"),
        ("\n\n", "no rows"),
        ('{{"messages": [{{"role": "user"}}, {{"role": "assistant", "content": "x"}}]}}\n', "has no content"),
    ],
)
def test_eval_run_checks_the_test_file_before_creating_anything(workspace, tmp_path, content, fragment):
    run, row = _eval_run(workspace)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content.format(row=json.dumps(row)))
    for _ in range(2):  # every bad call leaves nothing behind
        line = one_error_line(run_cli("eval", "run", "evrun", "--test", str(bad), "--no-judge"))
        assert fragment in line, line
    assert not (run.path / "eval").exists()


# ---------------------------------------------------------------- resume --set (item 3)
def test_resume_set_is_validated_like_a_task_file(workspace):
    from tests.test_cli_run_id import TASK, make_session

    run = make_session(workspace, "sess", TASK, as_node="split", data_version="v1")
    before = run.spec_path.read_bytes()
    line = one_error_line(run_cli("resume", "sess", "--set", "training.learning_rate=-1"))
    assert "--set: field `training.learning_rate`" in line and "out of range" in line
    assert "is not FIELD=VALUE" in one_error_line(run_cli("resume", "sess", "--set", "oops"))
    line = one_error_line(run_cli("resume", "sess", "--set", "spec.x=1"))
    assert "`spec` is a value, not a group of fields" in line
    assert run.spec_path.read_bytes() == before
