"""The verdict cannot be fooled: a constant answer never passes, a CI that straddles the bar is
inconclusive (with the rows that would settle it), a test far from the user's examples is flagged."""

from __future__ import annotations

import json

from tools.evals import decide_verdict
from tools.evals._metrics import paired_bootstrap_diff
from tools.evals.distribution import (
    categorical_fields,
    collapsed_fields,
    distribution,
    majority_answer,
)
from tools.evals.verdict import rows_to_settle, verdict_word
from tools.spec import TaskSpec

SIZES = {"type": "string", "enum": ["small", "medium", "large"]}
SPEC = TaskSpec(
    spec="orders",
    output={
        "format": "json",
        "schema": {"type": "object", "properties": {"item": {"type": "string"}, "size": SIZES}},
    },
)


def _sys(kind, mean, ci=None, fmt=1.0):
    return {
        "kind": kind,
        "metrics": {"acc": {"mean": mean, "ci": ci or [mean, mean], "n": 80}},
        "format_rate": fmt,
    }


def test_majority_answer_is_per_field_for_json_and_the_top_label():
    answers = [
        '{"item": "latte", "size": "large"}',
        '{"item": "tea", "size": "large"}',
        '{"item": "latte", "size": "small"}',
    ]
    assert json.loads(majority_answer(answers, SPEC)) == {"item": "latte", "size": "large"}
    lab = TaskSpec(spec="route", output={"format": "label", "labels": ["billing", "shipping"]})
    assert majority_answer(["Billing", "shipping", "billing."], lab) == "billing"
    assert majority_answer([], SPEC) is None


def test_collapse_is_found_only_when_the_references_vary():
    refs = [json.dumps({"item": "tea", "size": s}) for s in ["small", "medium", "large", "small"] * 5]
    fields = categorical_fields(SPEC, refs)
    assert fields == ["size"]  # the schema's enum; free-text `item` with one value is not categorical
    ref = distribution(refs, SPEC, fields)
    const = distribution(['{"item": "tea", "size": "large"}'] * 20, SPEC, fields)
    varied = distribution(refs, SPEC, fields)
    assert collapsed_fields(const, ref) == [
        {"field": "size", "value": "large", "count": 20, "n": 20, "reference_values": 3}
    ]
    assert collapsed_fields(varied, ref) == []
    same = distribution(['{"size": "large"}'] * 20, SPEC, fields)
    assert collapsed_fields(const, same) == []  # the references are constant too: not a collapse


def test_a_collapsed_candidate_fails_even_with_a_higher_score():
    refs = [json.dumps({"size": s}) for s in ["large"] * 12 + ["small"] * 4 + ["medium"] * 4]
    fields = categorical_fields(SPEC, refs)
    dist = {
        "fields": fields,
        "reference": distribution(refs, SPEC, fields),
        "seeds": distribution(refs, SPEC, fields),
        "systems": {"tuned": distribution(['{"size": "large"}'] * 20, SPEC, fields)},
    }
    dist["collapsed"] = {"tuned": collapsed_fields(dist["systems"]["tuned"], dist["reference"])}
    systems = {"prompted": _sys("prompted", 0.4), "tuned": _sys("tuned", 0.6)}
    v = decide_verdict(
        primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, distributions=dist
    )
    assert v["status"] == "fail" and not v["passed"] and v["checks"]["varied_answers"] is False
    assert any("size = large for 20 of 20" in r for r in v["reasons"])


def test_the_trivial_baseline_must_be_beaten():
    systems = {
        "majority answer": _sys("trivial", 0.31),
        "prompted": _sys("prompted", 0.20),
        "tuned": _sys("tuned", 0.31),
    }
    v = decide_verdict(
        primary_metric="acc",
        baseline="majority answer",
        candidate="tuned",
        systems=systems,
        success=type("S", (), {"min_improvement": -0.5})(),
    )
    # within the (lenient) bar of the best baseline, but exactly as good as a constant: refused
    assert v["checks"]["improvement"] is True
    systems["prompted"] = _sys("prompted", 0.35)
    v = decide_verdict(
        primary_metric="acc",
        baseline="prompted",
        candidate="tuned",
        systems=systems,
        success=type("S", (), {"min_improvement": -0.5})(),
    )
    assert v["checks"]["beats_trivial"] is False and v["status"] == "fail"


def test_a_ci_that_straddles_the_bar_is_inconclusive_with_rows_to_settle():
    cand = [1.0, 1.0, 0.0] * 6
    base = [1.0, 0.0, 0.0, 1.0] * 4 + [0.0, 0.0]
    paired = paired_bootstrap_diff(cand, base, seed=0)
    assert paired["ci"][0] < 0.1 * (sum(base) / len(base)) < paired["ci"][1]
    systems = {
        "prompted": _sys("prompted", sum(base) / 18),
        "tuned": _sys("tuned", sum(cand) / 18),
    }
    v = decide_verdict(
        primary_metric="acc",
        baseline="prompted",
        candidate="tuned",
        systems=systems,
        paired=paired,
        n_test=18,
    )
    assert v["status"] == "inconclusive" and not v["passed"] and verdict_word(v) == "INCONCLUSIVE"
    assert v["checks"]["improvement"] is None and v["add_test_rows"] and v["add_test_rows"] > 0
    assert any("more test rows would settle it" in r for r in v["reasons"])
    assert any("can tell differences larger than about ±" in r for r in v["reasons"])
    # the same difference measured on a test 25x larger is no longer ambiguous
    big = paired_bootstrap_diff(cand * 25, base * 25, seed=0)
    v = decide_verdict(
        primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, paired=big, n_test=450
    )
    assert v["status"] == "pass"


def test_rows_to_settle_shrinks_with_a_larger_margin():
    near = rows_to_settle({"mean": 0.05, "ci": [-0.1, 0.2], "n": 20}, 0.0, 20)
    far = rows_to_settle({"mean": 0.12, "ci": [-0.03, 0.27], "n": 20}, 0.0, 20)
    assert near > far > 0
    assert rows_to_settle({"mean": 0.0, "ci": [-0.1, 0.1], "n": 20}, 0.0, 20) is None


def test_a_test_far_from_the_users_examples_is_inconclusive():
    lab = TaskSpec(spec="route", output={"format": "label", "labels": ["a", "b", "c", "d"]})
    refs = ["a"] * 70 + ["b"] * 10
    seeds = ["a", "b", "c", "d"] * 4
    fields = categorical_fields(lab, refs)
    dist = {
        "fields": fields,
        "reference": distribution(refs, lab, fields),
        "seeds": distribution(seeds, lab, fields),
        "systems": {"tuned": distribution(refs, lab, fields)},
        "collapsed": {},
    }
    systems = {"prompted": _sys("prompted", 0.2), "tuned": _sys("tuned", 0.9)}
    v = decide_verdict(
        primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, distributions=dist
    )
    assert v["status"] == "inconclusive" and any("far from your examples" in r for r in v["reasons"])


def test_a_regression_loss_within_noise_is_not_ticked():
    """walk 20 read "✓ regression set: … 2 example(s) regressed" as a tick on a bad result."""
    systems = {"prompted": _sys("prompted", 0.2), "tuned": _sys("tuned", 0.6)}

    def line(regression):
        v = decide_verdict(
            primary_metric="acc",
            baseline="prompted",
            candidate="tuned",
            systems=systems,
            regression=regression,
        )
        return next(r for r in v["reasons"] if "regression set" in r), v["checks"]["regression"]

    noisy = {"n": 5, "delta": -0.2, "delta_ci": [-0.6, 0.1], "regressed_ids": ["a", "b"]}
    assert line(noisy)[0].startswith("· regression set") and line(noisy)[1] is True
    lost = {"n": 5, "delta": -0.4, "delta_ci": [-0.8, -0.1], "regressed_ids": ["a", "b"]}
    assert line(lost)[0].startswith("✗ regression set") and line(lost)[1] is False
    kept = {"n": 5, "delta": 0.0, "delta_ci": [0.0, 0.0], "regressed_ids": []}
    assert line(kept)[0].startswith("✓ regression set")


def test_an_undecided_verdict_reads_the_same_on_home_and_in_the_report():
    from tui.screens.home import VERDICT_UNDECIDED, _verdict

    assert _verdict(False, "inconclusive") == VERDICT_UNDECIDED == "undecided"
    assert _verdict(False, "fail") == "not met" and _verdict(True, "pass") == "PASS" and _verdict(None) == "—"


def test_a_text_answer_from_a_few_words_given_for_everything_is_a_collapse():
    """Walk 22: the tuned model labelled 13 of 14 menu items "gluten"; with no field to count, the verdict only
    said it tied the most common answer. The whole answer is counted when answers use a few words."""
    from tools.evals.run import answer_distributions

    spec = TaskSpec(spec="allergens of a menu item", output={"format": "text"})
    refs = [
        "gluten, dairy",
        "none",
        "gluten",
        "dairy, egg",
        "nuts",
        "gluten, dairy, egg",
        "sesame",
        "none",
    ] * 2
    dist = answer_distributions(
        spec,
        {"tuned": [{"text": "Gluten"}] * 15 + [{"text": "none"}], "prompted": [{"text": r} for r in refs]},
        refs,
        len(refs),
    )
    assert dist["fields"] == [] and list(dist["collapsed"]) == ["tuned"]
    assert dist["collapsed"]["tuned"][0] == {
        "field": "answer",
        "value": "gluten",
        "count": 15,
        "n": 16,
        "reference_values": 7,
    }
    systems = {"prompted": _sys("prompted", 0.2), "tuned": _sys("tuned", 0.25)}
    v = decide_verdict(
        primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, distributions=dist
    )
    assert v["status"] == "fail" and v["checks"]["varied_answers"] is False
    assert any("answer = gluten for 15 of 16" in r for r in v["reasons"])
    # free text is not counted: long answers are not "a few words"
    prose = [f"Step {i}: whisk the {w} slowly until it thickens" for i, w in enumerate("abcdefghijklmnop")]
    assert answer_distributions(spec, {"tuned": [{"text": "ok"}] * 16}, prose, 16) == {"fields": []}


def test_on_a_test_unlike_the_persons_examples_one_answer_for_everything_is_judged_against_theirs():
    """The repairs bench: the teacher answered "plumbing" to 21 of the 26 test requests, the tuned model to
    26 of 26, and the verdict said "✓ answers vary like the references" while it headlined 18 of 26 fully
    right. Where the test is far from the person's examples, a model on one value is judged against theirs;
    the summary says to count on their own held-out examples."""
    from tools.evals.run import answer_distributions
    from tools.evals.summary import plain_summary

    spec = TaskSpec(
        spec="repair request → trade",
        output={"format": "label", "labels": ["plumbing", "locks", "heating", "electrical", "appliance"]},
        examples=[
            {"input": f"request {i}", "output": t}
            for i, t in enumerate(["plumbing", "locks", "heating", "electrical", "appliance"] * 3)
        ],
    )
    refs = ["plumbing"] * 21 + ["locks", "locks", "heating", "electrical", "plumbing"]
    dist = answer_distributions(spec, {"tuned": [{"text": "plumbing"}] * 26}, refs, 26)
    assert dist["collapsed"]["tuned"][0] == {
        "field": "label",
        "value": "plumbing",
        "count": 26,
        "n": 26,
        "reference_values": 5,
        "of": "your examples",
    }
    systems = {"prompted": _sys("prompted", 0.3), "tuned": _sys("tuned", 0.85)}
    v = decide_verdict(
        primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, distributions=dist
    )
    assert v["checks"]["varied_answers"] is False
    assert any("while your examples use 5 values: its answers collapsed" in r for r in v["reasons"])
    report = {
        "primary_metric": "acc",
        "candidate": "tuned",
        "baseline": "prompted",
        "systems": systems,
        "verdict": v,
        "distributions": dist,
        "golden": {"n": 8, "systems": {"tuned": {"correct": 1}, "prompted": {"correct": 3}}},
    }
    said = plain_summary(report)
    assert "learned a shortcut" in said["sentence"]
    assert "the test's expected answers look unlike your examples (most are 'plumbing')" in said["sentence"]
    assert said["own_examples"].startswith("On your own 8 examples that no prompt showed")
    # a test like the examples: the references alone decide, and nothing is said of them
    like = answer_distributions(
        spec, {"tuned": [{"text": "plumbing"}] * 15}, [e.output for e in spec.examples], 15
    )
    assert like["collapsed"]["tuned"][0].get("of") is None
    assert "look unlike your examples" not in plain_summary({**report, "distributions": like})["sentence"]


def test_an_undecided_verdict_reads_in_words_on_the_screens():
    """Walk 24 read "38% lower (it needs to be at least 10% higher) — inconclusive" as a clear loss, and "the 95%
    CI reaches +0.267" as jargon: the screens' words (summary.plain_reason) say the test is too small."""
    from tools.evals.summary import plain_reason

    cand = [1.0] * 5 + [0.0] * 15  # 5 of 20
    base = [1.0] * 8 + [0.0] * 12  # 8 of 20
    systems = {"prompted": _sys("prompted", 0.4, [0.2, 0.6]), "tuned": _sys("tuned", 0.25, [0.1, 0.45])}
    v = decide_verdict(
        primary_metric="acc",
        baseline="prompted",
        candidate="tuned",
        systems=systems,
        paired=paired_bootstrap_diff(cand[::-1], base, seed=0),
        regression={"n": 15, "delta": -0.067, "delta_ci": [-0.3, 0.267], "regressed_ids": ["a", "b"]},
        n_test=20,
    )
    said = [plain_reason(r) for r in v["reasons"]]
    assert v["status"] == "inconclusive", v["reasons"]
    assert any(
        s.endswith("38% lower (it needs to be at least 10% higher) — the test is too small to be sure")
        for s in said
    )
    assert any("the test is too small to tell whether it clears the bar" in s for s in said)
    assert any("2 got worse (maybe by chance; worth a look)" in s for s in said)
    assert not any("CI" in s or "inconclusive" in s for s in said), said


def _golden(n, **correct):
    return {"n": n, "metric": "acc", "systems": {k: {"correct": v} for k, v in correct.items()}}


def test_the_persons_own_held_out_examples_can_refuse_a_pass():
    """A pass on the test is refused when the person's own held-out examples say the candidate is right far
    less often (the parcels bench: a 14-row test written and answered by the same small model) or that the
    baseline is clearly better on them; fewer than 6 of them are not set against the test."""
    systems = {"prompted": _sys("prompted", 0.5), "tuned": _sys("tuned", 0.9)}
    systems["tuned"]["right_share"], systems["prompted"]["right_share"] = 0.8, 0.4

    def judge(golden):
        return decide_verdict(
            primary_metric="acc", baseline="prompted", candidate="tuned", systems=systems, golden=golden
        )

    assert judge(None)["status"] == "pass" and "own_examples" not in judge(None)["checks"]
    agree = judge(_golden(8, tuned=6, prompted=4))
    assert agree["status"] == "pass" and agree["checks"]["own_examples"] is True
    assert agree["reasons"][0] == "✓ your own 8 held-out examples: tuned 6 right, prompted 4 right"
    flattered = judge(_golden(8, tuned=2, prompted=1))  # 25% of theirs against 80% of the test
    assert flattered["status"] == "fail" and flattered["checks"]["own_examples"] is False
    assert "the test flatters it" in flattered["reasons"][0]
    worse = judge(_golden(8, tuned=4, prompted=6))  # within the gap, but the prompt clearly better
    assert worse["status"] == "fail" and "prompted does clearly better on them" in worse["reasons"][0]
    assert judge(_golden(8, tuned=4, prompted=5))["status"] == "pass"  # one example apart: noise
    assert "own_examples" not in judge(_golden(5, tuned=0, prompted=5))["checks"]
    # counted by another metric than the test's (a judge-scored task): only the baseline comparison applies
    other = judge({**_golden(8, tuned=2, prompted=2), "metric": "token_f1"})
    assert other["status"] == "pass"
