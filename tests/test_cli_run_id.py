"""A run id names one task for good (issue #14, item 1), and `resume --set` un-sticks a session.

Sessions are real LangGraph checkpoints in the run's sessions.sqlite, placed with `update_state` at the step
the test needs (no model is called): finished, waiting before its report, or stopped before training on a
bad task value.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.test_cli_basic import run_cli

TASK = {"name": "greet", "spec": "Say hello to the person named in the input.", "max_iterations": 1}
OTHER = {"name": "greet", "spec": "Translate the input into French.", "max_iterations": 1}


def write_task(path: Path, task: dict) -> Path:
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def make_session(
    ws, run_id: str, task: dict, *, as_node: str, verdict: dict | None = None, stored_task=None, **values
):
    """A run whose session stands right after `as_node` (report: finished). `stored_task` is put into the
    session as is (it may be invalid, like a session started before validation existed)."""
    from agent.graph import compile_graph
    from agent.runner import initial_state
    from agent.sessions import open_checkpointer
    from tools.spec import parse_spec_dict
    from tools.workspace import atomic_write_json, atomic_write_yaml

    spec = parse_spec_dict(task)
    run = ws.create_run(spec.name, run_id=run_id)
    atomic_write_yaml(run.spec_path, stored_task if stored_task is not None else spec.to_yaml_dict())
    atomic_write_json(run.decision_path, {"approach": "fine-tune", "reasons": ["test"]})
    state = initial_state(run_id, spec, headless=True, options={"smoke": True})
    if stored_task is not None:
        state["task"] = stored_task
    if verdict is not None:
        atomic_write_json(
            run.path / "eval" / "v1" / "report.json",
            {
                "primary_metric": "exact_match",
                "systems": {
                    "tuned v1": {
                        "kind": "tuned",
                        "metrics": {"exact_match": {"mean": 0.9, "ci": [0.8, 1.0]}},
                        "format_rate": 1.0,
                        "prompt_tokens_mean": 20,
                    }
                },
                "verdict": verdict,
            },
        )
        state["eval_version"] = "v1"
    state.update(approach="fine-tune", **values)
    with open_checkpointer(ws) as saver:
        graph = compile_graph(saver)
        graph.update_state({"configurable": {"thread_id": run_id}}, state, as_node=as_node)
        assert tuple(graph.get_state({"configurable": {"thread_id": run_id}}).next) == (
            () if as_node == "report" else ({"split": "train", "evaluate": "report"}[as_node],)
        )
    return run


def session_values(ws, run_id: str) -> dict:
    from agent.runner import session_state

    return session_state(ws, run_id)


def one_error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    return lines[0]


def test_another_task_under_an_existing_run_id_is_refused_and_nothing_is_touched(workspace, tmp_path):
    run = make_session(workspace, "done-run", TASK, as_node="report", verdict={"passed": True, "reasons": []})
    before = {p: p.read_bytes() for p in (run.spec_path, run.decision_path)}
    other = write_task(tmp_path / "other.yaml", OTHER)
    r = run_cli("run", str(other), "--yes", "--run-id", "done-run")
    assert r.returncode == 2
    line = one_error_line(r)
    assert "belongs to another task" in line and "spec" in line and "--run-id" in line
    assert {p: p.read_bytes() for p in before} == before
    assert not (run.path / "report.md").exists()  # nothing ran


def test_the_same_task_on_a_finished_run_says_so_and_appends_nothing(workspace, tmp_path):
    run = make_session(
        workspace, "fin", TASK, as_node="report", verdict={"passed": False, "reasons": ["below the bar"]}
    )
    (run.path / "report.md").write_text("# report\n| 1 | v1 |\n")
    task = write_task(tmp_path / "task.yaml", TASK)
    for _ in range(2):
        r = run_cli("run", str(task), "--yes", "--run-id", "fin")
        assert r.returncode == 3, r.stderr  # the session's verdict failed
        assert "is finished" in r.stdout and "Verdict: FAIL" in r.stdout
    assert (run.path / "report.md").read_text() == "# report\n| 1 | v1 |\n"
    assert not (run.path / "summary.json").exists()


def test_the_same_task_on_an_unfinished_run_continues_its_session(workspace, tmp_path):
    run = make_session(
        workspace,
        "half",
        TASK,
        as_node="evaluate",
        verdict={"passed": True, "reasons": ["good"]},
        stop_reason="budget",
    )
    task = write_task(tmp_path / "task.yaml", TASK)
    r = run_cli("run", str(task), "--yes", "--run-id", "half")
    assert r.returncode == 0, r.stdout + r.stderr  # the session's verdict passed
    assert "continuing at report" in r.stdout and "Verdict: PASS" in r.stdout
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["stop_reason"] == "budget"
    again = run_cli("run", str(task), "--yes", "--run-id", "half")
    assert again.returncode == 0 and "is finished" in again.stdout
    assert json.loads((run.path / "summary.json").read_text()) == summary


def test_a_run_id_holding_other_work_is_refused(workspace, tmp_path):
    run = workspace.create_run("data", run_id="imported")
    (run.path / "data").mkdir()
    r = run_cli("run", str(write_task(tmp_path / "task.yaml", TASK)), "--yes", "--run-id", "imported")
    assert r.returncode == 2 and "not started from a task file" in one_error_line(r)
    assert not run.spec_path.exists()


def _stuck(workspace) -> object:
    """A session stopped before training because its task holds a bad learning rate (a session from
    before tasks were validated when loaded); training's result is on disk, so a fixed session goes on
    to its report without training anything."""
    from agent.artifacts import save_step

    bad = {**TASK, "training": {"learning_rate": "fast"}}
    run = make_session(
        workspace,
        "stuck",
        TASK,
        as_node="split",
        stored_task=bad,
        stop_reason="budget",
        data_version="v1",
    )
    save_step(
        run, 1, "train", {"version": "v1", "status": "completed", "final_step": 2, "best_eval_loss": 1.0}
    )
    return run


def test_a_session_stuck_on_a_bad_value_says_how_to_fix_it_and_resumes_after_set(workspace):
    run = _stuck(workspace)
    r = run_cli("resume", "stuck")
    assert r.returncode == 2
    line = one_error_line(r)
    assert "training.learning_rate" in line and "tunewise resume stuck --set training.learning_rate=" in line
    assert session_values(workspace, "stuck")["next"] == ["train"]  # nothing moved

    # a fix that is still wrong is refused the same way, and nothing is written
    spec_before = run.spec_path.read_bytes()
    r = run_cli("resume", "stuck", "--set", "training.learning_rate=-1")
    assert r.returncode == 2 and "learning_rate" in one_error_line(r)
    assert run.spec_path.read_bytes() == spec_before
    assert session_values(workspace, "stuck")["values"]["task"]["training"] == {"learning_rate": "fast"}

    r = run_cli("resume", "stuck", "--set", "training.learning_rate=2e-4")
    assert r.returncode == 3, r.stdout + r.stderr  # ends at its report: a budget stop, no verdict
    assert "set training.learning_rate: 'fast' → 0.0002" in r.stdout
    assert "resume stuck at train" in r.stdout
    assert yaml.safe_load(run.spec_path.read_text())["training"] == {"learning_rate": 0.0002}
    st = session_values(workspace, "stuck")
    assert st["next"] == [] and st["values"]["task"]["training"] == {"learning_rate": 0.0002}
    assert (run.path / "report.md").exists()


def test_set_keeps_the_session_where_it_stands(workspace):
    """--set rewrites the task in the newest checkpoint; the session still continues at the same step."""
    from tui.cli.agent_cmd import set_task_fields

    run = make_session(workspace, "keep", TASK, as_node="split", data_version="v1")
    values = session_values(workspace, "keep")["values"]
    changes = set_task_fields(
        workspace, run, values, ["budget=5", "max_iterations=2", "success.min_format_rate=0.9"]
    )
    assert len(changes) == 3
    st = session_values(workspace, "keep")
    assert st["next"] == ["train"]
    assert st["values"]["task"]["budget"] == 5 and st["values"]["max_iterations"] == 2
    assert st["values"]["task"]["success"]["min_format_rate"] == 0.9
    assert yaml.safe_load(run.spec_path.read_text())["budget"] == 5


def test_set_on_a_finished_session_is_refused(workspace):
    make_session(workspace, "over", TASK, as_node="report", verdict={"passed": True, "reasons": []})
    r = run_cli("resume", "over", "--set", "budget=3")
    assert r.returncode == 2 and "is finished" in one_error_line(r)
