"""A realistic evaluation on disk (a cafe owner's order-taking task) for the evaluation and report screens:
report.json and outputs.jsonl shaped as tools/evals/run.py `evaluate` writes them."""

from __future__ import annotations

import json
from pathlib import Path

from tools.workspace import Workspace, atomic_write_json, atomic_write_jsonl

SPEC = "Turn a cafe order into JSON with the drink, its size and the milk."
DRINKS = ["latte", "flat white", "cappuccino", "mocha", "americano"]
SIZES = ["small", "medium", "large"]
MILKS = ["oat", "whole", "soy", "none"]


def _order(i: int) -> dict:
    return {"drink": DRINKS[i % 5], "size": SIZES[i % 3], "milk": MILKS[i % 4]}


def _acc(pred: dict, ref: dict) -> float:
    return sum(1 for k, v in ref.items() if pred.get(k) == v) / len(ref)


def write_cafe_eval(
    ws: Workspace,
    run_id: str,
    *,
    status: str = "fail",
    version: str = "v1",
    n: int = 10,
) -> Path:
    """status "fail": the tuned model gets 6 of 10 fully right, the 6-example prompt 7 (the prompt is better);
    "pass": 9 vs 7. Row t-04's expected answer is wrong (it says small for a large order) and the tuned
    model's answer agrees with it, so it scores 1.0."""
    run = ws.run(run_id)
    d = run.path / "eval" / version
    d.mkdir(parents=True, exist_ok=True)
    tuned_right = 9 if status == "pass" else 6
    rows, per = [], {"tuned-v1": [], "prompted": [], "base": [], "majority answer": []}
    majority = {"drink": "latte", "size": "medium", "milk": "oat"}
    for i in range(n):
        ref = _order(i)
        text = f"Hi! Can I get a {ref['size']} {ref['drink']} with {ref['milk']} milk please?"
        if i == 4:  # a wrong expected answer: the order says large
            text = f"A large {ref['drink']} with {ref['milk']} milk, thanks."
            ref = {**ref, "size": "small"}
        answers = {
            "tuned-v1": ref if i < tuned_right else {**ref, "size": SIZES[(i + 1) % 3]},
            "prompted": ref if i < 7 else {**ref, "milk": MILKS[(i + 1) % 4]},
            "base": {"order": ref["drink"]},
            "majority answer": majority,
        }
        outputs = {}
        for name, ans in answers.items():
            acc = _acc(ans, ref)
            per[name].append(acc)
            outputs[name] = {
                "text": json.dumps(ans),
                "metrics": {
                    "exact_match": float(ans == ref),
                    "json_valid": 1.0,
                    "json_field_accuracy": acc,
                    "format_ok": 1.0 if name != "base" else 0.0,
                },
                "format_errors": [] if name != "base" else ["missing keys: drink, size, milk"],
            }
        rows.append(
            {
                "id": f"t-{i:02d}",
                "split": "test",
                "category": None,
                "input": text,
                "reference": json.dumps(ref),
                "outputs": outputs,
            }
        )

    def system(kind: str, name: str, tokens: float, fmt: float, **extra) -> dict:
        vals = per[name]
        mean = sum(vals) / len(vals)
        exact = sum(1 for v in vals if v == 1.0) / len(vals)
        return {
            "kind": kind,
            "metrics": {
                "json_field_accuracy": {
                    "mean": mean,
                    "ci": [max(0, mean - 0.12), min(1, mean + 0.1)],
                    "n": n,
                },
                "exact_match": {"mean": exact, "ci": [max(0, exact - 0.3), min(1, exact + 0.25)], "n": n},
                "format_ok": {"mean": fmt, "ci": [fmt, fmt], "n": n},
            },
            "prompt_tokens_mean": tokens,
            "format_rate": fmt,
            "adapter": extra.pop("adapter", None),
            "notes": [],
            "config": extra.pop("config", {"model": None}),
        }

    adapter = str(run.path / "train" / "v1" / "adapter")
    systems = {
        "majority answer": system("trivial", "majority answer", 0, 1.0),
        "base": system("base", "base", 42, 0.0),
        "prompted": system("prompted", "prompted", 348, 1.0, config={"model": None, "few_shot": [{}] * 6}),
        "tuned-v1": system("tuned", "tuned-v1", 71, 1.0, adapter=adapter, config={"model": None}),
    }
    cm = systems["tuned-v1"]["metrics"]["json_field_accuracy"]["mean"]
    bm = systems["prompted"]["metrics"]["json_field_accuracy"]["mean"]
    imp = (cm - bm) / bm
    passed = status == "pass"
    verdict = {
        "status": status,
        "passed": passed,
        "improvement": imp,
        "checks": {
            "improvement": passed,
            "beats_trivial": True,
            "varied_answers": True,
            "format_rate": True,
            "regression": None,
            "forgetting": None,
        },
        "reasons": [
            f"{'✓' if passed else '✗'} json_field_accuracy: tuned-v1 {cm:.3f} [0.58, 0.79] vs best baseline "
            f"prompted {bm:.3f} → {imp:+.1%} relative (need ≥ {'-10' if passed else '+10'}%)",
            "✓ beats always giving the most common practice answer",
            "✓ format rate 100.0% (need ≥ 95%)",
            "· regression set: not run (no regression.jsonl)",
            "· forgetting: needs a judge (run without --no-judge)",
        ],
        "inconclusive": [],
        "add_test_rows": None,
    }
    report = {
        "run_id": run_id,
        "eval_version": version,
        "data_version": "v1",
        "test_source": str(run.path / "data" / "v1" / "test.jsonl"),
        "n_test": n,
        "n_regression": 0,
        "task": {"name": "cafe-orders", "spec": SPEC, "format": "json"},
        "systems": systems,
        "primary_metric": "json_field_accuracy",
        "baseline": "prompted",
        "candidate": "tuned-v1",
        "verdict": verdict,
        "pairwise": None,
        "paired_difference": {"mean": cm - bm, "ci": [-0.2, 0.05], "n": n},
        "distributions": {"fields": ["size"], "collapsed": {}},
        "regression": {"n": 0, "per_example": [], "regressed_ids": []},
        "forgetting": {"skipped": "needs a judge (run without --no-judge)"},
        "judge": {"model": None, "note": "judge not used (--no-judge)"},
        "failures": [],
        "plots": {},
        "paths": {
            "dir": str(d),
            "outputs": str(d / "outputs.jsonl"),
            "report_json": str(d / "report.json"),
            "report_md": str(d / "report.md"),
        },
    }
    atomic_write_json(d / "report.json", report)
    atomic_write_jsonl(d / "outputs.jsonl", rows)
    (run.path / "train" / "v1" / "adapter").mkdir(parents=True, exist_ok=True)
    return d
