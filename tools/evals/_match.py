"""Reference-matching scorers for free text: exact match, token F1, ROUGE-L."""

from __future__ import annotations

from collections import Counter

from tools.evals._normalize import normalize_text, tokens


def exact_match(output: str, reference: str) -> float:
    """1.0 when the normalized texts are identical, else 0.0."""
    return 1.0 if normalize_text(output) == normalize_text(reference) else 0.0


def _f1(overlap: int, n_pred: int, n_ref: int) -> float:
    if n_pred == 0 and n_ref == 0:
        return 1.0
    if overlap == 0:
        return 0.0
    precision, recall = overlap / n_pred, overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def token_f1(output: str, reference: str) -> float:
    """SQuAD token F1 on the bag (multiset) of normalized words."""
    pred, ref = tokens(output), tokens(reference)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    return _f1(overlap, len(pred), len(ref))


def _lcs_length(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(output: str, reference: str) -> float:
    """ROUGE-L F1: longest common subsequence of normalized words, precision/recall harmonic mean."""
    pred, ref = tokens(output), tokens(reference)
    return _f1(_lcs_length(pred, ref), len(pred), len(ref))
