"""Leftovers of the newcomer walk (issue 13): the header and the status lines say the agent's lines in the
screens' words, an answer typed while the agent thinks survives the next question, and the review table
reads at 80×24."""

from __future__ import annotations

import json

from test_tui_helpers import RUN_ID, chat_row, make_run
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp

# the agent's words a newcomer cannot read; the screens say "a bigger model", "set-aside examples",
# "the model you start from" and "the tuned model"
JARGON = ("teacher", "held-out", "held out", "base model", "adapter", "LoRA")

# status lines and log lines as the agent's nodes write them (the CLI prints them as they are)
STATUS_LINES = {
    "generate: 12 examples with the teacher (iteration 1)": "a bigger model",
    "evaluate: 3 systems on the held-out test split": "set-aside examples",
    "train: LoRA on data v1": "tuning the model on data v1",
}
LOG_LINES = {
    "critique: kept 10 of 12 (judge; 1 dropped and 2 corrected by a second/third teacher answer; 5% general "
    "examples mixed in)": "critique: kept 10 of 12",
    "prompt: the best prompt has 4 of your examples in it (80% right on your other examples) → prompt.md": (
        "4 of your examples in it"
    ),
    "decide: few-shot — the base model gets 80% right with your examples": "the model you start from",
    "export: merged the adapter into the model": "the tuned model",
}


def _header_text(app) -> str:
    from textual.widgets._header import HeaderTitle

    return str(app.screen.query_one(HeaderTitle).render())


def _jargon(text: str) -> list[str]:
    return [w for w in JARGON if w.lower() in text.lower()]


# ---------------------------------------------------------------- 1. plain words in the header and status
def test_plain_status_keeps_paths_flags_and_quoted_keys():
    from tui.widgets.header import clean_status, plain_status

    assert plain_status("The teacher wrote 12 inputs") == "A bigger model wrote 12 inputs"
    assert plain_status("serve runs/r/train/v1/adapter with --adapter") == (
        "serve runs/r/train/v1/adapter with --adapter"
    )
    assert "`teacher:` in the task" in plain_status("a stronger teacher (`teacher:` in the task)")
    assert clean_status("critique: None/None") == "critique: —/—"


async def test_the_header_and_the_chats_status_line_say_the_agents_lines_in_plain_words(workspace):
    from tui.messages import AgentEvent, GraphUpdate
    from tui.screens.conversation import ConversationScreen

    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        # on Home (no session on screen, so a long step's status does not open its progress screen)
        for line, plain in STATUS_LINES.items():
            app.post_message(AgentEvent(RUN_ID, "status", {"message": line}))
            await wait_for(pilot, lambda plain=plain: plain in _header_text(app))
            assert not _jargon(_header_text(app)), (line, _header_text(app))
        # in the chat, while the agent works: the header and the status line under the answer box
        app.busy.add(RUN_ID)
        app.show(ConversationScreen(RUN_ID, None))
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.screen.is_mounted)
        status = app.screen.query_one("#agent-status")
        for line, plain in LOG_LINES.items():
            app.post_message(GraphUpdate(RUN_ID, line.split(":")[0], [line]))
            await wait_for(pilot, lambda plain=plain: plain in str(status.render()))
            assert not _jargon(str(status.render())), (line, str(status.render()))
            assert not _jargon(_header_text(app)), (line, _header_text(app))


def test_the_evaluation_and_the_report_say_the_model_you_start_from_and_the_tuned_model(workspace):
    from tui.screens.evaluation import expected_panel_text
    from tui.screens.report import report_markdown
    from tui.widgets.evaluation.model import ExampleRow

    general = expected_panel_text(ExampleRow(id="g1", input="What is 2+2?", split="forgetting"), False)
    assert "the model you start from" in general and not _jargon(general)
    run = make_run(workspace)
    serve = report_markdown(RUN_ID, run.path, {"approach": "prompt"}).split("## Serve it", 1)[1]
    serve = serve.split("##", 1)[0]
    assert "No tuned model in this run" in serve and not _jargon(serve), serve


# ---------------------------------------------------------------- 2. typing ahead in the interview
def _text_question(key: str, text: str, default: str | None = None) -> dict:
    from agent.interrupts import question

    return question(key, text, input="text", default=default, spec_so_far={})


async def _chat(app, pilot, question: dict):
    """The conversation screen showing `question`, and the list the answers sent land in."""
    from tui.screens.conversation import ConversationScreen

    sent: list = []
    app.answer = lambda run_id, answer: sent.append(answer)
    await pilot.pause()
    app.show(ConversationScreen(RUN_ID, question))
    await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.screen.is_mounted)
    return app.screen, sent


async def test_an_answer_typed_while_the_agent_thinks_survives_the_next_question(workspace):
    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen, sent = await _chat(app, pilot, _text_question("problem", "What goes wrong today?"))
        inp = screen.query_one("#answer-input")
        await pilot.pause()
        await pilot.press(*"It forgets the milk", "enter")
        assert sent == ["It forgets the milk"]
        # the answer sent leaves the box; the box stays to type the next answer while the agent thinks
        assert inp.value == "" and inp.display and app.focused is inp
        await pilot.press(*"oat milk, always")
        await pilot.press("enter")  # nothing is asked yet: Enter sends nothing and keeps the text
        assert sent == ["It forgets the milk"] and inp.value == "oat milk, always"
        # the next question arrives (with an earlier answer as its default): what was typed stays
        screen.show_question(_text_question("constraints", "Anything it must never do?", default="nothing"))
        await pilot.pause()
        assert inp.value == "oat milk, always" and app.focused is inp
        await pilot.press("enter")
        assert sent == ["It forgets the milk", "oat milk, always"]
        # nothing typed ahead: the next question shows its default, not the answer just sent
        screen.show_question(_text_question("budget", "Budget?", default="5"))
        await pilot.pause()
        assert inp.value == "5"


async def test_an_answer_asked_again_keeps_the_person_s_text_to_correct(workspace):
    """A bad answer comes back with its reason: the box holds that answer to fix, not an empty line."""
    make_run(workspace)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        question = _text_question("examples", "How many examples do you have?") | {"input": "number"}
        screen, sent = await _chat(app, pilot, question)
        await pilot.pause()
        await pilot.press(*"no-such-file.jsonl", "enter")
        await wait_for(pilot, lambda: "no file at" in str(screen.query_one("#question-error").render()))
        assert sent == [] and screen.query_one("#answer-input").value == "no-such-file.jsonl"


# ---------------------------------------------------------------- 3. the review table at 80×24
ORDERS = (
    ("two small oat lattes to take away please", ("latte", "small", 2, "oat")),
    ("a large flat white with soy, extra hot", ("flat white", "large", 1, "soy")),
    ("3 espressos, no milk, and quick please", ("espresso", "small", 3, "none")),
    ("can I get a medium cappuccino with whole milk", ("cappuccino", "medium", 1, "whole")),
    ("one big mocha, almond milk if you have it", ("mocha", "large", 1, "almond")),
    ("four regular americanos for the office", ("americano", "medium", 4, "none")),
)


def _cafe_rows(n: int) -> list[dict]:
    """What a real review holds: 32-character ids, orders as inputs, JSON answers."""
    from tools.data.schema import example_id

    rows = []
    for i in range(1, n + 1):
        r = chat_row(i, score=2 if i % 4 == 0 else 5, flags=["too_short"] if i % 5 == 0 else [])
        order, (item, size, quantity, milk) = ORDERS[(i - 1) % len(ORDERS)]
        r["messages"][1]["content"] = order if i <= len(ORDERS) else f"{order}, table {i}"
        answer = {"item": item, "size": size, "quantity": quantity, "milk": milk}
        r["messages"][2]["content"] = json.dumps(answer)
        r["metadata"]["id"] = example_id(r["messages"])
        rows.append(r)
    return rows


async def test_the_review_table_gives_input_and_answer_the_room_at_80x24(workspace):
    """At 80 columns the input column showed 11 characters ('Person 1 li…') beside an 8-character id."""
    from test_tui_review_guard import write_rows

    from tui.screens.review import ReviewScreen

    make_run(workspace)
    rows = _cafe_rows(12)
    path = write_rows(workspace, rows)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path)}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 12)
        await pilot.pause()
        table = screen.query_one("#review-table")
        widths = {c.key.value: c.width for c in table.columns.values()}
        assert list(widths) == ["id", "status", "input", "output"], widths
        assert widths["id"] <= 5 and widths["input"] >= 20 and widths["output"] > widths["input"]
        assert table.virtual_size.width <= table.region.width, (table.virtual_size, table.region)
        first = table.get_row_at(0)
        assert first[0] == rows[0]["metadata"]["id"][:5]
        assert str(first[2]).startswith("two small oat lattes")  # the order reads (11 characters before)
        # without the score column, an undecided row says why it deserves a look
        status = {rid: table.get_cell(rid, "status") for rid in (r["metadata"]["id"] for r in rows)}
        assert status[rows[3]["metadata"]["id"]] == "low score"
        assert status[rows[4]["metadata"]["id"]] == "⚑ flagged" and status[rows[0]["metadata"]["id"]] == "—"
        await pilot.press("r")
        assert table.get_cell(rows[0]["metadata"]["id"], "status") == "rejected"
        # the detail names the row as the table does
        await pilot.press("up")
        assert str(screen.query_one("#review-detail-text").render()).startswith(rows[0]["metadata"]["id"][:5])
        # wide terminals keep the score column and 8-character ids
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: "score" in {c.key.value for c in table.columns.values()})
        assert table.get_row_at(0)[0] == rows[0]["metadata"]["id"][:8]


async def test_an_edited_answer_that_breaks_the_tasks_rules_is_not_saved(workspace):
    """The walk saved 'complaintbooking' as a label (ctrl+a did not select the old text): an edit is checked
    like the data (a label must be one of the labels) and a bad one is said under the box, not saved."""
    import yaml

    from tests.test_tui_helpers import write_critiqued
    from tui.screens.review import ReviewScreen

    run = make_run(workspace)
    run.spec_path.write_text(
        yaml.safe_dump(
            {
                "spec": "Sort bike shop emails.",
                "output": {"format": "label", "labels": ["booking", "complaint", "quote request"]},
            }
        )
    )
    path = write_critiqued(workspace, 20)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 20}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 20)
        await pilot.press("e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        dialog = app.screen
        dialog.query_one("TextArea").text = "complaintbooking"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog and "ex-01" not in screen.model.decisions
        said = str(dialog.query_one("#edit-problem").render())
        assert said.startswith("Not saved: answer 'complaintbooking' is not one of the labels"), said
        dialog.query_one("TextArea").text = "complaint"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.model.decisions["ex-01"]["content"] == "complaint"
        # the list shows the edited answer, not the old one (the dental walk changed a label to `book` and
        # the list still said `cancel`), and still does after the table is rebuilt
        table = screen.query_one("#review-table")
        assert str(table.get_cell("ex-01", "output")) == "complaint"
        screen.refresh_table(keep_id="ex-01")
        assert str(table.get_cell("ex-01", "output")) == "complaint"


async def test_a_booking_edited_with_its_day_left_empty_is_saved_with_null_as_the_examples_write_it(
    workspace,
):
    """Walk 27 edited a groomer's booking that gives no day and could not tell whether to write "" or null:
    the box says how, and an empty part the examples write null is saved null (and said), not a second way."""
    import yaml

    from tests.test_tui_helpers import write_critiqued
    from tui.screens.review import ReviewScreen

    run = make_run(workspace)
    run.spec_path.write_text(
        yaml.safe_dump(
            {
                "spec": "Pull the dog, service and day out of a booking text.",
                "output": {"format": "json", "schema": {"type": "object", "required": ["city"]}},
                "examples": [
                    {"input": "Max for a bath, any day", "output": '{"city": "Max", "day": null}'},
                    {"input": "Luna nails Friday", "output": '{"city": "Luna", "day": "Friday"}'},
                ],
            }
        )
    )
    path = write_critiqued(workspace, 20)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 20}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 20)
        await pilot.press("e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        dialog = app.screen
        hint = str(dialog.query_one("#edit-hint").render())
        assert '"day": null' in hint and "without quotes" in hint, hint
        dialog.query_one("TextArea").text = '{"city": "City1", "day": ""}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        assert json.loads(screen.model.decisions["ex-01"]["content"]) == {"city": "City1", "day": None}
        await wait_for(
            pilot, lambda: any("day left empty: written null" in n.message for n in app._notifications)
        )


def test_an_empty_part_is_null_only_where_the_task_writes_null():
    from tools.data.checks import empty_parts_as_null, nullable_fields
    from tools.spec import TaskSpec

    spec = TaskSpec.model_validate(
        {
            "name": "groomer",
            "spec": "Pull the dog, service and day out of a booking text.",
            "output": {
                "format": "json",
                "schema": {
                    "type": "object",
                    "properties": {"service": {"enum": ["bath", "nail trim", None]}},
                },
            },
            "examples": [
                {"input": "Max, bath, any day", "output": '{"dog": "Max", "service": "bath", "day": null}'},
                {
                    "input": "Luna nails Friday",
                    "output": '{"dog": "Luna", "service": "nail trim", "day": "Friday"}',
                },
            ],
        }
    )
    assert nullable_fields(spec) == {"day", "service"}
    text, changed = empty_parts_as_null('{"dog": "", "service": " ", "day": ""}', spec)
    assert json.loads(text) == {"dog": "", "service": None, "day": None} and changed == ["day", "service"]
    assert empty_parts_as_null('{"dog": "Rex", "day": "Monday"}', spec) == (
        '{"dog": "Rex", "day": "Monday"}',
        [],
    )
    assert (
        empty_parts_as_null('{"dog": "Rex", "day": ""', spec)[1] == []
    )  # broken JSON: left for the check to say
    label = TaskSpec.model_validate({"name": "t", "spec": "Sort it.", "output": {"format": "label"}})
    assert empty_parts_as_null("", label) == ("", [])


def test_walk_10_the_report_path_opens_from_where_tunewise_started_and_no_zero_unread(tmp_path, monkeypatch):
    """Walk 10, its workspace elsewhere, could not find `.tunewise/runs/…/prompt.md` from its folder; and with
    every example read it was told 'the 0 you did not look at are probably as poor… drop the 0 unread too'."""
    from tui.screens.report import shown_path
    from tui.screens.review import poor_data_words

    run = tmp_path / "home" / ".tunewise" / "runs" / "r1"
    run.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "home")
    assert shown_path(run) == ".tunewise/runs/r1"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert shown_path(run) == run.resolve().as_posix()
    text, stop = poor_data_words(31, 34, 0)
    assert "0" not in text.replace("34", "") and stop == "Don't train" and "31 of the 34" in text
    text, stop = poor_data_words(5, 5, 40)
    assert "the 40 you did not look at" in text and stop == "Don't train: drop the 40 unread too"


def test_walk_19_corrected_answers_count_as_wrong_ones_before_training_on_the_unread():
    """Walk 19 rejected 7, corrected 5 and accepted 2 of the 14 it read; nothing was said, and the 126 unread
    trained. A corrected answer was wrong as written: with the rejected ones, most of what was read."""
    from tools.data.review import poor_data_advice
    from tui.screens.review import poor_data_words

    assert poor_data_advice(14, 7) is None  # half rejected, nothing corrected: not "most"
    said = poor_data_advice(14, 7, edited=5, private=True)
    assert said and said.startswith("You rejected 7 and corrected 5 of the 14 examples you reviewed")
    assert "API key" not in said
    assert poor_data_advice(6, 0, edited=4).startswith("You corrected 4 of the 6")
    text, stop = poor_data_words(7, 14, 126, 5)
    assert text.startswith("You rejected 7 and corrected 5 of the 14 examples you looked at, so the 126")
    assert stop == "Don't train: drop the 126 unread too"
