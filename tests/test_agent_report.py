"""The run's final report (agent/nodes/report.py) leads with the same plain sentence as every other view,
always says why it stopped, and never tells anyone to serve a model that did not pass."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from eval_fixture import SPEC, write_cafe_eval


def _finish(workspace, status: str, stop_reason: str | None):
    from agent.nodes.report import report

    run = workspace.create_run("cafe", run_id="cafe-run")
    write_cafe_eval(workspace, run.id, status=status)
    (run.path / "export" / "adapter").mkdir(parents=True)  # exported before: the "use it" section applies
    state = {
        "run_id": run.id,
        "task": {"spec": SPEC},
        "approach": "fine-tune",
        "decision": {"reasons": ["the format has to be exact and cheap"]},
        "stop_reason": stop_reason,
        "eval_version": "v1",
        "history": [],
        "artifacts": {},
    }
    ctx = SimpleNamespace(run=lambda _id: run, quick=True)
    out = report(state, SimpleNamespace(context=ctx))
    return run, out, (run.path / "report.md").read_text()


@pytest.mark.parametrize("stop_reason", [None, "done"])
def test_a_failed_run_says_why_it_stopped_and_what_to_do_never_serve(workspace, stop_reason):
    run, out, text = _finish(workspace, "fail", stop_reason)
    lines = text.splitlines()
    assert lines[4].startswith(
        "**The tuned model got 6 of 10 orders fully right; your prompt with 6 examples"
    )
    assert "**What to do:** Keep using your prompt with 6 examples for now (it was wrong on" in text
    # the walk was told to keep using a prompt and found no way to get it: it is in the report and prompt.md
    assert "## The prompt to use for now" in text and "## Example 1" in text
    assert (run.path / "prompt.md").read_text().startswith("# Prompt for: ")
    assert out["artifacts"]["prompt"].endswith("prompt.md")
    assert "**Stopped because:** the run finished its steps before the criteria were met" in text
    assert "tunewise serve" not in text and "Serve" not in text and "## Not ready to serve" in text
    assert "| tuned model | 6/10 | 100% | 71 |" in text
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["summary"]["plain"]["kind"] == "keep_prompt"
    assert "before the criteria were met" in out["log"][0]


def test_a_passing_run_serves_it(workspace):
    _, _, text = _finish(workspace, "pass", "success")
    assert "**Stopped because:** the success criteria were met" in text
    assert "## Use it" in text and "tunewise serve --adapter" in text


def test_a_prompt_decision_reports_how_the_prompt_did_in_plain_words():
    """The walk ended a few-shot session on 'Stopped because: approach:few-shot' and no measured quality."""
    from agent.nodes.report import STOP_REASONS, prompt_plain

    best = {"shots": 2, "accuracy": 0.8, "correct": 4, "n_held_out": 5}
    plain = prompt_plain({"best": best})
    assert plain["sentence"] == (
        "With your instructions and 2 of your examples in its prompt, the model you start from got 4 of 5 of "
        "your other examples fully right. No model was trained."
    )
    # a metric with part credit says what its average counts (walk 26 read "9 of 15 … (80% on average)")
    parts = prompt_plain({"best": {**best, "correct": 3}, "metric": "json_field_accuracy"})
    assert (
        "got 3 of 5 of your other examples fully right (80% of the fields right on average)."
        in parts["sentence"]
    )
    assert plain["recommendation"].startswith("Use this prompt")
    assert (
        "`tunewise serve --prompt runs/x` answers other programs"
        in prompt_plain({"best": best}, "runs/x")["recommendation"]
    )
    weak = prompt_plain({"best": best | {"correct": 3, "accuracy": 0.6}})
    # walk 28: "use this prompt for now, but check its answers" at 8 of 15 — checking can cost what writing does
    assert weak["recommendation"].startswith(
        "It is wrong too often to use unchecked (wrong on 2 of 5). If checking an answer is quicker for you "
        "than writing it, use this prompt for now"
    )
    assert "if not, carry on as you do now" in weak["recommendation"]
    # (not the words of the by-hand advice: the report then keeps the prompt as one to use, with checking)
    from tools.evals.summary import advises_by_hand

    assert not advises_by_hand(weak["recommendation"])
    assert "Collect about 50 examples" in weak["recommendation"]
    # the advice's first count beside this one, when they differ (walk 28: "6 of 12" there, "8 of 15" here)
    first = {"right": 6, "n": 12, "shots": 6}
    said = prompt_plain({"best": best | {"correct": 3, "accuracy": 0.6}, "first_check": first})["sentence"]
    assert "(The advice's first check, with 6 other examples shown, got 6 of 12:" in said
    assert "this count is the one to go by.)" in said
    same = prompt_plain({"best": best, "first_check": {"right": 4, "n": 5, "shots": 2}})["sentence"]
    assert "first check" not in same
    poor = prompt_plain({"best": best | {"correct": 1, "accuracy": 0.2}})["recommendation"]
    assert poor.startswith(
        "Keep doing it the way you do now: this prompt was right on only 1 of your other 5"
    )
    assert "Collect about 50 examples" in poor
    # walk 22b had 53 examples (27 answered) and was told "collect about 50 examples"
    many = prompt_plain({"best": best | {"correct": 2, "accuracy": 0.07, "n_held_out": 27}})["recommendation"]
    assert "Collect about 50 more examples (you have about 54)" in many
    assert prompt_plain({"best": {"shots": 0, "accuracy": None}}) is None
    assert "nothing to train" in STOP_REASONS["approach:few-shot"]


class _ClinicClerk:
    """A control student (fixed answers per message, so the count is known): it moves digits, makes up a
    number for a form with none, and copies one right."""

    ANSWERS = {
        "tel 07173-824-025": "+44 7173 824302",  # digits moved
        "will ring tomorrow": "+44 7700 900123",  # a number from nowhere
        "mob 07433 930094": "+44 7433 930094",  # right
        "call 07618 761393": "none",  # wrong, but no number in it
    }

    def __new__(cls):
        from tools.llm.base import Provider
        from tools.llm.types import RawResult

        class Clerk(Provider):
            name = "clerk"

            async def _agenerate(self, messages, params, json_schema):
                text = cls.ANSWERS.get(messages[-1]["content"], "none")
                return RawResult(text, 20, 5)

        return Clerk("clerk")


def test_the_prompt_path_counts_answers_with_a_number_not_in_the_message(tmp_path):
    """Walk 21's prompt answered "5521 1GB" for an email with no tracking number, and only an evaluation
    counted such answers; the prompt path's sentence counts them too."""
    from agent.nodes.branches import select_prompt
    from agent.nodes.report import prompt_plain
    from tools.spec import parse_spec_dict

    own = [
        ("mobile: 07241 592066", "+44 7241 592066"),
        ("text 07257-976-335", "+44 7257 976335"),
        ("07296531908 thanks", "+44 7296 531908"),
        ("0044 7082426416 please", "+44 7082 426416"),
    ]
    spec = parse_spec_dict(
        {
            "spec": "Rewrite the mobile number as +44 7xxx xxxxxx",
            "examples": [{"input": q, "output": a} for q, a in own]
            + [
                {"input": "tel 07173-824-025", "output": "+44 7173 824025"},
                {"input": "will ring tomorrow", "output": "none"},
                {"input": "mob 07433 930094", "output": "+44 7433 930094"},
                {"input": "call 07618 761393", "output": "+44 7618 761393"},
            ],
            "output": {"format": "text"},
            "success": {"primary_metric": "exact_match"},
        }
    )
    result = select_prompt(spec, _ClinicClerk(), shot_counts=(0,))
    best = result["best"]
    assert (best["n_held_out"], best["correct"], best["numbers_not_in_message"]) == (4, 1, 2)
    sentence = prompt_plain(result)["sentence"]
    assert sentence.endswith(
        "No model was trained. Careful: answers with a number that is not in the message — this prompt 2 of 4; "
        "check every number before it is used."
    )
    # a task whose answers do not copy digits from the message counts nothing
    assert "Careful" not in prompt_plain({"best": best | {"numbers_not_in_message": 0}})["sentence"]


def test_a_headless_prompt_run_ends_on_how_the_prompt_did_and_how_to_use_it(workspace):
    """`tunewise run` on a prompt's advice printed 'Verdict: none' and the prompt file: now the branch's own
    result in words and the command that serves the prompt."""
    from rich.console import Console

    from agent.artifacts import save_step
    from tui.cli.agent_cmd import _finish

    run = workspace.create_run("caps", run_id="caps-prompt")
    save_step(run, 0, "prompt", {"best": {"shots": 2, "accuracy": 1.0, "correct": 3, "n_held_out": 3}})
    con = Console(record=True, width=200)
    values = {"stop_reason": "approach:prompt", "approach": "prompt", "artifacts": {}}
    doc, _ = _finish(con, workspace, run.id, {"values": values, "interrupt": None, "next": ()})
    out = con.export_text()
    assert "got 3 of 3 of your other examples fully right" in out
    assert f"tunewise serve --prompt {run.id}" in out and doc["stop_reason"] == "approach:prompt"


def test_every_stop_reason_has_words_in_the_report_and_on_home():
    """The state's list of stop reasons is the one the report and Home word (it had fallen behind them)."""
    from typing import get_args

    from agent.nodes.report import STOP_REASONS
    from agent.state import StopReason
    from tui.screens.home import STOP_SHORT

    assert set(STOP_REASONS) == set(STOP_SHORT) == set(get_args(StopReason))


def test_the_report_says_what_data_the_model_was_trained_on(workspace):
    from agent.artifacts import save_step
    from agent.nodes.report import data_lines

    run = workspace.create_run("cafe", run_id="cafe-data")
    assert data_lines(run, 1) == []  # no data step: nothing to say
    save_step(
        run,
        1,
        "generate",
        {
            "teacher": 120,
            "augmented": 30,
            "rejected_inputs": {
                "unlike the seed inputs (similarity 0.12 < 0.23)": 10,
                "unlike the seed inputs (similarity 0.20 < 0.23)": 6,
                "about the task": 9,
            },
        },
    )
    coverage = [
        {"field": "size", "value": "small", "planned": 50, "kept": 25, "short": False},
        {"field": "size", "value": "medium", "planned": 50, "kept": 13, "short": True},
    ]
    save_step(
        run,
        1,
        "critique",
        {
            "kept": 68,
            "generated": 150,
            "judged": False,
            "dropped_by": {"incorrect": 77, "inconsistent": 16},
            "coverage": coverage,
        },
    )
    text = "\n".join(data_lines(run, 1))
    assert (
        "The teacher wrote 120 answered inputs; 25 more were set aside before answering "
        "(16 unlike the seed inputs; 9 about the task); 30 exact examples were made from yours" in text
    )
    assert (
        "Checks dropped 93 of 150 answers (77 wrong; 16 not the same when asked again); 68 examples were kept"
        in text
    )
    assert "| size | medium | 50 | 13 (short) |" in text
    # a short value topped up by the teacher, and one none of the person's examples shows
    save_step(
        run,
        4,
        "generate",
        {"teacher": 120},
    )
    save_step(
        run,
        4,
        "critique",
        {
            "kept": 70,
            "generated": 120,
            "judged": False,
            "topped_up": [
                {"field": "label", "value": "technical", "short_by": 5, "asked": 10, "kept": 4},
                {
                    "field": "category",
                    "value": "software",
                    "short_by": 6,
                    "asked": 0,
                    "kept": 0,
                    "unseen": True,
                },
                {"field": "service", "value": "bath", "short_by": 10, "asked": 0, "kept": 0, "gave_up": 40},
            ],
        },
    )
    told = "\n".join(data_lines(run, 4))
    # the writer kept none of 40 written for the values before it: none written for this one (the groomer bench)
    assert "of the 40 the teacher wrote for the values before it, none held up" in told
    assert (
        "Too few examples of technical held up, so the teacher wrote 10 more for it alone; 4 held up." in told
    )
    assert "None of your examples has category software" in told
    assert "Add an example or two of category software and run again." in told
    save_step(run, 2, "generate", {"teacher": 120})
    save_step(run, 2, "critique", {"kept": 90, "generated": 120, "judged": False, "relabelled": 61})
    assert "90 examples were kept, 61 of them with the label of your most similar examples" in "\n".join(
        data_lines(run, 2)
    )
    # a field the teacher answered one way for every input (the expense bench: category "lodging")
    save_step(run, 3, "generate", {"teacher": 120})
    save_step(
        run,
        3,
        "critique",
        {
            "kept": 61,
            "generated": 120,
            "judged": False,
            "collapsed": {
                "category": {"value": "lodging", "from_examples": 40, "dropped": 18},
                "currency": {"value": "EUR", "from_examples": 0, "dropped": 40},
            },
            "dropped_by": {"untrusted_field": 58, "format": 1},
        },
    )
    said = "\n".join(data_lines(run, 3))
    assert (
        "the teacher gave category 'lodging' to nearly every input, so it was not trusted: 40 took the "
        "category of your most similar examples, 18 that the input's own words do not settle were dropped"
    ) in said
    assert "currency 'EUR' to nearly every input, so it was not trusted: 40 that the input's own" in said


def test_the_prompts_probe_score_is_said_as_a_person_counts_it(workspace):
    """Walk 9 read "a prompt with your examples got only 32% right" where it got 0 of 8 fully right and
    its answers shared 32% of the expected words."""
    from agent.artifacts import save_step
    from agent.nodes.report import _probe_words

    run = workspace.create_run("office", run_id="office-probe")
    probe = {"measured": True, "metric": "token_f1", "correct_share": 0.0, "n_test": 8}
    save_step(run, 0, "probe", probe | {"prompted_success": 0.32})
    # an answer counts from most of its words matching: "close", not "fully right" (walk 17's "THURSDAY AM"
    # for "THU PM" read "✔ right" under "6 of 6 fully right")
    assert _probe_words(run) == "got 0 of 8 close to what you expected (32% of the words matching on average)"
    from tui.screens.decision import probe_text

    close = probe | {"correct_share": 1.0, "n_test": 6, "n_shots": 6, "prompted_success": 0.84}
    row = {"input": "Thursday evening, 1 rye", "prediction": "THURSDAY AM | 1x rye loaf", "correct": True}
    text = probe_text(close, row | {"reference": "THU PM | 1x rye loaf", "value": 0.83})
    assert "got 6 of 6 close to what you expected" in text and "fully right" not in text
    assert "(≈ close: 83% of the words match)" in text and "✔" not in text
    assert "(✔ right)" in probe_text(close, row | {"reference": row["prediction"], "value": 1.0})
    save_step(
        run, 0, "probe", probe | {"metric": "label_accuracy", "correct_share": 0.25, "prompted_success": 0.25}
    )
    assert _probe_words(run) == "got 2 of 8 fully right"
    save_step(run, 0, "probe", probe | {"prompted_success": 0.8})
    assert _probe_words(run) is None  # did better than half: not said as a failure


def test_too_few_says_where_the_examples_to_learn_from_came_from(workspace):
    """Walk 9 read "Only 7 examples held up to learn from (29 of the 80 written for you passed the checks;
    you rejected 28 of them)" having given 14 examples, and could not tell where the 7 came from."""
    from agent.artifacts import save_step
    from agent.nodes.report import too_few_plain
    from tools.data.schema import make_row
    from tools.workspace import atomic_write_jsonl

    run = workspace.create_run("office", run_id="office-few")
    train = [make_row(f"mine {i}", "ok", source="seed") for i in range(6)] + [make_row("written", "ok")]
    d = run.version_dir("data", "v1")
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_jsonl(d / "train.jsonl", train)
    save_step(run, 1, "critique", {"kept": 29, "generated": 80})
    save_step(run, 1, "split", {"data_version": "v1", "counts": {"train": 7, "golden": 8}})
    save_step(
        run,
        1,
        "review",
        {"mode": "person", "decisions": [{"id": f"r{i}", "action": "reject"} for i in range(28)]},
    )
    task = {"spec": "Work orders.", "examples": [{"input": f"m{i}", "output": "o"} for i in range(14)]}
    said = too_few_plain(run, {"run_id": run.id, "iteration": 1, "task": task})["sentence"]
    assert said.startswith(
        "Only 7 examples held up to learn from: 6 of your 14 (the other 8 are kept aside to test with) and 1 of "
        "the 80 written for you (29 passed the checks; you rejected 28 of them). Too few to train"
    ), said


def test_a_model_trained_on_the_persons_own_examples_says_so_in_the_data_section(workspace):
    """Walk 22 read "The teacher wrote 0 answered inputs" and "Checks dropped 0 of 53 answers; 57 examples
    were kept" about a model trained on the café's own 53 examples."""
    from agent.artifacts import save_step
    from agent.nodes.report import data_lines

    run = workspace.create_run("cafe", run_id="cafe-own")
    save_step(run, 1, "generate", {"n": 53, "teacher": 0, "augmented": 0, "own": 53, "targeted": False})
    save_step(run, 1, "critique", {"kept": 57, "generated": 53, "own": 53, "judged": False})
    text = "\n".join(data_lines(run, 1))
    assert (
        "Nothing was written by a model: the model trained on your own 53 examples as you wrote them (some kept "
        "back to test it), with 4 general questions and their answers mixed in" in text
    )
    assert "teacher" not in text and "Checks dropped" not in text
