"""How often retrieval puts the answer in front of the model: BM25 vs hybrid (BM25 + sentence embeddings),
at a few passage sizes, on question sets whose answers are written in the documents.

A question counts as found when the passages given with it (top k) hold the answer: at least 70% of the
reference answer's content words (`agent.nodes.rag_setup.answer_found`, what retrieval.md reports). No model
generates anything; the embedding model is all-MiniLM-L6-v2 from its PyPI package.

    .venv/bin/python bench/retrieval.py                       # the faq bench task's private 60-row test
    .venv/bin/python bench/retrieval.py --documents DIR --examples FILE.jsonl   # a set of your own
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pairs(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "messages" in row:
            msgs = row["messages"]
            q = next(m["content"] for m in msgs if m["role"] == "user")
            a = next(m["content"] for m in msgs if m["role"] == "assistant")
        else:
            q, a = row["input"], row["output"]
        out.append((q, a))
    return out


def measure(documents: Path, pairs: list[tuple[str, str]], method: str, chunk_words: int, k: int) -> dict:
    from agent.nodes.rag_setup import answer_found
    from tools.rag import RetrievalConfig, Retriever, format_context

    cfg = RetrievalConfig(documents=str(documents), chunk_words=chunk_words, overlap=chunk_words // 6, k=k)
    cfg.method = method  # type: ignore[assignment]
    t0 = time.perf_counter()
    r = Retriever.build(cfg)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = sum(answer_found(format_context(r.search(q), cfg.max_context_chars), a) for q, a in pairs)
    return {
        "method": method if r._dense is not None or method == "bm25" else "bm25 (no embeddings)",
        "chunk_words": chunk_words,
        "k": k,
        "passages": len(r.chunks),
        "found": found,
        "n": len(pairs),
        "build_s": build_s,
        "query_ms": 1000 * (time.perf_counter() - t0) / max(1, len(pairs)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=Path, default=ROOT / "bench/tasks/faq/documents")
    ap.add_argument("--examples", type=Path, default=ROOT / "bench/tasks/faq/test.jsonl")
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args()
    pairs = _pairs(args.examples)
    print(f"{len(pairs)} questions over {args.documents}")
    print("| method | passage words | passages | answer in the top-k passages | build s | ms per query |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [measure(args.documents, pairs, m, w, args.k) for w in (120, 60, 40) for m in ("bm25", "hybrid")]
    for r in rows:
        print(
            f"| {r['method']} | {r['chunk_words']} | {r['passages']} | {r['found']}/{r['n']} "
            f"({r['found'] / r['n']:.0%}) | {r['build_s']:.1f} | {r['query_ms']:.0f} |"
        )
    base = next(r for r in rows if r["method"] == "bm25" and r["chunk_words"] == 120)
    best = max(rows, key=lambda r: r["found"])
    print(
        f"best: {best['method']} at {best['chunk_words']} words, {best['found']}/{best['n']} — "
        f"{best['found'] / max(1, base['found']):.2f}× BM25 alone at 120 words ({base['found']}/{base['n']})"
    )


if __name__ == "__main__":
    main()
