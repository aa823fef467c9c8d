"""The local provider on few-shot requests: the demo's teacher requests (six demonstrations, a JSON answer,
greedy) through LocalProvider at batch sizes 8, 16 and 32, with the shared prompt beginning computed once and
cached (CTranslate2's static prompt) or not, no response cache, in one process.

    .venv/bin/python bench/local_batch.py [--n 32] [--configs 8:off,8:on,32:on]

Prints requests/s and generated tokens/s per configuration, the ratio to the first, and whether each gave the
same answers as the first (neither batching nor the prefix cache may change a greedy answer)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--configs", default="8:off,16:off,32:off,8:on,32:on", help="batch size:prefix cache")
    args = ap.parse_args()

    from agent.probe import few_shot_messages
    from tools.llm.local import LocalProvider
    from tools.llm.types import GenParams, Request
    from tools.spec import load_spec

    spec = load_spec(ROOT / "examples" / "demo_task.yaml")
    inputs = [x for x in (ROOT / "examples" / "demo_inputs.txt").read_text().splitlines() if x.strip()][
        : args.n
    ]
    schema = spec.output.json_schema
    reqs = [
        Request(few_shot_messages(spec, spec.examples, x), GenParams(max_tokens=64, temperature=0.0), schema)
        for x in inputs
    ]
    print(
        f"# bench/local_batch.py {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.processor() or platform.machine()}"
        f" · {os.cpu_count()} cores · {len(reqs)} demo teacher requests (6 demonstrations), greedy, ≤64 tokens"
    )
    base = None
    first_texts = None
    for config in args.configs.split(","):
        size_s, _, prefix = config.partition(":")
        size = int(size_s)
        os.environ["TUNEWISE_CT2_PREFIX"] = "0" if prefix == "off" else "1"
        p = LocalProvider("embedded", batch_size=size, cache=None)
        p.map(reqs[-1:])  # warm-up: load the model and the engine once (the last request, not timed)
        p._loaded()[1].prefix_cache = prefix != "off"  # the engine is shared by the process
        t0 = time.perf_counter()
        comps = p.map(reqs)
        wall = time.perf_counter() - t0
        toks = sum(c.usage.completion_tokens for c in comps)
        texts = [c.text for c in comps]
        first_texts = first_texts or texts
        same = sum(a == b for a, b in zip(texts, first_texts, strict=True))
        rate = len(reqs) / wall
        base = base or rate
        print(
            f"batch {size:>3}, prefix cache {prefix or 'on':<3} ({p.engine}): {wall:6.1f} s  {rate:5.2f} requests/s  {toks / wall:6.1f} tok/s  "
            f"×{rate / base:.2f}  same answers as the first {same}/{len(reqs)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
