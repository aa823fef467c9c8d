"""The data-review screen against the real graph: the review node's interrupt opens the screen, the
person's keys become decisions, and submitting resumes the graph — the review and split nodes write the
reviewed rows and a new data version from them.

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
        await wait_for(pilot, lambda: (run.path / "work" / "iter1" / "review.json").exists(), timeout=60)
        await wait_for(pilot, lambda: run.latest_version("data") == "v1", timeout=60)
        await wait_for(pilot, lambda: run_id not in app.busy, timeout=60)

    review = json.loads((run.path / "work" / "iter1" / "review.json").read_text())
    assert review["mode"] == "person" and review["kept"] == 19
    assert [(d["id"], d["action"]) for d in review["decisions"]] == [("ex-01", "reject"), ("ex-02", "accept")]
    reviewed = [
        json.loads(line) for line in (run.path / "work" / "iter1" / "reviewed.jsonl").read_text().splitlines()
    ]
    ids = [r["metadata"]["id"] for r in reviewed]
    assert "ex-01" not in ids and len(ids) == 19
    assert next(r for r in reviewed if r["metadata"]["id"] == "ex-02")["metadata"]["review"] == "accepted"
