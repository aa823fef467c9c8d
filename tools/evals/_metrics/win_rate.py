"""Win rate of a candidate over a baseline from per-example outcomes (win / loss / tie)."""

from __future__ import annotations

from collections.abc import Sequence

from tools.evals._metrics.bootstrap import bootstrap_ci


def win_rate(outcomes: Sequence[str], *, seed: int = 0) -> dict:
    """Counts plus `win_rate` = (wins + ½ ties) / n with a bootstrap CI; ties count half for each side."""
    wins = sum(1 for o in outcomes if o == "win")
    losses = sum(1 for o in outcomes if o == "loss")
    ties = sum(1 for o in outcomes if o == "tie")
    n = wins + losses + ties
    points = [
        1.0 if o == "win" else 0.0 if o == "loss" else 0.5 for o in outcomes if o in ("win", "loss", "tie")
    ]
    lo, hi = bootstrap_ci(points, seed=seed)
    return {
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "n": n,
        "win_rate": (wins + 0.5 * ties) / n if n else None,
        "ci": [lo, hi],
        "tie_rate": ties / n if n else None,
    }
