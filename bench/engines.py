"""Local generation engines side by side in one process: transformers fp32 vs CTranslate2 float32 and int8.

Same chat-templated, task-like prompts, greedy, no response cache, the embedded model:

    .venv/bin/python bench/engines.py [--prompts 16] [--tokens 48] [--results bench/RESULTS.md]

Rows: transformers sequential and batched (8, 16); CTranslate2 sequential and batched (8, 16, 32; the
batch of 32 runs the prompts twice); CTranslate2 with int8 weights batched (16, 32). Tokens/s counts generated tokens over wall time. Greedy answers of
every row are compared with transformers sequential (the reference). The figures are saved for this
machine (the model cache's engines.json), where `LocalProvider(engine="auto")` reads them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TASKS = [
    ("Extract the order as JSON with keys item, size, milk.", "A large oat latte to go, please."),
    ("Extract the order as JSON with keys item, size, milk.", "Can I get a small black coffee?"),
    ("Classify the ticket as billing, bug, feature or other. Answer with one word.", "I was charged twice."),
    ("Classify the ticket as billing, bug, feature or other. Answer with one word.", "The app crashes."),
    ("Rewrite the sentence as a short news headline.", "The city council approved a new bike lane."),
    ("Rewrite the sentence as a short news headline.", "Scientists found water ice on a distant moon."),
    ("Answer the customer's question in two sentences.", "How long does shipping to Canada take?"),
    ("Answer the customer's question in two sentences.", "Can I return a gift without a receipt?"),
    ("You are a concise teacher.", "Explain why the sky is blue in three sentences."),
    ("You are a concise teacher.", "Explain how a bicycle gear works in three sentences."),
    ("Summarise the text in one sentence.", "The meeting moved to Friday because the room was booked."),
    ("Summarise the text in one sentence.", "Sales rose 4% in March, led by the new tea range."),
    ("Translate the sentence into French.", "The train leaves at nine in the morning."),
    ("Translate the sentence into French.", "Please close the window when you leave."),
    ("Write a polite reply to the email.", "Hi, could we move our call to Thursday afternoon?"),
    ("List three key points from the note as bullets.", "Budget approved; hire two engineers; ship in May."),
]


def prompts(n: int) -> list[list[dict]]:
    return [
        [
            {"role": "system", "content": TASKS[i % len(TASKS)][0]},
            {"role": "user", "content": TASKS[i % len(TASKS)][1]},
        ]
        for i in range(n)
    ]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def nproc() -> int:
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        return os.cpu_count() or 0


def llama_row(args, msgs: list, reference: list[str], rows: list[dict]) -> dict:
    """llama.cpp's single stream, in its own Python (bench/llamacpp_single.py), as one more row."""
    import json

    from tools.llm.embedded import find_embedded_gguf

    la0 = os.getloadavg()[0]
    cmd = [args.llama_python, str(Path(__file__).with_name("llamacpp_single.py")), "--gguf"]
    cmd += [str(find_embedded_gguf()), "--prompts", str(args.prompts), "--tokens", str(args.tokens)]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    texts = out["texts"]
    same = sum(a == b for a, b in zip(texts, reference, strict=True))
    r = {
        "label": "llama.cpp Q4_1 single stream",
        "requests": len(msgs),
        "tokens": out["tokens"],
        "seconds": out["seconds"],
        "tok_s": round(out["tokens"] / out["seconds"], 1),
        "same_as_reference": f"{same}/{len(msgs)}",
        "load_1min": f"{la0:.1f}→{os.getloadavg()[0]:.1f}",
        "texts": texts,
    }
    print(
        f"  {r['label']:<32} {r['requests']:>3} req {r['tokens']:>5} tok {r['seconds']:7.1f} s "
        f"{r['tok_s']:7.1f} tok/s  greedy = reference {r['same_as_reference']}  ({out['engine']})",
        flush=True,
    )
    rows.append(r)
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--results", help="append a Markdown section to this file (e.g. bench/RESULTS.md)")
    ap.add_argument("--no-save", action="store_true", help="do not save the figures for engine=auto")
    ap.add_argument(
        "--llama-python",
        help="a Python with llama-cpp-python installed: adds llama.cpp's single stream on the shipped GGUF "
        "(bench/llamacpp_single.py) and the ratio of the best aggregate to it (issue #17's target: ≥3×)",
    )
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tui.cli.common import quiet_libraries

    quiet_libraries()
    import ctranslate2
    import torch
    import transformers

    from tools.llm import GenParams, Request
    from tools.llm import ct2 as ct2mod
    from tools.llm.local import LocalProvider, engine_measurement_path, machine_signature
    from tools.workspace import atomic_write_json

    msgs = prompts(args.prompts)
    params = GenParams(max_tokens=args.tokens)
    reqs = [Request(m, params) for m in msgs]
    load_before = load()
    started = dt.datetime.now(dt.timezone.utc)

    tf = LocalProvider("embedded", dtype="float32", engine="transformers")
    t0 = time.perf_counter()
    tf._loaded()
    tf_load = time.perf_counter() - t0
    c2 = LocalProvider("embedded", dtype="float32", engine="ctranslate2")
    t0 = time.perf_counter()
    c2._loaded()
    c2_load = time.perf_counter() - t0
    if c2.engine != "ctranslate2":
        print(f"CTranslate2 unavailable: {c2.engine_reason}")
        return 1
    conv = next((m for m in ct2mod.CONVERSIONS), None)
    conv_s = conv["seconds"] if conv else None
    for p in (tf, c2):  # warm-up
        p._generate_batch([(msgs[0], GenParams(max_tokens=4), None)])

    head = (
        f"tunewise bench/engines.py · {started:%Y-%m-%d %H:%M} UTC · {machine_signature()} (nproc {nproc()}) · "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads) · transformers {transformers.__version__} · "
        f"ctranslate2 {ctranslate2.__version__} · {args.prompts} prompts × ≤{args.tokens} new tokens, greedy"
    )
    print(head)
    print(f"  load average before: {load_before}")
    rows: list[dict] = []
    reference: list[str] = []

    def run(label: str, provider, batch_size: int | None, repeat: int = 1) -> dict:
        la0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        if batch_size is None:
            allout = [provider.complete(m, max_tokens=args.tokens, use_cache=False) for m in msgs]
        else:
            provider.batch_size = batch_size
            allout = provider.map(reqs * repeat, use_cache=False)
        seconds = time.perf_counter() - t0
        out = allout[: len(msgs)]
        tokens = sum(c.usage.completion_tokens for c in allout)
        texts = [c.text for c in out]
        if not reference:
            reference.extend(texts)
        same = sum(a == b for a, b in zip(texts, reference, strict=True))
        r = {
            "label": label,
            "requests": len(msgs) * repeat,
            "tokens": tokens,
            "seconds": round(seconds, 2),
            "tok_s": round(tokens / seconds, 1),
            "same_as_reference": f"{same}/{len(msgs)}",
            "load_1min": f"{la0:.1f}→{os.getloadavg()[0]:.1f}",
            "texts": texts,
        }
        print(
            f"  {label:<32} {r['requests']:>3} req {tokens:>5} tok {seconds:7.1f} s {r['tok_s']:7.1f} tok/s"
            f"  greedy = reference {r['same_as_reference']}  load {r['load_1min']}",
            flush=True,
        )
        rows.append(r)
        return r

    # the engines alternate row by row, so a change in the machine's load hits both alike
    tf_seq = run("transformers fp32 sequential", tf, None)
    c2_seq = run("ctranslate2 float32 sequential", c2, None)
    llama = llama_row(args, msgs, reference, rows) if args.llama_python else None
    tf_b8 = run("transformers fp32 batched 8", tf, 8)
    c2_b8 = run("ctranslate2 float32 batched 8", c2, 8)
    tf_b16 = run("transformers fp32 batched 16", tf, 16)
    c2_b16 = run("ctranslate2 float32 batched 16", c2, 16)
    c2_b32 = run("ctranslate2 float32 batched 32 (prompts ×2)", c2, 32, repeat=2)
    # int8 weights: other answers (the row's "same" column), used only for the practice-data writer where they
    # measured no worse on the person's examples (agent.precision)
    i8 = LocalProvider("embedded", engine="ctranslate2", precision="int8")
    i8._generate_batch([(msgs[0], GenParams(max_tokens=4), None)])
    i8_b16 = run("ctranslate2 int8 batched 16", i8, 16)
    i8_b32 = run("ctranslate2 int8 batched 32 (prompts ×2)", i8, 32, repeat=2)
    load_after = load()
    best_tf = max(tf_b8, tf_b16, key=lambda r: r["tok_s"])
    best_c2 = max(c2_b8, c2_b16, c2_b32, key=lambda r: r["tok_s"])
    ratios = {
        "sequential: ct2 / transformers": c2_seq["tok_s"] / tf_seq["tok_s"],
        "batched 8: ct2 / transformers": c2_b8["tok_s"] / tf_b8["tok_s"],
        "batched 16: ct2 / transformers": c2_b16["tok_s"] / tf_b16["tok_s"],
        f"best ct2 ({best_c2['label']}) / best transformers ({best_tf['label']})": best_c2["tok_s"]
        / best_tf["tok_s"],
        "ct2 batched 32 / ct2 sequential": c2_b32["tok_s"] / c2_seq["tok_s"],
        "best int8 / best float32 ct2": max(i8_b16["tok_s"], i8_b32["tok_s"]) / best_c2["tok_s"],
    }
    best_i8 = max(i8_b16, i8_b32, key=lambda r: r["tok_s"])
    if llama is not None:
        ratios[f"best ct2 aggregate / {llama['label']}"] = best_c2["tok_s"] / llama["tok_s"]
        ratios["ct2 sequential / llama.cpp single stream"] = c2_seq["tok_s"] / llama["tok_s"]
        ratios[f"best int8 ({best_i8['label']}) / {llama['label']}"] = best_i8["tok_s"] / llama["tok_s"]
    print(f"  load average after: {load_after}")
    print("ratios")
    for k, v in ratios.items():
        print(f"  {k:<56} {v:6.2f}x")
    diffs = [
        (i, ref, txt)
        for r in rows[1:]
        for i, (ref, txt) in enumerate(zip(reference, r["texts"], strict=True))
        if ref != txt
    ]
    for i, ref, txt in diffs[:6]:
        print(f"  differs on prompt {i}: reference {ref[:70]!r} vs {txt[:70]!r}")

    same_c2 = sum(a == b for a, b in zip(c2_b8["texts"], reference, strict=True))
    figures = {
        "date": f"{started:%Y-%m-%d}",
        "machine": machine_signature(),
        "transformers_tok_s": tf_b8["tok_s"],
        "ctranslate2_tok_s": c2_b8["tok_s"],
        "greedy_equal": f"{same_c2}/{len(msgs)}",
        "load_average": load_before,
        "rows": [{k: v for k, v in r.items() if k != "texts"} for r in rows],
    }
    if not args.no_save:
        atomic_write_json(engine_measurement_path(), figures)
        print(f"saved for engine=auto: {engine_measurement_path()}")

    if args.results:
        cmd = f"bench/engines.py --prompts {args.prompts} --tokens {args.tokens}"
        lines = [
            "",
            f"### {started:%Y-%m-%d %H:%M} UTC · {machine_signature()}, nproc {nproc()}, no GPU · "
            f"load average {load_before} before, {load_after} after (1/5/15 min; other jobs running)",
            "",
            f"Command: `.venv/bin/python {cmd}` · torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), transformers {transformers.__version__}, ctranslate2 "
            f"{ctranslate2.__version__} · embedded SmolLM2-135M-Instruct · {args.prompts} task prompts × ≤"
            f"{args.tokens} new tokens, greedy · load time: transformers {tf_load:.1f} s, CTranslate2 "
            f"{c2_load:.1f} s"
            + (f" (including a {conv_s:.0f} s one-time conversion)" if conv_s else " (cached)"),
            "",
            "| engine | requests | tokens | seconds | tok/s | greedy = transformers sequential | 1-min load |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['label']} | {r['requests']} | {r['tokens']} | {r['seconds']:.1f} | {r['tok_s']:.1f} | "
                f"{r['same_as_reference']} | {r['load_1min']} |"
            )
        lines.append("")
        lines.append("Ratios: " + " · ".join(f"{k} **{v:.2f}×**" for k, v in ratios.items()))
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
