"""The whole walk in the TUI, as a newcomer makes it, on the embedded model: interview → decision →
generated data → review → (app closed and reopened) → live training → evaluation side by side → report.

Small sizes (smoke mode: 12 generated examples, 4 training steps, one iteration) keep it to a few
minutes on 2 cores; every step runs the real graph, the real teacher/student and the real trainer."""

from __future__ import annotations

import json

from test_tui_interview import answer_text as answer
from test_tui_interview import pending_key
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp

PAIRS = [
    ("Anna lives in Porto.", {"name": "Anna", "city": "Porto"}),
    ("Tom moved to Leeds last year.", {"name": "Tom", "city": "Leeds"}),
    ("Wei works in Taipei.", {"name": "Wei", "city": "Taipei"}),
    ("Kofi was born in Kumasi.", {"name": "Kofi", "city": "Kumasi"}),
    ("Lena studies in Graz.", {"name": "Lena", "city": "Graz"}),
    ("Omar grew up in Tunis.", {"name": "Omar", "city": "Tunis"}),
]


def screen_name(app) -> str | None:
    return getattr(app.screen, "SCREEN_NAME", None)


def pending_kind(app, run_id: str | None = None) -> str | None:
    p = app.pending.get(run_id or app.current_run)
    return p.get("kind") if isinstance(p, dict) else None


def no_error(app) -> bool:
    """Fail the wait at once, with the agent's own message, when the graph stopped on an error."""
    if app.errors:
        raise AssertionError(f"the agent stopped: {app.errors}")
    return True


def make_app(workspace) -> TunewiseApp:
    return TunewiseApp(workspace, quick=True, train_max_steps=4, max_iterations=1)


async def test_newcomer_walks_from_interview_to_evaluation_and_resumes_after_closing(
    workspace, tmp_path, embedded_dir
):
    examples = tmp_path / "pairs.jsonl"
    examples.write_text("".join(json.dumps({"input": i, "output": json.dumps(o)}) + "\n" for i, o in PAIRS))

    # ------------------------------------------------------------ interview → decision → data review
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Extract the person's name and city from a sentence as JSON.", "enter")
        await answer(pilot, app, "problem", "It adds prose around the JSON")
        await wait_for(pilot, lambda: pending_key(app) == "knowledge_needed")
        await pilot.press("enter")  # no
        await answer(pilot, app, "examples", str(examples))
        await wait_for(pilot, lambda: pending_key(app) == "output_format")
        assert app.pending[app.current_run]["default"] == "json"  # read from the examples
        await pilot.press("enter")
        await answer(pilot, app, "prompted_success", "30%")
        await wait_for(pilot, lambda: pending_key(app) == "goals")
        await pilot.press("down", "down", "down", "space")  # format is offered; tick latency too
        await pilot.click("#send")
        await answer(pilot, app, "volume", "50000")
        await answer(pilot, app, "constraints", "offline")
        await answer(pilot, app, "budget", "")

        await wait_for(pilot, lambda: screen_name(app) == "decision", timeout=240)
        await pilot.pause()
        decision = app.screen.decision
        assert decision["approach"] == "fine-tune" and decision["reasons"]
        run_id = app.current_run
        from tools.spec import load_spec

        output = load_spec(workspace.run(run_id).spec_path).output
        assert output.format == "json" and output.json_schema["required"] == ["city", "name"]
        assert output.grounded
        await pilot.press("a")
        # a path that trains a model asks how big a first try (each size with its estimate): the full run
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog")
        from agent.nodes.decide import QUICK_TRY

        assert f"Quick try: {QUICK_TRY} practice examples" in app.screen.text
        await pilot.press("f")

        # the teacher generates, the validators critique, then the graph waits on the person's review
        await wait_for(pilot, lambda: no_error(app) and pending_kind(app) == "review", timeout=600)
        await wait_for(pilot, lambda: screen_name(app) == "review" and app.screen.model.items, timeout=30)
        n_items = len(app.screen.model.items)
        assert n_items >= 4  # enough to train and test on after one rejection

    # ------------------------------------------------------------ closed; reopened from Home
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        assert home.rows[0]["id"] == run_id and home.rows[0]["state"] == "waiting: your review"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "review" and app.screen.model.items, timeout=30)
        review = app.screen
        assert review.pending is not None and len(review.model.items) == n_items
        first, second = review.shown[0].id, review.shown[1].id
        await pilot.press("a", "r")  # accept the first example, reject the second
        assert review.model.decisions[first]["action"] == "accept"
        assert review.model.decisions[second]["action"] == "reject"
        assert review.model.enough
        await pilot.press("ctrl+s")

        # training opens by itself and shows the live curve from events.jsonl
        await wait_for(pilot, lambda: no_error(app) and screen_name(app) == "training", timeout=300)
        training = app.screen
        seen_running = []

        def trained() -> bool:
            p = training.progress
            if p.status == "running" and p.step:
                seen_running.append(p.step)
            return p.status == "done"

        await wait_for(
            pilot, lambda: no_error(app) and (trained() or screen_name(app) != "training"), timeout=600
        )
        assert training.progress.step == training.progress.max_steps == 4
        assert len(training.progress.losses) >= 1
        # then the evaluation, side by side; the finished run leaves the person on it
        await wait_for(pilot, lambda: no_error(app) and screen_name(app) == "evaluation", timeout=600)
        await wait_for(
            pilot,
            lambda: no_error(app) and run_id not in app.busy and pending_kind(app, run_id) is None,
            timeout=600,
        )
        await wait_for(pilot, lambda: app.screen.eval_view.version is not None, timeout=30)
        await pilot.pause()
        evaluation = app.screen
        assert screen_name(app) == "evaluation"
        table = evaluation.query_one("#systems")
        systems = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        # the tuned model first, in words, with no star (walk 19 read a ★ as "the best" on a model below the prompt)
        assert systems[0] == "tuned model" and len(systems) >= 2 and not any("★" in s for s in systems)
        assert str(evaluation.query_one("#verdict").render()).startswith("The tuned model")
        assert evaluation.shown and len(evaluation.query_one("#side-by-side").children) >= 2
        await pilot.press("g")  # regressions only
        assert evaluation.regressions_only
        # every row listed is one the tuned model got worse on (a test row carries its must-keep twin's mark)
        assert all(evaluation.eval_view.is_regression(r) for r in evaluation.shown)
        await pilot.press("o")
        await wait_for(pilot, lambda: screen_name(app) == "report")
        await wait_for(pilot, lambda: "Loading" not in app.screen.query_one("#report-md").source)
        report_md = app.screen.query_one("#report-md").source
        assert run_id in report_md or "serve" in report_md

    # the review's decisions reached the data version the model was trained on
    from agent.artifacts import load_step

    run = workspace.run(run_id)
    reviewed = load_step(run, 1, "review")
    assert reviewed["mode"] == "person" and len(reviewed["decisions"]) == 2
    assert reviewed["kept"] == n_items - 1
