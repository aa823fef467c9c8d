"""llama.cpp's single stream on the embedded model, for bench/engines.py's comparison (issue #17 item 1).

Runs under any Python that has `llama_cpp` (llama-cpp-python, built from source: it is not a tunewise
dependency), so tunewise's own venv is not touched:

    python3 -m venv /tmp/llvenv && /tmp/llvenv/bin/pip install llama-cpp-python   # builds llama.cpp
    /tmp/llvenv/bin/python bench/llamacpp_single.py --gguf PATH --prompts 16 --tokens 48

It loads the GGUF tunewise ships (SmolLM2-135M-Instruct, Q4_1: llama.cpp computes on the quantized weights;
tunewise's engines run their float32 dequantization), applies the GGUF's own chat template, and answers the
prompts one at a time, greedy, with as many threads as cores. Prints one JSON object: tokens, seconds, texts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    import llama_cpp
    from engines import prompts  # the same task prompts as the other rows

    t0 = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=args.gguf, n_ctx=1024, n_threads=args.threads, n_batch=256, seed=0, verbose=False
    )
    load_s = time.perf_counter() - t0
    msgs = prompts(args.prompts)
    llm.create_chat_completion(messages=msgs[0], temperature=0.0, max_tokens=4)  # warm-up
    texts, tokens = [], 0
    t0 = time.perf_counter()
    for m in msgs:
        out = llm.create_chat_completion(messages=m, temperature=0.0, top_k=1, max_tokens=args.tokens)
        texts.append(out["choices"][0]["message"]["content"] or "")
        tokens += out["usage"]["completion_tokens"]
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "engine": f"llama.cpp (llama-cpp-python {llama_cpp.__version__})",
                "threads": args.threads,
                "load_s": round(load_s, 2),
                "tokens": tokens,
                "seconds": round(seconds, 2),
                "texts": texts,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
