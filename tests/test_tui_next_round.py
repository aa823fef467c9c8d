"""Before a second round is spent, a person watching is asked: "The tuned model is not good enough yet:
<reason>. Try another round (about N minutes)? / Stop here and see the report". Headless runs go on."""

from __future__ import annotations

import os
import time

from langgraph.types import Command
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp

REASON = "format rate 80.0% (need ≥ 95%)"


def session_after_analyze(workspace, *, headless: bool = False, run_id: str = "round-run") -> str:
    """A session whose first round was trained, evaluated and analyzed: analyze planned round 2."""
    from agent.artifacts import save_step, work_dir
    from agent.graph import compile_graph
    from agent.runner import create_run_for, initial_state
    from agent.sessions import open_checkpointer
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.")
    run = create_run_for(workspace, spec, run_id=run_id)
    started = work_dir(run, 1) / "generated.jsonl"
    started.write_text("")
    os.utime(started, (time.time() - 12 * 60, time.time() - 12 * 60))  # the round began 12 minutes ago
    save_step(
        run,
        1,
        "evaluate",
        {"verdict": {"passed": False, "reasons": ["✓ json_field_accuracy +12%", f"✗ {REASON}"]}},
    )
    state = initial_state(run.id, spec, headless=headless, max_iterations=3)
    state.update(
        approach="fine-tune",
        iteration=2,
        data_version="v1",
        train_version=None,
        eval_version="v1",
        history=[
            {"iteration": 1, "passed": False, "primary": 0.5, "rolled_back": False, "note": "2 requests"}
        ],
        targeted=[{"n": 4, "why": "format errors"}],
    )
    with open_checkpointer(workspace) as saver:
        graph = compile_graph(saver)
        config = {"configurable": {"thread_id": run.id}}
        graph.update_state(config, state, as_node="analyze")
        assert graph.get_state(config).next == ("next_round",)
    return run.id


def drive_until_generate(workspace, run_id: str, payload):
    """Drive the real graph, stopping before `generate` (the teacher's work is not this test's)."""
    from agent.context import AgentContext
    from agent.graph import build_graph
    from agent.sessions import open_checkpointer

    with open_checkpointer(workspace) as saver:
        graph = build_graph().compile(checkpointer=saver, interrupt_before=["generate"])
        config = {"configurable": {"thread_id": run_id}}
        list(graph.stream(payload, config, context=AgentContext(workspace), durability="sync"))
        snap = graph.get_state(config)
        pending = [i.value for t in snap.tasks for i in t.interrupts or ()]
        return snap, (pending[-1] if pending else None)


def test_the_question_says_why_and_how_long_and_another_round_goes_on(workspace):
    run_id = session_after_analyze(workspace)
    snap, question = drive_until_generate(workspace, run_id, None)
    assert question["kind"] == "round" and snap.next == ("next_round",)
    assert question["question"] == (
        f"The tuned model is not good enough yet: {REASON}. Try another round (about 12 minutes)?"
    )
    assert question["choices"] == ["Try another round", "Stop here and see the report"]
    snap, question = drive_until_generate(workspace, run_id, Command(resume="what?"))
    assert "did not understand" in question["error"]  # asked again, not a crash
    snap, question = drive_until_generate(workspace, run_id, Command(resume="Try another round"))
    assert question is None and snap.next == ("generate",) and not snap.values.get("stop_reason")


def test_headless_runs_never_ask(workspace):
    run_id = session_after_analyze(workspace, headless=True)
    snap, question = drive_until_generate(workspace, run_id, None)
    assert question is None and snap.next == ("generate",)


async def test_the_conversation_asks_before_round_two_and_stop_shows_the_report(workspace):
    from agent.runner import session_state

    run_id = session_after_analyze(workspace)
    app = TunewiseApp(workspace, quick=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        await pilot.press("enter")  # continue the session: the graph asks before spending round 2
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", timeout=60)
        conv = app.screen
        await wait_for(pilot, lambda: conv.pending is not None and conv.pending.get("kind") == "round")
        said = [m.text for m in conv.query("ChatMessage")]
        assert any(f"not good enough yet: {REASON}. Try another round (about 12 minutes)?" in t for t in said)
        options = conv.query_one("#answer-choices")
        assert options.display and options.option_count == 2
        await pilot.press("down", "enter")  # Stop here and see the report
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReportScreen", timeout=60)
        await wait_for(pilot, lambda: run_id not in app.busy)
    values = session_state(workspace, run_id)["values"]
    assert values["stop_reason"] == "stopped_by_you" and values["status"] == "done"
    assert "you stopped before another round" in (workspace.run(run_id).path / "report.md").read_text()
