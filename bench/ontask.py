"""How well the on-task input check separates real inputs from off-task ones, per bench task.

For each task in bench/tasks/: the model is fitted on the task's seed inputs only; "real" are the inputs of
its private test file (written by a script, never seen by the model); "off-task" is a fixed list of
sentences a weak teacher was seen to write (other domains, questions about the task, the assistant's voice).
Printed for sentence embeddings and for the character n-gram fallback, with the meta-text rules on top.

    .venv/bin/python bench/ontask.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFF_TASK = [
    "Why not two?",
    "I'm a 7-Eleven, sorry!",
    "Two salmon nigiri and a miso soup please",
    "Mix the flour and sugar, then bake for 20 minutes.",
    "Write an input for the task.",
    "This input contains a combination of milk and small size.",
    "10 kg of dry ice delivered to the lab",
    "What is the capital of France?",
    "I'd be happy to help you track your order.",
    "This is a typical customer's message.",
    "The answer is 28 grams of soy milk.",
    "A big, fluffy lemon roll with heavy cream and a dollop of butter.",
]


def main() -> None:
    from tools.data.ontask import OnTaskModel, meta_reason
    from tools.spec import load_spec

    print("| task | check | threshold | real inputs kept | off-task rejected | seconds |")
    print("|---|---|---:|---:|---:|---:|")
    for task_dir in sorted((ROOT / "bench" / "tasks").iterdir()):
        if not (task_dir / "task.yaml").exists():
            continue
        spec = load_spec(task_dir / "task.yaml")
        seeds = [e.input for e in spec.examples]
        real = [json.loads(line)["messages"][-2]["content"] for line in (task_dir / "test.jsonl").open()]
        for emb in (True, False):
            t0 = time.perf_counter()
            m = OnTaskModel.fit(seeds, embeddings=emb)

            def ok(texts, m=m, seeds=seeds):
                sims = m.similarities(texts)
                return [
                    s >= m.threshold and meta_reason(t, seeds) is None
                    for t, s in zip(texts, sims, strict=True)
                ]

            kept = sum(ok(real))
            rejected = sum(not x for x in ok(OFF_TASK))
            dt = time.perf_counter() - t0
            print(
                f"| {task_dir.name} | {m.kind} + rules | {m.threshold:.3f} | {kept}/{len(real)} "
                f"({kept / len(real):.0%}) | {rejected}/{len(OFF_TASK)} ({rejected / len(OFF_TASK):.0%}) | {dt:.1f} |"
            )


if __name__ == "__main__":
    main()
