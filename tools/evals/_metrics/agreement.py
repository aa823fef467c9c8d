"""Agreement between two raters (a judge and people): raw agreement and Cohen's kappa."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def agreement_rate(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    pairs = list(zip(a, b, strict=True))
    return sum(1 for x, y in pairs if x == y) / len(pairs) if pairs else None


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """(p_o − p_e) / (1 − p_e). When both raters use one identical class throughout, kappa is 1.0 (p_e = 1)."""
    pairs = list(zip(a, b, strict=True))
    n = len(pairs)
    if n == 0:
        return None
    p_o = sum(1 for x, y in pairs if x == y) / n
    ca, cb = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if p_e == 1.0:
        return 1.0 if p_o == 1.0 else 0.0
    return (p_o - p_e) / (1 - p_e)
