"""Reference-matching scorers for free text: exact match, token F1, ROUGE-L."""

from __future__ import annotations

import re
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


_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """The `rouge-score` package's tokenizer (no stemming): lowercase, anything but ASCII a-z/0-9 splits."""
    return _ROUGE_NON_ALNUM.sub(" ", str(text or "").lower()).split()


def rouge_l(output: str, reference: str) -> float:
    """ROUGE-L F1 exactly as `rouge_score.rouge_scorer.RougeScorer(["rougeL"]).score(reference, output)
    ["rougeL"].fmeasure` computes it (tests/test_evals_metrics.py checks agreement): longest common
    subsequence of the library's tokens, harmonic mean of precision and recall; 0.0 when either side has no
    token. Like the library it keeps articles (token_f1 drops them) and sees only ASCII letters and digits:
    text in other scripts scores 0 — use token_f1 or the judge for it."""
    pred, ref = rouge_tokens(output), rouge_tokens(reference)
    if not pred or not ref:
        return 0.0
    return _f1(_lcs_length(pred, ref), len(pred), len(ref))
