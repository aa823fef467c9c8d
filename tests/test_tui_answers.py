"""The terminal app with answers a non-expert gives: a bad answer is asked again in the chat and never
reaches the session; an old session whose checkpoint holds '$5' resumes; a session stopped on an error is
repaired from Home; "pick any" shows its ticks and sends on Enter. Real graph, real SQLite checkpoints."""

from __future__ import annotations

import pytest
from langgraph.types import Command
from test_agent_answers import ANSWERED, old_interview, session_at
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp


def screen_name(app) -> str:
    return type(app.screen).__name__


async def open_from_home(pilot, app) -> None:
    home = app.screen
    await wait_for(pilot, lambda: len(home.rows) == 1)
    await pilot.press("enter")


async def test_a_bad_budget_is_asked_again_in_the_chat_and_never_stored(workspace):
    from agent.runner import session_state

    run_id = session_at(workspace, ANSWERED)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_from_home(pilot, app)
        await wait_for(pilot, lambda: screen_name(app) == "ConversationScreen")
        conv = app.screen
        await wait_for(pilot, lambda: (conv.pending or {}).get("key") == "budget")  # the question is shown
        conv.query_one("#answer-input").value = "lots of money"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "could not read" in str(conv.query_one("#question-error").render()))
        error = str(conv.query_one("#question-error").render())
        assert "could not read an amount of money in 'lots of money'" in error and "like 5" in error
        assert conv.query_one("#answer-input").value == "lots of money"  # there to correct
        # …and selected: typing replaces it (the walk had to delete the old answer by hand)
        await wait_for(pilot, lambda: conv.query_one("#answer-input").selected_text == "lots of money")
        assert run_id not in app.busy and conv.pending["key"] == "budget"
        st = session_state(workspace, run_id)  # the graph never got it
        assert st["interrupt"]["key"] == "budget" and st["interrupt"]["error"] is None
        assert st["values"]["task"].get("budget") is None
        conv.query_one("#answer-input").value = "$5"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "DecisionScreen", timeout=120)
    assert session_state(workspace, run_id)["values"]["task"]["budget"] == 5.0


async def test_an_old_session_stuck_on_dollar_five_resumes_from_home(workspace, monkeypatch):
    """Before lenient answers, '$5' raised inside the interview and the checkpoint replayed it on every
    resume. Home shows the session stopped; Enter resumes it and the interview reads '$5' as 5 dollars."""
    from agent.context import AgentContext
    from agent.runner import drive, session_state

    run_id = session_at(workspace, ANSWERED)
    with monkeypatch.context() as m:
        old_interview(m)
        with pytest.raises(ValueError, match="could not convert string to float: '\\$5'"):
            drive(workspace, run_id, Command(resume="$5"), AgentContext(workspace))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        assert home.rows[0]["state"] == "stopped: error (Enter retries)"
        assert home.rows[0]["error_node"] == "interview"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "DecisionScreen", timeout=120)
        assert app.screen.pending["kind"] == "decision"
    assert session_state(workspace, run_id)["values"]["task"]["budget"] == 5.0


async def test_a_session_stopped_at_its_decision_goes_back_to_the_interview_from_home(workspace, monkeypatch):
    import agent.graph
    from agent.context import AgentContext
    from agent.runner import drive
    from tools.errors import UserError

    run_id = session_at(workspace, ANSWERED)

    def failing_decide(state, runtime):
        raise UserError("the probe could not reach the model", fix="check the provider")

    with monkeypatch.context() as m:
        m.setattr(agent.graph, "decide", failing_decide)
        with pytest.raises(UserError):
            drive(workspace, run_id, Command(resume="5"), AgentContext(workspace))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_from_home(pilot, app)
        await wait_for(pilot, lambda: screen_name(app) == "StoppedDialog")
        text = str(app.screen.query_one("#stopped-text").render())
        assert "decide" in text and "the probe could not reach the model" in text
        await pilot.press("c")  # change my answers: back to the interview in this same session
        await wait_for(pilot, lambda: screen_name(app) == "ConversationScreen", timeout=240)
        conv = app.screen
        await wait_for(pilot, lambda: conv.pending is not None and conv.pending.get("key") == "spec")
        assert conv.run_id == run_id
        assert conv.query_one("#answer-input").value == ANSWERED["spec"]  # earlier answers offered


async def test_pick_any_shows_ticks_says_its_guess_and_sends_on_enter(workspace):
    answers = {k: v for k, v in ANSWERED.items() if k not in ("goals", "volume")}
    run_id = session_at(workspace, answers)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_from_home(pilot, app)
        await wait_for(pilot, lambda: screen_name(app) == "ConversationScreen")
        conv = app.screen
        await pilot.pause()
        ticks = conv.query_one("#answer-multi")
        lines = [ticks.render_line(y).text for y in range(ticks.option_count)]
        assert lines[0].startswith("[x] Same shape every time")  # the guess, ticked and visible
        assert lines[1].startswith("[ ] A set tone or voice")
        notes = [m.text for m in conv.query("ChatMessage") if "What matters most" in m.text]
        assert any(
            "I've ticked" in n and "JSON" in n for n in notes
        )  # and it says it guessed, in the question
        await pilot.press("down", "space")  # space ticks
        assert ticks.render_line(1).text.startswith("[x] A set tone")
        await pilot.press("enter")  # Enter sends, it does not toggle
        await wait_for(pilot, lambda: (app.pending.get(run_id) or {}).get("key") == "volume")
        assert conv.sent[-1] == ["format", "style"]
        shown = [m.text for m in conv.query("ChatMessage") if m.role == "user"]
        assert "Same shape every time (e.g. valid JSON), A set tone or voice (e.g. warm, short)" in shown[-1]
        assert app.pending[run_id]["spec_so_far"]["answers"]["goals"] == ["format", "style"]


async def test_the_probe_says_on_how_many_examples_and_shows_one_answer(workspace):
    from test_tui_helpers import RUN_ID, make_run

    from agent.artifacts import save_step
    from agent.rubric import Answers, decide
    from tui.screens.decision import DecisionScreen

    run = make_run(workspace)
    probe = {"measured": True, "prompted_success": 0.2, "correct_share": 0.2, "n_test": 5, "n_shots": 6}
    probe |= {"student": "local:embedded", "signature": "sig-1"}
    row = {"input": "Do you have oat milk?", "prediction": "Yes we do.", "reference": "Yes, 0.50 extra."}
    save_step(run, 0, "probe", {**probe, "rows": [{**row, "correct": False, "value": 0.2}]})
    d = decide(Answers(spec="Answer cafe questions", examples=11, goals=["style"]), probe=probe)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"kind": "decision", "decision": d.to_dict(), "choices": ["accept"]}))
        await pilot.pause()
        shown = app.screen.query_one("#probe")
        await wait_for(pilot, lambda: "One of its answers" in str(shown.render()))
        text = str(shown.render())
        assert "shown 6 of your examples, got 1 of 5 fully right" in text
        assert "measured the same way" in text
        assert "Do you have oat milk?" in text and "Yes we do." in text and "Yes, 0.50 extra." in text


def test_a_partial_score_is_never_shown_as_a_share_of_answers():
    """'65%' next to '0 of 5 answers right' read as a contradiction in the walk: the field share is named."""
    from tui.screens.decision import probe_text

    probe = {"measured": True, "prompted_success": 0.65, "correct_share": 0.0, "n_test": 5, "n_shots": 5}
    text = probe_text(probe | {"metric": "json_field_accuracy"})
    assert "got 0 of 5 fully right (65% of the fields right on average)" in text
    # both halves measured (each answered with the other half shown): not "10 others" of 10 examples, nor
    # "2 of 10 … on 10 of them" (walk 29)
    both = probe | {"n_test": 10, "swapped": 5, "correct_share": 0.2, "metric": "exact_match"}
    assert "got 2 of 10 fully right, each answered with others shown (65%)" in probe_text(both)
