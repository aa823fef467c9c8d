"""Examples typed in the app (walk 19 could give them only as a file): the box opens on the "where are
those examples?" question, a bad line is said under it and nothing is sent, and what is typed is kept in the
session's folder and read like any file of examples."""

from __future__ import annotations

from test_tui_interview import answer_text, pending_key
from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp

TYPED = (
    "Q: ring me on 07700 900123 after 5\n"
    "A: +44 7700 900123\n"
    "Q: mobile: +44 (0)7700-900456\n"
    "A: +44 7700 900456\n"
    "Q: \n"
    "A: \n"
)


async def test_examples_typed_in_the_app_reach_the_session(workspace):
    from textual.widgets import Static, TextArea

    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        conv = app.screen
        await pilot.press(*"Write UK phone numbers as +44 7700 900123.", "enter")
        await answer_text(pilot, app, "problem", "")
        await wait_for(pilot, lambda: pending_key(app) == "knowledge_needed")
        await pilot.press("enter")
        await answer_text(pilot, app, "examples", "2")
        await wait_for(pilot, lambda: pending_key(app) == "examples_file")
        assert conv.query_one("#type-examples").display  # offered on this question only
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        box = app.screen
        box.query_one(TextArea).text = "A: +44 7700 900123\n"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "line 1" in str(box.query_one("#edit-problem", Static).render()))
        assert type(app.screen).__name__ == "EditDialog"  # not sent
        box.query_one(TextArea).text = TYPED
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: pending_key(app) == "output_format")
        spec = app.pending[app.current_run]["spec_so_far"]
        assert [e["output"] for e in spec["examples"]] == ["+44 7700 900123", "+44 7700 900456"]
        kept = workspace.run(app.current_run).path / "examples-typed.txt"
        assert kept.read_text() == TYPED.removesuffix("Q: \nA: \n")  # the empty last pair left out
        said = [m.text for m in conv.query("ChatMessage") if m.role == "user"]
        assert said[-1] == "2 examples, typed here"  # not the file's path
        assert any(
            "Type them** here (ctrl+o)" in m.text for m in conv.query("ChatMessage") if m.role == "agent"
        )
        assert not conv.query_one("#type-examples").display  # gone on the next question


def test_typed_examples_say_the_line_of_a_problem():
    from tools.data.plain_examples import TYPED_TEMPLATE, read_typed_examples, typed_problem

    assert read_typed_examples("Q: a long\nmessage\nA: its answer\nQ: ") == [
        {"input": "a long\nmessage", "output": "its answer"}
    ]
    assert typed_problem(TYPED_TEMPLATE) == (
        "nothing typed yet — fix: type a message after 'Q:' and the answer you want after 'A:'"
    )
    assert typed_problem("Q: one\nA: 1\nA: 2\nQ: two\n").startswith("line 4: this message has no answer")
    assert typed_problem("A: an answer\n").startswith("line 1: an answer with no message before it")
    assert typed_problem("just some words").startswith("no 'Q:' or 'A:' lines")
