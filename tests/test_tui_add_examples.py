"""More examples of the person's own, given to a finished session: the report screen's `a` reads a file and
starts a new session with the earlier answers and all the examples, which goes straight to the decision.
The walk was told "collect about 50 more examples" and found no way to give them to the app."""

from __future__ import annotations

import json

from test_tui_helpers import RUN_ID, make_run, wait_for

from tools.workspace import atomic_write_yaml, read_yaml
from tui.app import TunewiseApp

SIZE = (80, 24)
EXAMPLES = [
    {"input": "My brakes squeal, can you look at them?", "output": "repair"},
    {"input": "Do you have the Trek FX 2 in a medium?", "output": "sale"},
    {"input": "Can I hire two bikes for Saturday?", "output": "rental"},
]
ANSWERS = {
    "spec": "Sort each customer message into repair, sale or rental.",
    "problem": "we sort them by hand",
    "knowledge_needed": "no",
    "examples": 3,
    "prompted_success": None,
    "goals": ["accuracy"],
    "volume": 400,
    "constraints": [],
}


def _app_driving(workspace) -> tuple[TunewiseApp, list]:
    """The app, and the (run id, first state) of every session it starts (nothing runs)."""
    app = TunewiseApp(workspace)
    driven: list = []
    app.drive = lambda run_id, payload: driven.append((run_id, payload)) or True
    return app, driven


def _finished_session(workspace):
    run = make_run(workspace)
    atomic_write_yaml(
        run.spec_path,
        {
            "name": "bikes",
            "spec": ANSWERS["spec"],
            "examples": EXAMPLES,
            "output": {"format": "label", "labels": ["rental", "repair", "sale"]},
            "budget": 0,
            "answers": ANSWERS,
        },
    )
    return run


def test_more_examples_join_the_old_ones_and_every_answer_is_kept(workspace):
    from agent.sessions import with_more_examples

    _finished_session(workspace)
    new = [
        EXAMPLES[0],  # already there: not twice
        {"input": "The bike you sold me broke after a week. I want a refund.", "output": "complaint"},
        {"input": "How much for a new chain?", "output": "sale"},
    ]
    task, answers, added = with_more_examples(workspace, RUN_ID, new)
    assert added == 2 and len(task["examples"]) == 5 and answers["examples"] == 5
    assert [e["input"] for e in task["examples"][:3]] == [e["input"] for e in EXAMPLES]
    assert answers["volume"] == 400 and answers["spec"] == ANSWERS["spec"] and task["budget"] == 0
    # a label only the new examples use is one more label
    assert task["output"]["labels"] == ["complaint", "rental", "repair", "sale"]


def test_the_new_session_asks_no_question_again(workspace):
    """The interview node, on the new session's state, finishes without asking anything (outside a graph an
    `interrupt` raises, so a question asked would fail this test)."""
    from types import SimpleNamespace

    from agent.nodes.interview import interview
    from agent.runner import create_run_for, initial_state
    from agent.sessions import with_more_examples
    from tools.spec import parse_spec_dict

    _finished_session(workspace)
    task, answers, _ = with_more_examples(
        workspace, RUN_ID, [{"input": "Is the shop open on Sunday for rentals?", "output": "rental"}]
    )
    spec = parse_spec_dict(task)
    run = create_run_for(workspace, spec, run_id="20261202-120000-new")
    state = initial_state(run.id, spec, headless=False)
    state["answers"] = answers
    out = interview(state, SimpleNamespace(context=SimpleNamespace(run=workspace.run)))
    assert len(out["task"]["examples"]) == 4 and out["answers"]["volume"] == 400
    assert len(read_yaml(run.spec_path)["examples"]) == 4


async def test_the_report_screen_takes_a_file_of_more_examples(workspace, tmp_path):
    from tui.screens.report import ReportScreen

    _finished_session(workspace)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "x", "output": "sale"}\nnot json\n')
    good = tmp_path / "more.jsonl"
    good.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {"input": "My wheel is bent after a crash.", "output": "repair"},
                {"input": "Two kids' bikes for the weekend, please.", "output": "rental"},
            ]
        )
        + "\n"
    )
    app = TunewiseApp(workspace)
    driven: list = []
    app.drive = lambda run_id, payload: driven.append((run_id, payload)) or True  # the graph is tested above
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {"approach": "fine-tune", "stop_reason": "too_few_examples"}))
        await wait_for(pilot, lambda: app.screen.query("#report-md"))
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#add-examples-path"))
        assert "the 3 you gave before" in str(app.screen.query_one("#confirm-text").render())
        app.screen.query_one("#add-examples-path").value = str(bad)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "not a JSON object" in str(app.screen.query_one("#add-examples-problem").render())
        )
        assert f"{bad}:2" in str(app.screen.query_one("#add-examples-problem").render())
        assert not driven  # the dialog stays; nothing started
        app.screen.query_one("#add-examples-path").value = str(good)
        await pilot.press("enter")
        await wait_for(pilot, lambda: driven)
        await wait_for(pilot, lambda: getattr(app.screen, "SCREEN_NAME", None) == "conversation")
        shown = app.screen.run_id
    new_id, state = driven[0]
    assert new_id != RUN_ID and shown == new_id
    assert [e["input"] for e in state["task"]["examples"]][3:] == [
        "My wheel is bent after a crash.",
        "Two kids' bikes for the weekend, please.",
    ]
    assert state["answers"]["examples"] == 5 and state["answers"]["goals"] == ["accuracy"]
    assert len(read_yaml(workspace.run(new_id).spec_path)["examples"]) == 5
    # walk 10: the old session stayed "waiting: your decision" on Home; it now says what took its place
    from agent.sessions import replaced_by

    assert replaced_by(workspace, RUN_ID) == new_id and replaced_by(workspace, new_id) is None


def test_values_no_example_shows_are_named_before_anything_is_written():
    """The expense bench's categories "software" and "other" (no example had them) were never kept in any
    run; orders' size "medium" the same. The decision names them and offers to add examples first."""
    from tools.data.coverage import unseen_values, unseen_words
    from tools.spec import parse_spec_dict
    from tui.screens.decision import decision_markdown

    spec = parse_spec_dict(
        {
            "spec": "Sort each customer message.",
            "examples": EXAMPLES,
            "output": {"format": "label", "labels": ["rental", "repair", "sale", "complaint"]},
        }
    )
    assert unseen_values(spec) == [("label", "complaint")]
    schema = {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "medium", "large"]},
            "milk": {"type": "string", "enum": ["none", "oat"]},
        },
    }
    orders = parse_spec_dict(
        {
            "spec": "Orders to JSON.",
            "examples": [
                {"input": "a small latte", "output": '{"size": "small", "milk": "none"}'},
                {"input": "a large oat latte", "output": '{"size": "large", "milk": "oat"}'},
            ],
            "output": {"format": "json", "schema": schema},
        }
    )
    assert unseen_values(orders) == [("size", "medium")]
    assert unseen_words([("size", "medium"), ("label", "complaint")]) == "size medium, complaint"
    assert (
        unseen_values(
            parse_spec_dict({"spec": "Orders to JSON.", "output": {"format": "json", "schema": schema}})
        )
        == []
    )
    md = decision_markdown({"approach": "fine-tune", "reasons": ["r"], "unseen": [["size", "medium"]]})
    assert (
        "none of your examples has size medium" in md and "Press **e** to add an example or two of it" in md
    )
    assert "Before you go on" not in decision_markdown(
        {"approach": "fine-tune", "reasons": ["r"], "unseen": []}
    )


async def test_the_decision_screen_takes_more_examples_too(workspace, tmp_path):
    from tui.screens.decision import DecisionScreen

    _finished_session(workspace)
    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps({"input": "My bike was stolen from your rack, I'm furious.", "output": "complaint"})
    )
    app, driven = _app_driving(workspace)
    decision = {"approach": "fine-tune", "reasons": ["r"], "unseen": [["label", "complaint"]]}
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"decision": decision}))
        await wait_for(
            pilot,
            lambda: (
                app.screen.query("#decision-md")
                and "Press **e**" in app.screen.query_one("#decision-md").source
            ),
        )
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#add-examples-path"))
        app.screen.query_one("#add-examples-path").value = str(more)
        await pilot.press("enter")
        await wait_for(pilot, lambda: driven)
    new_id, state = driven[0]
    assert new_id != RUN_ID and state["task"]["examples"][-1]["output"] == "complaint"


async def test_the_report_screen_tries_the_prompt_on_a_message_with_the_model_you_start_from(workspace):
    """Walk 9 was told "copy it into the tool you use today" and used no tool and had no API key: `t` answers
    a message of the person's with the report's prompt, on the embedded model (a real answer, not a stub)."""
    from tools.workspace import atomic_write_json
    from tui.screens.report import ReportScreen

    run = _finished_session(workspace)
    atomic_write_json(
        run.path / "prompt.json",
        {"system": "Answer with one word: repair, sale or rental.", "shots": EXAMPLES},
    )
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {"approach": "fine-tune", "stop_reason": "too_few_examples"}))
        await wait_for(pilot, lambda: app.screen.query("#report-md"))
        await pilot.press("t")
        await wait_for(pilot, lambda: app.screen.query("#try-input"))
        await pilot.press("enter")
        assert "Type a message first" in str(app.screen.query_one("#try-answer").render())
        app.screen.query_one("#try-input").value = "My chain keeps slipping, can you fix it?"
        await pilot.press("enter")
        answer = app.screen.query_one("#try-answer")
        await wait_for(
            pilot, lambda: "Answer:" in str(answer.render()) or "Could not" in str(answer.render())
        )
        said = str(answer.render())
        asked, answered = said.split("\n")[:2]  # what was asked stays above its answer
        assert (
            asked.startswith("You asked: ")
            and answered.startswith("Answer:")
            and len(answered) > len("Answer: ")
        )
    from tui.widgets.try_dialog import repeating

    assert repeating("4B — bathroom sink — access 4B, " + "4B, " * 20)
    assert not repeating("Flat 4B — bathroom sink blocked, smells — access Friday morning")


async def test_p_on_a_prompts_report_edits_its_instructions_and_runs_again_with_them(workspace):
    """The report lists where the chosen prompt went wrong and says to put the rules into the instructions:
    `p` opens them in a box, and saving starts a new session with those instructions (nothing else in the
    app could change them)."""
    from tools.workspace import atomic_write_json
    from tui.screens.report import ReportScreen

    run = _finished_session(workspace)
    atomic_write_json(run.path / "prompt.json", {"system": "Sort the message.", "shots": EXAMPLES})
    app, driven = _app_driving(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {"approach": "prompt", "stop_reason": "approach:prompt"}))
        await wait_for(pilot, lambda: app.screen.query("#report-md"))
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.query("#edit-area"))
        area = app.screen.query_one("#edit-area")
        assert area.text == "Sort the message."
        area.text = ""
        await pilot.press("ctrl+s")
        assert "write the instructions first" in str(app.screen.query_one("#edit-problem").render())
        area.text = "Sort the message: repair when something is broken, sale or rental otherwise."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: driven)
    new_id, state = driven[0]
    assert new_id != RUN_ID
    assert state["task"]["system_prompt"].startswith("Sort the message: repair when something is broken")
    assert state["task"]["examples"] == read_yaml(run.spec_path)["examples"]  # the same examples


async def test_t_on_a_report_without_a_prompt_says_why_instead_of_doing_nothing(workspace):
    """Walk 11: F1 lists t (try the prompt); on a report that ends with a trained model it did nothing."""
    from tui.screens.report import ReportScreen

    _finished_session(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReportScreen(RUN_ID, {"approach": "fine-tune", "stop_reason": "too_few_examples"}))
        await wait_for(pilot, lambda: app.screen.query("#report-md"))
        await pilot.press("t")
        await wait_for(pilot, lambda: any("no prompt to try" in str(n.message) for n in app._notifications))
        said = [str(n.message) for n in app._notifications]
        assert any("t works on a report whose advice is a prompt" in m for m in said), said
        assert type(app.screen).__name__ == "ReportScreen"  # no dialog opened over the report


def test_a_text_tasks_new_session_asks_no_question_again(workspace):
    """Walk 13: running a free-text session again asked 'What should each answer look like?' once more (text
    is also the default shape, so only the app's `shape_known` option tells a chosen one apart)."""
    from types import SimpleNamespace

    import pytest

    from agent.nodes.interview import interview
    from agent.runner import create_run_for, initial_state
    from agent.sessions import with_more_examples
    from tools.spec import parse_spec_dict

    run0 = _finished_session(workspace)
    doc = read_yaml(run0.spec_path)
    doc["output"] = {"format": "text"}
    doc["examples"] = [{"input": e["input"], "output": f"We will {e['output']} it."} for e in EXAMPLES]
    atomic_write_yaml(run0.spec_path, doc)
    task, answers, _ = with_more_examples(workspace, RUN_ID, [])
    spec = parse_spec_dict(task)
    for shape_known, asks in ((True, False), (False, True)):
        run = create_run_for(workspace, spec, run_id=f"20261202-12000{int(shape_known)}-again")
        state = initial_state(run.id, spec, headless=False, options={"shape_known": shape_known})
        state["answers"] = dict(answers)
        ctx = SimpleNamespace(context=SimpleNamespace(run=workspace.run))
        if asks:  # outside a graph the question's interrupt raises
            with pytest.raises(RuntimeError):
                interview(state, ctx)
        else:
            assert interview(state, ctx)["task"]["output"]["format"] == "text"


async def test_the_decision_screen_takes_real_messages_without_answers(workspace, tmp_path):
    """The slugs bench: the small model made up its practice messages ("Cad Aromafro (Wine)") where a shop
    has its catalogue's titles. On a path that trains a model, the decision says where real ones go (i), a
    file of them starts a new session with the earlier answers, examples and that file as its inputs, and a
    file of examples (answers in it) is refused with its line."""
    from tui.screens.decision import DecisionScreen

    _finished_session(workspace)
    examples_file = tmp_path / "examples.txt"
    examples_file.write_text("Q: My brakes squeal\nA: repair\n")
    messages = tmp_path / "messages.txt"
    messages.write_text(
        "Q: The chain slipped twice today\nDo you rent tandems?\n\nHow much is a new saddle?\n"
    )
    app, driven = _app_driving(workspace)
    decision = {"approach": "fine-tune", "reasons": ["r"]}
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"decision": decision}))
        await wait_for(
            pilot,
            lambda: (
                app.screen.query("#next-steps")
                and "Press **i**" in app.screen.query_one("#next-steps").source
            ),
        )
        await pilot.press("i")
        await wait_for(pilot, lambda: app.screen.query("#add-examples-path"))
        dialog = app.screen
        dialog.query_one("#add-examples-path").value = str(examples_file)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "examples.txt:2" in str(dialog.query_one("#add-examples-problem").render())
        )
        assert not driven
        dialog.query_one("#add-examples-path").value = str(messages)
        await pilot.press("enter")
        await wait_for(pilot, lambda: driven)
    new_id, state = driven[0]
    assert new_id != RUN_ID and state["task"]["inputs"] == str(messages.resolve())
    assert state["task"]["examples"] == EXAMPLES and state["answers"]["volume"] == 400
    from tools.data.generate import load_inputs_file

    assert load_inputs_file(messages) == [
        "The chain slipped twice today",
        "Do you rent tandems?",
        "How much is a new saddle?",
    ]
    # the person's own examples as the training data, or a blocked path: no such hint
    for practice in ("own", "blocked"):
        await _no_inputs_hint(workspace, decision | {"practice": practice})


async def test_real_messages_on_a_prompts_advice_say_why_they_would_change_nothing(workspace):
    """Walk 17 found `i` in the help on a prompt's advice, gave 40 messages and saw nothing change."""
    from tui.screens.decision import DecisionScreen

    _finished_session(workspace)
    app, driven = _app_driving(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"decision": {"approach": "prompt", "reasons": ["r"]}}))
        await wait_for(pilot, lambda: app.screen.query("#next-steps"))
        await pilot.press("i")
        await wait_for(pilot, lambda: any("trains none" in str(n.message) for n in app._notifications))
        assert not app.screen.query("#add-examples-path") and not driven


async def _no_inputs_hint(workspace, decision: dict) -> None:
    from tui.screens.decision import DecisionScreen

    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"decision": decision}))
        await wait_for(
            pilot, lambda: app.screen.query("#next-steps") and app.screen.query_one("#next-steps").source
        )
        assert "Press **i**" not in app.screen.query_one("#next-steps").source


async def test_more_examples_can_be_typed_instead_of_a_file(workspace):
    from textual.widgets import Static, TextArea

    from tui.screens.decision import DecisionScreen

    _finished_session(workspace)
    app, driven = _app_driving(workspace)
    decision = {"approach": "fine-tune", "reasons": ["r"], "unseen": [["label", "complaint"]]}
    async with app.run_test(size=SIZE) as pilot:
        app.show(DecisionScreen(RUN_ID, {"decision": decision}))
        await wait_for(pilot, lambda: app.screen.query("#decision-md"))
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#add-examples-path"))
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        box = app.screen
        box.query_one(TextArea).text = "Q: My bike was stolen from your rack, I'm furious.\n"
        await pilot.press("ctrl+s")  # no answer: said under the box, which stays
        await wait_for(pilot, lambda: "line 1" in str(box.query_one("#edit-problem", Static).render()))
        box.query_one(
            TextArea
        ).text = "Q: My bike was stolen from your rack, I'm furious.\nA: complaint\nQ: \nA: \n"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: driven)
    new_id, state = driven[0]
    assert new_id != RUN_ID and state["task"]["examples"][-1] == {
        "input": "My bike was stolen from your rack, I'm furious.",
        "output": "complaint",
    }
