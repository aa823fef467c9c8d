"""A micro task from interview to decision through the real graph (SQLite checkpoints, real nodes).

The answers give the prompted success rate, so the decide node needs no probe; the test asserts what the
person sees: every question arrives in the chat, a bad answer comes back with the graph's error, the
decision screen shows the rubric's recommendation, and the session resumes after the app is closed."""

from __future__ import annotations

from test_tui_screens import SIZE, wait_for

from tui.app import TunewiseApp


def pending_key(app) -> str | None:
    """The question the session waits on, once the conversation screen shows it too (a key pressed before
    the screen has the new question would answer nothing: seen once on a loaded machine)."""
    p = app.pending.get(app.current_run)
    key = p.get("key") if isinstance(p, dict) and p.get("kind") == "question" else None
    shown = getattr(app.screen, "pending", None)
    return key if isinstance(shown, dict) and shown.get("key") == key else None


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
        # the answer is read as the interview reads it before the graph resumes: asked again with the
        # reason, and the graph never gets it (its pending question carries no error)
        await wait_for(pilot, lambda: "no file at" in str(conv.query_one("#question-error").render()))
        assert "no file at no-such-file.jsonl" in str(conv.query_one("#question-error").render())
        assert app.pending[app.current_run]["key"] == "examples" and not app.pending[app.current_run]["error"]
        conv.query_one("#answer-input").value = "3"
        await pilot.press("enter")
        # three examples said, none given: where are they? (optional: Enter goes on without them)
        await answer_text(pilot, app, "examples_file", "")
        # the answer shape: guessed from the spec ("as JSON"), confirmed with Enter
        await wait_for(pilot, lambda: pending_key(app) == "output_format")
        assert app.pending[app.current_run]["default"] == "json"
        await pilot.press("enter")
        await answer_text(pilot, app, "prompted_success", "30%")
        await wait_for(pilot, lambda: pending_key(app) == "goals")
        assert list(conv.query_one("#answer-multi").selected) == ["format"]  # offered for a JSON answer
        await pilot.click("#send")
        await wait_for(pilot, lambda: pending_key(app) == "volume")
        spec_md = conv.query_one("#spec-panel").plain
        assert "Extract the city" in spec_md and "Matters most: same shape every time" in spec_md
        assert "Answer: JSON" in spec_md
        await pilot.press("ctrl+g")  # optional: skip
        await answer_text(pilot, app, "constraints", "offline")
        await answer_text(pilot, app, "budget", "")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DecisionScreen", timeout=240)
        await pilot.pause()
        decision = app.screen
        assert decision.decision["approach"] == "fine-tune"
        assert decision.query_one("#rubric").row_count == len(decision.decision["rubric"]) >= 4
        assert any(
            "same shape every time" in r for r in decision.decision["reasons"]
        )  # the goal in plain words
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

        # "change answers": back to the interview in the same session, earlier answers as defaults
        await pilot.press("c")
        await wait_for(pilot, lambda: pending_key(app2) == "spec")
        conv2 = app2.screen
        assert type(conv2).__name__ == "ConversationScreen" and conv2.run_id == run_id
        assert conv2.query_one("#answer-input").value == "Extract the city from a sentence as JSON."
        assert "Enter keeps an earlier answer" in conv2.query("ChatMessage")[0].text
        await pilot.press("enter")  # keep the spec
        await wait_for(pilot, lambda: pending_key(app2) == "problem")
        assert conv2.query_one("#answer-input").value == "It ignores the JSON format"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pending_key(app2) == "knowledge_needed")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pending_key(app2) == "examples")
        assert conv2.query_one("#answer-input").value == "3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pending_key(app2) == "examples_file")
        await pilot.press("enter")  # still none to give
        await wait_for(pilot, lambda: pending_key(app2) == "output_format")
        await pilot.press("enter")  # json, as before
        await wait_for(pilot, lambda: pending_key(app2) == "prompted_success")
        assert conv2.query_one("#answer-input").value == "30%"
        # the cursor at its end: Backspace edits the earlier answer (walk 18 sent "about 90%9%")
        assert conv2.query_one("#answer-input").cursor_position == len("30%")
        conv2.query_one("#answer-input").value = "95%"  # the one answer that changes
        await pilot.press("enter")
        await wait_for(pilot, lambda: pending_key(app2) == "goals")
        assert list(conv2.query_one("#answer-multi").selected) == ["format"]  # the earlier pick
        await pilot.click("#send")
        for key in ("volume", "constraints", "budget"):
            await wait_for(pilot, lambda k=key: pending_key(app2) == k)
            await pilot.press("enter")
        await wait_for(pilot, lambda: type(app2.screen).__name__ == "DecisionScreen", timeout=240)
        await pilot.pause()
        changed = app2.screen.decision
        assert app2.current_run == run_id
        assert changed["approach"] != "fine-tune"  # the base model is right 95% of the time
        assert any("95%" in r["evidence"] for r in changed["rubric"])
        assert conv2.sent[-5:-3] == ["95%", ["format"]] and conv2.sent[-2] == "offline"
        assert conv2.sent[-6] == "json"


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
        conv = app.screen
        streamed: list[tuple[dict, str]] = []  # each stream event, and the model bubble's text after it
        show = conv.show_stream

        def watch(data: dict) -> None:
            show(data)
            bubbles = list(conv.query(".model"))
            streamed.append((data, bubbles[-1]._markdown if bubbles else ""))

        conv.show_stream = watch
        await pilot.press(*"Repeat the requested word.", "enter")
        await answer_text(pilot, app, "problem", "")
        await wait_for(pilot, lambda: pending_key(app) == "knowledge_needed")
        await pilot.press("enter")
        await answer_text(pilot, app, "examples", str(examples))
        await wait_for(pilot, lambda: pending_key(app) == "output_format")
        await pilot.press("enter")  # text (four different words are no label set)
        # free text: must an answer be exactly like yours? one word each: guessed "exactly" (walk 17)
        await wait_for(pilot, lambda: pending_key(app) == "answer_match")
        assert app.pending[app.current_run]["default"] == "exactly"
        assert "exactly like yours" in app.pending[app.current_run]["note"]
        await pilot.press("enter")
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
        assert probe["metric"] == "exact_match"  # measured as the person said an answer counts
        assert decision["rubric"][1]["evidence"].startswith("measured on ")  # by the probe, on their examples
        assert "How well prompting works now" in str(app.screen.query_one("#probe").render())
        assert decision["approach"] in ("prompt", "few-shot")  # 4 examples, no behaviour goals

    # the base model's first answer streamed into the chat, token by token, then got its verdict
    phases = [d["phase"] for d, _ in streamed]
    assert phases[0] == "start" and phases[-1] == "end" and phases.count("delta") >= 2
    assert "cloud" in streamed[0][0]["input"] or "stone" in streamed[0][0]["input"]
    text = "".join(d["text"] for d, _ in streamed if d["phase"] == "delta").strip()
    from agent.artifacts import load_step

    saved = load_step(workspace.run(app.current_run), 0, "probe")
    assert saved["streamed"] and text == saved["rows"][0]["prediction"]
    assert len({shown for _, shown in streamed}) >= 3  # the bubble grew while the model wrote
    final = streamed[-1][1]
    assert text[:20] in final and ("✔ what you expected" in final) == streamed[-1][0]["correct"]
