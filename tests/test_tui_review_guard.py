"""Review that cannot do harm: "apply to similar" never spreads over a catch-all group, says how many rows
it reaches and asks first; the counter counts; rejecting most of what one reviews brings advice. One
implementation (tools.data.review) behind the agent's review step and the TUI."""

from __future__ import annotations

from pathlib import Path

from test_tui_helpers import RUN_ID, chat_row, make_run
from test_tui_screens import SIZE, capture_answers, wait_for

from tools.workspace import Workspace, atomic_write_jsonl
from tui.app import TunewiseApp


def unjudged_rows(n: int) -> list[dict]:
    """What critique writes with no capable judge: every row category "unjudged", flag "unjudged"."""
    return [chat_row(i, score=None, flags=["unjudged"], category="unjudged") for i in range(1, n + 1)]


def mixed_rows(n: int) -> list[dict]:
    """Every 6th row category "format"; every 10th flagged "too_short"; the rest "ok"."""
    rows = []
    for i in range(1, n + 1):
        flags = ["too_short"] if i % 10 == 0 else []
        rows.append(
            chat_row(i, score=2 if i % 6 == 0 else 4, flags=flags, category="format" if i % 6 == 0 else "ok")
        )
    return rows


def write_rows(ws: Workspace, rows: list[dict]) -> Path:
    p = ws.run(RUN_ID).path / "work" / "iter1" / "critiqued.jsonl"
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_jsonl(p, rows)
    return p


# ------------------------------------------------------------------ the one implementation
def test_propagation_never_spreads_over_a_catch_all_or_a_flag_every_row_shares():
    from agent.nodes.distill import apply_decisions as agent_apply
    from tools.data.review import apply_decisions, similar_ids, similarity_keys

    rows = unjudged_rows(206)
    decision = [{"id": "ex-01", "action": "reject", "propagate": True}]
    kept, records = apply_decisions(rows, decision)
    assert len(kept) == 205 and [r["id"] for r in records] == ["ex-01"]
    assert agent_apply(rows, decision)[0] == kept  # the agent's review step is the same code
    every_ok = [chat_row(i, score=4, category="ok") for i in range(1, 30)]
    assert similar_ids(every_ok, "ex-01") == []
    all_format = [chat_row(i, score=2, category="format") for i in range(1, 30)]
    assert similar_ids(all_format, "ex-01") == []  # a group of everything is no group
    mixed = mixed_rows(30)
    assert similar_ids(mixed, "ex-06") == ["ex-12", "ex-18", "ex-24", "ex-30"]
    assert similarity_keys(mixed)["ex-30"] == {"category:format", "flag:too_short"}
    kept, records = apply_decisions(mixed, [{"id": "ex-06", "action": "reject", "propagate": True}])
    assert len(kept) == 25 and sum(1 for r in records if r.get("propagated_from") == "ex-06") == 4
    assert rows[0]["metadata"].get("review") is None  # the input rows are left alone


def test_one_low_score_rule():
    from tools.data.review import is_low_score
    from tui.widgets.review import ReviewItem

    assert [is_low_score(s) for s in (1, 2, 3, 5, None)] == [True, True, False, False, False]
    assert ReviewItem("x", "i", "o", score=2).low and not ReviewItem("x", "i", "o", score=3).low


# ------------------------------------------------------------------ the screen
async def test_apply_to_similar_is_refused_over_a_catch_all_group(workspace):
    from tui.screens.review import ReviewScreen

    make_run(workspace)
    path = write_rows(workspace, unjudged_rows(206))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 206}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 206)
        await pilot.press("r")  # reject ex-01
        await pilot.press("p")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"  # nothing to confirm: refused outright
        assert "propagate" not in screen.model.decisions["ex-01"]
        assert screen.model.status("ex-01") == "rejected"
        for _ in range(20):
            await pilot.press("a")
        await pilot.press("ctrl+s")
        assert sent and [d["id"] for d in sent[0][1] if d["action"] == "reject"] == ["ex-01"]
        assert not any(d.get("propagate") for d in sent[0][1])


async def test_apply_to_similar_says_how_many_and_asks_first(workspace):
    from tui.screens.review import ReviewScreen

    make_run(workspace)
    path = write_rows(workspace, mixed_rows(30))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 30}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 30)
        await pilot.click("#filter-low-score")
        assert screen.current().id == "ex-06"
        await pilot.press("r", "up", "p")  # reject ex-06, back to it, apply to similar
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        question = str(app.screen.query_one("#confirm-text").render())
        assert "Reject 4 other examples of 30 (category format) as well?" in question
        await pilot.press("n")  # no: nothing spreads
        await wait_for(pilot, lambda: app.screen is screen)
        assert "propagate" not in screen.model.decisions["ex-06"]
        await pilot.press("p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.model.decisions["ex-06"]["propagate"] is True
        table = screen.query_one("#review-table")
        assert table.get_cell("ex-06", "status") == "rejected +4"


async def test_the_counter_counts_and_mostly_rejected_data_brings_advice(workspace):
    from agent.artifacts import save_step
    from tui.screens.review import ReviewScreen, short_id

    run = make_run(workspace)
    path = write_rows(workspace, unjudged_rows(206))
    collapsed = {"label": {"value": "repair", "from_examples": 71, "dropped": 28}}
    save_step(run, 1, "critique", {"dropped_by": {"incorrect": 28}, "collapsed": collapsed})
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 206}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 206)
        await wait_for(pilot, lambda: screen.query_one("#review-filtered").display)
        counter = screen.query_one("#review-progress-text")
        assert str(counter.render()).startswith("reviewed 0 of 206 (target 21)")
        assert "%" not in str(screen.query_one("#review-progress-row").render())
        advice = screen.query_one("#review-advice")
        for key in "rrrr":
            await pilot.press(key)
        assert not advice.display  # 4 rejected: too few to judge the data by
        await pilot.press("a", "r", "r")
        assert str(counter.render()).startswith("reviewed 7 of 206 (target 21) · 6 rejected")
        assert advice.display
        # at 80×24 the advice takes the checks' summary's place: the table keeps rows and Submit stays on
        # screen (walk 8 saw 3 rows and no counter with both shown)
        await pilot.pause()
        assert not screen.query_one("#review-filtered").display
        row = screen.query_one("#review-progress-row")
        assert row.region.height > 0 and row.region.bottom <= SIZE[1] - 1
        assert screen.query_one("#review-table").region.height >= 5
        text = str(advice.render())
        assert "You rejected 6 of the 7 examples you reviewed" in text and "looks poor" in text
        # what a person can do, in steps they can take (the walk could not act on "TUNEWISE_TEACHER or teacher:")
        assert "more examples of your own" in text and "a bigger model to write them" in text
        assert "OPENAI_API_KEY" in text and "teacher" not in text and "on-task filter" not in text
        assert short_id("0123456789abcdef0123456789abcdef") == "01234567"


async def test_submitting_after_rejecting_most_asks_before_training_on_the_rest(workspace):
    """The walk rejected 5 of the 5 it looked at, pressed Submit, and training started on the 40 it had not
    read. Now Submit asks: don't train (the unread go too), keep reviewing, or train anyway."""
    from tui.screens.review import ReviewScreen
    from tui.widgets.choice_dialog import ChoiceDialog

    make_run(workspace)
    path = write_rows(workspace, unjudged_rows(40))
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        sent = capture_answers(app)
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path), "n": 40}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 40)
        for key in "rrrrr":
            await pilot.press(key)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        assert "You rejected 5 of the 5 examples you looked at" in app.screen.text and "35" in app.screen.text
        # every answer readable at 80 columns (walk 8 saw "…Keep reviewing (k)   Tra")
        from textual.widgets import Button

        for button in app.screen.query(Button):
            region = button.region
            assert region.x >= 0 and region.right <= SIZE[0] and region.height > 0
            assert len(str(button.label)) + 2 <= region.width, str(button.label)
        assert not sent
        await pilot.press("k")  # keep reviewing: nothing sent
        await wait_for(pilot, lambda: app.screen is screen)
        assert not sent
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("d")  # don't train: the 35 unread are rejected too
        await wait_for(pilot, lambda: bool(sent))
        ((_, decisions),) = sent
        assert len(decisions) == 40 and all(d["action"] == "reject" for d in decisions)


async def test_at_80_columns_the_footer_keeps_submit_and_the_output_column_reads(workspace):
    import json

    from tools.data.schema import example_id
    from tui.screens.review import ReviewScreen

    make_run(workspace)
    rows = mixed_rows(12)
    for r in rows:  # real ids are 32-character hashes; real answers are longer than a city
        r["metadata"]["id"] = example_id(r["messages"])
        r["messages"][-1]["content"] = json.dumps({"name": "Person", "city": "Lisbon", "age": 34})
    path = write_rows(workspace, rows)
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.show(ReviewScreen(RUN_ID, {"kind": "review", "file": str(path)}))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.items) == 12)
        await pilot.pause()
        footer = app.screen.query_one("Footer")
        keys = [k.description for k in footer.query("FooterKey") if k.region.right <= SIZE[0]]
        assert keys[0] == "Submit"
        table = screen.query_one("#review-table")
        widths = {c.key.value: c.width for c in table.columns.values()}
        assert widths["id"] == 5 and widths["output"] > widths["input"]  # 8 from 100 columns
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        row = table.get_row_at(0)
        assert row[0] == rows[0]["metadata"]["id"][:8]
        assert row[-1] == '{"name":"Person","city":"Lisbon","age":34}'  # the whole answer at 100 columns
