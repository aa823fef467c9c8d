"""The newcomer walk at 80×24 (issue 13): whole footer keys on every screen, questions that stay on screen,
plain words on the decision screen, and an override that shows its own estimate before any work starts."""

from __future__ import annotations

import pytest
from test_tui_helpers import RUN_ID, make_run, train_events, wait_for, write_critiqued, write_train_dir

from tui.app import TunewiseApp
from tui.widgets.footer import fit_keys, key_width

SIZE = (80, 24)


# ---------------------------------------------------------------- the footer
def test_fit_keys_drops_the_optional_keys_in_order_then_goes_compact():
    keys = [
        ("home", "esc", "Home"),
        ("report", "o", "Report"),
        ("theme", "^t", "Theme"),
        ("quit", "^q", "Quit"),
    ]
    full = sum(key_width(d, desc, compact=False) for _, d, desc in keys)
    assert fit_keys(keys, full) == (["home", "report", "theme", "quit"], False)
    assert fit_keys(keys, full - 1, ("theme",)) == (["home", "report", "quit"], False)
    # nothing optional left to drop: compact (one column less per key) rather than cutting a key
    essential = keys[:2]
    width = sum(key_width(d, desc, compact=True) for _, d, desc in essential)
    assert fit_keys(essential, width) == (["home", "report"], True)


def _screens(ws):
    from eval_fixture import write_cafe_eval
    from test_tui_screens import _decision_payload

    from tui.screens.conversation import ConversationScreen
    from tui.screens.decision import DecisionScreen
    from tui.screens.evaluation import EvaluationScreen
    from tui.screens.progress import ProgressScreen
    from tui.screens.report import ReportScreen
    from tui.screens.review import ReviewScreen
    from tui.screens.training import TrainingScreen

    make_run(ws)
    path = write_critiqued(ws)
    write_train_dir(ws, train_events(range(1, 13)))
    write_cafe_eval(ws, RUN_ID, status="fail")
    return {
        "conversation": (lambda: ConversationScreen(None, None), ["Send", "Skip"]),
        "decision": (lambda: DecisionScreen(RUN_ID, _decision_payload()), ["Accept", "Override"]),
        "review": (
            lambda: ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 20}),
            ["Submit", "Accept", "Reject"],
        ),
        "training": (lambda: TrainingScreen(RUN_ID, poll=False), ["Stop"]),
        "evaluation": (lambda: EvaluationScreen(RUN_ID), ["Report", "Details"]),
        "report": (lambda: ReportScreen(RUN_ID, {"approach": "fine-tune"}), []),
        "progress": (lambda: ProgressScreen(RUN_ID), []),
    }


async def test_every_footer_key_is_whole_at_80_columns_and_help_and_quit_are_always_there(workspace):
    """At 80×24 the footer cut 'f1 H…', and the evaluation screen lost 'o Report', Quit and Help."""
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        for name, (factory, essential) in {"home": (None, ["New session"]), **_screens(workspace)}.items():
            if factory is not None:
                app.show(factory())
                await pilot.pause()
                await app.workers.wait_for_complete()
            await wait_for(pilot, lambda: len(list(app.screen.query("FooterKey"))) > 0)
            await pilot.pause()
            keys = [k for k in app.screen.query("FooterKey") if k.display]
            shown = {k.description for k in keys}
            for k in keys:
                need = key_width(k.key_display, k.description, compact=True) - 1
                assert k.region.right <= SIZE[0] and k.region.width >= need, (name, k.description, k.region)
            assert {"Help", "Quit", *essential} <= shown, (name, shown)
        # wide terminals keep everything, the theme and the palette too
        from tui.screens.evaluation import EvaluationScreen

        app.show(EvaluationScreen(RUN_ID))
        await wait_for(pilot, lambda: "Report" in {k.description for k in app.screen.query("FooterKey")})
        await pilot.resize_terminal(160, 40)
        await wait_for(pilot, lambda: "All systems" in {k.description for k in app.screen.query("FooterKey")})
        assert {"Theme", "palette", "Reload"} <= {k.description for k in app.screen.query("FooterKey")}


# ---------------------------------------------------------------- the interview at 80×24
CAFE_SO_FAR = {
    "spec": "Turn a customer's coffee order into a JSON object with item, size, quantity and milk",
    "answers": {
        "spec": "Turn a customer's coffee order into a JSON object with item, size, quantity and milk",
        "problem": "I don't know, I've never tried",
        "knowledge_needed": "no",
        "examples": 10,
        "prompted_success": None,
    },
    "output": {
        "format": "json",
        "schema": {"required": ["item", "milk", "quantity", "size"]},
        "grounded": True,
    },
    "examples": [{"input": f"order {i}", "output": "{}"} for i in range(10)],
    "budget": 1.0,
}


def _goals_question() -> dict:
    from agent.questions import QUESTIONS

    q = next(q for q in QUESTIONS if q.key == "goals")
    return {
        "kind": "question",
        "key": q.key,
        "question": q.text,
        "input": q.kind,
        "choices": list(q.choices),
        "choice_labels": list(q.choice_labels),
        "help": q.help,
        "optional": q.optional,
        "error": None,
        "spec_so_far": CAFE_SO_FAR,
        "default": ["format"],
        "note": "I've ticked “Same shape every time (e.g. valid JSON)” because each answer must be JSON — "
        "space unticks it.",
    }


def _inside(widget, box) -> bool:
    r = widget.region
    return r.height > 0 and r.y >= box.y and r.bottom <= box.bottom


async def test_the_goals_question_stays_on_screen_at_80x24_and_enter_sends_the_ticks(workspace):
    """The walk saw only 'None is fine too.' above the list: the question itself had scrolled off."""
    from tui.screens.conversation import ConversationScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent: list = []
        app.answer = lambda run_id, answer: sent.append(answer)
        await pilot.pause()
        app.show(ConversationScreen(RUN_ID, _goals_question()))
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.screen.is_mounted)
        screen = app.screen
        chat = screen.query_one("#chat")

        def question():
            msgs = [m for m in screen.query("ChatMessage") if "What matters most" in m.text]
            return msgs[-1] if msgs else None

        await wait_for(pilot, lambda: question() is not None and question().region.height > 0)
        await pilot.pause()
        q = question()
        assert _inside(q, chat.region), (q.region, chat.region)
        assert "Enter sends" in q.text
        assert screen.query_one("#answer-row").region.height == 1  # Send is one line under the list
        ticks = screen.query_one("#answer-multi")
        assert _inside(ticks, screen.region) and ticks.selected == ["format"]
        await pilot.press("down", "down", "down", "down", "space", "enter")
        assert sent == [["format", "cost"]]


async def test_the_spec_panel_shows_the_whole_cafe_task_at_80x24_in_plain_words(workspace):
    """At 80×24 the panel ran past the bottom ('Output: a JSON object with keys item, milk, quantity, size
    (values copied from'…) and said 'Prompted success: —' and 'Goals: format, cost'."""
    from tui.screens.conversation import ConversationScreen

    so_far = dict(CAFE_SO_FAR)
    so_far["answers"] = {
        **CAFE_SO_FAR["answers"],
        "goals": ["format", "cost"],
        "volume": 150,
        "constraints": ["on my own computer, cheap"],
    }
    payload = {**_goals_question(), "key": "budget", "question": "Budget?", "input": "number", "note": None}
    payload["spec_so_far"] = so_far
    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(ConversationScreen(RUN_ID, payload))
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.screen.is_mounted)
        panel = app.screen.query_one("#spec-panel")
        await wait_for(pilot, lambda: "Budget" in panel.plain and panel.virtual_size.height > 5)
        await pilot.pause()
        assert panel.max_scroll_y == 0, (panel.virtual_size, panel.size)  # nothing below the bottom edge
        text = panel.plain
        assert "same shape every time, cheap to run" in text and "I'll measure it" in text
        assert "Answer: JSON with item, milk, quantity, size" in text and "Examples: 10 given" in text
        assert "Prompted success" not in text and "format, cost" not in text


# ---------------------------------------------------------------- the decision in plain words
# words the cafe owner did not understand on the decision screen and the rubric table (last walk)
JARGON = (
    "base model",
    "provider",
    "few-shot",
    "LoRA",
    "adapter",
    "zero-shot",
    "teacher",
    "held-out",
    "prompted_success",
    "knowledge_needed",
    "goals=",
    "rubric",
    "json_field_accuracy",
    "system prompt",
)


def _decisions():
    from agent.rubric import Answers, decide

    probe = {
        "measured": True,
        "prompted_success": 0.8,
        "correct_share": 0.4,
        "n_test": 5,
        "n_shots": 5,
        "metric": "json_field_accuracy",
    }
    cafe = Answers(spec="Turn an order into JSON", examples=10, goals=["format", "cost"], volume=150)
    cafe.prompted_success = 0.8
    return {
        "cafe (prompt, measured)": decide(cafe, probe=probe),
        "few examples": decide(Answers(spec="x", examples=12, prompted_success=0.6, goals=["format"])),
        "no examples": decide(Answers(spec="x", examples=0, prompted_success=0.6, goals=["style"])),
        "fine-tune": decide(Answers(spec="x", examples=6, goals=["format", "latency"], prompted_success=0.2)),
        "distil": decide(Answers(spec="x", examples=6, goals=["cost"], prompted_success=0.9, volume=50_000)),
        "rag": decide(Answers(spec="x", knowledge_needed=True, examples=300)),
        "rag+fine-tune": decide(
            Answers(
                spec="x",
                knowledge_needed=True,
                goals=["style", "privacy"],
                examples=300,
                prompted_success=0.4,
            )
        ),
    }


def _screen_words(screen) -> str:
    """What the decision screen says, as text: the advice and its reasons, the rules, the probe, the estimate's
    labels, what happens next and the override list (the one-line explanation of the name is left out)."""
    from agent.rubric import APPROACH_HELP

    md = screen.query_one("#decision-md").source
    for help_line in APPROACH_HELP.values():
        md = md.replace(help_line, "")
    table = screen.query_one("#rubric")
    cells = [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]
    est = screen.query_one("#estimate")
    labels = [str(est.get_row_at(r)[0]) for r in range(est.row_count)]
    options = [str(o[0]) for o in screen.query_one("#override-choice")._options]
    return "\n".join(
        [
            md,
            *cells,
            str(screen.query_one("#probe").render()),
            *labels,
            screen.query_one("#next-steps").source,
            *options,
            str(screen.query_one(".section-title").render()),
        ]
    )


async def test_the_decision_screen_speaks_plainly_and_explains_the_name_it_keeps(workspace):
    from agent.rubric import APPROACH_HELP
    from tui.screens.decision import DecisionScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name, d in _decisions().items():
            app.show(
                DecisionScreen(RUN_ID, {"kind": "decision", "decision": d.to_dict(), "choices": ["accept"]})
            )
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
            screen = app.screen
            await wait_for(pilot, lambda s=screen: s.query_one("#rubric").row_count == 5)
            text = _screen_words(screen)
            found = [w for w in JARGON if w.lower() in text.lower()]
            assert not found, (name, found, text)
            md = screen.query_one("#decision-md").source
            assert (
                "My advice:" in md and APPROACH_HELP[d.approach] in md
            )  # the name stays, explained in a line
            # no rule is cut at 80 columns: the rule column wraps inside the screen
            table = screen.query_one("#rubric")
            assert table.region.right <= SIZE[0] and table.virtual_size.width <= table.region.width
    assert "measured on 5 of your examples: 2 fully right, 80% of the fields right" in "\n".join(
        r.evidence for r in _decisions()["cafe (prompt, measured)"].rubric
    )


def test_f1_explains_every_word_the_decision_keeps():
    from tui.help_screen import help_markdown

    text = help_markdown()
    assert text.index("Words you will see") < text.index("# Keys")
    for term in ("base model", "few-shot", "fine-tune", "LoRA", "teacher", "token", "RAG"):
        assert term in text, term


# ---------------------------------------------------------------- an override shows its own estimate first
def _prompt_decision_payload(with_estimates: bool) -> dict:
    from agent.rates import estimate_path
    from agent.rubric import Answers, decide

    d = decide(Answers(spec="Turn an order into JSON", examples=10, prompted_success=0.85, goals=["format"]))
    assert d.approach == "prompt"
    payload = {"kind": "decision", "decision": d.to_dict(), "choices": ["accept", "fine-tune"]}
    if with_estimates:
        rates = {
            "device": "cpu",
            "device_name": "CPU (2 cores, no GPU)",
            "generate_tokens_per_s": 30.0,
            "train_tokens_per_s": 100.0,
        }
        payload["estimates"] = {"fine-tune": estimate_path("fine-tune", n_examples=200, rates=rates)}
    return payload


@pytest.mark.parametrize("with_estimates", [True, False])
async def test_overriding_the_advice_shows_the_chosen_paths_estimate_and_asks_first(
    workspace, with_estimates
):
    """The walk chose fine-tune over the advised prompt and the work started at once, on a 3-minute estimate
    for the prompt path; fine-tuning then ran for an hour. The choice's own estimate comes first, and a 'no'
    starts nothing."""
    from tui.screens.decision import DecisionScreen
    from tui.widgets.review.confirm_dialog import ConfirmDialog

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent: list = []
        app.answer = lambda run_id, answer: sent.append(answer)
        await pilot.pause()
        app.show(DecisionScreen(RUN_ID, _prompt_decision_payload(with_estimates)))
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#estimate").row_count > 0)
        screen.query_one("#override-choice").value = "fine-tune"
        # the estimate on the screen follows the pick
        await wait_for(pilot, lambda: "for your choice" in str(screen.query_one("#estimate-title").render()))
        labels = [str(screen.query_one("#estimate").get_row_at(r)[0]) for r in range(4)]
        assert any("training your model" in x for x in labels)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = app.screen.text
        assert "You chose: train your own small model (fine-tune)" in text
        assert "I advised: better instructions (a prompt)" in text
        assert "Estimate for your choice, on CPU" in text and "training" in text and "minutes" in text
        if with_estimates:
            assert (
                f"about {_prompt_decision_payload(True)['estimates']['fine-tune']['time_minutes']} minutes"
                in text
            )
        await pilot.press("n")  # back: nothing starts
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen))
        assert sent == []
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: sent == ["fine-tune"])
        # taking the advice needs no confirmation
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = []
        app.answer = lambda run_id, answer: sent.append(answer)
        await pilot.pause()
        app.show(DecisionScreen(RUN_ID, _prompt_decision_payload(with_estimates)))
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
        app.screen.query_one("#override-choice").value = "prompt"
        await pilot.pause()
        await pilot.press("o")
        await wait_for(pilot, lambda: sent == ["prompt"])


def test_the_decision_step_sends_every_paths_estimate_and_a_quick_try_that_sets_the_size(
    workspace, monkeypatch
):
    from types import SimpleNamespace

    from langgraph.types import Command
    from test_agent_answers import session_at
    from test_tui_helpers import ANSWERED_CITIES

    from agent.context import AgentContext
    from agent.nodes import decide as node
    from agent.runner import drive, session_state
    from tools.workspace import read_yaml

    run_id = session_at(workspace, ANSWERED_CITIES)
    ctx = AgentContext(workspace, quick=True)
    out = drive(workspace, run_id, Command(resume="5"), ctx)
    q = out["interrupt"]
    assert q["kind"] == "decision" and q["decision"]["approach"] == "fine-tune"
    assert set(q["estimates"]) == {"prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune"}
    assert q["estimates"]["fine-tune"] == q["decision"]["estimate"]
    assert (
        q["estimates"]["prompt"]["training_tokens"] == 0 and q["estimates"]["fine-tune"]["train_minutes"] > 0
    )
    quick = q["quick"]
    assert (quick["n_examples"], quick["full_n_examples"]) == (node.QUICK_TRY, 200)
    assert quick["estimates"]["fine-tune"]["time_minutes"] < q["estimates"]["fine-tune"]["time_minutes"]
    # the person picks the quick try: the task says so from here on (state and spec.yaml)
    state = session_state(workspace, run_id)["values"]
    monkeypatch.setattr(node, "interrupt", lambda payload: {"choice": "accept", "n_examples": node.QUICK_TRY})
    upd = node.decide(state, SimpleNamespace(context=ctx))
    assert upd["approach"] == "fine-tune" and upd["task"]["n_examples"] == node.QUICK_TRY
    assert read_yaml(workspace.run(run_id).spec_path)["n_examples"] == node.QUICK_TRY
    assert any(f"quick first try with {node.QUICK_TRY}" in line for line in upd["log"])
    # the full run leaves the task as it was
    monkeypatch.setattr(node, "interrupt", lambda payload: "accept")
    assert "task" not in node.decide(state, SimpleNamespace(context=ctx))


def test_the_probes_streamed_answer_is_introduced_in_plain_words():
    from tui.screens.conversation import plain_stream_title

    title = "The base model (local:embedded) answers one of your examples with a 5-shot prompt:"
    assert plain_stream_title(title) == (
        "The model you start from answers one of your examples, shown 5 others as examples:"
    )
    assert plain_stream_title("Something else") == "Something else"


def test_inputs_written_past_the_plan_say_the_last_batch_is_finishing():
    """The walk sat on '200/200 questions · finishing…' for 10 minutes while the generator's last batch
    wrote 66 more inputs than planned: the count says why it has not moved on."""
    from tui.widgets.progress import StepProgress

    p = StepProgress()
    p.apply("status", {"message": "generate: 3 examples with the teacher (iteration 1)"}, now=0.0)
    for i in range(5):
        p.apply(
            "progress", {"step": "generate", "event": "input", "slot": f"g:0:{i}", "accepted": True}, now=1.0
        )
    line = p.counts_line(now=2.0)
    assert line.startswith("3/3 inputs") and "the last batch is finishing (2 spare)" in line
    assert "finishing…" not in line
    p.apply("progress", {"step": "generate", "event": "answer", "key": "k", "done": 1, "total": 3}, now=3.0)
    assert "spare" not in p.counts_line(now=3.0)


async def test_a_path_that_trains_a_model_asks_quick_try_or_full_run_with_both_estimates(workspace):
    """A newcomer on a busy CPU waited hours for 200 practice examples: a quick first try is offered,
    each size with its own estimate, for the advice and for an override alike."""
    from agent.rates import estimate_path
    from agent.rubric import Answers, decide
    from tui.screens.decision import DecisionScreen
    from tui.widgets.choice_dialog import ChoiceDialog

    rates = {"device": "cpu", "device_name": "CPU (2 cores, no GPU)", "generate_tokens_per_s": 30.0}
    rates["train_tokens_per_s"] = 100.0
    ft = decide(Answers(spec="x", examples=10, goals=["format"], prompted_success=0.2))
    assert ft.approach == "fine-tune"
    full, small = (estimate_path("fine-tune", n_examples=n, rates=rates) for n in (200, 50))
    payload = {
        "kind": "decision",
        "decision": ft.to_dict() | {"estimate": full},
        "choices": ["accept"],
        "estimates": {"fine-tune": full},
        "quick": {"n_examples": 50, "full_n_examples": 200, "estimates": {"fine-tune": small}},
    }
    make_run(workspace)

    async def accept_and_press(key: str) -> list:
        app = TunewiseApp(workspace)
        async with app.run_test(size=SIZE) as pilot:
            sent: list = []
            app.answer = lambda run_id, answer: sent.append(answer)
            await pilot.pause()
            app.show(DecisionScreen(RUN_ID, payload))
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            text = app.screen.text
            assert "Going ahead: train your own small model" in text
            assert f"Quick try: 50 practice examples, about {small['time_minutes']} minutes" in text
            assert f"Full run: 200 practice examples, about {full['time_minutes']} minutes" in text
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen))
            await pilot.pause()
        return sent

    assert await accept_and_press("q") == [{"choice": "accept", "n_examples": 50}]
    assert await accept_and_press("f") == ["accept"]
    assert await accept_and_press("n") == []  # back: nothing starts
    # an override to fine-tune: what was advised, and both sizes of the choice
    prompt = _prompt_decision_payload(True)
    prompt["quick"] = {"n_examples": 50, "full_n_examples": 200, "estimates": {"fine-tune": small}}
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = []
        app.answer = lambda run_id, answer: sent.append(answer)
        await pilot.pause()
        app.show(DecisionScreen(RUN_ID, prompt))
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
        app.screen.query_one("#override-choice").value = "fine-tune"
        await pilot.pause()
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        text = app.screen.text
        assert (
            "You chose: train your own small model (fine-tune)" in text and "I advised: better instr" in text
        )
        assert "Quick try: 50 practice examples" in text and "(What I advised: about" in text
        await pilot.press("q")
        await wait_for(pilot, lambda: sent == [{"choice": "fine-tune", "n_examples": 50}])


async def test_the_streamed_answer_wraps_inside_the_chat_at_80x24(workspace):
    """The probe's one-line JSON answer ran off the right edge of the chat ('"size": "small", "qu')."""
    from tui.screens.conversation import ConversationScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    answer = '{"item": "espresso", "size": "small", "quantity": 4, "milk": "water", "note": "none at all"}'
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(
            ConversationScreen(RUN_ID, _goals_question() | {"key": "budget", "input": "number", "note": None})
        )
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.screen.is_mounted)
        screen = app.screen
        screen.show_stream(
            {
                "phase": "start",
                "title": "The base model (x) answers one of your examples with a 5-shot prompt:",
                "input": "4 small espressos",
            }
        )
        await wait_for(pilot, lambda: screen._stream_msg is not None and screen._stream_msg.is_mounted)
        await pilot.pause()
        for i in range(0, len(answer), 7):
            screen.show_stream({"phase": "delta", "text": answer[i : i + 7]})
        screen.show_stream({"phase": "end", "correct": False, "reference": '{"item": "espresso"}'})
        msg = [m for m in screen.query("ChatMessage") if m.role == "model"][-1]
        await wait_for(
            pilot,
            lambda: "not what you expected" in msg.source and len(list(msg.query("MarkdownFence"))) == 1,
        )
        await pilot.pause()
        await pilot.pause()
        fence = msg.query_one("MarkdownFence")
        assert fence.region.right <= screen.query_one("#chat").region.right
        assert fence.virtual_size.width <= fence.size.width, (fence.virtual_size, fence.size)
        assert "not what you expected" in msg.source and '"note": "none at all"}' in msg.source.replace(
            "\n", ""
        )


def test_the_interview_questions_avoid_the_words_the_cafe_owner_did_not_know():
    from agent.questions import QUESTIONS

    for q in QUESTIONS:
        text = f"{q.text} {q.help}".lower()
        for word in ("teacher", "judge", "base model", "few-shot", "provider", "adapter"):
            assert word not in text, (q.key, word)


async def test_page_keys_scroll_the_decision_wherever_the_focus_is(workspace):
    """With the override list focused, PageDown did nothing and the estimate of the choice stayed below."""
    from tui.screens.decision import DecisionScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(DecisionScreen(RUN_ID, _prompt_decision_payload(True)))
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionScreen) and app.screen.is_mounted)
        body = app.screen.query_one("#decision-body")
        await wait_for(pilot, lambda: body.max_scroll_y > 0)
        choice = app.screen.query_one("#override-choice")
        choice.focus()
        assert body.scroll_y == 0
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: body.scroll_y > 0)
        assert body.scroll_y > 0 and app.focused is choice  # scrolled without taking the focus away


async def test_the_training_screen_says_in_words_what_the_figures_mean(workspace):
    """'step 1/15 · epoch 0.33 · loss 0.7542 · eval — · lr 0.0e+00 · ckpt 0' told the cafe owner nothing."""
    from tui.screens.training import TrainingScreen

    make_run(workspace)
    write_train_dir(workspace, train_events(range(1, 6)))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(TrainingScreen(RUN_ID, poll=False))
        await wait_for(
            pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.progress.step == 5
        )
        text = str(app.screen.query_one("#train-stats").render())
        first = text.splitlines()[0]
        assert first.startswith("Your model is practising on the checked examples: step 5 of 20, about ")
        assert "it should go down" in text and "loss" in text  # the figures stay, below the words


async def test_the_training_screen_shows_a_session_that_stopped_before_its_trainer_started(workspace):
    """The walk's training screen read 'Starting the trainer… waiting · step 0/?' for 3 minutes while the session
    had stopped on an error (Home said 'stopped: error'). The error shows here, and goes when it is retried."""
    from tui.messages import GraphFailed
    from tui.screens.training import TrainingScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(TrainingScreen(RUN_ID))
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.is_mounted)
        stats = app.screen.query_one("#train-stats")
        await wait_for(pilot, lambda: "Starting the trainer" in str(stats.render()))
        app.post_message(GraphFailed(RUN_ID, "AttributeError: the trainer could not be prepared"))
        await wait_for(pilot, lambda: "could not be prepared" in str(stats.render()))
        text = str(stats.render())
        assert text.startswith("Training failed") and "ctrl+r tries again" in text
        app.errors.pop(RUN_ID)  # what a retry does
        await wait_for(pilot, lambda: "Starting the trainer" in str(stats.render()))


async def test_trying_a_failed_step_again_shows_it_running(workspace):
    """After 't Try again' the walk stayed on Home beside the same 'stopped: error' row, nothing moving."""
    from tui.screens.home import StoppedDialog
    from tui.screens.progress import ProgressScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        driven: list = []
        app.drive = lambda run_id, payload: driven.append((run_id, payload)) or True
        home = app.screen
        await pilot.pause()
        row = {"id": RUN_ID, "error": "ImportError(...)", "error_node": "evaluate", "resumable": True}
        home.repair(row)
        await wait_for(pilot, lambda: isinstance(app.screen, StoppedDialog))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen))
        assert driven == [(RUN_ID, None)] and app.screen.run_id == RUN_ID


ROUND_ASK = {
    "kind": "round",
    "key": "next_round",
    "question": "The tuned model got 6 of 10 orders fully right; your prompt with 6 examples got 7. It is not "
    "better yet: your prompt with 6 examples still does better. Try another round (about 21 minutes)?",
    "help": "Round 2 of at most 3: new practice examples aimed at what it got wrong, another training and another "
    "test.",
    "choices": ["Try another round", "Stop here and see the report"],
}


async def test_another_round_is_asked_under_the_result_and_n_goes_on_to_the_progress(workspace):
    from eval_fixture import write_cafe_eval

    from tui.screens.evaluation import EvaluationScreen
    from tui.screens.progress import ProgressScreen

    make_run(workspace)
    write_cafe_eval(workspace, RUN_ID, status="fail")
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent: list = []
        app.answer = lambda run_id, answer: sent.append(answer)
        await pilot.pause()
        app.show(EvaluationScreen(RUN_ID, round_ask=dict(ROUND_ASK)))
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.is_mounted)
        screen = app.screen
        box = screen.query_one("#round-ask")
        await wait_for(pilot, lambda: "orders fully right" in str(screen.query_one("#verdict").render()))
        await wait_for(pilot, lambda: str(box.render()).startswith("Try another round (about 21 minutes)?"))
        assert _inside(screen.query_one("#verdict"), screen.region) and _inside(box, screen.region)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen))
        assert sent == ["Try another round"] and screen.round_ask is None


async def test_the_advice_is_not_cut_off_under_the_another_round_question(workspace):
    """The walk: "the '→ Add the examples…' line is hidden under the 'Try another round?' box" at 80×24.
    While the question is asked, the sentence, the person's own examples, the advice and the question all
    show whole; the examples below come back once it is answered."""
    from tui.screens.evaluation import EvaluationScreen

    _failed_eval_with_own_examples(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.answer = lambda run_id, answer: None
        await pilot.pause()
        app.show(EvaluationScreen(RUN_ID, round_ask=dict(ROUND_ASK)))
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.is_mounted)
        screen = app.screen
        verdict, box = screen.query_one("#verdict"), screen.query_one("#round-ask")
        await wait_for(pilot, lambda: "→" in str(verdict.render()) and box.display)
        await pilot.pause()
        for part in (verdict, box):  # every wrapped line of it has room
            needed = part.get_content_height(screen.size, screen.size, part.content_region.width)
            assert needed <= part.content_region.height, (part.id, needed, part.content_region)
        assert _inside(verdict, screen.region) and _inside(box, screen.region)
        assert box.region.y >= verdict.region.bottom
        assert not screen.query_one("#side-by-side").display  # room for the question
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.query_one("#side-by-side").display)


def _failed_eval_with_own_examples(workspace) -> None:
    """RUN_ID with a failed cafe evaluation whose report quotes the person's 6 own held-out examples."""
    import json

    from eval_fixture import write_cafe_eval

    make_run(workspace)
    d = write_cafe_eval(workspace, RUN_ID, status="fail")
    rep = json.loads((d / "report.json").read_text())
    rep["golden"] = {"n": 6, "systems": {"tuned-v1": {"correct": 4}, "prompted": {"correct": 2}}}
    (d / "report.json").write_text(json.dumps(rep))


async def _show_evaluation(app, pilot):
    """The evaluation screen of RUN_ID, mounted."""
    from tui.screens.evaluation import EvaluationScreen

    await pilot.pause()
    app.show(EvaluationScreen(RUN_ID))
    await wait_for(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.is_mounted)
    return app.screen


async def test_evaluation_ids_are_short_so_the_right_and_wrong_marks_fit_at_80_columns(workspace):
    """32-character ids took the table's width: the tuned/prompt ✓ ✗ columns were cut off."""
    import json

    from eval_fixture import write_cafe_eval

    make_run(workspace)
    d = write_cafe_eval(workspace, RUN_ID, status="fail")
    out = d / "outputs.jsonl" if (d / "outputs.jsonl").exists() else next(d.rglob("outputs.jsonl"))
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    for i, r in enumerate(rows):
        r["id"] = f"{i:02d}" + "0349c1050f605870d43adbe20cea7d"
        if i % 3 == 0:
            r["split"] = "regression"  # a must-keep example: it says so without widening the id column
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        table = (await _show_evaluation(app, pilot)).query_one("#examples")
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.pause()
        assert len(str(table.get_row_at(0)[0])) <= 8
        assert table.virtual_size.width <= table.region.width, (table.virtual_size, table.region)


async def test_the_persons_own_examples_are_quoted_right_under_the_result(workspace):
    """The walk's test set was machine-written, some expected answers wrong; what the person wrote is what
    they trust. The line on their own held-out examples sits under the sentence, before the advice."""
    _failed_eval_with_own_examples(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        verdict = (await _show_evaluation(app, pilot)).query_one("#verdict")
        await wait_for(pilot, lambda: "On your own" in str(verdict.render()))
        lines = str(verdict.render()).splitlines()
        own = next(i for i, line in enumerate(lines) if line.startswith("On your own 6 examples"))
        advice = next(i for i, line in enumerate(lines) if line.startswith("→"))
        assert 0 < own < advice and "got 4 right" in lines[own]


def test_the_reports_file_list_names_each_file_once(workspace):
    """The walk's report listed 'export' and 'report.md' twice (the table and the run's artifacts)."""
    from tui.screens.report import report_markdown

    run = make_run(workspace)
    (run.path / "report.md").write_text("# report\n")
    (run.path / "export").mkdir()
    values = {"artifacts": {"report": str(run.path / "report.md"), "export": str(run.path / "export")}}
    text = report_markdown(RUN_ID, run.path, values)
    assert text.count("`report.md`") == 1 and text.count("`export`") == 1


def test_the_report_gives_the_prompt_to_keep_and_the_way_to_add_examples(workspace):
    """The walk was told "keep using a prompt with 6 of your examples" and "collect about 50 more examples",
    and found neither the prompt nor a way to add examples in the app."""
    import json

    from tui.screens.report import report_markdown

    run = make_run(workspace)
    rec = (
        "Keep using a prompt with your examples for now. To fine-tune, write about 50 more examples yourself "
        "(your own real messages with the answers you want), then run again with them."
    )
    (run.path / "summary.json").write_text(
        json.dumps(
            {
                "stop_reason": "too_few_examples",
                "plain": {"sentence": "Only 9 held up.", "recommendation": rec},
            }
        )
    )
    (run.path / "prompt.md").write_text("# Prompt for: x\n\n## System\n\nSort voicemails.\n\n## Example 1\n")
    text = report_markdown(RUN_ID, run.path, {})
    assert "## The prompt to use for now" in text and "/prompt.md`" in text
    # a block quote that wraps, each line kept, nothing read as Markdown (walk 9: a code block cut at 80)
    assert "> Sort voicemails\\.  " in text.splitlines() and "```" not in text
    assert "> \\#\\# Example 1  " in text.splitlines()
    assert "press **a** here and give the file" in text


async def test_a_report_that_says_press_a_shows_a_in_its_80_column_footer(workspace):
    """Walk 27 read "press a here and give the file" and the footer at 80 columns had no a (it is dropped first
    where the report does not ask for examples)."""
    import json

    from tui.screens.report import ReportScreen

    run = make_run(workspace)
    rec = "Not ready. To fine-tune, collect about 50 more examples (your own messages with the answers you want)."
    (run.path / "summary.json").write_text(
        json.dumps(
            {
                "stop_reason": "too_few_examples",
                "plain": {"sentence": "Only 9 held up.", "recommendation": rec},
            }
        )
    )
    (run.path / "prompt.md").write_text("# Prompt for: x\n\n## System\n\nSort voicemails.\n")
    (run.path / "prompt.json").write_text(json.dumps({"system": "Sort voicemails.", "examples": []}))
    (run.path / "export" / "adapter").mkdir(parents=True)
    (run.path / "export" / "adapter" / "adapter_config.json").write_text("{}")  # t and m are offered too
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {}))
        await wait_for(
            pilot, lambda: "Add examples" in {k.description for k in app.screen.query("FooterKey")}
        )
        shown = {k.description for k in app.screen.query("FooterKey")}
        assert {"Quit", "Help", "Try the prompt", "Try your model"} <= shown, shown


async def test_the_review_detail_reads_the_checks_in_words(workspace):
    """'flags: consistency_replaced, unjudged' and 'critique no LLM judge: programmatic validators only'."""
    import json

    from tui.screens.review import ReviewScreen

    make_run(workspace)
    path = write_critiqued(workspace, n=3)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["metadata"] |= {
        "flags": ["consistency_replaced", "unjudged"],
        "category": "unjudged",
        "critique": "no LLM judge: programmatic validators only",
        "score": None,
    }
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 3}))
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.is_mounted)
        detail = app.screen.query_one("#review-detail-text")
        await wait_for(pilot, lambda: "ex-01" in str(detail.render()))
        text = str(detail.render())
        assert "answer from a second opinion, not graded by a model" in text
        assert "checked by rules only" in text and "unjudged" not in text and "LLM" not in text
