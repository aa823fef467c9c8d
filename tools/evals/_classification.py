"""Label tasks: extracting the label a reply commits to, accuracy and macro-F1."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tools.evals._normalize import normalize_text


def extract_label(output: str, labels: Sequence[str]) -> str | None:
    """The label a reply commits to: an exact (normalized) match, else the only label named in it.

    A reply naming two labels ("positive or negative") commits to none, so it returns None.
    """
    norm = normalize_text(output)
    by_norm = {normalize_text(lab): lab for lab in labels}
    if norm in by_norm:
        return by_norm[norm]
    found = [lab for n, lab in by_norm.items() if n and re.search(rf"\b{re.escape(n)}\b", norm)]
    return found[0] if len(found) == 1 else None


def label_match(output: str, reference: str, labels: Sequence[str] | None = None) -> float:
    """1.0 when the reply's label equals the reference label."""
    pred = extract_label(output, labels) if labels else output
    if pred is None:
        return 0.0
    return 1.0 if normalize_text(pred) == normalize_text(reference) else 0.0


def label_accuracy(predictions: Sequence[str | None], references: Sequence[str]) -> float:
    if not references:
        return 0.0
    hits = sum(
        1
        for p, r in zip(predictions, references, strict=True)
        if p is not None and normalize_text(p) == normalize_text(r)
    )
    return hits / len(references)


def macro_f1(predictions: Sequence[str | None], references: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 over the reference labels and any label predicted.

    A missing prediction (None) is wrong for its reference label and counts for no label, so
    unparseable replies lower recall without inventing a class.
    """
    preds = [normalize_text(p) if p is not None else None for p in predictions]
    refs = [normalize_text(r) for r in references]
    classes = sorted(set(refs) | {p for p in preds if p is not None})
    if not classes:
        return 0.0
    scores = []
    for c in classes:
        tp = sum(1 for p, r in zip(preds, refs, strict=True) if p == c and r == c)
        fp = sum(1 for p, r in zip(preds, refs, strict=True) if p == c and r != c)
        fn = sum(1 for p, r in zip(preds, refs, strict=True) if p != c and r == c)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)
