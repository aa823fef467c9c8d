"""The rag branch's work: index the documents (BM25), then measure on the user's examples whether
retrieval helps: base + prompt vs base + prompt + retrieved context, and how often the reference
answer's words are in the retrieved passages (a recall proxy)."""

from __future__ import annotations

from agent.artifacts import load_step, save_step
from agent.probe import few_shot_messages
from tools.evals.correct import score
from tools.workspace import atomic_write_text


def build_and_evaluate_rag(ctx, run, spec) -> dict:
    """Index the spec's documents, compare the student with and without retrieval on the spec's examples
    (once: the result is a saved step), and write retrieval.md."""
    from tools.rag import RetrievalConfig, Retriever

    cfg = RetrievalConfig(documents=spec.documents)
    retriever = Retriever.build(cfg)
    cfg.save(run.path / "retrieval.json")
    result = load_step(run, 0, "rag")
    if result is None:
        rows = _compare_on_examples(ctx, run, spec, retriever) if spec.examples else []
        n = len(rows) or 1
        result = save_step(
            run,
            0,
            "rag",
            {
                "chunks": len(retriever.chunks),
                "n": len(rows),
                "accuracy_without": sum(r["correct_without"] for r in rows) / n if rows else None,
                "accuracy_with": sum(r["correct_with"] for r in rows) / n if rows else None,
                "context_recall": sum(r["context_recall"] for r in rows) / n if rows else None,
                "rows": rows,
            },
        )
    atomic_write_text(run.path / "retrieval.md", "\n".join(_retrieval_md(run, spec, result)))
    summary = f"rag: indexed {result['chunks']} chunks"
    if result["n"]:
        summary += (
            f"; accuracy {result['accuracy_without']:.0%} → {result['accuracy_with']:.0%} with retrieval "
            f"on {result['n']} examples"
        )
    return {
        "summary": summary,
        "artifacts": {
            "retrieval": str(run.path / "retrieval.md"),
            "retrieval_config": str(run.path / "retrieval.json"),
        },
    }


def _compare_on_examples(ctx, run, spec, retriever) -> list[dict]:
    """One row per spec example: the student's answer without and with the retrieved context, whether each
    is correct, and whether the reference's words are in the context."""
    from tools.llm import GenParams, Request
    from tools.rag import format_context

    rows = []
    student = ctx.provider("student", spec, run.id)
    plain = [
        Request(few_shot_messages(spec, [], ex.input), GenParams(max_tokens=128)) for ex in spec.examples
    ]
    with_ctx = [
        Request(few_shot_messages(spec, [], ex.input, retriever), GenParams(max_tokens=128))
        for ex in spec.examples
    ]
    for ex in spec.examples:
        context = format_context(retriever.search(ex.input), retriever.config.max_context_chars)
        rows.append(
            {
                "input": ex.input,
                "reference": ex.output,
                "context_recall": answer_found(context, ex.output),
            }
        )
    for row, a, b, ex in zip(rows, student.map(plain), student.map(with_ctx), spec.examples, strict=True):
        row |= {
            "without": a.text,
            "with": b.text,
            "correct_without": score(spec, a.text, ex.output).correct,
            "correct_with": score(spec, b.text, ex.output).correct,
        }
    return rows


def answer_found(context: str, reference: str, share: float = 0.7) -> bool:
    """Whether the passages hold the reference answer: at least `share` of its content words are in them.
    (The first five words, in order, missed answers a person wrote in words of their own: walk 11's
    retrieval "found 12%" over a four-passage document.)"""
    words = _content_words(reference)
    if not words:
        return False
    return len(words & _content_words(context)) / len(words) >= share


def _content_words(text: str) -> set[str]:
    """Words that carry content, plural 's' dropped ('walls' finds 'wall'); contractions' stubs left out."""
    from tools.rag.index import bm25_tokens

    return {w.removesuffix("s") for w in bm25_tokens(text) if len(w) > 2 and w not in _STUBS}


_STUBS = frozenset(
    "aren isn don doesn didn can won wasn weren hasn haven couldn shouldn wouldn you your".split()
)


def _retrieval_md(run, spec, result: dict) -> list[str]:
    """retrieval.md: the index and its config, and the with/without table when there were examples."""
    n = result["chunks"]
    lines = [
        "# Looking things up in your documents",
        "",
        f"Documents: `{spec.documents}`, cut into {n} passage{'s' if n != 1 else ''}; for each question the "
        f"{min(3, n)} that match it best go into the prompt with it.",
        f"Settings (passage size, how many go in): `{run.path / 'retrieval.json'}`",
        "",
    ]
    if result["n"]:
        k = result["n"]

        def share(x: float) -> str:
            return f"{round(x * k)} of {k}"

        lines += [
            f"Measured on your {k} example{'s' if k != 1 else ''}:",
            "",
            "| the model answers | right |",
            "|---|---|",
            f"| from your instructions alone | {share(result['accuracy_without'])} |",
            f"| with the matching passages of your documents | {share(result['accuracy_with'])} |",
            "",
            f"The passages held the answer you wrote for {share(result['context_recall'])} questions.",
            "",
        ]
    return lines
