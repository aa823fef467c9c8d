"""A person's own examples as the whole training data: when the small model here gets them wrong, it writes
no practice answers (its own file, so the test runner can put it beside the slow graph tests)."""

from __future__ import annotations

import json
from pathlib import Path

from agent.context import AgentContext
from agent.runner import create_run_for, drive, initial_state
from tools.spec import parse_spec_dict

REPO = Path(__file__).resolve().parents[1]


def test_with_50_examples_and_a_writer_that_gets_them_wrong_the_model_trains_on_the_persons_own(
    workspace, embedded
):
    """The way on that the thermostat stop advises (about 50 examples of your own) must be real: before, a
    person who brought 60 trained on 200 practice answers the small model wrote (mostly wrong) with only the
    few shown examples of theirs beside them. Now nothing is written: their own examples are the training
    data and the test (those a few-shot prompt shows train, so that prompt is not handed the answers), no
    second round is written by the same model, and the run says so."""
    from agent.artifacts import load_step, work_dir
    from tools.data.versions import read_split
    from tools.spec import load_spec

    spec = load_spec(REPO / "bench" / "tasks" / "thermostat" / "task.yaml")
    rows = [
        json.loads(line) for line in (REPO / "bench/tasks/thermostat/test.jsonl").read_text().splitlines()
    ]
    mine = [{"input": r["messages"][1]["content"], "output": r["messages"][2]["content"]} for r in rows][:50]
    task = spec.to_yaml_dict() | {"examples": mine}
    task["answers"] = dict(task["answers"]) | {"examples": len(mine)}
    spec = parse_spec_dict(task)
    run = create_run_for(workspace, spec)
    state = initial_state(run.id, spec, headless=True, options={"smoke": True, "train_max_steps": 1})
    out = drive(workspace, run.id, state, AgentContext(workspace=workspace, quick=True, train_max_steps=1))
    values = out["values"]
    assert values["decision"]["practice"] == "own" and values["approach"] == "fine-tune"
    assert values["stop_reason"] == "own_examples_used" and values.get("train_version")
    assert load_step(run, 1, "generate")["own"] == len(mine)
    written = [json.loads(line) for line in (work_dir(run, 1) / "generated.jsonl").read_text().splitlines()]
    assert {r["metadata"]["source"] for r in written} == {"own"} and len(written) == len(mine)
    version = values["data_version"]
    theirs = {m["input"].strip().lower() for m in mine}
    test = read_split(run, version, "test")
    train = read_split(run, version, "train")
    assert test and {r["messages"][-2]["content"].strip().lower() for r in test} <= theirs
    assert not read_split(run, version, "golden")
    from agent.nodes.split import seed_train_rows

    shown = {r["messages"][-2]["content"].strip().lower() for r in seed_train_rows(spec)}
    assert shown and not shown & {r["messages"][-2]["content"].strip().lower() for r in test}
    assert shown <= {r["messages"][-2]["content"].strip().lower() for r in train}
    report = (run.path / "report.md").read_text()
    assert "your own examples were all there was to train on" in report
