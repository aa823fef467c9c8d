"""Exit codes a pipeline can use and `--json` (issue #14, item 7).

0 the verdict passed · 3 it failed or is inconclusive · 2 bad input · 1 internal error; with `--json`, stdout
is exactly one JSON document (progress and tables go to stderr).
"""

from __future__ import annotations

import json

import pytest

from tests.test_cli_basic import run_cli
from tests.test_cli_run_id import TASK, make_session
from tools.workspace import atomic_write_json, atomic_write_jsonl


def _eval_version(run, version: str, scores: list[float], verdict: dict) -> None:
    d = run.path / "eval" / version
    atomic_write_json(
        d / "report.json",
        {"primary_metric": "exact_match", "candidate": "tuned v1", "baseline": "base", "verdict": verdict},
    )
    atomic_write_jsonl(
        d / "outputs.jsonl",
        [
            {
                "split": "test",
                "id": f"e{i}",
                "input": f"input {i}",
                "reference": "ref",
                "outputs": {"tuned v1": {"text": f"answer {s}", "metrics": {"exact_match": s}}},
            }
            for i, s in enumerate(scores)
        ],
    )


@pytest.mark.parametrize(
    "verdict_b, scores_b, code",
    [
        ({"passed": True, "status": "pass", "reasons": []}, [1.0, 1.0, 0.0], 0),
        ({"passed": False, "status": "fail", "reasons": ["below"]}, [1.0, 1.0, 0.0], 3),
        (
            {"passed": False, "status": "inconclusive", "reasons": ["CI straddles the bar"]},
            [1.0, 1.0, 0.0],
            3,
        ),
        ({"passed": True, "status": "pass", "reasons": []}, [0.0, 0.0, 0.0], 3),  # worse than v1
    ],
)
def test_eval_compare_exit_code_and_json(workspace, verdict_b, scores_b, code):
    run = workspace.create_run("cmp", run_id="cmp")
    _eval_version(run, "v1", [1.0, 0.0, 0.0], {"passed": False, "reasons": []})
    _eval_version(run, "v2", scores_b, verdict_b)
    r = run_cli("eval", "compare", "cmp", "v1", "v2")
    assert r.returncode == code, r.stdout + r.stderr
    assert f"v2 verdict: {verdict_b['status'].upper()}" in r.stdout
    r = run_cli("eval", "compare", "cmp", "v1", "v2", "--json")
    assert r.returncode == code
    doc = json.loads(r.stdout)
    assert doc["passed"] is (code == 0) and doc["exit_code"] == code and doc["metric"] == "exact_match"
    assert doc["verdict_b"] == verdict_b


@pytest.mark.parametrize("passed, code", [(True, 0), (False, 3)])
def test_run_and_resume_json_on_a_finished_session(workspace, tmp_path, passed, code):
    import yaml

    make_session(workspace, "js", TASK, as_node="report", verdict={"passed": passed, "reasons": ["r"]})
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(TASK))
    for args in (["run", "task.yaml", "--yes", "--run-id", "js", "--json"], ["resume", "js", "--json"]):
        r = run_cli(*args)
        assert r.returncode == code, r.stdout + r.stderr
        doc = json.loads(r.stdout)  # the only thing on stdout
        assert doc["run_id"] == "js" and doc["status"] == "done" and doc["exit_code"] == code
        assert doc["verdict"]["passed"] is passed and doc["summary"]["rows"][0]["system"] == "tuned v1"
        assert "Verdict:" in r.stderr  # the human table went to stderr


def test_doctor_json():
    r = run_cli("doctor", "--json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    checks = {c["check"]: c for c in doc["checks"]}
    assert checks["provider openai"]["detail"] == "OPENAI_API_KEY absent"
    assert doc["ok"] is (r.returncode == 0)


def test_data_import_json(tmp_path):
    rows = [
        {"instruction": f"Say hi to person {i}", "input": "", "output": f"Hi person {i}!"} for i in range(30)
    ]
    (tmp_path / "alpaca.json").write_text(json.dumps(rows))
    r = run_cli("data", "import", "alpaca.json", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == "v1" and sum(doc["counts"].values()) >= 30


def test_train_json_dry_run_and_bad_input(workspace, tmp_path):
    from tests.test_cli_bad_input import one_error_line
    from tools.workspace import atomic_write_yaml

    run = workspace.create_run("tr", run_id="tr")
    atomic_write_yaml(run.spec_path, TASK)
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"I am P{i}."},
                {"role": "assistant", "content": f"Hello P{i}!"},
            ]
        }
        for i in range(12)
    ]
    for split in ("train", "val"):
        atomic_write_jsonl(run.path / "data" / "v1" / f"{split}.jsonl", rows)
    r = run_cli("train", "tr", "--dry-run", "--json", "--set", "lora_r=4")
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(r.stdout)
    assert doc["dry_run"] is True and doc["config"]["lora_r"] == 4 and doc["exit_code"] == 0
    assert "no train version" in one_error_line(run_cli("train", "stop", "tr", "--json"))
    assert "--max-steps" in run_cli("train", "tr", "--max-steps", "0").stderr
