"""The rag branch's work: index the documents (BM25), then measure on the user's examples whether
retrieval helps: base + prompt vs base + prompt + retrieved context, and how often the reference
answer's words are in the retrieved passages (a recall proxy)."""

from __future__ import annotations

from agent.artifacts import load_step, save_step
from agent.probe import few_shot_messages
from tools.evals._match import token_f1
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
    with_ctx = []
    for ex in spec.examples:
        hits = retriever.search(ex.input)
        context = format_context(hits)
        msgs = few_shot_messages(spec, [], f"Context:\n{context}\n\nQuestion: {ex.input}")
        with_ctx.append(Request(msgs, GenParams(max_tokens=128)))
        rows.append(
            {
                "input": ex.input,
                "reference": ex.output,
                "context_recall": token_f1(context, ex.output) > 0
                and all(w in context.lower() for w in ex.output.lower().split()[:5]),
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


def _retrieval_md(run, spec, result: dict) -> list[str]:
    """retrieval.md: the index and its config, and the with/without table when there were examples."""
    lines = [
        "# Retrieval setup",
        "",
        f"Documents: `{spec.documents}` → {result['chunks']} chunks (BM25).",
        f"Config: `{run.path / 'retrieval.json'}`",
        "",
    ]
    if result["n"]:
        lines += [
            "| system | accuracy on your examples |",
            "|---|---|",
            f"| base + prompt | {result['accuracy_without']:.0%} |",
            f"| base + prompt + retrieval | {result['accuracy_with']:.0%} |",
            "",
            f"Reference answers found in the retrieved context: {result['context_recall']:.0%}",
            "",
        ]
    return lines
