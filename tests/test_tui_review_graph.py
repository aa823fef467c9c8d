"""The data-review screen against the real graph: the review node's interrupt opens the screen, the
person's keys become decisions, and submitting resumes the graph — the review and split nodes write the
reviewed rows and a new data version from them. The graph alone (no screen) also takes propagated
decisions: an edit's replacements reach the examples of the same critique category, a rejection those
with the same failure flag, and nothing spreads over the catch-all "ok".

Generation and critique are the expensive steps before review, so the test writes a critiqued.jsonl
and moves the checkpoint past critique with `update_state(as_node="critique")`; training after the split
is replaced by a node that stops the run, so the test ends where the data version is written."""

from __future__ import annotations

import json

from test_tui_helpers import ANSWERED_CITIES, write_critiqued
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp


def _session_at_review(workspace) -> str:
    from agent.context import AgentContext
    from agent.graph import compile_graph
    from agent.runner import create_run_for, drive, initial_state
    from agent.sessions import open_checkpointer
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.", budget=None)
    run = create_run_for(workspace, spec, run_id="review-run")
    state = initial_state(run.id, spec, headless=False)
    state["answers"] = dict(ANSWERED_CITIES)
    state["task"]["budget"] = 1.0
    state["task"]["output"] = {"format": "json"}  # the answer shape is known: not asked
    out = drive(workspace, run.id, state, AgentContext(workspace))
    assert out["interrupt"]["kind"] == "decision" and out["interrupt"]["decision"]["approach"] == "fine-tune"
    write_critiqued(workspace, 20, run_id=run.id)
    with open_checkpointer(workspace) as saver:
        graph = compile_graph(saver)
        config = {"configurable": {"thread_id": run.id}}
        graph.update_state(
            config,
            {"approach": "fine-tune", "log": ["test: generated and critiqued (fixture)"]},
            as_node="critique",
        )
        assert graph.get_state(config).next == ("review",)
    return run.id


async def test_review_submission_resumes_the_graph_into_a_new_data_version(workspace, monkeypatch):
    import agent.nodes.distill as distill

    def stop_before_training(state, runtime):
        raise RuntimeError("test stops before training")

    monkeypatch.setattr(distill, "train", stop_before_training)
    import agent.nodes.split as split_node

    monkeypatch.setattr(split_node, "MIN_TRAIN_ROWS", 1)  # 17 rows: this test is about the review
    run_id = _session_at_review(workspace)
    run = workspace.run(run_id)

    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        await pilot.press("enter")  # resume: the graph runs the review node, which waits on the person
        await wait_for(
            pilot,
            lambda: type(app.screen).__name__ == "ReviewScreen" and len(app.screen.model.items) == 20,
            timeout=60,
        )
        screen = app.screen
        assert screen.pending["kind"] == "review" and screen.pending["n"] == 20
        await pilot.press("r")  # reject ex-01
        await pilot.press("a")  # accept ex-02
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: (run.path / "work" / "iter1" / "review.json").exists(), timeout=240)
        await wait_for(pilot, lambda: run.latest_version("data") == "v1", timeout=240)
        await wait_for(pilot, lambda: run_id not in app.busy, timeout=240)

    review = json.loads((run.path / "work" / "iter1" / "review.json").read_text())
    assert review["mode"] == "person" and review["kept"] == 19
    assert [(d["id"], d["action"]) for d in review["decisions"]] == [("ex-01", "reject"), ("ex-02", "accept")]
    reviewed = [
        json.loads(line) for line in (run.path / "work" / "iter1" / "reviewed.jsonl").read_text().splitlines()
    ]
    ids = [r["metadata"]["id"] for r in reviewed]
    assert "ex-01" not in ids and len(ids) == 19
    assert next(r for r in reviewed if r["metadata"]["id"] == "ex-02")["metadata"]["review"] == "accepted"


def test_graph_review_applies_propagated_edits_and_rejections(workspace, monkeypatch):
    """The review interrupt resumed with decisions (what the TUI sends): propagated edits and rejections
    reach the similar rows in reviewed.jsonl and in the data version the split node writes."""
    import pytest
    from langgraph.types import Command

    import agent.nodes.distill as distill
    from agent.context import AgentContext
    from agent.runner import drive
    from tools.data.schema import user_text
    from tools.data.versions import read_split

    def stop_before_training(state, runtime):
        raise RuntimeError("test stops before training")

    monkeypatch.setattr(distill, "train", stop_before_training)
    import agent.nodes.split as split_node

    monkeypatch.setattr(split_node, "MIN_TRAIN_ROWS", 1)  # 17 rows: this test is about the review
    run_id = _session_at_review(workspace)
    run = workspace.run(run_id)
    # write_critiqued: ex-05/10/15/20 are category "format", ex-07/14 flagged "too_short", the rest "ok"
    decisions = [
        {"id": "ex-05", "action": "edit", "content": '{"town": "City5"}', "propagate": True},
        {"id": "ex-07", "action": "reject", "reason": "too short", "propagate": True},
        {"id": "ex-01", "action": "reject", "propagate": True},  # "ok" is a catch-all: ex-01 alone
    ]
    with pytest.raises(RuntimeError, match="stops before training"):
        drive(workspace, run_id, Command(resume=decisions), AgentContext(workspace))

    review = json.loads((run.path / "work" / "iter1" / "review.json").read_text())
    spread = {(d["id"], d["action"]) for d in review["decisions"] if d.get("propagated_from")}
    assert spread == {("ex-10", "edit"), ("ex-15", "edit"), ("ex-20", "edit"), ("ex-14", "reject")}
    assert review["kept"] == 17
    reviewed = [
        json.loads(x) for x in (run.path / "work" / "iter1" / "reviewed.jsonl").read_text().splitlines()
    ]
    assert len(reviewed) == 17 and not {"ex-01", "ex-07", "ex-14"} & {r["metadata"]["id"] for r in reviewed}
    # the data version (ids are recomputed from the input there): by input text
    rows = {user_text(r): r for r in read_split(run, "v1", "all") + read_split(run, "v1", "regression")}
    assert len(rows) == 17 and not {f"Person {i} lives in City{i}." for i in (1, 7, 14)} & set(rows)
    for i in (5, 10, 15, 20):
        row = rows[f"Person {i} lives in City{i}."]
        assert row["messages"][-1]["content"] == f'{{"town": "City{i}"}}'
        assert row["metadata"]["review"] == "edited"
    assert rows["Person 2 lives in City2."]["messages"][-1]["content"] == '{"city": "City2"}'  # not similar
