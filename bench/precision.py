"""Does int8 change what the embedded model gets right? CTranslate2 float32 vs int8 on the bench tasks.

For each task in bench/tasks/: its private test inputs, each with the task's system prompt and up to 6 of its
seed examples as demonstrations (the probe's few-shot prompt), answered greedily by the embedded model on
CTranslate2 at each precision; every answer scored by the task's own scorer (`tools.evals.correct.score`).
Prints per task the mean score at each precision, the paired difference with a 95% bootstrap interval, how
many answers are identical, and the aggregate tokens/s of each precision over all tasks (batches of 16).

    .venv/bin/python bench/precision.py [--rows 40] [--tasks orders,routing]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PRECISIONS = ("float32", "int8_float32", "int8")


def _rows(path: Path, n: int) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines()[:n]:
        msgs = json.loads(line)["messages"]
        out.append(
            (
                next(m["content"] for m in msgs if m["role"] == "user"),
                next(m["content"] for m in msgs if m["role"] == "assistant"),
            )
        )
    return out


def _ci(diffs: list[float], reps: int = 2000) -> tuple[float, float]:
    rng = random.Random(0)
    means = sorted(sum(rng.choice(diffs) for _ in diffs) / len(diffs) for _ in range(reps))
    return means[int(0.025 * reps)], means[int(0.975 * reps)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--tasks", default="")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=96)
    args = ap.parse_args()

    from agent.probe import few_shot_messages
    from tools.evals.correct import answer_metric, score
    from tools.llm.ct2 import CT2Engine
    from tools.llm.local import LocalProvider
    from tools.rag.index import documents_retriever
    from tools.spec import load_spec

    provider = LocalProvider("embedded", engine="ctranslate2")
    tok, base = provider._loaded()
    engines = {
        p: base
        if p == "float32"
        else CT2Engine(base.ct2_dir, tok, eos_ids=base.eos_ids, top_k=base.top_k, compute_type=p)
        for p in PRECISIONS
    }
    names = [t for t in args.tasks.split(",") if t] or sorted(
        d.name for d in (ROOT / "bench/tasks").iterdir() if (d / "task.yaml").exists()
    )
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}, {args.rows} rows"
    )
    print("| task | metric | " + " | ".join(PRECISIONS) + " | int8_float32 − float32 [95% CI] | identical |")
    print("|---|---|" + "---:|" * len(PRECISIONS) + "---|---:|")
    totals = {p: [0, 0.0] for p in PRECISIONS}  # tokens, seconds
    for name in names:
        spec = load_spec(ROOT / "bench/tasks" / name / "task.yaml")
        rows = _rows(ROOT / "bench/tasks" / name / "test.jsonl", args.rows)
        retriever = documents_retriever(spec.documents) if spec.documents else None
        shots = list(spec.examples)[:6]
        prompts = [
            tok(
                provider.render(few_shot_messages(spec, shots, q, retriever)), add_special_tokens=False
            ).input_ids
            for q, _ in rows
        ]
        answers: dict[str, list[str]] = {}
        for p, eng in engines.items():
            texts = []
            t0 = time.perf_counter()
            for i in range(0, len(prompts), args.batch):
                out = eng.generate(prompts[i : i + args.batch], max_tokens=args.max_tokens)
                texts += [g.text.strip() for g in out]
                totals[p][0] += sum(g.completion_tokens for g in out)
            totals[p][1] += time.perf_counter() - t0
            answers[p] = texts
        scores = {
            p: [score(spec, a, ref).value for a, (_, ref) in zip(answers[p], rows, strict=True)]
            for p in PRECISIONS
        }
        diffs = [b - a for a, b in zip(scores["float32"], scores["int8_float32"], strict=True)]
        lo, hi = _ci(diffs)
        same = sum(a == b for a, b in zip(answers["float32"], answers["int8_float32"], strict=True))
        print(
            f"| {name} | {answer_metric(spec)} | "
            + " | ".join(f"{sum(scores[p]) / len(rows):.3f}" for p in PRECISIONS)
            + f" | {sum(diffs) / len(diffs):+.3f} [{lo:+.3f}, {hi:+.3f}] | {same}/{len(rows)} |",
            flush=True,
        )
    base_rate = totals["float32"][0] / totals["float32"][1]
    for p in PRECISIONS:
        rate = totals[p][0] / totals[p][1]
        print(
            f"{p}: {totals[p][0]} tokens in {totals[p][1]:.1f} s = {rate:.1f} tok/s ({rate / base_rate:.2f}× float32)"
        )


if __name__ == "__main__":
    main()
