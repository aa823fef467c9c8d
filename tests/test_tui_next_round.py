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


async def test_the_evaluation_screen_asks_before_round_two_and_stop_shows_the_report(workspace):
    """The question is asked under the result it is about (the walk jumped from the results to a chat
    question in jargon and never showed the evaluation screen)."""
    from agent.runner import session_state
    from tui.screens.evaluation import EvaluationScreen

    run_id = session_after_analyze(workspace)
    app = TunewiseApp(workspace, quick=True)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        await pilot.press("enter")  # continue the session: the graph asks before spending round 2
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen), timeout=240)
        screen = app.screen
        box = screen.query_one("#round-ask")
        await wait_for(pilot, lambda: box.display and "Try another round" in str(box.render()))
        said = str(box.render())
        assert f"not good enough yet: {REASON}. Try another round (about 12 minutes)?" in said
        assert "n another round · x stop here and see the report" in said
        await wait_for(
            pilot,
            lambda: {"Another round", "Stop here"} <= {k.description for k in screen.query("FooterKey")},
        )
        await pilot.press("x")  # Stop here and see the report
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReportScreen", timeout=240)
        await wait_for(pilot, lambda: run_id not in app.busy)
    values = session_state(workspace, run_id)["values"]
    assert values["stop_reason"] == "stopped_by_you" and values["status"] == "done"
    assert "you stopped before another round" in (workspace.run(run_id).path / "report.md").read_text()


def test_the_question_is_the_evaluations_plain_sentence_when_there_is_one(workspace):
    """The walk read 'json_field_accuracy: tuned v1 0.528 [0.31, 0.72] vs best baseline base few-shot 0.750
    [0.64, 0.86] → -29.6% relative (need ≥ +10%)'; the question now says what the evaluation screen says."""
    from eval_fixture import write_cafe_eval

    run_id = session_after_analyze(workspace)
    write_cafe_eval(workspace, run_id, status="fail")
    snap, question = drive_until_generate(workspace, run_id, None)
    assert question["question"] == (
        "The tuned model got 6 of 10 orders fully right; your prompt with 6 examples got 7. It is not better "
        "yet: your prompt with 6 examples still does better. Try another round (about 12 minutes)?"
    )
    assert "new practice examples aimed at what it got wrong" in question["help"]
