"""Percentile bootstrap confidence intervals (seeded, so reports are reproducible)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_RESAMPLES = 2000


def _clean(values: Sequence[float | None]) -> np.ndarray:
    return np.array([float(v) for v in values if v is not None], dtype=float)


def bootstrap_ci(
    values: Sequence[float | None],
    *,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """(low, high) of the mean; None values are skipped; (None, None) with no values."""
    arr = _clean(values)
    if arr.size == 0:
        return None, None
    if arr.size == 1 or np.all(arr == arr[0]):
        return float(arr[0]), float(arr[0])
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n_resamples, arr.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def mean_with_ci(values: Sequence[float | None], **kw) -> dict:
    """{"mean", "ci": [lo, hi], "n"}: the shape every metric takes in report.json."""
    arr = _clean(values)
    lo, hi = bootstrap_ci(values, **kw)
    return {"mean": float(arr.mean()) if arr.size else None, "ci": [lo, hi], "n": int(arr.size)}


def paired_bootstrap_diff(
    a: Sequence[float | None],
    b: Sequence[float | None],
    *,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict:
    """Mean of a−b over examples both scored, with a paired bootstrap CI (resampling examples, not systems)."""
    diffs = [x - y for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return mean_with_ci(diffs, confidence=confidence, n_resamples=n_resamples, seed=seed)
