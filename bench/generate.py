"""Generation throughput, measured side by side in one run; prints ratios.

1. `local` provider on the embedded model: one prompt at a time vs batched generation.
2. `openai` provider (official SDK) against a `tunewise serve` on a free localhost port:
   sequential requests vs N concurrent requests (the server micro-batches them).

    .venv/bin/python bench/generate.py [--prompts 16] [--tokens 48] [--batch-size 8] [--dtype float32]

Tokens/s counts generated (completion) tokens over wall time. Greedy decoding, no response cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOPICS = [
    "the water cycle",
    "how a bicycle gear works",
    "why the sky is blue",
    "what a compiler does",
    "how bees make honey",
    "the rules of chess",
    "how vaccines work",
    "what inflation is",
    "how a refrigerator cools",
    "why leaves change colour",
    "what a neural network is",
    "how tides happen",
    "what DNA does",
    "how to brew tea",
    "why we sleep",
    "how a rainbow forms",
]


def prompts(n: int) -> list[list[dict]]:
    return [
        [
            {"role": "system", "content": "You are a concise teacher."},
            {"role": "user", "content": f"Explain {TOPICS[i % len(TOPICS)]} in three sentences."},
        ]
        for i in range(n)
    ]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def row(label: str, completions, seconds: float) -> dict:
    tokens = sum(c.usage.completion_tokens for c in completions)
    r = {
        "label": label,
        "requests": len(completions),
        "tokens": tokens,
        "seconds": seconds,
        "tok_s": tokens / seconds if seconds else 0.0,
    }
    print(
        f"  {label:<34} {len(completions):>3} req  {tokens:>5} tok  {seconds:7.2f} s  {r['tok_s']:7.1f} tok/s",
        flush=True,
    )
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument(
        "--concurrency", type=int, default=None, help="concurrent API requests (default: --prompts)"
    )
    ap.add_argument("--dtype", default="float32", help="float32 (default, as in tests), bfloat16 or auto")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tui.cli.common import quiet_libraries

    quiet_libraries()
    import torch

    from tools.llm import GenParams, Request
    from tools.llm.local import LocalProvider
    from tools.llm.openai_provider import OpenAIProvider
    from tools.llm.server import start_background_server

    msgs = prompts(args.prompts)
    params = GenParams(max_tokens=args.tokens)
    reqs = [Request(m, params) for m in msgs]
    concurrency = args.concurrency or args.prompts

    local = LocalProvider(
        "embedded", dtype=None if args.dtype == "auto" else args.dtype, batch_size=args.batch_size
    )
    local._loaded()
    local._generate_batch([(msgs[0], GenParams(max_tokens=4), None)])  # warm-up
    print(
        f"tunewise bench/generate.py · {dt.datetime.now():%Y-%m-%d %H:%M} · {platform.machine()} "
        f"{os.cpu_count()} cores · torch {torch.__version__} threads {torch.get_num_threads()} · "
        f"model embedded ({local.dtype}) · {args.prompts} prompts × ≤{args.tokens} new tokens"
    )

    print("local provider (embedded model, in process)")
    seq, t_seq = timed(lambda: [local.complete(m, max_tokens=args.tokens, use_cache=False) for m in msgs])
    r_seq = row("sequential (1 prompt per generate)", seq, t_seq)
    bat, t_bat = timed(lambda: local.map(reqs, use_cache=False))
    r_bat = row(f"batched (batch size {args.batch_size})", bat, t_bat)

    print(f"openai provider → tunewise serve (micro-batching, batch size {args.batch_size})")
    base_url, stop = start_background_server(provider=local, batch_size=args.batch_size)
    try:
        api = OpenAIProvider("embedded", base_url=base_url)
        api.complete(msgs[0], max_tokens=4, use_cache=False)  # warm-up: connection, first request
        aseq, t_aseq = timed(lambda: [api.complete(m, max_tokens=args.tokens, use_cache=False) for m in msgs])
        r_aseq = row("sequential requests", aseq, t_aseq)
        acon, t_acon = timed(lambda: api.map(reqs, concurrency=concurrency, use_cache=False))
        r_acon = row(f"{concurrency} concurrent requests", acon, t_acon)
    finally:
        stop()

    print("ratios")
    print(f"  local batched / sequential tokens/s:        {r_bat['tok_s'] / r_seq['tok_s']:.2f}x")
    print(f"  openai concurrent / sequential tokens/s:    {r_acon['tok_s'] / r_aseq['tok_s']:.2f}x")
    print(
        f"  openai sequential / local sequential:       {r_aseq['tok_s'] / r_seq['tok_s']:.2f}x (HTTP overhead)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
