"""End-to-end evaluations on the embedded model: a micro label task, base vs prompted, and a tuned adapter."""

from __future__ import annotations

import json
import re

import pytest

from tools.evals import evaluate
from tools.evals.judge import Judge
from tools.evals.systems import base_system, build_systems, prompted_system
from tools.llm.base import Provider
from tools.llm.types import RawResult
from tools.spec import parse_spec_dict
from tools.workspace import atomic_write_jsonl, atomic_write_yaml, read_jsonl

SPEC = {
    "name": "sentiment",
    "spec": "Classify the sentiment of a product review as positive or negative.",
    "system_prompt": "Classify the review's sentiment. Answer with one word: positive or negative.",
    "output": {"format": "label", "labels": ["positive", "negative"]},
}
SYSTEM = SPEC["system_prompt"]


def _row(i, text, label, cat):
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": text},
            {"role": "assistant", "content": label},
        ],
        "metadata": {"id": f"ex-{i}", "category": cat},
    }


TRAIN = [
    _row(1, "Great phone, the battery lasts all day.", "positive", "electronics"),
    _row(2, "The charger broke after a week.", "negative", "electronics"),
    _row(3, "Delicious coffee, I will buy it again.", "positive", "food"),
    _row(4, "The bread was stale and tasted old.", "negative", "food"),
]
TEST = [
    _row(10, "I love these headphones, the sound is amazing.", "positive", "electronics"),
    _row(11, "The screen cracked on the first day.", "negative", "electronics"),
    _row(12, "Fresh and tasty cookies, my kids loved them.", "positive", "food"),
    _row(13, "The soup was cold and bland.", "negative", "food"),
]
REGRESSION = [
    _row(20, "Terrible keyboard, keys stick all the time.", "negative", "electronics"),
    _row(21, "Wonderful tea with a lovely smell.", "positive", "food"),
]


@pytest.fixture
def micro_run(workspace, monkeypatch):
    monkeypatch.setenv(
        "TUNEWISE_DTYPE", "float32"
    )  # share the session's fp32 weights, keep greedy output stable
    run = workspace.create_run("sentiment", run_id="micro")
    atomic_write_yaml(run.spec_path, SPEC)
    d = run.path / "data" / "v1"
    atomic_write_jsonl(d / "train.jsonl", TRAIN)
    atomic_write_jsonl(d / "val.jsonl", TRAIN[:1])
    atomic_write_jsonl(d / "test.jsonl", TEST)
    atomic_write_jsonl(d / "regression.jsonl", REGRESSION)
    return run


def test_base_vs_prompted_end_to_end(micro_run, embedded):
    spec = parse_spec_dict(SPEC)
    systems = [base_system(max_tokens=12), prompted_system(spec, TRAIN, k=2, max_tokens=12)]
    events = []
    evaluate(micro_run, systems=systems, spec=spec, use_judge=False, on_progress=events.append)
    out = micro_run.path / "eval" / "v1"
    for name in ("outputs.jsonl", "report.json", "report.md", "scores.png", "categories.png"):
        assert (out / name).exists(), name
    assert (out / "scores.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((out / "report.json").read_text())
    assert set(saved) >= {
        "systems",
        "primary_metric",
        "baseline",
        "candidate",
        "verdict",
        "regression",
        "forgetting",
        "judge",
        "failures",
    }
    assert saved["primary_metric"] == "label_accuracy"
    assert saved["candidate"] == "prompted"
    # every eval scores the majority answer too (a constant must never pass); the baseline is the best one
    trivial = saved["systems"]["majority answer"]
    assert trivial["kind"] == "trivial" and trivial["prompt_tokens_mean"] == 0
    means = {n: saved["systems"][n]["metrics"]["label_accuracy"]["mean"] for n in ("base", "majority answer")}
    assert saved["baseline"] == max(means, key=lambda n: (means[n], n == "base"))
    assert saved["verdict"]["status"] in ("pass", "fail", "inconclusive")
    dist = saved["distributions"]
    assert dist["fields"] == ["label"] and sum(dist["reference"]["label"].values()) == 4
    assert sum(dist["systems"]["prompted"]["label"].values()) == 4
    for name in ("base", "prompted"):
        s = saved["systems"][name]
        assert s["metrics"]["label_accuracy"]["n"] == 4
        lo, hi = s["metrics"]["label_accuracy"]["ci"]
        assert lo <= s["metrics"]["label_accuracy"]["mean"] <= hi
        assert 0.0 <= s["format_rate"] <= 1.0 and "macro_f1" in s["metrics"]
    # the few-shot prompt costs tokens: what a tuned zero-shot model saves
    assert saved["systems"]["prompted"]["prompt_tokens_mean"] > saved["systems"]["base"]["prompt_tokens_mean"]
    assert any("default system prompt" in n for n in saved["systems"]["base"]["notes"])
    assert isinstance(saved["verdict"]["passed"], bool) and saved["verdict"]["reasons"]
    assert saved["regression"]["n"] == 2 and len(saved["regression"]["per_example"]) == 2
    assert saved["forgetting"] == {"skipped": "no tuned candidate"}
    assert saved["judge"]["model"] is None
    assert set(saved["by_category"]) == {"electronics", "food"}
    rows = list(read_jsonl(out / "outputs.jsonl"))
    assert len(rows) == 6 and {r["split"] for r in rows} == {"test", "regression"}
    assert all(set(r["outputs"]) == {"base", "prompted", "majority answer"} for r in rows)
    md = (out / "report.md").read_text()
    assert "## Verdict:" in md and "| prompted | prompted |" in md and "ex-10" in md
    assert (
        any(e["stage"] == "generate" and e.get("done") == 6 for e in events) and events[-1]["stage"] == "done"
    )
    for f in saved["failures"]:
        assert {"cause", "description", "examples", "n"} <= set(f) and f["description"].startswith(
            f"{f['n']} more"
        )

    # a rerun is served from the response cache: same answers, zero generation calls
    again = evaluate(
        micro_run,
        systems=[base_system(max_tokens=12), prompted_system(spec, TRAIN, k=2, max_tokens=12)],
        spec=spec,
        use_judge=False,
    )
    assert again["eval_version"] == "v2"
    assert all(
        s["cached"] == 4 for s in again["systems"].values() if s["kind"] != "trivial"
    )  # every test answer from the cache
    rows2 = list(read_jsonl(micro_run.path / "eval" / "v2" / "outputs.jsonl"))
    assert [r["outputs"]["prompted"]["text"] for r in rows2] == [
        r["outputs"]["prompted"]["text"] for r in rows
    ]


class RubricJudgeProvider(Provider):
    """A deterministic judge (a control): an answer is good when it contains the reference word."""

    name = "rubric"

    def __init__(self):
        super().__init__("keyword-judge")

    async def _agenerate(self, messages, params, json_schema):
        p = messages[-1]["content"]
        ref = re.search(r"it is correct\):\n(.*?)\n\n", p, re.S).group(1).strip().lower()
        if "Answer A:" in p:
            a = re.search(r"Answer A:\n(.*?)\n\nAnswer B:", p, re.S).group(1).lower()
            b = re.search(r"Answer B:\n(.*?)\n\nWhich answer", p, re.S).group(1).lower()
            good_a, good_b = ref in a and ref != "(none)", ref in b and ref != "(none)"
            winner = "A" if good_a and not good_b else "B" if good_b and not good_a else "tie"
            return RawResult(json.dumps({"winner": winner, "reason": "keyword"}), 50, 10)
        ans = re.search(r"Answer to grade:\n(.*?)\n\nGrade", p, re.S).group(1).lower()
        good = ref == "(none)" or ref in ans
        return RawResult(
            json.dumps(
                {
                    "correctness": 5 if good else 2,
                    "format": 4,
                    "completeness": 4,
                    "reason": "contains the reference" if good else "misses the reference",
                }
            ),
            50,
            20,
        )


def test_tuned_adapter_with_judge_suites_and_plots(micro_run, embedded_dir, embedded):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir))
    lora = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    train_dir = micro_run.path / "train" / "v1"
    lora.save_pretrained(str(train_dir / "adapter"))
    atomic_write_jsonl(
        train_dir / "events.jsonl",
        [{"event": "log", "step": s, "loss": 2.0 / s} for s in (1, 2, 3)]
        + [{"event": "eval", "step": 3, "eval_loss": 0.9}],
    )
    spec = parse_spec_dict(SPEC)
    systems = build_systems(spec, micro_run.path, TRAIN, names=["base", "tuned"], max_tokens=8)
    assert [s.name for s in systems] == ["base", "tuned-v1"]
    judge = Judge(RubricJudgeProvider(), spec=spec)
    report = evaluate(micro_run, systems=systems, spec=spec, judge=judge, forgetting_limit=2)
    assert report["candidate"] == "tuned-v1" and report["baseline"] in ("base", "majority answer")
    m = report["primary_metric"]
    best = max(("base", "majority answer"), key=lambda n: report["systems"][n]["metrics"][m]["mean"])
    assert (
        report["systems"][report["baseline"]]["metrics"][m]["mean"]
        == report["systems"][best]["metrics"][m]["mean"]
    )
    tuned = report["systems"]["tuned-v1"]
    assert tuned["kind"] == "tuned" and tuned["metrics"]["judge"]["n"] == 4
    assert tuned["win_rate_vs_baseline"]["n"] == 4
    fg = report["forgetting"]
    assert (
        fg["n"] == 2 and fg["wins"] + fg["losses"] + fg["ties"] == 2 and isinstance(fg["significant"], bool)
    )
    assert report["judge"]["model"] == "rubric:keyword-judge" and report["judge"]["temperature"] == 0.0
    assert report["judge"]["position_bias_rate"] == 0.0  # a consistent judge never flips
    assert any(r.startswith(("✓ forgetting", "✗ forgetting")) for r in report["verdict"]["reasons"])
    out = micro_run.path / "eval" / "v1"
    assert (out / "loss.png").exists() and report["plots"]["loss"] == "loss.png"
    rows = list(read_jsonl(out / "outputs.jsonl"))
    assert sum(1 for r in rows if r["split"] == "forgetting") == 2
    assert all("reason" in r["outputs"]["tuned-v1"]["judge"] for r in rows if r["split"] == "test")


def test_the_persons_own_held_out_examples_are_scored_for_every_system(micro_run, embedded):
    """golden.jsonl (the person's examples no prompt shows) is scored for each system, with the same
    scorer, and the verdict quotes it first; a test file given from outside replaces it."""
    spec = parse_spec_dict(SPEC)
    atomic_write_jsonl(micro_run.path / "data" / "v1" / "golden.jsonl", TEST[:3])
    systems = [base_system(max_tokens=6), prompted_system(spec, TRAIN, k=2, max_tokens=6)]
    events: list[dict] = []
    report = evaluate(micro_run, systems=systems, spec=spec, use_judge=False, on_progress=events.append)
    g = report["golden"]
    assert g["n"] == 3 and set(g["systems"]) == {"base", "prompted", "majority answer"}
    # counted as they are answered: 3 examples × the 2 systems that answer (the majority answer is a constant)
    counts = [(e["done"], e["total"]) for e in events if e.get("stage") == "golden"]
    assert counts[0] == (0, 6) and counts[-1] == (6, 6) and len(counts) == 7
    for s in g["systems"].values():
        assert 0 <= s["correct"] <= 3 and 0.0 <= s["mean"] <= 1.0
    assert len(g["rows"]) == 3 and all(set(r["outputs"]) == set(g["systems"]) for r in g["rows"])
    assert report["verdict"]["reasons"][0].startswith("· on your own 3 held-out examples: prompted")
    other = evaluate(
        micro_run,
        systems=systems,
        spec=spec,
        use_judge=False,
        test_file=micro_run.path / "data" / "v1" / "test.jsonl",
    )
    assert other["golden"] is None
    # no judge asked for: the auto-picked embedded model cannot grade, so the eval says so and uses metrics
    auto = evaluate(micro_run, systems=systems, spec=spec)
    assert auto["judge"]["model"] is None and "cannot grade" in auto["judge"]["note"]
    assert auto["primary_metric"] == "label_accuracy"
