"""A micro task from interview to decision through the real graph (SQLite checkpoints, real nodes).

The answers give the prompted success rate, so the decide node needs no probe; the test asserts what the
person sees: every question arrives in the chat, a bad answer comes back with the graph's error, the
decision screen shows the rubric's recommendation, and the session resumes after the app is closed."""

from __future__ import annotations

from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp


def pending_key(app) -> str | None:
    p = app.pending.get(app.current_run)
    return p.get("key") if isinstance(p, dict) and p.get("kind") == "question" else None


async def answer_text(pilot, app, key: str, text: str) -> None:
    await wait_for(pilot, lambda: pending_key(app) == key)
    conv = app.screen
    conv.query_one("#answer-input").value = text
    await pilot.press("enter")


async def test_interview_to_decision_and_resume(workspace):
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        conv = app.screen
        assert type(conv).__name__ == "ConversationScreen" and conv.pending["key"] == "spec"
        await pilot.press(*"Extract the city from a sentence as JSON.", "enter")
        await answer_text(pilot, app, "problem", "It ignores the JSON format")
        await wait_for(pilot, lambda: pending_key(app) == "knowledge_needed")
        assert conv.query_one("#answer-choices").display  # a choice question shows the option list
        await pilot.press("enter")  # "no" is highlighted first
        await answer_text(pilot, app, "examples", "no-such-file.jsonl")
        # the graph validates the answer and asks again with its error
        await wait_for(pilot, lambda: (app.pending.get(app.current_run) or {}).get("error") is not None)
        assert "no file at no-such-file.jsonl" in str(conv.query_one("#question-error").render())
        conv.query_one("#answer-input").value = "3"
        await pilot.press("enter")
        await answer_text(pilot, app, "prompted_success", "30%")
        await wait_for(pilot, lambda: pending_key(app) == "goals")
        await pilot.press("enter")  # select "format" (first, highlighted)
        await pilot.click("#send")
        await wait_for(pilot, lambda: pending_key(app) == "volume")
        spec_md = conv.query_one("#spec-md").source
        assert "Extract the city" in spec_md and "Goals: format" in spec_md
        await pilot.press("ctrl+g")  # optional: skip
        await answer_text(pilot, app, "constraints", "offline")
        await answer_text(pilot, app, "budget", "")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DecisionScreen", timeout=60)
        await pilot.pause()
        decision = app.screen
        assert decision.decision["approach"] == "fine-tune"
        assert decision.query_one("#rubric").row_count == len(decision.decision["rubric"]) >= 4
        assert any("format" in r for r in decision.decision["reasons"])
        run_id = app.current_run
        assert conv.sent[:4] == [
            "Extract the city from a sentence as JSON.",
            "It ignores the JSON format",
            "no",
            "no-such-file.jsonl",
        ]

    # closed; a new app resumes the same session at its decision
    app2 = TunewiseApp(workspace)
    async with app2.run_test(size=SIZE) as pilot:
        home = app2.screen
        await wait_for(pilot, lambda: len(home.rows) == 1)
        assert home.rows[0]["id"] == run_id and home.rows[0]["state"] == "waiting: your decision"
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app2.screen).__name__ == "DecisionScreen")
        await pilot.pause()
        assert app2.screen.decision["approach"] == "fine-tune"
        assert app2.screen.pending["kind"] == "decision"


async def test_interview_with_examples_runs_the_probe_on_the_embedded_model(
    workspace, tmp_path, embedded_dir
):
    """Four example pairs and an unknown success rate: decide measures the base model (the embedded
    SmolLM2) with the best prompt, and the decision screen shows that evidence."""
    import json

    examples = tmp_path / "examples.jsonl"
    examples.write_text(
        "".join(
            json.dumps({"input": f"Say the word {w}.", "output": w}) + "\n"
            for w in ("apple", "river", "stone", "cloud")
        )
    )
    app = TunewiseApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Repeat the requested word.", "enter")
        await answer_text(pilot, app, "problem", "")
        await wait_for(pilot, lambda: pending_key(app) == "knowledge_needed")
        await pilot.press("enter")
        await answer_text(pilot, app, "examples", str(examples))
        await answer_text(pilot, app, "prompted_success", "unknown")
        await wait_for(pilot, lambda: pending_key(app) == "goals")
        await pilot.click("#send")  # no goals picked
        for key in ("volume", "constraints", "budget"):
            await answer_text(pilot, app, key, "")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DecisionScreen", timeout=240)
        await pilot.pause()
        decision = app.screen.decision
        probe = decision["probe"]
        assert probe and probe.get("measured") and 0.0 <= probe["prompted_success"] <= 1.0
        assert "measured by probe" in decision["rubric"][1]["evidence"]
        assert "Probe:" in str(app.screen.query_one("#probe").render())
        assert decision["approach"] in ("prompt", "few-shot")  # 4 examples, no behaviour goals
