"""plain_summary: the evaluation in one sentence and one recommendation, the same everywhere it is shown."""

from __future__ import annotations

import pytest

from tools.evals.summary import (
    METRIC_HELP,
    plain_reason,
    plain_summary,
    system_phrase,
    system_rows,
    task_noun,
)

CAFE = "Turn a cafe order into JSON with size, milk and drink."


def _rows(cand_right: int, base_right: int, n: int = 10, metric: str = "json_field_accuracy") -> list[dict]:
    """n test rows; the tuned model is fully right on the first `cand_right`, the prompt on `base_right`;
    the other rows are partly right (0.67), which must not count as right."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": f"t-{i}",
                "split": "test",
                "input": f"a large oat latte please #{i}",
                "reference": '{"size": "large", "milk": "oat", "drink": "latte"}',
                "outputs": {
                    "tuned-v1": {"text": "…", "metrics": {metric: 1.0 if i < cand_right else 0.67}},
                    "prompted": {"text": "…", "metrics": {metric: 1.0 if i < base_right else 0.67}},
                    "majority answer": {"text": "…", "metrics": {metric: 0.33}},
                },
            }
        )
    rows.append({"id": "r-1", "split": "regression", "outputs": {"tuned-v1": {"metrics": {metric: 0.0}}}})
    return rows


def _report(
    *,
    status: str,
    cand: float,
    base: float,
    checks: dict,
    reasons: tuple = (),
    add_rows: int | None = None,
    collapsed: list | None = None,
    inconclusive: tuple = (),
    metric: str = "json_field_accuracy",
) -> dict:
    def system(kind, mean, tokens, **extra):
        return {
            "kind": kind,
            "metrics": {metric: {"mean": mean, "ci": [mean - 0.1, mean + 0.1], "n": 10}},
            "format_rate": 1.0,
            "prompt_tokens_mean": tokens,
            **extra,
        }

    return {
        "task": {"spec": CAFE, "format": "json"},
        "primary_metric": metric,
        "n_test": 10,
        "candidate": "tuned-v1",
        "baseline": "prompted",
        "systems": {
            "majority answer": system("trivial", 0.33, 0),
            "prompted": system("prompted", base, 350, config={"few_shot": [{}] * 6}),
            "tuned-v1": system(
                "tuned",
                cand,
                70,
                adapter="/home/ann/cafe/.tunewise/runs/cafe-orders-2026-05-01/train/v1/adapter",
                config={"model": None},
            ),
        },
        "verdict": {
            "status": status,
            "passed": status == "pass",
            "checks": checks,
            "reasons": list(reasons),
            "inconclusive": list(inconclusive),
            "add_test_rows": add_rows,
        },
        "distributions": {"fields": ["size"], "collapsed": {"tuned-v1": collapsed} if collapsed else {}},
    }


def test_pass_counts_fully_right_rows_and_serves_with_the_full_command():
    rep = _report(
        status="pass",
        cand=0.93,
        base=0.9,
        checks={"improvement": True, "beats_trivial": True, "format_rate": True, "varied_answers": True},
    )
    s = plain_summary(rep, _rows(8, 7))
    assert s["status"] == "pass" and s["kind"] == "serve"
    assert s["sentence"].startswith(
        "The tuned model got 8 of 10 orders fully right; your prompt with 6 examples got 7."
    )
    assert "5× shorter prompt" in s["sentence"]
    assert s["recommendation"].startswith("Serve it")
    assert s["serve_command"] == (
        "tunewise serve --adapter .tunewise/runs/cafe-orders-2026-05-01/train/v1/adapter"
    )


def test_a_pass_that_is_still_mostly_wrong_says_so():
    """The sizes bench: a prompt right on 15 of 60 passed its verdict (+25% over the others, which got none)
    and was called "good enough: it meets your goal"."""
    checks = {"improvement": True, "beats_trivial": True, "format_rate": True}
    rep = _report(status="pass", cand=0.3, base=0.0, checks=checks, metric="exact_match")
    s = plain_summary(rep)
    assert s["status"] == "pass" and "good enough: it meets" not in s["sentence"]
    assert "wrong on 7 of 10: not good enough to use without a person checking each answer" in s["sentence"]
    assert s["recommendation"].startswith("Serve it only where a person checks every answer.")
    rep["candidate"], rep["baseline"] = "prompted", "majority answer"
    rep["systems"]["prompted"]["metrics"]["exact_match"]["mean"] = 0.3
    s = plain_summary(rep)
    assert s["kind"] == "use" and s["recommendation"].startswith(
        "Use your prompt with 6 examples only where a person checks every answer. To make it right more often"
    )
    # judged and failed on its format: the advice is to train a model, not to train "again"
    rep["verdict"] |= {"status": "fail", "passed": False, "checks": {"format_rate": False}}
    rep["systems"]["prompted"]["format_rate"] = 0.63
    rep["systems"]["majority answer"]["metrics"]["exact_match"]["mean"] = 0.0
    s = plain_summary(rep)
    assert "wrong on 7 of 10, and only 63%" in s["sentence"] and "again" not in s["recommendation"]
    assert (
        s["recommendation"].startswith("To do better: collect")
        and "train a model on them" in s["recommendation"]
    )
    rep["verdict"] |= {"status": "pass", "passed": True, "checks": checks}
    # right often enough: said as before
    rep["systems"]["prompted"]["metrics"]["exact_match"]["mean"] = 0.9
    assert "It is good enough: it meets your goal" in plain_summary(rep)["sentence"]


def test_a_model_mostly_wrong_hears_that_before_a_format_rate_near_the_bar():
    """The sizes bench's own examples: 5 of 16 right, 94% in the right format (the bar 95%), the improvement
    undecided — "It is not ready: only 94% of its answers have the right format" led."""
    rep = _report(
        status="fail",
        cand=0.3,
        base=0.1,
        checks={"improvement": None, "format_rate": False},
        metric="exact_match",
    )
    rep["systems"]["tuned-v1"]["format_rate"] = 0.94
    s = plain_summary(rep)
    assert (
        "It is not ready: it is wrong on 7 of 10, and only 94% of its answers have the right format."
        in s["sentence"]
    )
    assert s["recommendation"].startswith("Give it more and better data") and s["kind"] == "more_data"
    rep["systems"]["tuned-v1"]["metrics"]["exact_match"]["mean"] = 0.9  # mostly right: the format is the news
    assert "It is not ready: only 94% of its answers have the right format." in plain_summary(rep)["sentence"]


def test_an_undecided_test_does_not_ask_for_more_rows_when_a_constant_answer_does_as_well():
    """Walk 19's model: 12 of 60 where always "none" got 14 — "add about 460 test rows" cannot make it better."""
    rep = _report(status="inconclusive", cand=0.2, base=0.1, checks={"improvement": None}, add_rows=460)
    rep["baseline"] = "majority answer"
    rep["systems"]["majority answer"]["metrics"]["json_field_accuracy"]["mean"] = 0.25
    s = plain_summary(rep)
    assert "does no better than always giving the most common practice answer" in s["sentence"]
    assert "460" not in s["sentence"] + s["recommendation"] and s["kind"] == "more_data"
    rep["systems"]["tuned-v1"]["metrics"]["json_field_accuracy"]["mean"] = 0.3  # above it: the test decides
    assert "add about 460 test rows" in plain_summary(rep)["sentence"]


def test_an_undecided_test_where_the_tuned_model_did_worse_says_so_and_what_to_use():
    """Walk 20: the tuned model got 3 of 14 where the prompt got 5, and heard "the test is too small to tell:
    add about 14 test rows"; the prompt itself was wrong on 9 of 14 and nothing said so."""
    rep = _report(status="inconclusive", cand=0.21, base=0.36, checks={"improvement": None}, add_rows=14)
    s = plain_summary(rep, _rows(3, 5))
    assert s["kind"] == "more_data" and "14 test rows" not in s["sentence"] + s["recommendation"]
    assert s["sentence"].endswith(
        "It is not better: it did worse than your prompt with 6 examples here (the test is too small to say "
        "by how much)."
    )
    assert s["recommendation"].endswith(
        "Until then, keep using your prompt with 6 examples (it was wrong on 5 of 10 here too: have a person "
        "check its answers)."
    )


def test_fail_with_the_prompt_better_recommends_keeping_the_prompt():
    rep = _report(
        status="fail",
        cand=0.8,
        base=0.86,
        checks={"improvement": False, "beats_trivial": True, "format_rate": True},
    )
    s = plain_summary(rep, _rows(6, 7), n_train=120)
    assert s["status"] == "fail" and s["kind"] == "keep_prompt"
    assert s["sentence"] == (
        "The tuned model got 6 of 10 orders fully right; your prompt with 6 examples got 7. "
        "It is not better yet: your prompt with 6 examples still does better."
    )
    # right on 7 of 10: kept for now, and said to be wrong often (under the 80% a prompt is kept for)
    assert s["recommendation"].startswith(
        "Keep using your prompt with 6 examples for now (it was wrong on 3 of 10 here too: have a person check "
        "its answers)."
    )
    assert "about 120 more examples" in s["recommendation"] and "bigger model" in s["recommendation"]
    assert s["serve_command"] is None and "Serve" not in s["recommendation"]
    # walk 22's café: told to keep using a prompt right on 1 of 14 allergen labels — below half right,
    # nothing is worth using even with a person checking
    poor = plain_summary(rep, _rows(0, 1), n_train=120)["recommendation"]
    assert poor.startswith(
        "Keep doing it the way you do now: nothing tested here was right often enough to use, even with a "
        "person checking (the best, your prompt with 6 examples, was right on only 1 of 10). To make a tuned "
        "model worth it, collect about 120 more examples"
    )


def test_fail_better_but_not_enough_asks_for_more_data():
    rep = _report(
        status="fail",
        cand=0.9,
        base=0.86,
        checks={"improvement": False, "beats_trivial": True},
        reasons=("✗ json_field_accuracy: tuned-v1 … → +4.7% relative (need ≥ +10%)",),
    )
    s = plain_summary(rep, _rows(8, 7))
    assert "It is better, but not by enough yet (your goal is 10% better)." in s["sentence"]
    assert s["kind"] == "more_data" and "bigger model" in s["recommendation"]


def test_inconclusive_asks_for_test_rows():
    rep = _report(status="inconclusive", cand=0.9, base=0.86, checks={"improvement": None}, add_rows=37)
    s = plain_summary(rep, _rows(8, 7))
    assert s["status"] == "inconclusive" and s["kind"] == "more_test_rows"
    assert s["sentence"].endswith(
        "The test is too small to tell: add about 37 test rows (or your own examples)."
    )
    assert s["recommendation"] == "Add about 37 test rows (or your own examples) and evaluate again."


def test_collapsed_answers_say_it_learned_a_shortcut():
    collapsed = [{"field": "size", "value": "medium", "count": 19, "n": 20, "reference_values": 3}]
    rep = _report(
        status="fail",
        cand=0.9,
        base=0.6,
        checks={"improvement": True, "varied_answers": False},
        collapsed=collapsed,
    )
    s = plain_summary(rep, _rows(8, 4))
    assert (
        "The tuned model gives the same size for almost every order, so it learned a shortcut"
        in s["sentence"]
    )
    assert s["kind"] == "more_data" and "bigger model" in s["recommendation"]
    # a text answer from a few words says which answer it gives (walk 22's "gluten" for every menu item)
    collapsed = [{"field": "answer", "value": "gluten", "count": 13, "n": 14, "reference_values": 9}]
    rep = _report(status="fail", cand=0.9, base=0.6, checks={"varied_answers": False}, collapsed=collapsed)
    s = plain_summary(rep, _rows(8, 4))
    assert (
        "gives the same answer, “gluten”, for almost every order, so it learned a shortcut" in s["sentence"]
    )


def test_answers_mostly_in_the_wrong_shape_lead_with_the_format_and_say_what_to_use_for_now():
    """The walk's tuned model answered in free text (0% right format): the screen said it gave 'the same label
    for every example, so it learned a shortcut' and never said what to use instead."""
    from tools.evals.distribution import collapsed_fields

    free_text = {"label": {"∅": 9}}  # no answer was one of the labels
    assert collapsed_fields(free_text, {"label": {"booking": 3, "complaint": 3, "quote": 3}}) == []
    rep = _report(
        status="fail",
        cand=0.0,
        base=0.22,
        checks={"improvement": False, "beats_trivial": False, "format_rate": False, "varied_answers": True},
    )
    rep["systems"]["tuned-v1"]["format_rate"] = 0.0
    rep["systems"]["majority answer"]["metrics"]["json_field_accuracy"]["mean"] = 0.1
    s = plain_summary(rep, _rows(0, 2))
    assert s["sentence"].endswith("It is not ready: only 0% of its answers have the right format.")
    assert "shortcut" not in s["sentence"]
    # walk 22: right on 2 of 10, the prompt is no help even with a person checking: keep doing it by hand
    assert s["recommendation"].endswith(
        "Until then, keep doing it the way you do now: nothing tested here was right often enough to use, even "
        "with a person checking (the best, your prompt with 6 examples, was right on only 2 of 10)."
    )
    # walk 8: the prompt to keep using did no better than the constant answer either: the advice says so
    rep["systems"]["majority answer"]["metrics"]["json_field_accuracy"]["mean"] = 0.4
    s = plain_summary(rep, _rows(0, 6))
    assert s["recommendation"].endswith(
        "Until then, keep using your prompt with 6 examples, though on this test it did no better than always "
        "giving the most common practice answer either."
    )


def test_word_overlap_metrics_are_a_percentage_and_no_candidate_says_train():
    rep = _report(status="fail", cand=0.62, base=0.55, checks={"improvement": False}, metric="token_f1")
    s = plain_summary(rep, _rows(0, 0, metric="token_f1"))
    assert s["sentence"].startswith(
        "The tuned model matched the expected answers about 62% word for word; your prompt with 6 "
        "examples about 55%."
    )
    rep["candidate"] = None
    assert plain_summary(rep)["kind"] == "train"


def test_without_rows_a_binary_metric_still_counts():
    rep = _report(status="fail", cand=0.7, base=0.8, checks={"improvement": False}, metric="exact_match")
    assert plain_summary(rep)["sentence"].startswith("The tuned model got 7 of 10 orders fully right;")


def test_tables_and_reasons_are_plain():
    rep = _report(status="pass", cand=0.93, base=0.9, checks={"improvement": True})
    table = system_rows(rep, _rows(8, 7))
    assert [r["label"] for r in table] == [
        "tuned model",
        "your prompt (6 examples)",
        "always the same answer",
    ]
    # walk 25 read "most common answer 3/20" as impossible: the constant is named, and where it comes from
    rep["systems"]["majority answer"]["notes"] = ["always answers the most common training answer: order"]
    assert system_rows(rep, _rows(8, 7))[2]["label"] == "always “order”"
    assert (
        system_phrase("majority answer", rep) == "always answering “order” (the most common practice answer)"
    )
    assert table[0]["score"]["cell"] == "8/10" and table[0]["prompt_tokens"] == "70"
    assert plain_reason("· forgetting: needs a judge (run without --no-judge)") == (
        "· general skills: not checked (it needs a judge model)"
    )
    assert "--" not in plain_reason("· regression set: not run (no regression.jsonl)")
    # the newcomer walk's reasons: code names read as the screen says them
    said = plain_reason(
        "✗ json_field_accuracy: tuned v1 0.528 [0.31, 0.72] vs best baseline base few-shot 0.750 [0.64, 0.86]"
    )
    assert (
        said.startswith("✗ field accuracy: the tuned model v1 0.528")
        and "the best alternative your prompt" in said
    )
    assert "set-aside" in plain_reason(
        "· on your own 4 held-out examples: tuned v1 1 right, base few-shot 1 right"
    )
    # walk 8: "label_accuracy … -57.1% relative" in the evaluation's details
    said = plain_reason(
        "✗ label_accuracy: tuned v1 0.214 [0.07, 0.43] vs best baseline base few-shot 0.500 [0.25, 0.75] "
        "→ -57.1% relative (need ≥ +10%)"
    )
    assert said.startswith("✗ label accuracy: the tuned model v1 0.214")
    assert said.endswith("→ 57% lower (it needs to be at least 10% higher)")
    assert plain_reason("token_f1: tuned v1 0.30 vs best baseline base zero-shot 0.02 → +28.0% absolute") == (
        "word overlap: the tuned model v1 0.30 vs the best alternative the model with no prompt 0.02 → 28 points "
        "higher"
    )
    for name in ("json_field_accuracy", "exact_match", "token_f1", "label_accuracy", "judge", "format_rate"):
        assert METRIC_HELP[name] and "\n" not in METRIC_HELP[name]


@pytest.mark.parametrize(
    ("spec", "noun"),
    [
        ("Extract the person's name, city and age from a sentence as a JSON object.", "sentences"),
        (CAFE, "orders"),
        ("Classify support tickets by urgency.", "tickets"),
        ("Write a haiku.", "test examples"),
        # the walk: "13 of 34 patients fully right" — the rows are messages
        (
            "Sort messages from my dental clinic's patients into one of four kinds: book or cancel.",
            "messages",
        ),
    ],
)
def test_the_task_noun(spec, noun):
    assert task_noun({"task": {"spec": spec}})[0] == noun


@pytest.mark.parametrize("status", ["fail", "pass"])
def test_the_cli_table_fits_80_columns_and_leads_with_the_sentence(workspace, monkeypatch, capsys, status):
    import json

    from eval_fixture import write_cafe_eval

    from tui.cli.eval_cmd import print_report

    monkeypatch.setenv("COLUMNS", "80")
    workspace.create_run("cafe", run_id="cafe-orders")
    d = write_cafe_eval(workspace, "cafe-orders", status=status)
    report = json.loads((d / "report.json").read_text())
    print_report(report)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("The tuned model got")
    table = [ln for ln in lines if ln.startswith(("┃", "│"))]
    assert "fully right" in table[0] and "right format" in table[0] and "prompt tokens" in table[0]
    assert "│ tuned model " in table[1] and "★" not in table[1] and "…" not in "".join(table)  # no cell cut
    assert all(len(ln) <= 80 for ln in table)
    assert "json_field_accuracy ★" not in out  # the metric names and CIs only under --all
    if status == "pass":
        assert "  tunewise serve --adapter .tunewise/runs/cafe-orders/train/v1/adapter" in out  # whole
    else:
        assert "tunewise serve" not in out and "Keep using your prompt with 6 examples" in out
    print_report(report, show_all=True)
    full = capsys.readouterr().out
    assert "json_field_accuracy ★" in full and "95% CI" in full and "tuned-v1 (candidate)" in full
    assert all(len(ln) <= 80 for ln in full.splitlines() if ln.startswith(("┃", "│")))


def test_report_md_says_the_same_before_the_verdict_and_explains_every_column(workspace):
    import json

    from eval_fixture import write_cafe_eval

    from tools.evals.report import render_markdown
    from tools.workspace import read_jsonl

    workspace.create_run("cafe", run_id="cafe-orders")
    d = write_cafe_eval(workspace, "cafe-orders", status="fail")
    report = json.loads((d / "report.json").read_text())
    rows = list(read_jsonl(d / "outputs.jsonl"))
    md = render_markdown(report, rows)
    plain = plain_summary(report, rows)
    assert md.index(f"**{plain['sentence']}**") < md.index("## Verdict: FAIL")
    assert f"**What to do:** {plain['recommendation']}" in md
    for name in ("json_field_accuracy", "exact_match", "format_ok"):
        assert f"- {METRIC_HELP[name]}" in md
    assert '**Expected answer:** {"drink": "latte"' in md


def test_the_persons_own_held_out_examples_are_said_in_words():
    rep = _report(status="fail", cand=0.8, base=0.86, checks={"improvement": False})
    assert plain_summary(rep)["own_examples"] is None
    rep["golden"] = {
        "n": 12,
        "metric": "json_field_accuracy",
        "systems": {"tuned-v1": {"mean": 0.8, "correct": 9}, "prompted": {"mean": 0.9, "correct": 10}},
    }
    assert plain_summary(rep)["own_examples"] == (
        "On your own 12 examples that no prompt showed, the tuned model got 9 right and your prompt with "
        "6 examples 10."
    )


def test_a_tuned_model_level_with_the_constant_answer_hears_that_first():
    """The walk's dental evaluation: tuned 13 of 34 = always the most common answer 13 of 34, the improvement
    check inconclusive and one regression-set example worse; the sentence led with the regression. Being no
    better than a constant answer is what a person must hear first."""

    def system(kind: str, mean: float) -> dict:
        return {
            "kind": kind,
            "metrics": {"label_accuracy": {"mean": mean, "ci": [mean - 0.1, mean + 0.1], "n": 34}},
        }

    rep = {
        "task": {"spec": "Sort messages from my dental clinic's patients into book, cancel or question."},
        "primary_metric": "label_accuracy",
        "candidate": "tuned v1",
        "baseline": "majority answer",
        "systems": {
            "majority answer": system("trivial", 13 / 34),
            "base few-shot": system("prompted", 8 / 34),
            "tuned v1": system("tuned", 13 / 34),
        },
        "regression": {"n": 14, "regressed_ids": ["r1"]},
        "verdict": {
            "status": "fail",
            "checks": {"improvement": None, "varied_answers": True, "format_rate": True, "regression": False},
        },
    }
    plain = plain_summary(rep)
    assert plain["sentence"].endswith(
        "It is not better yet: it does no better than always giving the most common practice answer."
    )
    assert "13 of 34 messages" in plain["sentence"] and plain["kind"] == "more_data"
    # a tuned model above the constant answer hears about the regressed example, in words
    rep["systems"]["tuned v1"] = system("tuned", 20 / 34)
    said = plain_summary(rep)["sentence"]
    assert "it gets 1 example wrong that always giving the most common practice answer got right" in said


def test_a_prompt_nobody_wrote_is_not_called_yours():
    """The walk: "'your prompt' — I never wrote a prompt". Without a system prompt in the task, the prompted
    system is the task's description and the person's examples, and is said that way."""

    rep = _report(
        status="fail",
        cand=0.8,
        base=0.86,
        checks={"improvement": False, "beats_trivial": True, "format_rate": True},
    )
    rep["systems"]["prompted"]["config"]["own_instructions"] = False
    s = plain_summary(rep, _rows(6, 7), n_train=120)
    assert "your prompt" not in s["sentence"] + s["recommendation"]
    assert "a prompt with 6 of your examples got 7" in s["sentence"]
    assert system_phrase("prompted", rep, short=True) == "prompt + 6 examples"
    rep["systems"]["prompted"]["config"]["own_instructions"] = True
    assert system_phrase("prompted", rep) == "your prompt with 6 examples"


def test_the_prompted_system_knows_whether_the_person_wrote_its_instructions():
    from tools.evals.systems import prompted_system
    from tools.spec import parse_spec_dict

    base = {"spec": "Sort clinic messages into book, cancel or question.", "examples": []}
    assert prompted_system(parse_spec_dict(base)).own_instructions is False
    mine = prompted_system(parse_spec_dict(base | {"system_prompt": "You sort messages. Answer one word."}))
    assert mine.own_instructions is True and mine.to_dict()["own_instructions"] is True


def test_advice_never_sends_private_data_to_a_bigger_model():
    """The walk's clinic said patient data stays on its computer and was then told to let a bigger model
    (an OpenAI or Anthropic key) write examples. With privacy among the answers, the advice does not."""
    from tools.spec import is_private, parse_spec_dict

    assert (
        is_private(["privacy"], []) and is_private([], ["Offline"]) and not is_private(["cost"], ["cloud ok"])
    )
    spec = parse_spec_dict({"spec": "Sort clinic voicemails", "answers": {"goals": ["format", "privacy"]}})
    assert spec.private and not parse_spec_dict({"spec": "Sort clinic voicemails"}).private
    checks = {"improvement": False, "beats_trivial": True, "format_rate": True}
    open_rep = _report(status="fail", cand=0.8, base=0.86, checks=checks)
    private_rep = _report(status="fail", cand=0.8, base=0.86, checks=checks)
    private_rep["task"]["private"] = True
    assert "bigger model" in plain_summary(open_rep, _rows(6, 7), n_train=120)["recommendation"]
    said = plain_summary(private_rep, _rows(6, 7), n_train=120)["recommendation"]
    assert "bigger model" not in said and "about 120 more examples" in said


def test_a_constraint_typed_as_text_keeps_the_data_private():
    """Walk 16: the interview kept "offline" as typed, and the spec read the string letter by letter: the
    report of a run whose data must stay here advised letting a hosted model write the examples."""
    from tools.spec import is_private, parse_spec_dict

    assert is_private([], "offline") and is_private([], "on-prem only, no cloud")
    assert is_private("privacy", None) and is_private([], ["must stay local"])
    assert not is_private([], "cloud ok") and not is_private([], None) and not is_private(None, "")
    spec = parse_spec_dict({"spec": "x", "answers": {"spec": "x", "constraints": "offline"}})
    assert spec.private


def test_answers_with_a_number_not_in_the_message_are_counted_after_the_sentence():
    """Walk 20: the prompt it advised keeping gave another patient's number for a form with none, and the
    tuned model moved digits; nothing said so."""
    rep = _report(status="fail", cand=0.3, base=0.5, checks={"improvement": False}, metric="exact_match")
    forms = [(f"call me on 07700 90012{i}", f"+44 7700 90012{i}") for i in range(8)]
    forms += [("no phone, email only please", "none"), ("I'll ring you", "none")]
    tuned = [ref for _, ref in forms]
    tuned[0] = "+44 7700 901200"  # digits moved
    prompt = [ref for _, ref in forms]
    prompt[8] = prompt[9] = "+44 7241 592066"  # a number from nowhere, twice
    rows = [
        {
            "id": f"t-{i}",
            "split": "test",
            "input": text,
            "reference": ref,
            "outputs": {
                "tuned-v1": {"text": tuned[i], "metrics": {"exact_match": float(tuned[i] == ref)}},
                "prompted": {"text": prompt[i], "metrics": {"exact_match": float(prompt[i] == ref)}},
            },
        }
        for i, (text, ref) in enumerate(forms)
    ]
    s = plain_summary(rep, rows)
    assert s["sentence"].endswith(
        "Careful: answers with a number that is not in the message — the tuned model 1 of 10, your prompt "
        "with 6 examples 2 of 10; check every number before it is used."
    )
    rep["baseline"] = "majority answer"  # a constant answer's number is in no message, and nobody uses it
    for r in rows:
        r["outputs"]["majority answer"] = {"text": "+44 7700 900120", "metrics": {"exact_match": 0.0}}
    assert "the tuned model 1 of 10; check" in plain_summary(rep, rows)["sentence"]
    for r in rows:  # the expected answers do not copy digits (a computed answer): nothing is counted
        r["reference"] = "2027-01-04"
    assert "Careful" not in plain_summary(rep, rows)["sentence"]


def test_when_nothing_is_usable_the_advice_says_to_keep_doing_it_by_hand():
    """Session 20's walk: the tuned model, the prompt and the constant answer each right on 1 of 14, and the
    advice was only "give it more and better data"."""
    rep = _report(status="fail", cand=0.4, base=0.4, checks={"improvement": False, "beats_trivial": True})
    rec = plain_summary(rep, _rows(1, 1))["recommendation"]
    assert rec.endswith(
        "Until then, keep doing it the way you do now: nothing tested here was right often enough to use, even "
        "with a person checking (the best, the tuned model, was right on only 1 of 10)."
    )


def test_an_undecided_test_between_two_unusable_systems_says_to_keep_doing_it_by_hand():
    """Walk 25: the tuned model and the prompt 8 of 20 each, and the advice was "add about 1301 test rows" — no
    test size makes either usable, and round 1 had said to keep doing it by hand."""
    rep = _report(status="inconclusive", cand=0.4, base=0.4, checks={"improvement": None}, add_rows=1301)
    s = plain_summary(rep, _rows(4, 4))
    assert "neither is right often enough to use" in s["sentence"] and "1301" not in s["recommendation"]
    assert s["recommendation"].startswith("Keep doing it the way you do now")
    # one of them usable: the test size is what is missing
    rep = _report(status="inconclusive", cand=0.6, base=0.5, checks={"improvement": None}, add_rows=40)
    assert "add about 40 test rows" in plain_summary(rep, _rows(6, 5))["sentence"]


def test_own_examples_far_below_the_test_decide_and_are_said():
    """The parcels bench: the prompt got 12 of 16 of a test written and answered by the same small model, and
    1 of the person's own 8; on the private test 12 of 60. The summary said "keep using your prompt". Own
    examples far below the test (and at least 6 of them) are said beside the result, and decide whether
    anything is usable."""
    report = _report(
        status="fail", cand=0.6, base=0.8, checks={"improvement": False}, reasons=("✗ json_field_accuracy",)
    )
    rows = _rows(6, 8)
    report["golden"] = {"n": 8, "systems": {"tuned-v1": {"correct": 1}, "prompted": {"correct": 1}}}
    said = plain_summary(report, rows)
    assert (
        "Careful: on your own 8 examples that no prompt showed, the tuned model got 1 right and your prompt "
        "with 6 examples 1 — far fewer than on the test (6 and 8 of 10)."
    ) in said["sentence"]
    assert "keep doing it the way you do now" in said["recommendation"].lower()
    assert "right on only 1 of your own 8" in said["recommendation"]
    # own examples in line with the test: nothing said, and the test's counts decide
    report["golden"] = {"n": 8, "systems": {"tuned-v1": {"correct": 5}, "prompted": {"correct": 6}}}
    said = plain_summary(report, rows)
    assert "far fewer than on the test" not in said["sentence"]
    assert "right on only" not in said["recommendation"]
    # too few own examples to set against the test
    report["golden"] = {"n": 4, "systems": {"tuned-v1": {"correct": 0}, "prompted": {"correct": 0}}}
    assert "far fewer" not in plain_summary(report, rows)["sentence"]


def test_a_pass_on_the_test_that_the_persons_own_examples_contradict_is_not_ready():
    """The parcels bench's round 2 passed on a 14-row test the small model wrote and answered while the
    person's own held-out examples (and the 60-row private test) said it was wrong most of the time: the
    verdict's own-examples check fails it, and the sentence says why without repeating a "Careful"."""
    report = _report(status="fail", cand=0.9, base=0.6, checks={"improvement": True, "own_examples": False})
    report["golden"] = {"n": 8, "systems": {"tuned-v1": {"correct": 1}, "prompted": {"correct": 1}}}
    said = plain_summary(report, _rows(9, 6))
    assert (
        "It is not ready: on your own 8 examples that no prompt showed, the tuned model got 1 right"
        in (said["sentence"])
    )
    assert (
        said["sentence"].count("far fewer than on the test") == 1
        and "Careful: on your own" not in said["sentence"]
    )
    assert said["kind"] == "more_data" and "collect" in said["recommendation"]
    # the prompt clearly better on the person's own examples, the test flattering neither
    report["golden"] = {"n": 8, "systems": {"tuned-v1": {"correct": 3}, "prompted": {"correct": 6}}}
    said = plain_summary(report, _rows(7, 6))
    assert (
        "It is not better on your own examples: of the 8 that no prompt showed, the tuned model got 3 right "
        "and your prompt with 6 examples 6."
    ) in said["sentence"]
    assert said["kind"] == "keep_prompt" and said["recommendation"].startswith("Keep using your prompt")
