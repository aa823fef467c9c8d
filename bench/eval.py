"""Evaluation throughput: batched generation vs one request at a time, and a cached rerun.

    .venv/bin/python bench/eval.py [--examples 8] [--tokens 16]

Prints seconds, tokens/s and the batched/sequential ratio on the embedded model, then reruns the
same `evaluate()` and checks that it made zero provider calls (everything from the response cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REVIEWS = [
    "The battery lasts two days, great phone.",
    "Arrived broken and support never answered.",
    "Tasty, fresh and cheap coffee beans.",
    "The zipper failed after one use.",
    "Comfortable shoes, I wear them daily.",
    "Too loud and the fan rattles.",
    "Lovely soft blanket, my cat agrees.",
    "The app crashes every time I open it.",
    "Fast delivery and well packed.",
    "Colours faded after the first wash.",
    "Best headphones I have owned.",
    "Smells bad and leaks everywhere.",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=16)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tw-bench-eval-"))
    os.environ["TUNEWISE_HOME"] = str(tmp)
    os.environ.setdefault("TUNEWISE_DTYPE", "float32")
    from tools.evals import evaluate
    from tools.evals.systems import SystemSpec, generate_outputs
    from tools.llm.cache import ResponseCache
    from tools.llm.local import LocalProvider
    from tools.spec import parse_spec_dict
    from tools.workspace import Workspace, atomic_write_jsonl, atomic_write_yaml
    from tui.cli.common import quiet_libraries

    quiet_libraries()
    spec_d = {
        "spec": "Classify the sentiment of a review as positive or negative.",
        "output": {"format": "label", "labels": ["positive", "negative"]},
    }
    rows = [
        {
            "messages": [
                {
                    "role": "user",
                    "content": REVIEWS[i % len(REVIEWS)] + ("" if i < len(REVIEWS) else f" ({i})"),
                },
                {"role": "assistant", "content": "positive" if i % 2 == 0 else "negative"},
            ],
            "metadata": {"id": f"b{i}"},
        }
        for i in range(args.examples)
    ]
    ws = Workspace(tmp).ensure()
    run = ws.create_run("bench", run_id="bench")
    atomic_write_yaml(run.spec_path, spec_d)
    atomic_write_jsonl(run.path / "data" / "v1" / "test.jsonl", rows)
    spec = parse_spec_dict(spec_d)
    system = SystemSpec("prompted", "prompted", system_prompt=spec.spec, max_tokens=args.tokens)

    uncached = LocalProvider("embedded", dtype=os.environ["TUNEWISE_DTYPE"])
    uncached._loaded()
    t0 = time.perf_counter()
    seq = [generate_outputs(system, [r], provider=uncached)[0] for r in rows]
    t_seq = time.perf_counter() - t0
    tok_seq = sum(o["completion_tokens"] for o in seq)

    cached = LocalProvider(
        "embedded", dtype=os.environ["TUNEWISE_DTYPE"], cache=ResponseCache(ws.llm_cache_path)
    )
    t0 = time.perf_counter()
    rep = evaluate(run, systems=[system], spec=spec, use_judge=False, providers={"prompted": cached})
    t_batch = time.perf_counter() - t0
    calls_first = cached.calls
    tok_batch = sum(1 for _ in rows) and rep["systems"]["prompted"]["completion_tokens_mean"] * len(rows)

    t0 = time.perf_counter()
    rep2 = evaluate(run, systems=[system], spec=spec, use_judge=False, providers={"prompted": cached})
    t_rerun = time.perf_counter() - t0
    rerun_calls = cached.calls - calls_first

    print(
        f"examples {len(rows)}, max_tokens {args.tokens}, dtype {cached.dtype}, batch size {cached.batch_size}"
    )
    print("| path | provider calls | tokens | seconds | tokens/s |\n|---|---:|---:|---:|---:|")
    print(
        f"| sequential (1 request per generate) | {len(rows)} | {tok_seq} | {t_seq:.2f} | {tok_seq / t_seq:.1f} |"
    )
    print(
        f"| evaluate(), batched | {calls_first} | {tok_batch:.0f} | {t_batch:.2f} | {tok_batch / t_batch:.1f} |"
    )
    print(f"| evaluate() rerun, cached | {rerun_calls} | 0 | {t_rerun:.2f} | – |")
    print(
        f"ratio batched/sequential throughput: {(tok_batch / t_batch) / (tok_seq / t_seq):.2f}x; "
        f"rerun provider calls: {rerun_calls}; rerun cached answers: {rep2['systems']['prompted']['cached']}/{len(rows)}"
    )
    same = [s["text"] for s in seq] == [
        o
        for o in (
            r["outputs"]["prompted"]["text"]
            for r in __import__("tools.workspace", fromlist=["read_jsonl"]).read_jsonl(
                Path(rep["paths"]["outputs"])
            )
        )
    ]
    print(f"sequential and batched answers identical: {same}")


if __name__ == "__main__":
    main()
