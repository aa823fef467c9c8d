"""Pilot tests per screen: keys and clicks drive real state changes (decisions, filters, progress)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from test_tui_helpers import (
    RUN_ID,
    append_events,
    make_run,
    train_events,
    wait_for,
    write_critiqued,
    write_eval,
    write_train_dir,
)

from tui.app import TunewiseApp

SIZE = (80, 24)


def capture_answers(app) -> list:
    sent = []
    app.answer = lambda run_id, answer: sent.append((run_id, answer))
    return sent


# ---------------------------------------------------------------- home / resume
async def test_home_lists_sessions_and_resumes_the_pending_question(workspace):
    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.")
    run = create_run_for(workspace, spec, run_id="cities-run")
    out = drive(workspace, run.id, initial_state(run.id, spec, headless=False), AgentContext(workspace))
    assert out["interrupt"]["key"] == "problem"
    make_run(workspace, "files-only-run")

    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 2)
        states = {r["id"]: r["state"] for r in home.rows}
        assert states == {"cities-run": "waiting: your answer", "files-only-run": "files only"}
        assert home.rows[0]["id"] == "cities-run"
        await pilot.press("r")  # resume the highlighted session
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen")
        conv = app.screen
        assert conv.run_id == "cities-run" and conv.pending["key"] == "problem"
        texts = [m.text for m in conv.query("ChatMessage")]
        assert any("what should the model do" in t for t in texts)  # the transcript of earlier answers
        assert any("Extract the city" in t for t in texts)
        assert "What goes wrong today" in texts[-1]
        await pilot.press("escape")
        assert type(app.screen).__name__ == "HomeScreen"


# ---------------------------------------------------------------- decision
def _decision_payload() -> dict:
    from agent.rubric import Answers, decide

    d = decide(Answers(spec="Extract the city as JSON", examples=0, prompted_success=0.3, goals=["format"]))
    return {
        "kind": "decision",
        "decision": d.to_dict(),
        "choices": ["accept", "prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune"],
    }


async def test_decision_accept_override_and_change_answers(workspace):
    from tui.screens.decision import DecisionScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(DecisionScreen(RUN_ID, _decision_payload()))
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#rubric").row_count == len(screen.decision["rubric"]) >= 4
        assert "fine-tune" in screen.decision["approach"]
        await pilot.press("o")  # override without a choice: the list of paths opens, nothing sent yet
        assert sent == [] and screen.query_one("#override-choice").expanded
        screen.query_one("#override-choice").value = "few-shot"  # picked from the open list
        assert sent == []  # another path than the advice: its estimate first, and a yes
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        assert sent == [(RUN_ID, "few-shot")]
        await pilot.press("a")  # already answered: not sent twice
        assert sent == [(RUN_ID, "few-shot")]
        app.run_values[RUN_ID] = {
            "answers": {"spec": "Extract the city as JSON", "examples": 0, "goals": ["format"]}
        }
        await pilot.press("c")
        await pilot.pause()
        conv = app.screen
        assert type(conv).__name__ == "ConversationScreen" and conv.run_id is None
        assert (
            conv.query_one("#answer-input").value == "Extract the city as JSON"
        )  # earlier answer pre-filled
        assert conv.defaults["goals"] == ["format"]


async def test_decision_accept_key_sends_accept(workspace):
    from tui.screens.decision import DecisionScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(DecisionScreen(RUN_ID, _decision_payload()))
        await pilot.pause()
        await pilot.press("a")
        assert sent == [(RUN_ID, "accept")]


async def test_a_blocked_fine_tune_says_not_yet_and_accept_asks_first(workspace):
    """Walk 16: the advice read "train your own small model" above "expect most of them to be wrong", and
    Accept would have spent most of an hour training on them. The headline says not yet, the way on is named
    (e adds examples), and Accept asks before it starts anything."""
    from agent.rubric import Answers, decide
    from tui.screens.decision import DecisionScreen

    probe = {"measured": True, "n_test": 5, "correct_share": 0.0, "n_shots": 5, "student": "local:embedded"}
    answers = Answers(
        spec="Fahrenheit to Celsius",
        examples=10,
        prompted_success=0.0,
        goals=["cost"],
        constraints=["offline"],
    )
    d = decide(answers, probe=probe, output_format="text")
    assert d.practice == "blocked"
    payload = {"kind": "decision", "decision": d.to_dict(), "choices": ["accept", "fine-tune"]}
    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(DecisionScreen(RUN_ID, payload))
        await pilot.pause()
        text = str(app.screen.query_one("#decision-md")._markdown)
        assert "train your own small model** — but not yet" in text and "press **e** to add examples" in text
        assert "API key" not in text  # offline: the data stays here
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        assert "got 0 of 5 of your examples right" in str(app.screen.text) and sent == []
        await pilot.press("n")  # back: nothing started
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DecisionScreen")
        assert sent == []
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")  # start anyway: sent once, as an accept
        await wait_for(pilot, lambda: sent == [(RUN_ID, "accept")])


# ---------------------------------------------------------------- data review
async def test_review_filters_decisions_progress_and_submit(workspace):
    from tui.screens.review import ReviewScreen

    make_run(workspace)
    path = write_critiqued(workspace, 20)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(
            ReviewScreen(
                RUN_ID, {"kind": "review", "run_id": RUN_ID, "iteration": 1, "file": str(path), "n": 20}
            )
        )
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 20)
        table = screen.query_one("#review-table")
        assert table.row_count == 20 and screen.model.required == 2
        await pilot.click("#filter-flagged")
        assert table.row_count == 2  # ex-07, ex-14
        await pilot.click("#filter-low-score")
        assert table.row_count == 4  # every 5th scored 2
        await pilot.press("r")  # reject ex-05
        await pilot.press("a")  # accept ex-10 (cursor moved down)
        assert screen.model.decisions == {
            "ex-05": {"id": "ex-05", "action": "reject"},
            "ex-10": {"id": "ex-10", "action": "accept"},
        }
        await pilot.press("f")  # next filter: unreviewed
        assert screen.active_filter == "unreviewed" and table.row_count == 18
        await pilot.press("ctrl+s")
        assert sent  # enough reviewed (2 of 20 = 10%)
        assert sent[0] == (RUN_ID, [{"id": "ex-05", "action": "reject"}, {"id": "ex-10", "action": "accept"}])


async def test_review_edit_with_textarea_and_minimum_share(workspace):
    from tui.screens.review import ReviewScreen

    make_run(workspace)
    path = write_critiqued(workspace, 20)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 20}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 20)
        await pilot.press("ctrl+s")  # nothing reviewed: refused
        assert sent == []
        await pilot.press("e")
        await pilot.pause()
        assert type(app.screen).__name__ == "EditDialog"
        area = app.screen.query_one("TextArea")
        # the cursor at the end of the answer: walk 19's typed fix went in front of the old answer
        before = area.text
        await pilot.press("!")
        assert before and area.text == before + "!"
        area.text = '{"city": "Paris"}'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.model.decisions["ex-01"] == {
            "id": "ex-01",
            "action": "edit",
            "content": '{"city": "Paris"}',
        }
        await pilot.press(
            "p"
        )  # category "ok" names no problem: nothing to apply it to (test_tui_review_guard)
        assert "propagate" not in screen.model.decisions["ex-01"]
        assert screen.current().id == "ex-02"  # the cursor moved on after the edit
        await pilot.press("u")  # undo on an undecided row: nothing changes
        assert "ex-01" in screen.model.decisions
        await pilot.press("up", "u")
        assert screen.model.decisions == {}


def test_review_model_counts():
    from tui.widgets.review import ReviewItem, ReviewModel

    items = [
        ReviewItem(id=str(i), input="i", output="o", score=s, flags=f)
        for i, (s, f) in enumerate([(5, []), (2, []), (None, ["unjudged"]), (1, ["dup"])])
    ]
    m = ReviewModel(items)
    # "unjudged" says how a row was made, not what is wrong with it: not flagged (tools.data.review's rule)
    assert [len(m.filtered(f)) for f in ("all", "flagged", "low score", "unreviewed")] == [4, 1, 2, 4]
    assert m.required == 1 and not m.enough
    m.decide("3", "reject")
    m.decide("0", "edit", content="x")
    assert m.enough and [d["id"] for d in m.decisions_list()] == ["0", "3"]
    with pytest.raises(ValueError):
        m.decide("1", "delete")


# ---------------------------------------------------------------- training monitor
async def test_training_monitor_tails_appended_events(workspace):
    from tui.screens.training import TrainingScreen

    make_run(workspace)
    d = write_train_dir(workspace, train_events(range(1, 6)))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(TrainingScreen(RUN_ID))
        screen = app.screen
        await wait_for(pilot, lambda: screen.progress.step == 5)
        bar = screen.query_one("#train-progress")
        assert bar.total == 20 and bar.progress == 5
        assert len(screen.progress.losses) == 5 and len(screen.progress.eval_losses) == 1
        append_events(d, train_events(range(6, 11)))
        with open(d / "events.jsonl", "a") as fh:
            fh.write('{"event": "log", "step": 11, "max_st')  # a torn line waits for the rest
        await wait_for(pilot, lambda: screen.progress.step == 10)
        assert bar.progress == 10 and screen.progress.eval_loss == pytest.approx(1.7)
        assert "40s left" in str(screen.query_one("#train-stats").render())
        with open(d / "events.jsonl", "a") as fh:
            fh.write('eps": 20, "loss": 1.4}\n{"event": "end", "step": 11, "status": "completed"}\n')
        await wait_for(pilot, lambda: screen.progress.status == "done")
        assert screen.progress.step == 11 and screen.query_one("#stop").disabled
        # a resume rewrites the log atomically (new file, cut back to its checkpoint): the monitor starts over
        from tools.workspace import atomic_write_jsonl

        atomic_write_jsonl(
            d / "events.jsonl",
            [
                {"event": "start", "step": 5, "max_steps": 20},
                *train_events(range(1, 6)),
                *train_events(range(6, 16)),
            ],
        )
        await wait_for(pilot, lambda: screen.progress.step == 15)
        assert [s for s, _ in screen.progress.losses] == list(
            range(1, 16)
        ) and screen.progress.status == "running"


async def test_training_stop_sends_sigint_to_the_runner(workspace):
    from tools.workspace import atomic_write_json
    from tui.screens.training import TrainingScreen

    make_run(workspace)
    d = write_train_dir(workspace, train_events(range(1, 3))).resolve()
    # a stand-in process whose command line looks like the runner's, so stop_training trusts the pid
    proc = subprocess.Popen(
        # SIGINT handling made explicit: a child inherits an ignored SIGINT from its parent otherwise
        [
            sys.executable,
            "-c",
            "import signal,time; signal.signal(signal.SIGINT, signal.default_int_handler); time.sleep(60)",
            "tools.train.sft",
            str(d),
        ],
        start_new_session=True,
    )
    atomic_write_json(d / "process.json", {"pid": proc.pid})
    try:
        app = TunewiseApp(workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.show(TrainingScreen(RUN_ID))
            await wait_for(pilot, lambda: app.screen.progress.step == 2, timeout=90)
            await pilot.press("s")
            await wait_for(pilot, lambda: (d / "STOP").exists(), timeout=240)  # the runner trusted the pid
            await wait_for(pilot, lambda: proc.poll() is not None, timeout=240)
        assert proc.returncode != 0  # interrupted (KeyboardInterrupt), not finished
        assert (d / "STOP").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)


def test_a_must_keep_row_the_test_holds_is_listed_once():
    """Walk 22 asked why examples were listed twice: must-keep rows are drawn from the test and validation."""
    from tui.widgets.evaluation.model import EvalView, ExampleRow

    rows = [
        ExampleRow("a", "brioche", split="test"),
        ExampleRow("b", "soup", split="test"),
        ExampleRow("a", "brioche", split="regression", regressed=True),
        ExampleRow("c", "pesto pasta", split="regression"),
        ExampleRow("g", "tell me a joke", split="forgetting"),
    ]
    view = EvalView("v1", {"regression": {"regressed_ids": []}}, rows)
    assert [(e.split, e.id) for e in view.filtered(False)] == [
        ("test", "a"),
        ("test", "b"),
        ("regression", "c"),
        ("forgetting", "g"),
    ]
    # the test row carries the must-keep row's mark, once
    assert [(e.split, e.id) for e in view.filtered(True)] == [("test", "a")]


def test_train_progress_resume_trims_the_curve():
    from tui.widgets.training import TrainProgress, format_eta

    p = TrainProgress()
    for ev in train_events(range(1, 9)):
        p.apply(ev)
    p.apply({"event": "start", "step": 5, "max_steps": 20})  # resumed from checkpoint 5
    assert [s for s, _ in p.losses] == [1, 2, 3, 4, 5] and p.status == "running"
    p.apply({"event": "error", "message": "out of memory", "error_kind": "oom"})
    p.apply({"event": "end", "status": "failed", "step": 8})
    assert p.status == "failed" and p.error == "out of memory"
    assert format_eta(3725) == "1h02m" and format_eta(None) == "—"


# ---------------------------------------------------------------- evaluation
async def test_evaluation_systems_side_by_side_and_regression_filter(workspace):
    from tui.screens.evaluation import EvaluationScreen

    make_run(workspace)
    write_eval(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(EvaluationScreen(RUN_ID))
        screen = app.screen
        await wait_for(pilot, lambda: screen.eval_view.version == "v1")
        await pilot.pause()
        assert screen.query_one("#systems").row_count == 3
        examples = screen.query_one("#examples")
        assert examples.row_count == 5  # 3 test + 1 regression + 1 forgetting (same id as a test row)
        panels = screen.query(".sbs-panel")
        assert len(panels) == 3  # the expected answer, the candidate, the baseline
        texts = [str(p.query_one("Static").render()) for p in panels]
        assert texts[0].startswith("expected answer") and '{"city": "Town1"}' in texts[0]
        assert "the judge preferred the tuned model: candidate names Town1" in texts[1]
        assert "base few-shot judged on t-1" in texts[2]
        await pilot.press("g")
        assert examples.row_count == 1 and screen.shown[0].id == "reg-02"
        # said, not only filtered: walk 8 saw no change at 80×24
        await wait_for(
            pilot, lambda: any("Showing only the 1 example" in str(n.message) for n in app._notifications)
        )
        await pilot.press("s")
        await pilot.pause()
        assert len(screen.query(".sbs-panel")) == 4
        await pilot.press("g")
        assert examples.row_count == 5


# ---------------------------------------------------------------- report, palette, help, theme
async def test_palette_reaches_screens_help_and_theme(workspace):
    make_run(workspace)
    write_eval(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.current_run = RUN_ID
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"screen: evaluation")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EvaluationScreen")
        await pilot.press("ctrl+p")
        await pilot.press(*"screen: report")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReportScreen")
        md = app.screen.query_one("#report-md")
        await wait_for(pilot, lambda: "Files" in md.source)
        assert "Under `.tunewise/runs/demo-run/`" in md.source and "| evaluations | `eval` |" in md.source
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "ReportScreen"
        await pilot.press("question_mark")  # the walk pressed ? first
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReportScreen")
        assert app.theme == "tunewise-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "tunewise-light"


def test_help_lists_every_screens_keys():
    from tui.help_screen import help_markdown

    text = help_markdown()
    for needle in (
        "Data review",
        "a              Accept",
        "r              Reject",
        "s              Stop",
        "g              Regressions only",
        "ctrl+p",
    ):
        assert needle in text
    assert "question_mark" not in text and "?              Help" in text  # as typed (walk 8)
    # walk 19 pressed F1 for "set aside" (progress) and "not graded by a model" (review) and found neither
    for word in ("**set aside**", "**not graded by a model**", "**loss**", "**second opinion"):
        assert word in text, word


def test_import_is_light():
    # numpy: the header's status words imported it through tools.evals (0.2–0.5 s of the first screen)
    code = (
        "import sys, tui.app, tui.screens.home; from tui.widgets.header import clean_status; "
        "clean_status('evaluate: tuned v1 → -5.0% relative'); "
        "bad = [m for m in ('torch', 'transformers', 'langgraph', 'textual_plotext', 'numpy') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_run_app_exists():
    from tui.app import run_app

    assert callable(run_app)
    asyncio.get_event_loop_policy()  # the app uses the default loop policy


async def test_resizes_between_small_and_large_terminals(workspace):
    make_run(workspace)
    write_eval(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.open("evaluation", RUN_ID)
        await wait_for(
            pilot,
            lambda: (
                getattr(app.screen, "eval_view", None) is not None and app.screen.eval_view.version == "v1"
            ),
        )
        await pilot.pause()
        panel = app.screen.query(".sbs-panel").first()
        narrow = panel.size.width
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert app.screen.query(".sbs-panel").first().size.width > narrow
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.query(".sbs-panel").first().size.width == narrow


async def test_agent_events_show_status_and_open_the_training_monitor(workspace):
    from tui.messages import AgentEvent, GraphPaused

    make_run(workspace)
    write_train_dir(workspace, train_events(range(1, 4)))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(AgentEvent(RUN_ID, "status", {"message": "generate: 20 examples with the teacher"}))
        await pilot.pause()
        assert app.sub_title == "generate: 20 examples written by a bigger model"  # the screens' words
        app.post_message(AgentEvent(RUN_ID, "train", {"event": "log", "step": 3}))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TrainingScreen")
        await wait_for(pilot, lambda: app.screen.progress.step == 3)
        # the graph finishing opens the report
        app.post_message(GraphPaused(RUN_ID, {"approach": "fine-tune", "stop_reason": "success"}, [], None))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReportScreen")
        md = app.screen.query_one("#report-md")
        await wait_for(pilot, lambda: "success" in md.source)
        assert "tunewise serve --adapter" not in md.source  # no adapter in this run


async def test_status_changes_while_a_screen_is_taken_apart_do_not_end_the_app(workspace):
    """The worker sets the sub-title often; one landing while a header loses its title must be harmless."""
    from textual.widgets._header import HeaderTitle

    from tui.widgets.header import StatusHeader

    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        header = app.screen.query_one(StatusHeader)
        await header.query_one(HeaderTitle).remove()
        app.sub_title = "generate: 3/12"
        await pilot.pause()
        assert app.is_running and app.return_code is None


def test_a_resumed_transcript_includes_the_answer_shape_before_the_pending_question():
    from tui.screens.conversation import transcript

    spec_so_far = {
        "output": {"format": "json", "schema": {"type": "object", "required": ["city"]}},
        "answers": {"spec": "Extract the city", "problem": "", "knowledge_needed": "no", "examples": "3"},
    }
    shown = transcript(spec_so_far, "prompted_success")
    assert [a for _, a in shown] == ["Extract the city", "_(skipped)_", "no", "3", "json"]
    assert transcript(spec_so_far, "examples")[-1][1] == "no"  # nothing past the pending question
    # a kept "not tried" reads as such, not as skipped (walk 12, after changing answers)
    spec_so_far["answers"]["prompted_success"] = None
    assert transcript(spec_so_far, "goals")[-1][1] == "not tried"
    # the documents' folder is kept in the task, not the answers: shown too (walk 13's resumed chat)
    with_docs = {"documents": "/srv/pool-docs", "answers": {"spec": "Answer", "knowledge_needed": True}}
    assert "/srv/pool-docs" in [a for _, a in transcript(with_docs, "examples")]


async def test_home_marks_a_session_that_stopped_on_an_error(workspace):
    from tui.messages import GraphFailed

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        assert home.rows[0]["state"] == "files only"
        app.post_message(GraphFailed(RUN_ID, "no test rows — add examples"))
        await wait_for(pilot, lambda: RUN_ID in app.errors)
        assert app.errors == {RUN_ID: "no test rows — add examples"}
        home.refresh_sessions()
        await wait_for(pilot, lambda: home.rows and home.rows[0]["state"] != "files only")
        assert home.rows[0]["state"] == "stopped: error (Enter retries)"
        table = home.query_one("#sessions")
        assert table.get_row_at(0)[0] == "stopped: error (Enter retries)"


def test_report_shows_the_results_and_the_verdict():
    from tui.screens.report import results_markdown

    summary = {
        "primary_metric": "json_field_accuracy",
        "rows": [
            {"system": "base few-shot", "primary": 0.889, "format_rate": 0.889, "prompt_tokens": 347.0},
            {"system": "tuned v1", "primary": 0.87, "format_rate": 0.944, "prompt_tokens": 71.0},
        ],
        "verdict": {"passed": False, "reasons": ["✗ format rate 94.4% (need ≥ 95%)"]},
    }
    text = "\n".join(results_markdown(summary))
    assert "| tuned v1 | 0.870 | 0.94 | 71 |" in text
    assert "**Verdict: not met**" in text and "format rate 94.4%" in text
    assert results_markdown({}) == []


# ---------------------------------------------------------------- evaluation in plain words (issue #13)
async def test_evaluation_leads_with_the_plain_sentence_and_shows_the_expected_answer(workspace):
    from eval_fixture import write_cafe_eval

    from tui.screens.evaluation import EvaluationScreen

    make_run(workspace)
    write_cafe_eval(workspace, RUN_ID, status="fail")
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(EvaluationScreen(RUN_ID))
        screen = app.screen
        await wait_for(pilot, lambda: screen.eval_view.version == "v1")
        await pilot.pause()
        verdict = screen.query_one("#verdict")
        first = str(verdict.render()).splitlines()[0]
        assert verdict.region.y == 1  # the first line under the header
        assert first.startswith("The tuned model got 6 of 10 orders fully right; your prompt with 6")
        said = str(verdict.render())
        assert "It is not better yet: your prompt with 6 examples still does better." in said
        assert "→ Keep using your prompt with 6 examples for now (it was wrong on 3 of 10 here too" in said
        assert "Serve" not in said and "--" not in said
        table = screen.query_one("#systems")
        assert [str(c.label) for c in table.columns.values()][1] == "fully right"
        assert str(table.get_row_at(0)[0]) == "tuned model" and table.get_row_at(0)[1] == "6/10"
        assert "every expected JSON field right" in str(table.tooltip)  # what the column counts, on hover
        # the side-by-side shows the expected answer first, then the tuned model and the prompt
        panels = [str(p.query_one("Static").render()) for p in screen.query(".sbs-panel")]
        assert len(panels) == 3 and panels[0].startswith("expected answer")
        assert '{"drink": "latte", "size": "small", "milk": "oat"}' in panels[0]
        assert panels[1].startswith("tuned model") and "✓ right" in panels[1]
        assert screen.query(".sbs-panel").first().region.height >= 5  # visible at 80×24
        await pilot.press("d")  # the checks, in words, with every number explained; no command-line flags
        details = str(screen.query_one("#eval-details-text").render())
        assert "general skills: not checked (it needs a judge model)" in details
        assert "field accuracy: the share of the expected JSON fields" in details and "--" not in details
        # the details have the keys: End scrolls them (walk 24's PageDown and End did nothing)
        scroll = screen.query_one("#eval-details")
        assert app.focused is scroll
        if scroll.max_scroll_y > 0:
            await pilot.press("end")
            await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
        await pilot.press("d")
        assert app.focused is screen.query_one("#examples")


async def test_marking_an_expected_answer_wrong_records_it_for_the_next_data_version(workspace):
    from eval_fixture import write_cafe_eval

    from tools.evals.reference_flags import read_reference_flags
    from tui.screens.evaluation import EvaluationScreen

    make_run(workspace)
    d = write_cafe_eval(workspace, RUN_ID, status="fail")
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(EvaluationScreen(RUN_ID))
        screen = app.screen
        await wait_for(pilot, lambda: screen.eval_view.version == "v1")
        await pilot.pause()
        await pilot.press("down", "down", "down", "down")  # t-04: the order says large, the reference small
        assert screen.shown[screen.query_one("#examples").cursor_row].id == "t-04"
        await pilot.press("w")
        await pilot.pause()
        flags = read_reference_flags(d)
        assert list(flags) == [("test", "t-04")]
        flag = flags[("test", "t-04")]
        assert flag["problem"] == "wrong_reference" and flag["data_version"] == "v1"
        assert flag["input"].startswith("A large americano") and '"size": "small"' in flag["reference"]
        assert (d / "reference_flags.jsonl").exists()
        assert screen.shown[screen.query_one("#examples").cursor_row].id == "t-04"  # the cursor stays
        expected = str(screen.query(".sbs-panel").first().query_one("Static").render())
        assert "marked wrong" in expected and "next data version" in expected
        assert "1 expected answer marked wrong" in str(screen.query_one("#examples-title").render())
        await pilot.press("w")  # unmark
        await pilot.pause()
        assert read_reference_flags(d) == {}
        assert "marked wrong" not in str(screen.query(".sbs-panel").first().query_one("Static").render())


async def test_report_screen_says_the_same_and_never_serves_a_model_that_did_not_pass(workspace):
    from eval_fixture import write_cafe_eval

    from tui.screens.report import ReportScreen

    make_run(workspace)
    write_cafe_eval(workspace, RUN_ID, status="fail")
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {"approach": "fine-tune", "stop_reason": "iteration_limit"}))
        await wait_for(
            pilot,
            lambda: app.screen.query("#report-md") and "Files" in app.screen.query_one("#report-md").source,
        )
        text = app.screen.query_one("#report-md").source
        assert text.index("The tuned model got 6 of 10 orders fully right") < text.index("| system |")
        assert "**What to do:** Keep using your prompt with 6 examples for now (it was wrong on 3" in text
        assert "Stopped because:** the iteration limit was reached" in text
        assert "Serve the adapter" not in text and "tunewise serve" not in text
        assert "Not yet: the tuned model (`train/v1/adapter`) did not pass" in text
        assert "--no-judge" not in text and "tunewise eval" not in text  # no command-line flags in the TUI
        assert "| tuned model | 6/10 | 100% | 71 |" in text


def test_report_after_a_pass_shows_the_whole_serve_command_and_always_a_stop_reason(workspace):
    from eval_fixture import write_cafe_eval

    from tui.screens.report import report_markdown

    make_run(workspace)
    write_cafe_eval(workspace, RUN_ID, status="pass")
    text = report_markdown(RUN_ID, workspace.run(RUN_ID).path, {"approach": "fine-tune"})
    assert text.splitlines()[2].startswith("**The tuned model got 9 of 10 orders fully right")
    assert "tunewise serve \\\n  --adapter .tunewise/runs/demo-run/train/v1/adapter" in text
    assert all(len(line) <= 72 for line in text.split("```")[1].splitlines())  # fits 80 columns, not cut
    assert "**Where it stands:** not finished" in text  # no "Stopped because: —" while it runs
    done = report_markdown(RUN_ID, workspace.run(RUN_ID).path, {"stop_reason": "done"})
    assert "**Stopped because:** the run finished its steps" in done


async def _open_review(app, pilot, path, n: int):
    """The review screen on `path` (n rows), once its rows are loaded."""
    from tui.screens.review import ReviewScreen

    app.show(
        ReviewScreen(RUN_ID, {"kind": "review", "run_id": RUN_ID, "iteration": 1, "file": str(path), "n": n})
    )
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.items) == n)
    return screen


async def test_review_says_what_the_checks_removed_before_the_person_looks(workspace):
    from agent.artifacts import save_step

    run = make_run(workspace)
    path = write_critiqued(workspace, 4)
    save_step(
        run,
        1,
        "generate",
        {
            "rejected_inputs": {
                "off task: unlike the seed inputs (similarity 0.20 < 0.39)": 5,
                "talks about the task (uses 'input', which no seed input does)": 2,
                "near-duplicate of an existing input": 3,
            },
            "augmented": 30,
        },
    )
    save_step(run, 1, "critique", {"dropped_by": {"inconsistent": 4, "incorrect": 1}})
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_review(app, pilot, path, 4)
        text = str(screen.query_one("#review-filtered").render())
        assert "10 written inputs set aside (7 off task, 3 near-duplicates)" in text
        assert "5 answers dropped (4 not the same when asked again, 1 wrong)" in text
        assert "30 made from your examples" in text


async def test_review_says_when_the_writer_gave_one_label_to_all_and_which_labels_are_few(workspace):
    """The walk's bike shop: the writer said "complaint" to 200 of 200 messages, 1 repair was kept of the
    50 planned, and the review said only "68 answers dropped by the checks (68 incorrect)"."""
    from agent.artifacts import save_step
    from tui.screens.review import filtered_summary

    run = make_run(workspace)
    path = write_critiqued(workspace, 4)
    save_step(
        run,
        1,
        "critique",
        {
            "dropped_by": {"incorrect": 68},
            "collapsed": {"label": {"value": "complaint", "from_examples": 107, "dropped": 68}},
            "coverage": [
                {"field": "label", "value": "complaint", "planned": 50, "kept": 51, "short": False},
                {"field": "label", "value": "rental", "planned": 50, "kept": 10, "short": True},
                {"field": "label", "value": "repair", "planned": 50, "kept": 1, "short": True},
            ],
            "topped_up": [{"field": "label", "value": "repair", "short_by": 24, "asked": 0, "unseen": True}],
        },
    )
    said = filtered_summary(path.parent)
    assert (
        "the model writing the examples gave 'complaint' to nearly every input, so its labels were not "
        "trusted: 107 took the label of your most similar examples, 68 were dropped"
    ) in said
    assert said.endswith("few examples of rental (10 of 50), repair (1 of 50; none of your examples has it).")
    # the only examples of a value are in the test: said so, not "none of your examples has it" (languages bench)
    from agent.artifacts import load_step

    crit = load_step(run, 1, "critique")
    crit["topped_up"][0]["held_for_test"] = True
    save_step(run, 1, "critique", crit)
    assert filtered_summary(path.parent).endswith("repair (1 of 50; yours are all in the test).")
    crit["topped_up"][0].pop("held_for_test")
    save_step(run, 1, "critique", crit)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_review(app, pilot, path, 4)
        await wait_for(pilot, lambda: "few examples" in str(screen.query_one("#review-filtered").render()))
        box = screen.query_one("#review-filtered")
        assert box.size.height >= 4  # the whole line at 80 columns, not its first two rows


def test_a_prompt_decision_ends_on_how_the_prompt_did(workspace):
    """The walk ended a prompt session on files and 'Serve it' with no score: the branch's own result is
    now said first, in words."""
    from agent.artifacts import save_step
    from tui.screens.report import report_markdown

    run = make_run(workspace)
    save_step(run, 0, "prompt", {"best": {"shots": 4, "accuracy": 0.6, "correct": 3, "n_held_out": 5}})
    text = report_markdown(RUN_ID, run.path, {"approach": "prompt", "stop_reason": "approach:prompt"})
    assert text.splitlines()[2] == (
        "**With your instructions and 4 of your examples in its prompt, the model you start from got 3 of 5 of "
        "your other examples fully right. No model was trained.**"
    )
    assert "Collect about 50 examples" in text and "nothing to train" in text
    # walk 17: "use this prompt with your model" with no model to use it with: the way is a command
    assert f"(`tunewise serve --prompt {RUN_ID}` answers other programs" in text
    (run.path / "prompt.json").write_text('{"system": "s", "shots": []}')
    served = report_markdown(RUN_ID, run.path, {"approach": "prompt", "stop_reason": "approach:prompt"})
    serve_it = served.split("## Serve it", 1)[1]
    # walk 18: the command was cut at 80 columns, and no request or model name was given
    assert f"tunewise serve --port 8000 \\\n  --prompt {RUN_ID}\n" in serve_it and "press **t**" in serve_it
    assert '"model": "embedded"' in serve_it and "/v1/chat/completions" in serve_it
    assert all(len(line) <= 78 for line in serve_it.split("```")[1].splitlines())
    # the prompt is quoted to copy; how it was chosen stays in the file; its wrong answers are said
    from agent.nodes.branches import misses_markdown

    miss = {"input": "2 loaves Thu pm", "expected": "THU PM | 2x loaf", "got": "THURSDAY AM | 2 loaves"}
    (run.path / "prompt.md").write_text(
        "# Prompt for: x\n\n## System\n\nWrite a ticket.\n\n## How it was chosen\n\n| a | b |\n|---|---|\n\n"
        + "\n".join(misses_markdown({"misses": [miss]}))
    )
    text = report_markdown(RUN_ID, run.path, {"approach": "prompt", "stop_reason": "approach:prompt"})
    kept = text.split("## The prompt to use for now", 1)[1]
    assert "Write a ticket" in kept and "How it was chosen" not in kept
    assert "## Where the chosen prompt went wrong" in kept
    assert "— you wrote “THU PM | 2x loaf”, it wrote “THURSDAY AM | 2 loaves”" in kept
    assert "Press **p** to edit the instructions here" in kept
    # answers in parts read as parts, "none" for an empty one (walk 26 read "null" for an empty cell)
    parts = {
        "input": "Bath for Hugo",
        "expected": '{"dog": "Hugo", "day": null}',
        "got": '{"dog": "Milo", "day": "Monday"}',
    }
    assert misses_markdown({"misses": [parts]})[2] == (
        "- “Bath for Hugo” — you wrote “dog: Hugo, day: none”, it wrote “dog: Milo, day: Monday”"
    )


def test_under_advice_to_keep_doing_it_by_hand_the_prompt_is_offered_to_try_not_to_use(workspace):
    """Walk 25 read "keep doing it the way you do now" and, below it, "The prompt to use for now … copy it
    into a chatbot" and "none is needed to use the prompt below": the prompt is the best one tried, to try
    or build on, and nothing is offered as ready to serve."""
    import json

    from agent.nodes.report import PROMPT_HEADING, PROMPT_HEADING_WEAK, prompt_section_words
    from tools.evals.summary import advises_by_hand
    from tui.screens.report import report_markdown

    run = make_run(workspace)
    rec = (
        "Keep doing it the way you do now: nothing tested here was right often enough to use, even with a "
        "person checking (the best, your prompt with 6 examples, was right on only 8 of 20)."
    )
    assert advises_by_hand(rec) and not advises_by_hand("Keep using your prompt with 6 examples for now.")
    (run.path / "summary.json").write_text(
        json.dumps({"stop_reason": "done", "plain": {"sentence": "8 of 20.", "recommendation": rec}})
    )
    (run.path / "prompt.md").write_text("# Prompt for: x\n\n## System\n\nSort messages.\n")
    (run.path / "prompt.json").write_text('{"system": "Sort messages.", "shots": []}')
    text = report_markdown(RUN_ID, run.path, {})
    assert PROMPT_HEADING not in text and PROMPT_HEADING_WEAK in text
    kept = text.split(PROMPT_HEADING_WEAK, 1)[1]
    assert "Copy it into a chatbot" not in kept and "to try on a message of yours" in kept
    assert "Press **t** to try it here." in kept
    serve_it = text.split("## Serve it", 1)[1].split("##", 1)[0]
    assert "Nothing here is ready to serve" in serve_it and "none is needed" not in serve_it
    # the same words for report.md's section (agent/nodes/report.py)
    assert prompt_section_words(rec, "f")[0] == PROMPT_HEADING_WEAK
    assert prompt_section_words("Keep using your prompt for now.", "f") == (
        PROMPT_HEADING,
        "Copy it into a chatbot or AI tool you use, if you have one (f).",
    )


def test_the_prompt_verdict_never_reads_a_field_share_as_answers_right():
    from agent.rubric import Answers, decide

    probe = {"measured": True, "prompted_success": 0.9, "correct_share": 0.6, "n_test": 5}
    probe |= {"metric": "json_field_accuracy"}
    d = decide(Answers(spec="orders", examples=10, goals=["format"], prompted_success=0.9), probe=probe)
    assert d.approach == "prompt"
    assert d.reasons[0].startswith(
        "With good instructions the model you start from already gets 90% of the answer fields right, with 3 of 5 "
        "of your examples fully right"
    )


def test_home_says_why_a_finished_session_stopped_in_a_few_words():
    """The walk's Home row read "done (too_few_examples)"."""
    from tui.screens.home import session_rows

    rows = session_rows(
        [
            {"id": "a", "status": "done", "stop_reason": "too_few_examples"},
            {"id": "b", "status": "done", "stop_reason": "iteration_limit"},
            {"id": "c", "status": "done", "stop_reason": "something_new"},
        ],
        [],
    )
    assert [r["state"] for r in rows] == [
        "done (too few examples)",
        "done (rounds used up)",
        "done (something new)",
    ]


def test_home_lists_a_prompt_sessions_own_result(workspace):
    """Walk 26's list read "—" in the verdict column beside a prompt session that got 9 of 15 right."""
    from agent.artifacts import save_step
    from tui.screens.home import session_rows

    run = make_run(workspace)
    save_step(run, 0, "prompt", {"best": {"shots": 6, "accuracy": 0.8, "correct": 9, "n_held_out": 15}})
    runs = [r.summary() for r in workspace.list_runs()]
    rows = session_rows([{"id": RUN_ID, "status": "done", "stop_reason": "approach:few-shot"}], runs)
    assert rows[0]["verdict"] == "9 of 15 right"


def test_home_says_a_waiting_session_was_replaced_by_one_with_more_examples():
    """Walk 10: after `e` started a new session, the first one still read "waiting: your decision"."""
    from tui.screens.home import session_rows

    rows = session_rows(
        [
            {"id": "old", "status": "waiting", "pending": "decision", "replaced_by": "new"},
            {"id": "new", "status": "waiting", "pending": "decision"},
            {"id": "done", "status": "done", "stop_reason": "success", "replaced_by": "other"},
        ],
        [],
    )
    assert [r["state"] for r in rows] == [
        "replaced by a newer session",
        "waiting: your decision",
        "done (goal met)",
    ]


async def test_review_says_which_examples_are_general_ones(workspace):
    """Walk 9 met "What is 15 percent of 80?" among its tenant requests and nothing said why it was there."""
    from test_tui_helpers import chat_row

    from tools.workspace import atomic_write_jsonl

    make_run(workspace)
    rows = [chat_row(1, score=4), chat_row(2, score=4)]
    rows[1]["messages"][1]["content"] = "What is 15 percent of 80?"
    rows[1]["metadata"]["source"] = "general"
    path = workspace.run(RUN_ID).path / "work" / "iter1" / "critiqued.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_jsonl(path, rows)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_review(app, pilot, path, 2)
        table = screen.query_one("#review-table")
        await wait_for(pilot, lambda: table.row_count == 2)
        cells = [str(c) for i in range(2) for c in table.get_row_at(i)]
        assert any(c.startswith("general: What is") for c in cells)
        assert not any(c.startswith("general: Person") for c in cells)
        general_row = next(i for i, it in enumerate(screen.shown) if it.source == "general")
        table.move_cursor(row=general_row)
        await wait_for(
            pilot, lambda: "A general example" in str(screen.query_one("#review-detail-text").render())
        )


def test_the_review_says_what_it_sent_apart_from_general_examples():
    """Walk 10: the review said "Sent: 3 of the 34" and the report "2 of the 80 written for you" — one of
    the 3 was a general example, which the report does not count as written for the person."""
    from tui.screens.review import sent_words
    from tui.widgets.review.model import ReviewItem

    items = [ReviewItem(f"r{i}", f"in {i}", "out", source="teacher") for i in range(33)]
    items.append(ReviewItem("g", "What is 15 percent of 80?", "12", source="general"))
    decisions = [{"id": it.id, "action": "reject"} for it in items[2:33]]
    assert sent_words(items, decisions) == (
        "Sent: 2 of the 33 examples kept, and 1 of the 1 general ones; the next step goes on from them."
    )
    assert (
        sent_words(items[:33], decisions)
        == "Sent: 2 of the 33 examples kept; the next step goes on from them."
    )


def test_choosing_a_prompt_path_over_the_advice_recalls_how_a_prompt_did():
    """Walk 29 chose "a prompt with examples" over the advice, and the confirmation gave its 5 minutes with no
    word that a prompt had just got 1 of 12 of the person's examples right."""
    from tui.screens.decision import override_text

    probe = {"measured": True, "n_test": 12, "correct_share": 1 / 12, "n_shots": 6}
    text = override_text("few-shot", "fine-tune", {"time_minutes": 5}, None, probe)
    assert "Measured before: a prompt with 6 of your examples got 1 of 12 of the others fully right." in text
    assert "Measured before" not in override_text("fine-tune", "few-shot", {"time_minutes": 30}, None, probe)
    assert "Measured before" not in override_text("few-shot", "fine-tune", {"time_minutes": 5}, None, None)
