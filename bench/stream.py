"""What streaming buys a person watching the TUI: time to the first streamed piece of the probe's answer
vs the time the whole answer takes (what a non-streamed call would show), on the embedded model.

The request is the probe's: the demo task's system prompt, 3 demonstrations, one input, up to 128 new
tokens, greedy. Runs interleaved, medians, and the ratio.

    .venv/bin/python bench/stream.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from agent.probe import few_shot_messages
    from tools.llm import GenParams
    from tools.llm.registry import get_provider
    from tools.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / "demo_task.yaml")
    shots, probe_input = spec.examples[:3], spec.examples[3].input
    messages = few_shot_messages(spec, shots, probe_input)
    params = GenParams(max_tokens=128)
    student = get_provider("student", "local", None)  # the embedded model
    list(student.stream(messages, params))  # load the model and warm up

    first, whole, plain, tokens = [], [], [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        info: dict = {}
        got_first = None
        for _piece in student.stream(messages, params, info=info):
            if got_first is None:
                got_first = time.perf_counter() - t0
        whole.append(time.perf_counter() - t0)
        first.append(got_first or whole[-1])
        tokens.append(info.get("completion_tokens", 0))
        t0 = time.perf_counter()
        student.complete(messages, max_tokens=128, use_cache=False)
        plain.append(time.perf_counter() - t0)

    med = statistics.median
    print(f"prompt: {len(shots)} demonstrations + 1 input; answer {med(tokens):.0f} tokens")
    print(f"first streamed piece: {med(first):.3f} s (median of {args.runs})")
    print(f"whole streamed answer: {med(whole):.3f} s")
    print(f"plain (non-streamed) call: {med(plain):.3f} s")
    print(f"ratio plain / first piece: {med(plain) / med(first):.1f}x sooner something is on screen")
    print(f"streaming overhead: {med(whole) / med(plain):.2f}x the plain call's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
