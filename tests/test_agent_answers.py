"""Interview answers in a person's own words: one lenient parser per kind (agent/answers.py) used by the
interview, the CLI and the rubric; what cannot be read is asked again with an example, never stored and
never raised — also when an old session's checkpoint replays an answer the old code choked on."""

from __future__ import annotations

import pytest
from langgraph.types import Command
from test_tui_helpers import ANSWERED_CITIES as ANSWERED

from agent.answers import (
    parse_change,
    parse_count,
    parse_goals,
    parse_money,
    parse_output_format,
    parse_rate,
    parse_yes_no,
)
from agent.rubric import Answers, decide
from tools.errors import ConfigError, UserError


@pytest.mark.parametrize(
    "text, value",
    [
        ("$5", 5.0),
        ("5 USD", 5.0),
        ("five dollars", 5.0),
        ("not much, free if possible", 0.0),  # the walk
        ("€10", 10.0),
        ("about 20 bucks", 20.0),
        ("5-10 dollars", 10.0),  # a range: its upper end is the cap
        ("a few hundred", 300.0),
        ("", None),
        ("no limit", None),
        ("0", 0.0),
    ],
)
def test_money(text, value):
    assert parse_money(text) == value


@pytest.mark.parametrize("text", ["no idea", "lots", "unknown"])
def test_money_that_cannot_be_read_says_what_to_type(text):
    with pytest.raises(UserError) as e:
        parse_money(text)
    assert "5" in (e.value.fix or "") and "blank" in (e.value.fix or "")


@pytest.mark.parametrize(
    "text, value",
    [
        ("~70%", 0.7),
        ("70", 0.7),
        ("0.7", 0.7),
        ("7/10", 0.7),
        ("7 out of 10", 0.7),
        # walk 18 typed this and the rubric was told 9%
        ("A friend tried ChatGPT, mostly right, maybe 9 times out of 10", 0.9),
        ("nine in ten", 0.9),
        ("right about 60% of the time", 0.6),
        ("about half the time", 0.5),
        ("no idea", None),
        ("unknown", None),
        ("", None),
    ],
)
def test_rate(text, value):
    assert parse_rate(text) == value


@pytest.mark.parametrize(
    "text, per_day, value",
    [
        ("maybe 200 a day", True, 200),
        ("a few hundred", True, 300),
        ("2k", True, 2000),
        ("1,200", True, 1200),
        ("10 an hour", True, 240),
        ("no idea", True, 0),
        ("about 50", False, 50),
        ("twenty five", False, 25),
        ("none", False, 0),
        ("8 I can type in, plus a spreadsheet with 43 more", False, 51),  # walk 20: read as 8
        ("20 and 30 more", False, 50),
        ("maybe 20 and a spreadsheet", False, 20),
        ("one or two a day", True, 2),  # walk 29 was read as 1
        ("two to three hundred", False, 250),
    ],
)
def test_counts(text, per_day, value):
    assert parse_count(text, per_day=per_day) == value


def test_choices_goals_and_shapes_in_plain_words():
    assert parse_yes_no("yeah") is True and parse_yes_no("nope") is False
    assert parse_change("prices change every week") == "often"
    assert parse_change("the menu changes each season") == "rarely"
    assert parse_change("no idea") == "rarely"
    assert parse_goals("fast and cheap") == ["latency", "cost"]
    assert parse_goals("Same shape every time (e.g. valid JSON), 7") == ["format", "accuracy"]
    assert parse_goals("no idea") == []
    assert parse_output_format("a JSON object") == "json"
    assert parse_output_format("one of a few categories") == "label"
    for bad, parse in (("perhaps", parse_yes_no), ("maybe", parse_change), ("purple", parse_goals)):
        with pytest.raises(UserError):
            parse(bad)


def test_the_rubric_reads_answers_with_the_same_parsers():
    a = Answers.from_dict(
        {
            "spec": "Answer questions about our cafe",
            "examples": "a few hundred",
            "prompted_success": "~70%",
            "goals": "fast and cheap",
            "volume": "maybe 200 a day",
            "knowledge_changes": "weekly",
        }
    )
    assert (a.examples, a.prompted_success, a.goals, a.volume) == (300, 0.7, ["latency", "cost"], 200)
    assert a.knowledge_changes == "often"
    with pytest.raises(ConfigError) as e:
        Answers.from_dict({"spec": "x", "volume": "loads"})
    assert "volume" in str(e.value) and e.value.fix


def test_no_examples_recommends_a_better_prompt_and_how_many_to_collect():
    d = decide(Answers(spec="Answer questions about our cafe", examples=0, prompted_success=0.6))
    assert d.approach == "prompt"  # not few-shot: there is nothing to show
    text = " ".join(d.reasons)
    assert "no examples" in text and "clearer prompt" in text and "Collect about 20" in text
    # with examples on hand the few-shot advice stands
    assert decide(Answers(spec="x", examples=12, prompted_success=0.6)).approach == "few-shot"


# ------------------------------------------------------------------ the interview node


def session_at(workspace, answers: dict, *, run_id: str = "answers-run", output=None) -> str:
    """A real session (SQLite checkpoint) waiting on the first question `answers` leaves open."""
    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state
    from tools.spec import TaskSpec

    spec = TaskSpec(name="cities", spec=ANSWERED["spec"])
    run = create_run_for(workspace, spec, run_id=run_id)
    state = initial_state(run.id, spec, headless=False)
    state["answers"] = dict(answers)
    state["task"]["output"] = output or {"format": "json"}
    out = drive(workspace, run.id, state, AgentContext(workspace))
    assert out["interrupt"]["kind"] == "question"
    return run.id


def old_interview(monkeypatch):
    """The interview node as it was before lenient answers, at its last open question: `float(raw)` on the
    budget answer, raising ValueError out of the node (LangGraph keeps the answer and the error)."""
    from langgraph.types import interrupt

    import agent.graph

    def interview(state, runtime):
        raw = interrupt({"kind": "question", "key": "budget", "question": "Budget?", "input": "number"})
        return {"task": {**state["task"], "budget": float(raw) if raw not in (None, "") else None}}

    monkeypatch.setattr(agent.graph, "interview", interview)


def test_a_bad_answer_is_asked_again_and_never_stored(workspace):
    from agent.context import AgentContext
    from agent.runner import drive, session_state

    run_id = session_at(workspace, ANSWERED)
    ctx = AgentContext(workspace)
    out = drive(workspace, run_id, Command(resume="lots of money"), ctx)
    q = out["interrupt"]
    assert q["key"] == "budget" and "could not read an amount" in q["error"] and "5" in q["error"]
    assert session_state(workspace, run_id)["values"]["task"].get("budget") is None
    out = drive(workspace, run_id, Command(resume="five dollars"), ctx)
    assert out["interrupt"]["kind"] == "decision"
    assert out["values"]["task"]["budget"] == 5.0


def test_an_old_checkpoint_replaying_an_unreadable_answer_asks_again(workspace, monkeypatch):
    """The node re-runs from its first line on resume and LangGraph replays every answer it got: a value
    the old code raised on is read leniently now, or asked again — never a crash, never a dead end."""
    from agent.context import AgentContext
    from agent.runner import drive
    from agent.sessions import list_sessions

    run_id = session_at(workspace, ANSWERED)
    ctx = AgentContext(workspace)
    with monkeypatch.context() as m:
        old_interview(m)
        with pytest.raises(ValueError, match="could not convert"):
            drive(workspace, run_id, Command(resume="lots"), ctx)
    row = list_sessions(workspace)[0]
    assert row["error_node"] == "interview" and "could not convert" in row["error"]
    out = drive(workspace, run_id, None, ctx)  # what Home's Enter does for a failed interview
    assert out["interrupt"]["key"] == "budget" and "lots" in out["interrupt"]["error"]
    assert list_sessions(workspace)[0]["error"] is None  # asked again: waiting, no longer stopped
    out = drive(workspace, run_id, Command(resume="$5"), ctx)
    assert out["interrupt"]["kind"] == "decision" and out["values"]["task"]["budget"] == 5.0


def test_stored_answers_are_read_values_offered_back_as_typed(workspace):
    from agent.context import AgentContext
    from agent.runner import drive

    answers = {k: v for k, v in ANSWERED.items() if k not in ("prompted_success", "goals", "volume")}
    run_id = session_at(workspace, answers)
    ctx = AgentContext(workspace)
    out = drive(workspace, run_id, Command(resume="~70%"), ctx)
    assert out["interrupt"]["key"] == "goals"
    assert out["interrupt"]["spec_so_far"]["answers"]["prompted_success"] == 0.7
    # the preselected goal says it is a guess, and the choices come in plain words
    q = out["interrupt"]
    assert q["default"] == ["format"] and "ticked" in q["note"] and "JSON" in q["note"]
    assert q["choice_labels"][q["choices"].index("format")].startswith("Same shape every time")
    out = drive(workspace, run_id, Command(resume="fast and cheap"), ctx)
    out = drive(workspace, run_id, Command(resume="maybe 200 a day"), ctx)
    assert out["interrupt"]["spec_so_far"]["answers"]["goals"] == ["latency", "cost"]
    assert out["interrupt"]["spec_so_far"]["answers"]["volume"] == 200

    from agent.nodes.interview import _default

    assert _default("prompted_success", {"prompted_success": 0.7}, {}, {}) == "70%"


def test_the_guessed_answer_shape_says_why(workspace):
    import json

    from agent.nodes.interview import guess_note

    people = [{"input": f"{n} lives in Porto.", "output": json.dumps({"name": n})} for n in ("Ana", "Rui")]
    fmt, note = guess_note("Extract names", people)
    assert fmt == "json" and note.startswith(
        "Your 2 examples are all JSON objects, so I'll treat answers as JSON"
    )
    assert "Enter to keep" in note
    tickets = [{"input": str(i), "output": lab} for i, lab in enumerate(["urgent", "low", "urgent", "low"])]
    assert guess_note("x", tickets)[1].startswith(
        "Your 4 examples use only 2 different answers (low, urgent)"
    )


def test_not_knowing_how_many_examples_is_asked_again_not_taken_as_none():
    """The walk's "idk" to the examples question became 0 examples and flipped the advice to "a better
    prompt"; it is asked again (the answer never reaches the checkpoint), a number or a file is taken."""
    from agent.interrupts import question
    from agent.nodes.interview import check_answer

    payload = question("examples", "How many examples do you have?", input="text")
    said = check_answer(payload, "idk")
    assert said is not None and "written down somewhere" in said and "0 if none" in said
    assert check_answer(payload, "0") is None and check_answer(payload, "about 20") is None


def test_money_to_a_count_question_is_asked_again():
    """The walk: "$5" to "how many requests a day?" became "Requests a day: 5"."""
    from agent.interrupts import question
    from agent.nodes.interview import check_answer

    for bad in ("$5", "5 USD", "about 20 dollars"):
        with pytest.raises(UserError, match="looks like an amount of money"):
            parse_count(bad, per_day=True)
    payload = question("volume", "How many requests a day?", input="text")
    said = check_answer(payload, "$5")
    assert said is not None and "money" in said
    assert check_answer(payload, "about 500 a day") is None


def test_must_an_answer_be_exactly_like_yours_is_read_and_sets_how_answers_are_scored():
    """Walk 17 (a bakery's kitchen tickets): "THURSDAY AM" for "THU PM" counted as right because most words
    matched. Free-text answers now come with the question; its guess follows the person's answers."""
    from agent.answers import parse_match
    from agent.nodes.interview import guess_match, parse_answer
    from agent.questions import QUESTIONS, applicable
    from tools.errors import UserError

    for raw, want in [
        ("exactly", "exactly"),
        ("exactly like mine", "exactly"),
        ("1", "exactly"),
        ("other words", "other words"),
        ("other words are fine", "other words"),
        ("2", "other words"),
    ]:
        assert parse_match(raw) == want
    with pytest.raises(UserError):
        parse_match("banana")
    task: dict = {}
    parse_answer("answer_match", "exactly", {}, task)
    assert task["success"]["primary_metric"] == "exact_match"
    parse_answer("answer_match", "other words", {}, task)
    assert task["success"]["primary_metric"] == "token_f1"
    tickets = [{"input": "m", "output": "SAT AM | 2x sourdough loaf, 12x cinnamon bun | Maria"}] * 3
    replies = [{"input": "m", "output": "Thanks for writing! We open at nine on Sundays."}] * 3
    assert guess_match(tickets)[0] == "exactly" and guess_match(replies)[0] == "other words"
    headlines = [{"input": "m", "output": "Zipto Recalls 4,000 Scooters Over Faulty Brakes"}] * 3
    codes = [{"input": "m", "output": o} for o in ("22", "-4", "mens-oak-board", "2026-12-04 10:30")]
    assert guess_match(headlines)[0] == "other words" and guess_match(codes)[0] == "exactly"
    phones = [{"input": "m", "output": o} for o in ("+44 7241 592066", "+44 7257 976335", "none")]
    assert guess_match(phones)[0] == "exactly"  # walk 20: a number with one wrong digit is wrong
    # walk 22: allergens chosen from seven words; a label missing one of them is wrong
    allergens = [
        "gluten, dairy, egg, fish",
        "none",
        "gluten, dairy, nuts",
        "sesame",
        "gluten, egg",
        "nuts, soy",
    ]
    assert guess_match([{"input": "m", "output": o} for o in allergens])[0] == "exactly"
    five_headlines = [
        "Zipto Recalls 4,000 Scooters Over Faulty Brakes",
        "Marrowby Opens New Public Swimming Pool",
        "Westfold Cuts Monthly Bus Pass Price",
        "Oakhollow Delays New Library Until Spring",
        "Ravensholt Council Approves Tree Plan",
    ]
    assert guess_match([{"input": "m", "output": o} for o in five_headlines])[0] == "other words"
    q = next(q for q in QUESTIONS if q.key == "answer_match")
    assert applicable(q, {}, {"output": {"format": "text"}})
    assert not applicable(q, {}, {"output": {"format": "json"}})
    assert not applicable(q, {}, {"output": {"format": "text"}, "success": {"primary_metric": "rouge_l"}})
    # "change answers" asks it again, the earlier answer offered (it could not be changed before); a metric
    # the task file chose is not the question's to change
    from agent.nodes.interview import _default

    chosen = {"output": {"format": "text"}, "success": {"primary_metric": "exact_match"}, "examples": replies}
    assert not applicable(q, {}, chosen) and applicable(q, {}, chosen, again=True)
    assert _default("answer_match", {"spec": "x"}, {}, chosen) == "exactly"  # not the guess from the replies
    assert _default("answer_match", {}, {}, chosen) == "other words"  # the first time: the guess
    filed = {"output": {"format": "text"}, "success": {"primary_metric": "rouge_l"}}
    assert not applicable(q, {}, filed, again=True)


def test_the_spec_panel_says_when_an_answer_counts_as_right():
    from tui.widgets.chat.spec_panel import spec_lines

    text = {"spec": "x", "output": {"format": "text"}, "answers": {}}
    assert ("Right when", "exactly like yours") in spec_lines(
        text | {"success": {"primary_metric": "exact_match"}}
    )[1]
    assert ("Right when", "most words match") in spec_lines(
        text | {"success": {"primary_metric": "token_f1"}}
    )[1]
    assert not any(k == "Right when" for k, _ in spec_lines(text)[1])


def test_a_conversation_measures_the_model_here_even_when_the_person_gave_a_figure():
    """Walk 18 said a friend's ChatGPT was right 9 times in 10, with 12 examples on hand: the question
    promises "tunewise will measure it on your examples", and the figure was about another model."""
    from agent.probe import apply_probe, measure_anyway
    from agent.rubric import Answers, _prompted_evidence

    said = Answers(spec="sort messages", examples=12, prompted_success=0.9)
    assert measure_anyway(said, 12, headless=False)
    assert not measure_anyway(said, 12, headless=True)  # a task file's figure is the author's to give
    assert not measure_anyway(said, 3, headless=False)  # too few to measure
    assert not measure_anyway(Answers(spec="x", examples=12), 12, headless=False)  # measured anyway then
    probe = {"measured": True, "prompted_success": 1 / 3, "metric": "label_accuracy", "n_test": 6}
    assert apply_probe(said, probe, prefer_measured=True)["said"] == 0.9  # theirs, said beside it
    assert said.prompted_success == 1 / 3
    assert _prompted_evidence(1 / 3, probe | {"said": 0.9}) == (
        "measured on your examples: 33% right (you said about 90% with the chatbot you tried)"
    )
