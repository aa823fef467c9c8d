"""Length statistics of replies (characters and words) and prompt tokens per request."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def length_stats(texts: Sequence[str]) -> dict:
    """mean/median/p90/max of characters and words; zeros for no texts."""
    chars = np.array([len(str(t or "")) for t in texts], dtype=float)
    words = np.array([len(str(t or "").split()) for t in texts], dtype=float)
    if chars.size == 0:
        return {
            "n": 0,
            "chars_mean": 0.0,
            "chars_median": 0.0,
            "chars_p90": 0.0,
            "chars_max": 0,
            "words_mean": 0.0,
        }
    return {
        "n": int(chars.size),
        "chars_mean": float(chars.mean()),
        "chars_median": float(np.median(chars)),
        "chars_p90": float(np.percentile(chars, 90)),
        "chars_max": int(chars.max()),
        "words_mean": float(words.mean()),
    }


def prompt_tokens_per_request(prompt_tokens: Sequence[int]) -> float:
    """Mean prompt tokens per request: what a zero-shot tuned model saves against a few-shot prompt."""
    return float(np.mean(prompt_tokens)) if len(prompt_tokens) else 0.0
