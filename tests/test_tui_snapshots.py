"""Snapshot tests (pytest-textual-snapshot) at 80×24: they guard the look of every screen.

Fixed run ids and fixture artifacts keep them deterministic. Regenerate after an intended change with
`pytest tests/test_tui_snapshots.py --snapshot-update` and review the SVG diffs."""

from __future__ import annotations

import pytest
from test_tui_helpers import RUN_ID, make_run, train_events, write_critiqued, write_eval, write_train_dir

from tools.workspace import Workspace
from tui.app import TunewiseApp

SIZE = (80, 24)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path).ensure()


def settle(screen_factory=None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await app.workers.wait_for_complete()
        await pilot.pause()
        if screen_factory is not None:
            app.show(screen_factory(app))
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_snapshot_home_empty(snap_compare, ws):
    assert snap_compare(TunewiseApp(ws), terminal_size=SIZE, run_before=settle())


def test_snapshot_home_light_with_runs(snap_compare, ws):
    make_run(ws)
    write_eval(ws)
    assert snap_compare(TunewiseApp(ws, theme="tunewise-light"), terminal_size=SIZE, run_before=settle())


def test_snapshot_conversation_first_question(snap_compare, ws):
    async def run_before(pilot) -> None:
        await settle()(pilot)
        await pilot.press("n")
        await pilot.pause()
        for inp in pilot.app.screen.query("Input"):
            inp.cursor_blink = False  # a blinking cursor would make the snapshot depend on timing
        await pilot.pause()

    assert snap_compare(TunewiseApp(ws), terminal_size=SIZE, run_before=run_before)


def test_snapshot_decision(snap_compare, ws):
    from test_tui_screens import _decision_payload

    from tui.screens.decision import DecisionScreen

    make_run(ws)
    assert snap_compare(
        TunewiseApp(ws),
        terminal_size=SIZE,
        run_before=settle(lambda app: DecisionScreen(RUN_ID, _decision_payload())),
    )


def test_snapshot_review(snap_compare, ws):
    from tui.screens.review import ReviewScreen

    make_run(ws)
    path = write_critiqued(ws, 20)
    assert snap_compare(
        TunewiseApp(ws),
        terminal_size=SIZE,
        press=["down", "r", "a"],
        run_before=settle(lambda app: ReviewScreen(RUN_ID, {"kind": "review", "file": str(path)})),
    )


def test_snapshot_review_cafe_orders(snap_compare, ws):
    """A real review at 80×24: 32-character ids, orders and JSON answers; the input and the answer get the
    room (the input showed 11 characters), an undecided row says why it deserves a look."""
    from test_tui_newcomer_leftovers import _cafe_rows
    from test_tui_review_guard import write_rows

    from tui.screens.review import ReviewScreen

    make_run(ws)
    path = write_rows(ws, _cafe_rows(12))
    assert snap_compare(
        TunewiseApp(ws),
        terminal_size=SIZE,
        press=["r", "a"],
        run_before=settle(lambda app: ReviewScreen(RUN_ID, {"kind": "review", "file": str(path)})),
    )


def test_snapshot_training(snap_compare, ws):
    from tui.screens.training import TrainingScreen

    make_run(ws)
    write_train_dir(ws, train_events(range(1, 13)))
    assert snap_compare(
        TunewiseApp(ws), terminal_size=SIZE, run_before=settle(lambda app: TrainingScreen(RUN_ID, poll=False))
    )


def test_snapshot_evaluation(snap_compare, ws):
    from tui.screens.evaluation import EvaluationScreen

    make_run(ws)
    write_eval(ws)
    assert snap_compare(
        TunewiseApp(ws), terminal_size=SIZE, run_before=settle(lambda app: EvaluationScreen(RUN_ID))
    )


def test_snapshot_help(snap_compare, ws):
    assert snap_compare(TunewiseApp(ws), terminal_size=SIZE, press=["f1"], run_before=settle())


def test_snapshot_evaluation_not_better_yet(snap_compare, ws):
    """The cafe owner's failed evaluation at 80×24: the plain sentence, the table, the expected answer."""
    from eval_fixture import write_cafe_eval

    from tui.screens.evaluation import EvaluationScreen

    make_run(ws)
    write_cafe_eval(ws, RUN_ID, status="fail")
    assert snap_compare(
        TunewiseApp(ws), terminal_size=SIZE, run_before=settle(lambda app: EvaluationScreen(RUN_ID))
    )


def test_snapshot_report_after_a_pass(snap_compare, ws):
    """The report at 80×24 after a pass: the sentence, what to do and the whole serve command."""
    from eval_fixture import write_cafe_eval

    from tui.screens.report import ReportScreen

    make_run(ws)
    write_cafe_eval(ws, RUN_ID, status="pass")
    assert snap_compare(
        TunewiseApp(ws),
        terminal_size=SIZE,
        run_before=settle(
            lambda app: ReportScreen(RUN_ID, {"approach": "fine-tune", "stop_reason": "success"})
        ),
    )


def test_snapshot_goals_question(snap_compare, ws):
    """The goals question at 80×24: the question, its guess and the ticks all on screen, Send one line."""
    from test_tui_newcomer80 import _goals_question

    from tui.screens.conversation import ConversationScreen

    make_run(ws)

    async def run_before(pilot) -> None:
        await settle(lambda app: ConversationScreen(RUN_ID, _goals_question()))(pilot)
        await pilot.pause()

    assert snap_compare(TunewiseApp(ws), terminal_size=SIZE, run_before=run_before)


def test_snapshot_override_confirmation(snap_compare, ws):
    """The advice was a prompt and the person picked fine-tune: a quick try or the full run, each with its
    own estimate, before anything starts."""
    from test_tui_newcomer80 import _prompt_decision_payload

    from tui.screens.decision import DecisionScreen

    make_run(ws)

    from agent.rates import estimate_path

    payload = _prompt_decision_payload(True)
    rates = {"device": "cpu", "device_name": "CPU (2 cores, no GPU)", "generate_tokens_per_s": 30.0}
    small = estimate_path("fine-tune", n_examples=50, rates=rates | {"train_tokens_per_s": 100.0})
    payload["quick"] = {"n_examples": 50, "full_n_examples": 200, "estimates": {"fine-tune": small}}

    async def run_before(pilot) -> None:
        await settle(lambda app: DecisionScreen(RUN_ID, payload))(pilot)
        pilot.app.screen.query_one("#override-choice").value = "fine-tune"
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(TunewiseApp(ws), terminal_size=SIZE, run_before=run_before)
