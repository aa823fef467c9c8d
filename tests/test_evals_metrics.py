"""Metric unit tests with values computed by hand in the comments."""

from __future__ import annotations

import pytest

from tools.evals import (
    agreement_rate,
    bootstrap_ci,
    cohen_kappa,
    exact_match,
    extract_label,
    format_errors,
    json_field_accuracy,
    json_valid,
    label_accuracy,
    length_stats,
    macro_f1,
    mean_with_ci,
    missing_fields,
    paired_bootstrap_diff,
    primary_metric_for,
    prompt_tokens_per_request,
    regex_match,
    rouge_l,
    schema_conformance,
    score_output,
    token_f1,
    win_rate,
)
from tools.spec import parse_spec_dict


def test_exact_match_normalizes_case_punctuation_articles():
    assert exact_match("The Paris!", "paris") == 1.0
    assert exact_match("  Paris ,  France ", "paris france") == 1.0
    assert exact_match("Paris", "London") == 0.0


def test_token_f1_hand_computed():
    # pred [cat, sat, on, mat], ref [cat, sat] (articles dropped): overlap 2, P=2/4, R=2/2, F1=2*.5*1/1.5=2/3
    assert token_f1("the cat sat on the mat", "a cat sat") == pytest.approx(2 / 3)
    # multiset: pred [a? no] → "dog dog dog" vs "dog": overlap 1, P=1/3, R=1 → F1 = 0.5
    assert token_f1("dog dog dog", "dog") == pytest.approx(0.5)
    assert token_f1("", "") == 1.0
    assert token_f1("x", "") == 0.0


def test_rouge_l_hand_computed():
    # articles count (as in rouge-score): [police, killed, the, gunman] vs [police, kill, the, gunman]:
    # LCS = [police, the, gunman] = 3, P=R=3/4 → F=0.75
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(0.75)
    # pred [b, c, d, e] ref [a, b, c, e]: LCS b c e = 3; P=3/4 R=3/4 → 0.75
    assert rouge_l("b c d e", "x b c e") == pytest.approx(0.75)
    assert rouge_l("same words", "same words") == 1.0


ROUGE_PAIRS = [  # (output, reference)
    ("police killed the gunman", "police kill the gunman"),
    ("The cat sat on the mat.", "A cat was sitting on a mat"),
    ("", "something"),
    ("something", ""),
    ("", ""),
    ("Paris is the capital of France", "the capital of France is Paris"),
    ("It's 3:45 PM, e-mail me at x@y.com", "its 345 pm email me at x y com"),
    ("dog dog dog", "dog"),
    ("New York's mayor, Eric Adams, spoke.", "Mayor Eric Adams of New York spoke"),
    ('{"name": "Anna", "age": 34}', '{"name": "Anna", "city": "Porto", "age": 34}'),
    ("Café au lait in Zürich costs 5.50 CHF", "cafe au lait in zurich costs 5 50 chf"),
    ("東京は日本の首都です", "東京は日本の首都です"),
    ("  leading   and trailing   spaces ", "leading and trailing spaces"),
    ("UPPER lower MiXeD", "upper LOWER mixed"),
    ("the the the", "the"),
    ("a b c d e f g", "g f e d c b a"),
    ("one two three four five six seven eight", "one three five seven"),
    ("tab\tseparated\nlines", "tab separated lines"),
    ("positive", "Positive."),
    ("The quick brown fox jumps over the lazy dog", "A quick brown dog jumps over the lazy fox"),
    ("n/a", "N.A."),
    ("version 2.0.1 released", "released version 2 0 1"),
]


def test_rouge_l_agrees_with_the_rouge_score_package():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for output, reference in ROUGE_PAIRS:
        expected = scorer.score(reference, output)["rougeL"].fmeasure
        assert rouge_l(output, reference) == pytest.approx(expected, abs=1e-12), (output, reference)


def test_labels_extraction_accuracy_and_macro_f1():
    labels = ["positive", "negative", "neutral"]
    assert extract_label("Positive.", labels) == "positive"
    assert extract_label("The sentiment is negative", labels) == "negative"
    assert extract_label("positive or negative", labels) is None  # commits to none
    preds = ["pos", "pos", "neg", None]
    refs = ["pos", "neg", "neg", "neg"]
    assert label_accuracy(preds, refs) == 0.5
    # pos: tp1 fp1 fn0 → F1 = 2/3 ; neg: tp1 fp0 fn2 → F1 = 2/4 = 0.5 ; macro = (2/3 + 1/2)/2 = 7/12
    assert macro_f1(preds, refs) == pytest.approx(7 / 12)


def test_json_validity_fields_and_schema():
    ref = '{"name": "Ada", "age": 36, "tags": ["x", "y"]}'
    assert json_valid('{"a": 1}') == 1.0
    assert json_valid('```json\n{"a": 1}\n```') == 1.0
    assert json_valid('Sure! {"a": 1}') == 0.0  # prose around JSON breaks a json.loads consumer
    assert json_valid("42") == 0.0  # a scalar is not a structured reply
    # 4 leaves: name ✓ (case-insensitive), age ✓ ("36" == 36), tags[0] ✓, tags[1] ✗ → 3/4
    assert json_field_accuracy('{"name": "ada", "age": "36", "tags": ["x", "z"], "extra": 1}', ref) == 0.75
    assert json_field_accuracy("not json", ref) == 0.0
    assert missing_fields('{"name": "Ada"}', ref) == ["age", "tags[0]", "tags[1]"]
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
        "additionalProperties": False,
    }
    assert schema_conformance('{"name": "x"}', schema) == 1.0
    assert schema_conformance('{"name": 3}', schema) == 0.0
    assert schema_conformance('{"name": "x", "other": 1}', schema) == 0.0


def test_regex_format_errors_and_length():
    assert regex_match(" ABC-123 ", r"[A-Z]{3}-\d{3}") == 1.0
    assert regex_match("x ABC-123", r"[A-Z]{3}-\d{3}") == 0.0
    spec = parse_spec_dict(
        {"spec": "classify", "output": {"format": "label", "labels": ["yes", "no"], "max_chars": 5}}
    )
    assert format_errors("yes", spec.output) == []
    assert format_errors("I think yes", spec.output) == [
        "label wrapped in extra text",
        "too long (11 > 5 chars)",
    ]
    assert format_errors("", spec.output) == ["empty reply"]
    stats = length_stats(["ab", "abcd", "abcdef"])
    assert stats["chars_mean"] == 4.0 and stats["chars_median"] == 4.0 and stats["chars_max"] == 6
    assert prompt_tokens_per_request([10, 20, 30]) == 20.0


def test_bootstrap_ci_sanity():
    values = [0, 1] * 50
    lo, hi = bootstrap_ci(values, seed=1)
    assert lo < 0.5 < hi and 0.35 < lo and hi < 0.65
    assert bootstrap_ci(values, seed=1) == (lo, hi)  # seeded → reproducible
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([]) == (None, None)
    m = mean_with_ci([1, 1, 0, None])
    assert m["n"] == 3 and m["mean"] == pytest.approx(2 / 3) and m["ci"][0] <= m["mean"] <= m["ci"][1]
    # more data → narrower interval
    lo2, hi2 = bootstrap_ci([0, 1] * 500, seed=1)
    assert hi2 - lo2 < hi - lo
    diff = paired_bootstrap_diff([1, 1, 1, 1], [0, 0, 0, 0])
    assert diff["mean"] == 1.0 and diff["ci"] == [1.0, 1.0]


def test_win_rate_and_agreement():
    w = win_rate(["win", "win", "loss", "tie"])
    assert (w["wins"], w["losses"], w["ties"], w["n"]) == (2, 1, 1, 4)
    assert w["win_rate"] == pytest.approx(2.5 / 4)
    assert agreement_rate([1, 1, 0, 0], [1, 0, 0, 0]) == 0.75
    # p_o = .75, p_e = (2*1 + 2*3)/16 = .5 → kappa = .25/.5 = .5
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)


def test_primary_metric_by_format_and_score_output():
    assert (
        primary_metric_for(parse_spec_dict({"spec": "x", "output": {"format": "json"}}))
        == "json_field_accuracy"
    )
    assert (
        primary_metric_for(parse_spec_dict({"spec": "x", "output": {"format": "label", "labels": ["a"]}}))
        == "label_accuracy"
    )
    text = parse_spec_dict({"spec": "x"})
    assert primary_metric_for(text) == "judge"
    assert primary_metric_for(text, judge_available=False) == "token_f1"
    explicit = parse_spec_dict({"spec": "x", "success": {"primary_metric": "rouge_l"}})
    assert primary_metric_for(explicit) == "rouge_l"
    js = parse_spec_dict({"spec": "x", "output": {"format": "json", "schema": {"type": "object"}}})
    s = score_output('{"a": 1}', '{"a": 1, "b": 2}', js)
    assert s["json_field_accuracy"] == 0.5 and s["json_valid"] == 1.0 and s["schema_conformance"] == 1.0
    assert s["format_ok"] == 1.0 and s["format_errors"] == []


def test_a_reply_nested_deeper_than_any_task_needs_is_invalid_json_not_a_crash():
    from tools.evals._json import json_valid, parse_json_output, schema_error

    deep = "[" * 100_000 + "]" * 100_000
    assert parse_json_output(deep)[0] is None and "nested more than 100 levels" in parse_json_output(deep)[1]
    assert json_valid(deep) == 0.0 and schema_error(deep, {"type": "object"}) is not None
    assert json_valid('{"a": [[1]]}') == 1.0


def test_a_number_keeps_its_sign_and_decimal_point():
    """Walk 16 (Fahrenheit to whole degrees Celsius): "-12" scored as a match for "12", so a model that dropped
    the sign of every temperature below zero lost nothing, and "always the most common answer" looked 19%
    right. A minus after a letter or digit is still a dash (ranges, dates, times keep their old words)."""
    from tools.evals._match import exact_match, token_f1
    from tools.evals._normalize import normalize_text

    assert exact_match("-12", "12") == 0.0 and exact_match("−12", "-12") == 1.0
    assert exact_match("It is -12.", "-12") == 0.0 and exact_match("-12.", "-12") == 1.0
    assert exact_match("3.5", "35") == 0.0 and exact_match("3.5", "3.5") == 1.0
    assert token_f1("-4 degrees", "4 degrees") == 0.5
    assert normalize_text("2026-12-04 10:30") == "2026 12 04 10 30"  # dashes in a date are no signs
    assert normalize_text("10-12, yes,no") == "10 12 yes no"
    assert normalize_text("The answer: 22.") == "answer 22"
    assert normalize_text("1,000 people, 1,2,3") == "1,000 people 1 2 3"
