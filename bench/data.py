"""Data benchmarks, measured side by side in one run; prints ratios.

1. Validation: lines/s and peak memory of `tunewise data validate` (real tokenizer) on generated files of
   10k and 100k lines, each measured in a fresh subprocess (peak RSS from getrusage; Python heap peak
   from tracemalloc in a second subprocess). Streaming must keep memory flat: the 100k/10k memory ratio.
2. Generation: `generate_examples` (answers for 16 given inputs, no cache) through the `openai` provider
   against a `tunewise serve` in this process, at concurrency 1, 4 and 16.

    .venv/bin/python bench/data.py [--lines 10000 100000] [--gen-items 16] [--gen-tokens 16] [--skip-gen] [--skip-val]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = (
    "apple river stone cloud engine forest garden harbor island jungle kettle lantern meadow needle orange "
    "pepper quartz ribbon saddle tunnel umbrella violin window yellow zebra"
).split()


def make_file(path: Path, n: int) -> Path:
    import random

    rng = random.Random(n)
    with open(path, "w") as fh:
        for i in range(n):
            q = " ".join(rng.choices(WORDS, k=12))
            a = " ".join(rng.choices(WORDS, k=30))
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": "Answer in one paragraph."},
                            {"role": "user", "content": f"{i}: {q}?"},
                            {"role": "assistant", "content": f"{a}."},
                        ]
                    }
                )
                + "\n"
            )
    return path


def _child(path: str, mode: str) -> None:
    """Run in a subprocess: validate once and print JSON figures."""
    import resource
    import tracemalloc

    from tools.data.validate import TokenCounter, validate_file

    TokenCounter().load()  # load the tokenizer before timing: its memory is the same at any file size
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "heap":
        tracemalloc.start()
    t0 = time.perf_counter()
    report = validate_file(path, min_examples=1)
    secs = time.perf_counter() - t0
    out = {
        "lines": report.summary["lines"],
        "seconds": secs,
        "problems": sum(report.problem_counts.values()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_rss_mb": base_rss / 1024,
    }
    if mode == "heap":
        out["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(out))


def bench_validation(sizes: list[int]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = make_file(Path(tmp) / f"f{n}.jsonl", n)
            res = {}
            for mode in ("time", "heap"):
                p = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), mode],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                if p.returncode != 0:
                    raise SystemExit(p.stderr[-2000:])
                res[mode] = json.loads(p.stdout.strip().splitlines()[-1])
            row = {
                "lines": n,
                "mb": path.stat().st_size / 2**20,
                "lines_per_s": n / res["time"]["seconds"],
                "seconds": res["time"]["seconds"],
                "peak_rss_mb": res["time"]["peak_rss_mb"],
                "rss_growth_mb": res["time"]["peak_rss_mb"] - res["time"]["base_rss_mb"],
                "heap_peak_mb": res["heap"]["heap_peak_mb"],
                "problems": res["time"]["problems"],
            }
            rows.append(row)
            print(
                f"validate {n:>7} lines ({row['mb']:.1f} MB): {row['lines_per_s']:,.0f} lines/s, "
                f"peak RSS {row['peak_rss_mb']:.0f} MB (+{row['rss_growth_mb']:.0f} MB while validating), "
                f"heap peak {row['heap_peak_mb']:.1f} MB",
                flush=True,
            )
    return rows


def bench_generation(items: int, tokens: int, levels=(1, 4, 16)) -> list[dict]:
    from tools.data.generate import generate_examples
    from tools.llm.openai_provider import OpenAIProvider
    from tools.llm.server import start_background_server
    from tools.spec import parse_spec_dict

    base_url, stop = start_background_server("embedded", batch_size=8, dtype="float32")
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inputs = Path(tmp) / "inputs.txt"
            topics = [
                "the water cycle",
                "bicycle gears",
                "why the sky is blue",
                "compilers",
                "honey bees",
                "chess",
                "vaccines",
                "inflation",
                "refrigerators",
                "autumn leaves",
                "neural networks",
                "tides",
                "DNA",
                "tea",
                "sleep",
                "rainbows",
                "volcanoes",
                "magnets",
                "clouds",
                "bread",
            ]
            inputs.write_text("\n".join(f"Explain {t} in one sentence." for t in topics[:items]))
            spec = parse_spec_dict({"spec": "Explain a topic in one sentence.", "inputs": str(inputs)})
            for c in levels:
                teacher = OpenAIProvider("embedded", base_url=base_url, api_key="x", cache=None)
                t0 = time.perf_counter()
                out = generate_examples(
                    spec,
                    items,
                    teacher=teacher,
                    workdir=Path(tmp) / f"c{c}",
                    concurrency=c,
                    answer_max_tokens=tokens,
                )
                secs = time.perf_counter() - t0
                rows.append(
                    {"concurrency": c, "rows": len(out), "seconds": secs, "rows_per_s": len(out) / secs}
                )
                print(
                    f"generate c={c:>2}: {len(out)} rows in {secs:.1f}s = {len(out) / secs:.2f} rows/s",
                    flush=True,
                )
    finally:
        stop()
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--gen-items", type=int, default=16)
    ap.add_argument("--gen-tokens", type=int, default=16)
    ap.add_argument("--skip-gen", action="store_true")
    ap.add_argument("--skip-val", action="store_true")
    args = ap.parse_args()
    val = [] if args.skip_val else bench_validation(args.lines)
    if len(val) >= 2:
        a, b = val[0], val[-1]
        print(
            f"ratio: {b['lines'] / a['lines']:.0f}× the lines → RSS growth {b['rss_growth_mb'] / max(a['rss_growth_mb'], 1e-9):.2f}×, "
            f"heap peak {b['heap_peak_mb'] / a['heap_peak_mb']:.2f}×; speed {b['lines_per_s'] / a['lines_per_s']:.2f}×"
        )
    if not args.skip_gen:
        gen = bench_generation(args.gen_items, args.gen_tokens)
        base = gen[0]["rows_per_s"]
        print(
            "ratio vs concurrency 1: "
            + ", ".join(f"c={g['concurrency']} {g['rows_per_s'] / base:.2f}×" for g in gen)
        )


if __name__ == "__main__":
    main()
