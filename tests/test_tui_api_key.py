"""Walk 13: the advice said "set an API key (OpenAI or Anthropic) … and run again", and a newcomer had no way
to do either without leaving the app and answering the interview again. `k` takes a key for this window only
(never written anywhere) and `r` runs the session again with the same answers and examples."""

from __future__ import annotations

import json
import os

import pytest
from test_tui_add_examples import EXAMPLES, _finished_session
from test_tui_helpers import wait_for

from tui.app import TunewiseApp

SIZE = (80, 24)
KEY = "sk-proj-" + "x1y2z3" * 6


@pytest.fixture
def no_key(monkeypatch):
    """No key at the start; whatever a test puts in the environment is gone after it."""
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TUNEWISE_API_KEY", "TUNEWISE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_a_pasted_key_goes_to_its_providers_variable(no_key):
    from tui.widgets.api_key_dialog import env_var_for, key_is_set, use_key

    assert env_var_for("sk-ant-api03-" + "a" * 30) == "ANTHROPIC_API_KEY"
    assert env_var_for(KEY) == "OPENAI_API_KEY"
    assert env_var_for("hello there") is None and env_var_for("sk-short") is None
    with pytest.raises(ValueError, match="does not look like an API key"):
        use_key("my password")
    assert not key_is_set()
    assert use_key(f"  {KEY}\n") == "OpenAI" and os.environ["OPENAI_API_KEY"] == KEY


def _rag_report(workspace):
    run = _finished_session(workspace)
    (run.path / "work" / "iter0").mkdir(parents=True)
    result = {"chunks": 4, "n": 10, "accuracy_without": 0.0, "accuracy_with": 0.0, "context_recall": 0.7}
    (run.path / "work" / "iter0" / "rag.json").write_text(json.dumps(result))
    return run


async def test_the_report_takes_a_key_for_this_window_and_runs_the_session_again(workspace, no_key):
    from tui.screens.report import ReportScreen

    run = _rag_report(workspace)
    app = TunewiseApp(workspace)
    driven: list = []
    app.drive = lambda run_id, payload: (
        driven.append((run_id, payload)) or True
    )  # the graph is tested elsewhere
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(run.id, {"approach": "rag", "stop_reason": "approach:rag"}))
        md = lambda: str(app.screen.query_one("#report-md").source)  # noqa: E731
        await wait_for(pilot, lambda: app.screen.query("#report-md") and "API key" in md())
        assert "Press **k** to paste an API key" in md() and "No model to serve" in md()
        assert "retrieval_config" not in md() and "the search settings" in md()
        await pilot.press("k")
        await wait_for(pilot, lambda: app.screen.query("#api-key"))
        app.screen.query_one("#api-key").value = "not a key"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "does not look like" in str(app.screen.query_one("#api-key-problem").render())
        )
        assert "OPENAI_API_KEY" not in os.environ
        app.screen.query_one("#api-key").value = KEY
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "report")
        await wait_for(pilot, lambda: "Press **k**" not in md())  # reloaded: no key to ask for any more
        assert os.environ["OPENAI_API_KEY"] == KEY
        await pilot.press("r")
        await wait_for(pilot, lambda: driven)
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "conversation")
        new_id, state = driven[-1]
        assert new_id != run.id and state["answers"]["goals"] == ["accuracy"]
        assert state["options"]["shape_known"]  # straight to the decision: no question asked again
        assert [e["input"] for e in state["task"]["examples"]] == [e["input"] for e in EXAMPLES]
    from agent.sessions import replaced_by

    assert replaced_by(workspace, run.id) == new_id
    # the key is in no file of the workspace
    for path in workspace.path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="ignore"), path


def test_a_steps_error_kept_by_langgraph_reads_in_words():
    from agent.sessions import plain_error

    kept = "ProviderError('cannot reach api.openai.com — fix: check the network connection')"
    assert plain_error(kept) == "cannot reach api.openai.com — fix: check the network connection"
    assert plain_error("ValueError(\"bad 'x'\\nsecond line\")") == "ValueError: bad 'x'\nsecond line"
    assert plain_error("KeyError: 'a'") == "KeyError: 'a'"  # already words: unchanged
    assert plain_error("RuntimeError(3)") == "RuntimeError(3)"


async def test_the_progress_screen_keeps_the_reason_a_step_stopped(workspace):
    """Walk 13: a wrong API key stopped the writing step; the reason was a 12-second toast and the screen
    said only 'the agent is not running this session now'."""
    from test_tui_helpers import make_run

    from tui.screens.progress import ProgressScreen

    run = make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ProgressScreen(run.id))
        await wait_for(pilot, lambda: app.screen.query("#progress-note"))
        app.screen.on_agent_event("error", {"line": "cannot reach api.openai.com — fix: check the network"})
        note = lambda: str(app.screen.query_one("#progress-note").render())  # noqa: E731
        await wait_for(pilot, lambda: "Stopped on an error" in note())
        assert "cannot reach api.openai.com" in note() and "ctrl+r tries again" in note()
        app.screen.render_progress()  # the next tick keeps it
        assert "cannot reach api.openai.com" in note()
