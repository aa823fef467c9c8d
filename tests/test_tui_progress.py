"""Long work in the TUI: quitting is immediate and resumable, every long step has a live screen with plain
words, counts, rate, ETA and samples, the header never reads "None", Accept goes away once accepted, and
the decision's estimate comes from this machine's measured speed (CPU or GPU, said so)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from test_tui_helpers import ANSWERED_CITIES, RUN_ID, make_run
from test_tui_screens import SIZE, capture_answers, wait_for

from tui.app import TunewiseApp


def _header_text(app) -> str:
    from textual.widgets._header import HeaderTitle

    return str(app.screen.query_one(HeaderTitle).render())


# ---------------------------------------------------------------- the progress model (pure)
def test_generation_events_without_total_fall_back_to_the_planned_count():
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "generate: 12 examples with the teacher (iteration 1)"}, now=0.0)
    assert p.step == "generate" and p.planned == 12 and p.iteration == 1
    assert p.activity() == "Writing new practice inputs like your examples"
    for i in range(4):  # today's events: no total, no text
        p.apply(
            "progress",
            {"step": "generate", "event": "input", "slot": f"g:0:{i}", "accepted": i != 2},
            now=2.0,
        )
    assert (p.done, p.total, p.rejected) == (3, 12, 1)
    assert p.rate() == 1.5 and p.eta_s(now=2.0) == 6.0  # 9 left at 1.5/s, measured live
    assert "None" not in p.headline(now=2.0) and "3/12" in p.headline(now=2.0)
    # answers, with the fields being added (total, text): they win over the plan and fill the samples
    p.apply(
        "progress",
        {"step": "generate", "event": "answer", "key": "k", "done": 1, "total": 10, "text": "Porto"},
        3.0,
    )
    p.apply("progress", {"step": "generate", "event": "answer", "key": "k2", "done": 2, "total": 10}, now=5.0)
    assert p.activity() == "Writing the answers to the practice inputs"
    assert (p.done, p.total) == (2, 10) and list(p.samples) == [("answer", "Porto")]
    assert p.counts_line(now=5.0).startswith("2/10 examples")


def test_the_answer_rate_counts_from_the_last_input_not_from_the_first_answer():
    """Answers come a batch at a time: eight at once, 60 s after the last input, are 8 per minute, not the
    78 answers/s the walk's screen showed ('finishing…' at 8 of 50)."""
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "generate: 50 examples with the teacher (iteration 2)"}, now=0.0)
    p.apply("progress", {"step": "generate", "event": "input", "slot": "g:0:0", "accepted": True}, now=30.0)
    for i in range(8):
        p.apply(
            "progress",
            {"step": "generate", "event": "answer", "key": f"k{i}", "done": i + 1, "total": 50},
            now=90.0 + i * 0.01,
        )
    assert abs(p.rate() - 8 / 60.07) < 0.01
    assert "about 5m" in p.counts_line(now=90.1) and "finishing" not in p.counts_line(now=90.1)


def test_a_resumed_generation_counts_its_journal_and_measures_only_new_items(tmp_path):
    from tui.widgets.progress import StepProgress, journal_counts, journal_samples

    journal = tmp_path / "generation.jsonl"
    rows = [{"kind": "input", "slot": f"g:0:{i}", "accepted": i != 3, "text": f"Q{i}"} for i in range(8)]
    row = {
        "messages": [
            {"role": "user", "content": "Ann lives in Porto."},
            {"role": "assistant", "content": "Porto"},
        ]
    }
    rows.append({"kind": "answer", "key": "g:0:0:a", "row": row})
    journal.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"kind": "inp')  # a torn last line
    assert journal_counts(journal) == (7, 1)
    assert journal_samples(journal) == [("input", "Q7"), ("example", "Ann lives in Porto. → Porto")]

    p = StepProgress()
    p.apply("status", {"message": "generate: 12 examples with the teacher (iteration 1)"}, now=0.0)
    assert (p.done, p.total) == (0, 12)  # the plan, before any event
    p.sync_journal(6, 0)  # replayed on resume: counted, not measured
    assert p.done == 6 and p.rate() is None
    p.apply("progress", {"step": "generate", "event": "input", "slot": "g:1:0", "accepted": True}, now=10.0)
    p.sync_journal(7, 0)  # the same item, seen in the journal too: not counted twice
    assert p.done == 7 and p.rate() == 0.1


def test_evaluation_names_each_system_in_plain_words():
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "evaluate: 3 systems on the held-out test split"}, now=0.0)
    for name in ("base zero-shot", "base few-shot"):
        p.apply(
            "progress", {"step": "evaluate", "stage": "generate", "system": name, "done": 0, "total": 42}, 1.0
        )
    p.apply(
        "progress",
        {"step": "evaluate", "stage": "generate", "system": "base few-shot", "done": 7, "total": 42},
        3.0,
    )
    assert p.activity() == (
        "Testing the tuned model against a prompt with your examples (system 2 of 3: a prompt with your examples)"
    )
    assert p.headline(now=3.0).startswith("Testing 2/3: 7/42")
    assert p.system_counts == {"base zero-shot": (0, 42), "base few-shot": (7, 42)}
    p.apply("log", {"node": "evaluate"})
    assert p.finished and not p.active


def test_the_persons_own_examples_are_a_counted_stage_of_the_evaluation():
    """walk 19: ~90 s of "finishing…" at 41/41 while every system answered the person's held-out examples."""
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    ev = {"step": "evaluate", "stage": "generate", "system": "tuned-v1", "done": 41, "total": 41}
    p.apply("progress", ev, 1.0)
    p.apply("progress", {"step": "evaluate", "stage": "golden", "done": 0, "total": 60}, 2.0)
    p.apply("progress", {"step": "evaluate", "stage": "golden", "done": 12, "total": 60}, 8.0)
    assert p.activity().startswith("Testing every model on your own examples that no prompt showed")
    head = p.headline(now=8.0)
    assert head.startswith("Testing on your examples: 12/60") and "finishing" not in head


def test_the_critique_counts_the_teachers_second_answers():
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "critique: 12 examples — validators only"}, now=0.0)
    assert p.counts_line(now=1.0).startswith("12 examples to check")
    for done in (0, 4):
        p.apply(
            "progress", {"step": "critique", "stage": "second answers", "done": done, "total": 10}, 4.0 * done
        )
    assert p.activity() == "Checking the practice answers: answering again to see if it agrees"
    assert (p.done, p.total, p.rate()) == (4, 10, 0.25)
    assert p.counts_line(now=16.0).startswith("check 1: 4/10 answers") and "about 24s left" in p.counts_line(
        now=16.0
    )
    # the repairs (the walk read "Checking the practice answers (repairs)" as bike repairs)
    p.apply("progress", {"step": "critique", "stage": "repairs", "done": 0, "total": 6}, 20.0)
    assert p.activity() == "Checking the practice answers: asking again for the answers that failed a check"
    assert p.short_activity() == "Checking answers (fixing failed ones)"
    # the last, uncounted checks say what they do (the walk read "63/63 … finishing…" for 3 minutes)
    p.apply("progress", {"step": "critique", "stage": "repairs", "done": 6, "total": 6}, 30.0)
    p.apply("progress", {"step": "critique", "stage": "last checks"}, 31.0)
    assert p.activity().endswith(
        "which ones the model you start from already knows, then a few general examples mixed in"
    )
    line = p.counts_line(now=60.0)
    assert "6/6" not in line and "finishing" not in line
    # then the starting model's answers are counted (walk 8 watched "last checks" 8–10 minutes with no count)
    for done in (0, 10):
        p.apply(
            "progress",
            {"step": "critique", "stage": "starting model", "done": done, "total": 132},
            61.0 + done,
        )
    assert p.short_activity() == "Checking answers (what it already knows)"
    # each check counts its own answers, numbered: walk 24 read 24/79, 8/48, 32/158 as a total that kept changing
    assert p.counts_line(now=71.0).startswith("check 4: 10/132 answers")
    # a top-up of a rare value is no check of its own (walk 27 read "check 17")
    p.apply(
        "progress",
        {"step": "critique", "stage": "answering more service bath examples", "done": 2, "total": 12},
        80.0,
    )
    assert p.counts_line(now=81.0).startswith("2/12 answers")
    p.apply("progress", {"step": "critique", "stage": "general examples", "done": 1, "total": 20}, 82.0)
    assert p.counts_line(now=83.0).startswith("check 5: 1/20 answers")


def test_answers_replayed_from_the_cache_in_a_burst_do_not_make_the_rate():
    """A resumed critique reads its first answers back from the cache in a burst: the walk's screen said
    "520.9 answers/s · finishing…" at 16% and "about 1s left" at 17%. The rate starts after the burst."""
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "critique: 60 examples — validators only"}, now=0.0)
    for done in range(1, 17):  # 16 cached answers within 0.3 s
        p.apply(
            "progress",
            {"step": "critique", "stage": "second answers", "done": done, "total": 100},
            5.0 + done / 50,
        )
    assert p.rate() is None and "finishing" not in p.counts_line(now=5.4)
    for k, done in enumerate(range(17, 21), 1):  # then one answer every 4 s, really worked on
        p.apply(
            "progress",
            {"step": "critique", "stage": "second answers", "done": done, "total": 100},
            5.32 + 4 * k,
        )
    assert abs(p.rate() - 0.25) < 0.01
    line = p.counts_line(now=21.4)
    assert line.startswith("check 1: 20/100 answers") and "finishing" not in line and "about 5m" in line


# ---------------------------------------------------------------- the screens (events posted)
async def test_progress_screen_counts_move_as_events_arrive_and_the_header_never_shows_none(workspace):
    from tui.messages import AgentEvent

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.busy.add(RUN_ID)  # the agent works on this session (its driver is simulated by the events)
        app.open("progress", RUN_ID)
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress")
        screen = app.screen
        app.post_message(
            AgentEvent(RUN_ID, "status", {"message": "generate: 12 examples with the teacher (iteration 1)"})
        )
        # an event with nothing to count (the shape that used to print "generate: None/None")
        app.post_message(
            AgentEvent(RUN_ID, "progress", {"step": "generate", "event": "input", "accepted": False})
        )
        await pilot.pause()
        assert "None" not in _header_text(app)
        counts = screen.query_one("#progress-counts")
        for i in range(1, 4):
            app.post_message(
                AgentEvent(
                    RUN_ID,
                    "progress",
                    {
                        "step": "generate",
                        "event": "input",
                        "slot": f"g:0:{i}",
                        "accepted": True,
                        "text": f"Q{i} lives in Oslo.",
                    },
                )
            )
            await wait_for(pilot, lambda i=i: f"{i}/12 inputs" in str(counts.render()))
        assert "Writing new practice inputs like your examples" in str(
            screen.query_one("#progress-title").render()
        )
        assert "Q3 lives in Oslo." in str(screen.query_one("#progress-samples").render())
        assert screen.query_one("#step-progress").percentage == 0.25
        assert "None" not in _header_text(app) and "3/12" in _header_text(app)
        # a notice does not cover the keys the screen says at its bottom (walk 18)
        app.notify("Saved: a notice over the progress screen")
        await wait_for(pilot, lambda: bool(screen.query("Toast")))
        toast, note = screen.query_one("Toast").region, screen.query_one("#progress-note").region
        assert note.height >= 2 and not toast.overlaps(note), (toast, note)
        # the evaluation, system by system, named
        app.post_message(
            AgentEvent(RUN_ID, "status", {"message": "evaluate: 3 systems on the held-out test split"})
        )
        for name in ("base zero-shot", "base few-shot", "tuned v1"):
            app.post_message(
                AgentEvent(
                    RUN_ID,
                    "progress",
                    {
                        "step": "evaluate",
                        "stage": "generate",
                        "system": name,
                        "done": 5,
                        "total": 42,
                        "must_keep": 6,
                    },
                )
            )
        await wait_for(
            pilot,
            lambda: "system 3 of 3: the tuned model v1" in str(screen.query_one("#progress-title").render()),
        )
        assert "5/42 answers" in str(counts.render())
        # walk 8 read "0/19" here and 14 in the results: the must-keep rows are counted, and said
        assert (
            "Each answers the 36 test inputs and the 6 examples the tuned model must keep right"
            in " ".join(str(screen.query_one("#progress-samples").render()).split())
        )
        assert "None" not in _header_text(app)


async def test_stopped_stays_said_when_the_app_hears_it_before_the_driver_stops_counting_as_busy(workspace):
    """The flake of session 21: the driver thread posts "stopped" and only then leaves `busy`; the screen
    heard "stopped" while the session still counted as busy, took it for a continued session and said
    "running" for good. Only a drive that began after the note was written says running again."""
    from tui.messages import GraphStopped

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.busy.add(RUN_ID)  # the driver is simulated: one drive began, it is still busy
        app.drives_started[RUN_ID] = 1
        app.open("progress", RUN_ID)
        await wait_for(pilot, lambda: bool(app.screen.query("#progress-note")))
        note = app.screen.query_one("#progress-note")
        app.post_message(GraphStopped(RUN_ID))  # heard while still busy
        await wait_for(pilot, lambda: "Stopped." in str(note.render()))
        app.screen.render_progress()  # the screen's clock ticks while the thread is still leaving
        assert "Stopped." in str(note.render())
        app.busy.discard(RUN_ID)
        app.screen.render_progress()
        assert "Stopped." in str(note.render())
        app.busy.add(RUN_ID)  # continued: a new drive began (ctrl+r, Home)
        app.drives_started[RUN_ID] = 2
        app.screen.render_progress()
        assert "s stops here" in str(note.render())


async def test_home_enter_on_a_running_session_opens_its_progress(workspace):
    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state
    from tools.spec import TaskSpec
    from tui.messages import AgentEvent

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.")
    run = create_run_for(workspace, spec, run_id="cities-run")
    drive(workspace, run.id, initial_state(run.id, spec, headless=False), AgentContext(workspace))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        app.busy.add(run.id)  # the agent is working on it (its driver is simulated by the events)
        app.post_message(AgentEvent(run.id, "status", {"message": "critique: 12 examples — validators only"}))
        await pilot.pause()
        assert type(app.screen).__name__ == "HomeScreen"  # a step starting does not pull the person off Home
        home.refresh_sessions()
        await wait_for(pilot, lambda: home.rows and home.rows[0]["state"].startswith("working"))
        assert home.rows[0]["state"] == "working: checking the practice answers (Enter watches)"
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress")
        assert app.screen.run_id == run.id
        title = app.screen.query_one("#progress-title")
        await wait_for(pilot, lambda: "Checking the practice answers" in str(title.render()))
        assert "12 examples to check" in str(app.screen.query_one("#progress-counts").render())


async def test_accept_turns_into_working_once_accepted(workspace):
    from test_tui_screens import _decision_payload

    from tui.screens.decision import DecisionScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.push_screen(DecisionScreen(RUN_ID, _decision_payload()))
        await pilot.pause()
        accept = app.screen.query_one("#accept")
        assert not accept.disabled and str(accept.label) == "Accept"
        await pilot.press("a")
        assert sent == [(RUN_ID, "accept")]
        assert accept.disabled and str(accept.label) == "working…"
        await pilot.press("a")  # a second press sends nothing
        assert sent == [(RUN_ID, "accept")]


async def test_ctrl_c_quits_even_from_a_text_field(workspace):
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")  # the conversation: the answer field has the focus
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen")
        await pilot.pause()
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, timeout=5)
    assert app.return_code == 0


# ---------------------------------------------------------------- the estimate
def test_estimate_says_cpu_and_uses_the_rates_measured_here():
    from agent.rubric import estimate
    from tui.screens.decision import estimate_rows

    cpu = {
        "device": "cpu",
        "device_name": "CPU (2 cores, no GPU)",
        "generate_tokens_per_s": 6.0,
        "generate_tokens_per_s_source": "measured here",
        "train_tokens_per_s": 25.0,
        "train_tokens_per_s_source": "measured here (last training)",
    }
    slow = estimate("fine-tune", n_examples=200, rates=cpu)
    fast = estimate(
        "fine-tune", n_examples=200, rates=cpu | {"generate_tokens_per_s": 60.0, "train_tokens_per_s": 250.0}
    )
    assert slow["hardware"] == "CPU (2 cores, no GPU)" and slow["gpu_hours"] == 0.0
    assert (
        slow["time_minutes"] > 5 * fast["time_minutes"]
    )  # slower machine, longer estimate: measured, not assumed
    assert slow["train_minutes"] == round(200 * 180 * 3 / 25 / 60, 1)
    labels = dict(estimate_rows(slow))
    assert labels["runs on"] == "CPU (2 cores, no GPU)"
    assert not any("GPU hours" in k for k in labels)  # no "GPU hours 0.02" on a machine without a GPU
    gpu = estimate("fine-tune", n_examples=200, rates=cpu | {"device": "cuda", "device_name": "GPU (H100)"})
    assert gpu["gpu_hours"] > 0 and any("GPU hours" in k for k in dict(estimate_rows(gpu)))


# ---------------------------------------------------------------- quitting, on the embedded model
def _session_at_decision(workspace) -> tuple[str, dict]:
    """A session waiting on its decision (fine-tune); the decide node measures this machine on the way."""
    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.", budget=None)
    run = create_run_for(workspace, spec, run_id="quit-run")
    state = initial_state(run.id, spec, headless=False, options={"smoke": True})
    state["answers"] = dict(ANSWERED_CITIES)
    state["task"]["budget"] = 1.0
    state["task"]["output"] = {"format": "json"}
    out = drive(workspace, run.id, state, AgentContext(workspace))
    assert out["interrupt"]["kind"] == "decision" and out["interrupt"]["decision"]["approach"] == "fine-tune"
    return run.id, out["interrupt"]["decision"]


class HeldStep:
    """Holds a session's running step at its next event of `kind`, as one long model call or training step
    would (no safe point in reach), until `release()`: the step is certainly unfinished while it is held, so
    an app that has exited by then did not wait for it. Released by itself after `limit_s` only so that a quit
    that does wait fails (`overran`) instead of hanging the test."""

    def __init__(self, ctx, kind: str, limit_s: float = 300.0) -> None:
        self.kind, self.limit_s = kind, limit_s
        self.entered, self._release = threading.Event(), threading.Event()
        self.overran = False
        self._on_event = ctx.on_event
        ctx.on_event = self._on

    def _on(self, kind: str, data: dict) -> None:
        if kind == self.kind and not self.entered.is_set():
            self.entered.set()
            self.overran = not self._release.wait(self.limit_s)
        if self._on_event is not None:
            self._on_event(kind, data)

    def release(self) -> None:
        self._release.set()


async def _accept_the_full_run(pilot, app):
    """From Home: open the one session at its decision, accept it and choose the full run (a path that trains
    a model asks how big a first try). Returns the decision screen's accept button."""
    home = app.screen
    await wait_for(pilot, lambda: len(home.rows) == 1)
    await pilot.press("enter")
    await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "decision", timeout=240)
    await pilot.pause()
    accept = app.screen.query_one("#accept")
    await pilot.press("a")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog")
    await pilot.press("f")
    return accept


def _journal(workspace, run_id: str) -> list[dict]:
    p = workspace.run(run_id).path / "work" / "iter1" / "gen" / "generation.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def test_quit_during_generation_leaves_at_once_and_the_session_resumes_from_its_journal(workspace):
    """The app runs as `tunewise` runs it (its own event loop, closed at exit): ctrl+q mid-generation gives
    the terminal back while the step is still inside its work (held there), not when the step ends; the step
    then stops at its next safe point without a result, and resuming continues where the journal stops."""
    from agent.context import AgentContext, Cancelled
    from agent.runner import drive, session_state

    run_id, decision = _session_at_decision(workspace)
    est = decision["estimate"]
    assert est["hardware"].startswith(("CPU", "GPU")) and "measured here" in est["assumptions"]

    app = TunewiseApp(workspace, quick=True)
    seen: dict = {}

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            accept = await _accept_the_full_run(pilot, app)
            await pilot.pause()
            seen["accept"] = (accept.disabled, str(accept.label))
            # the generation opens its progress screen by itself; the first questions arrive
            await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress", timeout=120)
            await wait_for(pilot, lambda: app.step_progress(run_id).done >= 1, timeout=600)
            # Home says the session is working, and Enter brings its progress back
            await pilot.press("escape")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "HomeScreen")
            home = app.screen
            await wait_for(
                pilot, lambda: home.rows and home.rows[0]["state"].startswith("working"), timeout=60
            )
            await pilot.press("enter")
            await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress")
            done = app.step_progress(run_id).done
            await wait_for(
                pilot,
                lambda: f"{done}/12 inputs" in str(app.screen.query_one("#progress-counts").render()),
            )
            seen["header"] = _header_text(app)
            # the generation goes on into its next item and is held there: the quit lands mid-step
            seen["held"] = held = HeldStep(app.context_for(run_id), "progress")
            await wait_for(pilot, held.entered.is_set, timeout=600)
            await pilot.press("ctrl+q")

    asyncio.run(scenario())  # returns when the app's loop has closed, as `tunewise` returns to the shell
    held, driver, run = seen["held"], app.drivers[run_id], workspace.run(run_id)
    # the app is gone while the step is still at work: quitting did not wait for it
    assert driver.is_alive() and not held.overran
    app_ctx = app.context_for(run_id)
    assert app_ctx.cancelled and not app_ctx.keep_training  # the quit asked the step to stop
    assert not (run.path / "work" / "iter1" / "generate.json").exists()  # unfinished when the app left
    assert seen["accept"] == (True, "working…")
    assert "None" not in seen["header"] and "/12" in seen["header"]

    # let go, the cancelled step stops at its next safe point and saves no result
    held.release()
    driver.join(600)
    assert not driver.is_alive() and not held.overran
    assert not (run.path / "work" / "iter1" / "generate.json").exists()
    before = _journal(workspace, run_id)
    assert before and all(e["kind"] == "input" for e in before)
    st = session_state(workspace, run_id)
    assert st["next"] == ["generate"] and st["interrupt"] is None  # resumable, not failed

    # resuming continues from the journal: nothing journaled is asked again
    new: list[dict] = []
    ctx = AgentContext(workspace, quick=True)

    def on_event(kind: str, data: dict) -> None:
        if kind == "progress":
            new.append(data)
            ctx.cancel()  # one new item is enough to see where it continued

    ctx.on_event = on_event
    try:
        drive(workspace, run_id, None, ctx)
        raise AssertionError("the resumed step should have been cancelled")
    except Cancelled:
        pass
    after = _journal(workspace, run_id)
    assert after[: len(before)] == before and len(after) > len(before)
    slots = [e["slot"] for e in after if e["kind"] == "input"]
    assert len(slots) == len(set(slots))  # no journaled question was generated twice
    assert new and new[0]["slot"] == after[len(before)]["slot"]


def _session_at_review(workspace, run_id: str) -> str:
    """A session whose critiqued examples wait on the person's review (generation replaced by a fixture)."""
    from test_tui_helpers import write_critiqued

    from agent.context import AgentContext
    from agent.graph import compile_graph
    from agent.runner import create_run_for, drive, initial_state
    from agent.sessions import open_checkpointer
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec="Extract the city from a sentence as JSON.", budget=None)
    run = create_run_for(workspace, spec, run_id=run_id)
    state = initial_state(run.id, spec, headless=False, options={"smoke": True, "train_max_steps": 12})
    state["answers"] = {"spec": spec.spec, "knowledge_needed": "no", "examples": 0, "prompted_success": "20%"}
    state["answers"] |= {"problem": "", "goals": ["format"], "volume": "", "constraints": ""}
    state["task"]["budget"] = 1.0
    state["task"]["output"] = {"format": "json"}
    out = drive(workspace, run.id, state, AgentContext(workspace, quick=True))
    assert out["interrupt"]["kind"] == "decision"
    write_critiqued(workspace, 20, run_id=run.id)
    with open_checkpointer(workspace) as saver:
        graph = compile_graph(saver)
        graph.update_state(
            {"configurable": {"thread_id": run.id}}, {"approach": "fine-tune"}, as_node="critique"
        )
    return run.id


def test_s_stops_a_running_generation_from_its_screen_and_ctrl_r_continues_it(workspace):
    """Walk 9 watched its writer set aside 67 of 90 inputs and had no way to stop it short of quitting the
    app: s on the progress screen stops the step at its next safe point (not an error), and the session
    continues from its journal."""
    from agent.runner import session_state

    run_id, _ = _session_at_decision(workspace)
    app = TunewiseApp(workspace, quick=True)
    seen: dict = {}

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _accept_the_full_run(pilot, app)
            await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress", timeout=120)
            await wait_for(pilot, lambda: app.step_progress(run_id).done >= 1, timeout=600)
            seen["running_note"] = str(app.screen.query_one("#progress-note").render())
            await pilot.press("s")
            await wait_for(pilot, lambda: run_id not in app.busy, timeout=600)
            await wait_for(
                pilot, lambda: "Stopped." in str(app.screen.query_one("#progress-note").render()), timeout=300
            )
            seen["errors"] = dict(app.errors)
            seen["state"] = session_state(workspace, run_id)
            seen["journal"] = len(_journal(workspace, run_id))
            # stopped: the clock stops too, and the footer offers Continue instead of Stop
            first = str(app.screen.query_one("#progress-counts").render())
            await pilot.pause(1.2)  # one tick of the screen's clock
            seen["frozen"] = (first, str(app.screen.query_one("#progress-counts").render()))
            seen["keys"] = {b.action for _, b, enabled, _ in app.screen.active_bindings.values() if enabled}
            await pilot.press("ctrl+r")  # continues from the journal
            await wait_for(pilot, lambda: len(_journal(workspace, run_id)) > seen["journal"], timeout=600)
            # running again: the screen no longer says it stopped
            await wait_for(
                pilot,
                lambda: "s stops here" in str(app.screen.query_one("#progress-note").render()),
                timeout=300,
            )
            await pilot.press("s")
            await wait_for(pilot, lambda: run_id not in app.busy, timeout=600)

    asyncio.run(scenario())
    assert "s stops here" in seen["running_note"] and "a starts again" in seen["running_note"]
    assert seen["errors"] == {}  # a stop the person asked for is not an error
    assert seen["frozen"][0] == seen["frozen"][1]  # no ETA counting down, no time running up
    assert "continue" in seen["keys"] and "stop" not in seen["keys"]
    assert seen["state"]["next"] == ["generate"] and seen["state"]["interrupt"] is None
    assert not (workspace.run(run_id).path / "work" / "iter1" / "generate.json").exists()


def test_training_keeps_going_in_the_background_only_when_chosen_and_quit_stops_it_at_a_checkpoint(workspace):
    """b on the training monitor quits and leaves the trainer running (Home says so, Enter watches it);
    ctrl+q quits at once (the app is gone while the step is still held at work) and the trainer saves a
    checkpoint and stops before its last step; the next run resumes from it."""
    from agent.context import AgentContext, Cancelled
    from agent.runner import drive, running_trainings, session_state, stop_run_training

    run_id = _session_at_review(workspace, "train-quit")
    run = workspace.run(run_id)

    def session(steps) -> tuple[TunewiseApp, HeldStep]:
        """Run the steps, hold the training step at its next event, press the key the steps return; the
        app has exited when this returns. Asserts that it left while the step was still held at work."""
        app = TunewiseApp(workspace, quick=True, train_max_steps=12)
        seen: dict = {}

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                key = await steps(app, pilot)  # the steps end on the screen where the key is pressed
                seen["held"] = held = HeldStep(app.context_for(run_id), "train")
                await wait_for(pilot, held.entered.is_set, timeout=300)
                await pilot.press(key)

        asyncio.run(scenario())
        held = seen["held"]
        assert app.drivers[run_id].is_alive() and not held.overran  # quitting did not wait for the step
        assert app.context_for(run_id).cancelled  # it asked the step to stop at its next safe point
        assert not (run.path / "work" / "iter1" / "train.json").exists()  # the step had no result yet
        return app, held

    def training_step(app) -> int:
        screen = app.screen
        return screen.progress.step if getattr(screen, "SCREEN_NAME", None) == "training" else -1

    try:
        # 1. review submitted → training, live; b quits and keeps it training
        async def submit_review(app, pilot) -> str:
            home = app.screen
            await wait_for(pilot, lambda: len(home.rows) == 1)
            await pilot.press("enter")
            await wait_for(
                pilot, lambda: type(app.screen).__name__ == "ReviewScreen" and app.screen.model.items, 60
            )
            await pilot.press("a", "a", "ctrl+s")  # 2 of 20 reviewed: the 10% minimum
            await wait_for(pilot, lambda: training_step(app) >= 1, timeout=600)
            assert "None" not in _header_text(app) and "Training: step" in _header_text(app)
            return "b"

        app, held = session(submit_review)
        assert app.context_for(run_id).keep_training
        held.release()
        app.drivers[run_id].join(120)  # this process goes on (a real quit ends it): let go of the run's lock
        assert not app.drivers[run_id].is_alive() and not held.overran
        assert running_trainings(run), "b keeps the trainer running in the background"

        # 2. Home says so; Enter watches it; ctrl+q stops it at a checkpoint
        async def watch_and_quit(app, pilot) -> str:
            home = app.screen
            await wait_for(pilot, lambda: len(home.rows) == 1)
            assert home.rows[0]["state"] == "training in the background (Enter watches)"
            await pilot.press("enter")
            await wait_for(pilot, lambda: training_step(app) >= 1 and run_id in app.busy, timeout=300)
            return "ctrl+q"

        app, held = session(watch_and_quit)
        assert not app.context_for(run_id).keep_training
        held.release()
        app.drivers[run_id].join(120)
        assert not app.drivers[run_id].is_alive() and not held.overran
        end = time.monotonic() + 300
        while running_trainings(run) and time.monotonic() < end:
            time.sleep(0.5)  # the trainer saves a checkpoint at its step's end, then exits
        assert not running_trainings(run)
        out = run.path / "train" / "v1"
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["status"] == "stopped" and metrics["final_step"] < 12
        assert not (run.path / "work" / "iter1" / "train.json").exists()
        assert session_state(workspace, run_id)["next"] == ["train"]

        # 3. resuming continues from that checkpoint (stopped again when the evaluation starts)
        ctx = AgentContext(workspace, quick=True, train_max_steps=12)

        def on_event(kind: str, data: dict) -> None:
            if kind == "status" and str(data.get("message", "")).startswith("evaluate"):
                ctx.cancel()

        ctx.on_event = on_event
        try:
            drive(workspace, run_id, None, ctx)
        except Cancelled:
            pass
        done = json.loads((run.path / "work" / "iter1" / "train.json").read_text())
        assert done["status"] == "completed" and done["final_step"] == 12
        assert done["resumed_from"] and done["resumed_from"].endswith(f"checkpoint-{metrics['final_step']}")
    finally:
        stop_run_training(run)


def test_the_loss_plot_has_round_evenly_spaced_ticks():
    """Walk 8 read y labels at uneven values on the training plot."""
    from tui.screens.training import loss_ticks

    ticks, labels = loss_ticks([2.78, 2.1, 1.3, 0.84, 0.25])
    assert labels == ["0", "1", "2", "3"]
    ticks, labels = loss_ticks([0.31, 0.29, 0.30])
    assert labels == ["0.28", "0.29", "0.30", "0.31"]
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and ticks[0] <= 0.29 and ticks[-1] >= 0.31
    assert loss_ticks([1.0]) == ([0.5, 1.0, 1.5], ["0.5", "1.0", "1.5"])  # one value: a range around it
    assert loss_ticks([]) is None and loss_ticks([float("nan")]) is None


def test_the_progress_says_early_when_most_written_inputs_are_set_aside():
    """Walk 9: 67 of the first 90 inputs were off task by minute 17, and it learnt the data was unusable
    80 minutes later, at the review."""
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "generate: 80 examples with the teacher (iteration 1)"}, now=0.0)
    for i in range(30):
        p.apply(
            "progress", {"step": "generate", "event": "input", "accepted": i % 4 == 0, "total": 80}, 1.0 + i
        )
    assert p.poor_inputs_note() is None  # too early to tell
    for i in range(30, 60):
        p.apply(
            "progress", {"step": "generate", "event": "input", "accepted": i % 4 == 0, "total": 80}, 1.0 + i
        )
    note = p.poor_inputs_note()
    assert note and note.startswith(
        "Most of what the writer makes is unlike your examples (45 of 60 set aside"
    )
    assert "45 written inputs set aside" in p.counts_line(now=61.0)
    good = StepProgress()
    good.apply("status", {"message": "generate: 80 examples with the teacher (iteration 1)"}, now=0.0)
    for i in range(60):
        good.apply(
            "progress", {"step": "generate", "event": "input", "accepted": i % 2 == 0, "total": 80}, 1.0 + i
        )
    assert good.poor_inputs_note() is None  # half kept: not said


async def test_trying_prompts_has_its_progress_screen_with_each_prompts_result(workspace):
    """Walk 17 accepted a prompt's advice and watched two minutes of "working…" on the decision screen: the
    prompt step opens the progress screen, counts the answers and says how each prompt tried did."""
    from tui.messages import AgentEvent

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.busy.add(RUN_ID)
        app.open("conversation", RUN_ID)
        await wait_for(pilot, lambda: getattr(app.screen, "run_id", None) == RUN_ID)
        message = "prompt: trying prompts with 0, 2, 4 and 6 of your examples on your other examples"
        app.post_message(AgentEvent(RUN_ID, "status", {"message": message}))
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "progress")
        screen = app.screen
        text = "with no examples in the prompt: 1 of your other 3 examples fully right"
        app.post_message(
            AgentEvent(RUN_ID, "progress", {"step": "prompt", "done": 3, "total": 12, "text": text})
        )
        counts = screen.query_one("#progress-counts")
        await wait_for(pilot, lambda: "3/12 answers" in str(counts.render()))
        assert "Trying prompts with 0, 2, 4 and 6 of your examples" in str(
            screen.query_one("#progress-title").render()
        )
        assert "1 of your other 3 examples fully right" in str(screen.query_one("#progress-samples").render())
        assert "Trying prompts: 3/12" in _header_text(app)
