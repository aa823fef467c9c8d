"""Pure decision code: verdict, failure analysis, judge agreement, compare, Promptfoo export."""

from __future__ import annotations

import json

import yaml

from tools.evals import analyze_failures, compare_evals, decide_verdict, export_promptfoo
from tools.evals.agreement import review_agreement, review_label, reviewed_items
from tools.evals.systems import SystemSpec, choose_few_shot, prompted_system
from tools.evals.verdict import relative_improvement
from tools.spec import parse_spec_dict
from tools.workspace import atomic_write_json, atomic_write_jsonl

JSON_SPEC = parse_spec_dict(
    {
        "spec": "Extract name and age as JSON.",
        "output": {"format": "json", "schema": {"type": "object", "required": ["name", "age"]}},
    }
)


def _sys(kind, mean, fmt=1.0, lo=None, hi=None):
    return {
        "kind": kind,
        "metrics": {"json_field_accuracy": {"mean": mean, "ci": [lo or mean, hi or mean], "n": 10}},
        "format_rate": fmt,
        "prompt_tokens_mean": 10,
    }


def test_a_regression_set_loss_within_noise_does_not_fail_the_verdict():
    """The demo: one of 26 regression examples a little worse (−0.013, paired CI up to 0) failed a run whose
    tuned model tied the few-shot prompt with a 7.6× shorter prompt. A loss fails when its CI is below zero."""
    systems = {"base": _sys("base", 0.2), "prompted": _sys("prompted", 0.5), "tuned-v1": _sys("tuned", 0.6)}

    def verdict(regression):
        return decide_verdict(
            primary_metric="json_field_accuracy",
            baseline="prompted",
            candidate="tuned-v1",
            systems=systems,
            success=JSON_SPEC.success,
            regression=regression,
        )

    noise = verdict({"n": 26, "delta": -0.013, "delta_ci": [-0.038, 0.0], "regressed_ids": ["r1"]})
    assert noise["checks"]["regression"] is True
    line = next(r for r in noise["reasons"] if "regression set" in r)
    # "·", not "✓": walk 20 read a tick beside "2 example(s) regressed" as a good result
    assert line.startswith("·") and "within noise" in line and "1 example(s) regressed" in line
    real = verdict({"n": 26, "delta": -0.2, "delta_ci": [-0.31, -0.1], "regressed_ids": ["r1", "r2", "r3"]})
    assert real["checks"]["regression"] is False and real["passed"] is False


def test_verdict_pass_and_each_failure_reason():
    systems = {"base": _sys("base", 0.2), "prompted": _sys("prompted", 0.5), "tuned-v1": _sys("tuned", 0.6)}
    ok = decide_verdict(
        primary_metric="json_field_accuracy",
        baseline="prompted",
        candidate="tuned-v1",
        systems=systems,
        success=JSON_SPEC.success,
        regression={"n": 3, "delta": 0.0, "regressed_ids": []},
        forgetting={"n": 5, "score_drop": 0.1, "significant": False, "losses": 1},
    )
    assert ok["passed"] is True and ok["improvement"] == 0.6 / 0.5 - 1
    assert ok["reasons"][0].startswith("✓ json_field_accuracy")
    small = decide_verdict(
        primary_metric="json_field_accuracy",
        baseline="prompted",
        candidate="tuned-v1",
        systems={**systems, "tuned-v1": _sys("tuned", 0.52, fmt=0.9)},
        success=JSON_SPEC.success,
        regression={"n": 2, "delta": -0.5, "regressed_ids": ["r1"]},
        forgetting={"n": 5, "score_drop": 1.2, "significant": True, "losses": 4},
    )
    assert small["passed"] is False
    assert [k for k, v in small["checks"].items() if v is False] == [
        "improvement",
        "format_rate",
        "regression",
        "forgetting",
    ]
    assert any("1 example(s) regressed" in r for r in small["reasons"])
    none = decide_verdict(primary_metric="x", baseline="base", candidate=None, systems=systems)
    assert none["passed"] is False
    assert relative_improvement(0.3, 0.0) == 0.3  # from zero: absolute gain, not infinite


def _out_row(i, text, ref, split="test", **extra):
    from tools.evals import score_output

    m = score_output(text, ref, JSON_SPEC)
    errs = m.pop("format_errors")
    return {
        "id": f"e{i}",
        "split": split,
        "category": "c",
        "input": f"input {i}",
        "reference": ref,
        "outputs": {"tuned-v1": {"text": text, "metrics": m, "format_errors": errs}},
        **extra,
    }


def test_failure_analysis_groups_by_cause_and_requests_data():
    ref = '{"name": "Ada", "age": 36}'
    rows = [
        _out_row(1, "Ada is 36", ref),
        _out_row(2, "Sure! Ada, 36.", ref),
        _out_row(3, '{"name": "Ada"}', ref),
        _out_row(4, ref, ref),
        _out_row(5, '{"name": "Bob", "age": 36}', ref),
        _out_row(6, ref, ref, split="regression", regressed=True),
    ]
    reqs = analyze_failures(rows, JSON_SPEC, system="tuned-v1", primary_metric="json_field_accuracy")
    by = {r["cause"]: r for r in reqs}
    assert set(by) == {"format_error", "missing_field", "wrong_value", "regression"}
    assert reqs[0]["cause"] == "format_error" and by["format_error"]["count"] == 2
    assert by["format_error"]["n"] == 20 and by["format_error"]["description"].startswith(
        "20 more inputs like these"
    )
    assert (
        "replies with text that is not valid JSON instead of valid JSON" in by["format_error"]["description"]
    )
    assert "age" in by["missing_field"]["description"] and by["missing_field"]["ids"] == ["e3"]
    assert by["format_error"]["examples"][0] == {"input": "input 1", "output": "Ada is 36", "expected": ref}
    assert by["regression"]["splits"] == ["regression"]


def test_label_failures_name_the_confusion():
    spec = parse_spec_dict({"spec": "s", "output": {"format": "label", "labels": ["yes", "no"]}})
    from tools.evals import score_output

    rows = []
    for i, (text, ref) in enumerate([("no", "yes"), ("no", "yes"), ("yes", "yes")]):
        m = score_output(text, ref, spec)
        rows.append(
            {
                "id": i,
                "split": "test",
                "input": "q",
                "reference": ref,
                "outputs": {"t": {"text": text, "metrics": m, "format_errors": m.pop("format_errors")}},
            }
        )
    reqs = analyze_failures(rows, spec, system="t", primary_metric="label_accuracy")
    assert len(reqs) == 1 and reqs[0]["cause"] == "wrong_label"
    assert "answers no instead of yes" in reqs[0]["description"]


def test_review_agreement_and_kappa_warning(tmp_path):
    assert review_label("accepted") is True and review_label({"decision": "edited"}) is False
    assert review_label("skipped") is None
    res = review_agreement([True, True, False, False], [True, False, True, False])
    assert res["agreement"] == 0.5 and res["kappa"] == 0.0 and "kappa 0.00" in res["warning"]
    good = review_agreement([True, True, False, False], [True, True, False, False])
    assert good["kappa"] == 1.0 and good["warning"] is None
    d = tmp_path / "data" / "v1"

    def row(i, rev):
        return {
            "messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
            "metadata": {"id": f"r{i}", **({"review": rev} if rev else {})},
        }

    atomic_write_jsonl(
        d / "train.jsonl",
        [
            row(1, "accepted"),
            row(2, {"decision": "edited", "original": "old"}),
            row(3, "edited"),
            row(4, None),
        ],
    )
    atomic_write_jsonl(d / "review.jsonl", [{"id": "r4", "decision": "rejected"}])
    items = reviewed_items(d)
    assert [(i["id"], i["output"], i["human_pass"]) for i in items] == [
        ("r1", "a1", True),
        ("r2", "old", False),
        ("r4", "a4", False),
    ]  # r3: edited without the original → skipped


def test_compare_eval_versions(tmp_path):
    run = tmp_path / "run"
    for v, texts in (("v1", ["x", "a"]), ("v2", ["a", "x"])):
        d = run / "eval" / v
        atomic_write_json(d / "report.json", {"primary_metric": "exact_match", "candidate": "tuned"})
        atomic_write_jsonl(
            d / "outputs.jsonl",
            [
                {
                    "id": f"e{i}",
                    "split": "test",
                    "input": f"q{i}",
                    "reference": "a",
                    "outputs": {"tuned": {"text": t, "metrics": {"exact_match": float(t == "a")}}},
                }
                for i, t in enumerate(texts)
            ],
        )
    res = compare_evals(run, "v1", "v2")
    assert [b["id"] for b in res["better"]] == ["e0"] and [w["id"] for w in res["worse"]] == ["e1"]
    assert res["mean_a"] == res["mean_b"] == 0.5


def test_few_shot_choice_covers_categories_and_skips_test():
    pool = [{"input": f"alpha question {i}", "output": "A", "category": "a"} for i in range(5)] + [
        {"input": "beta question", "output": "B", "category": "b"}
    ]
    shots = choose_few_shot(pool, k=2)
    assert {s["output"] for s in shots} == {"A", "B"}  # one per category before a second of any
    spec = parse_spec_dict({"spec": "s", "examples": [{"input": "given", "output": "G"}]})
    p = prompted_system(spec, [], k=3)
    assert p.few_shot[0] == {"input": "given", "output": "G"} and p.system_prompt == "s"


def test_promptfoo_export_is_valid_yaml_with_assertions(tmp_path):
    rows = [
        {
            "messages": [
                {"role": "user", "content": 'Ada "the first" is 36'},
                {"role": "assistant", "content": '{"name": "Ada", "age": 36}'},
            ],
            "metadata": {"id": "t1"},
        }
    ]
    systems = [
        SystemSpec("base", "base"),
        SystemSpec(
            "prompted",
            "prompted",
            system_prompt="Extract.",
            few_shot=[{"input": "Bo is 3", "output": '{"name": "Bo"}'}],
        ),
        SystemSpec("tuned-v1", "tuned", adapter="/x/adapter", system_prompt="Extract."),
        SystemSpec("teacher", "external", provider="openai", model="gpt-5-mini"),
    ]
    path = export_promptfoo(JSON_SPEC, systems, rows, tmp_path / "promptfooconfig.yaml")
    text = path.read_text()
    assert "tunewise serve --adapter /x/adapter" in text
    cfg = yaml.safe_load(text)
    assert [p["label"] for p in cfg["prompts"]] == ["base", "prompted", "tuned-v1", "teacher"]
    assert cfg["providers"][3]["id"] == "openai:chat:gpt-5-mini"
    assert cfg["providers"][0]["config"]["apiBaseUrl"].startswith("http://127.0.0.1:")
    raw = cfg["prompts"][1]["raw"]
    assert "{{ input | dump }}" in raw
    msgs = json.loads(raw.replace("{{ input | dump }}", json.dumps('Ada "the first" is 36')))
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    t = cfg["tests"][0]
    assert t["vars"]["input"] == 'Ada "the first" is 36'
    assert [a["type"] for a in t["assert"]] == ["is-json", "javascript"]
