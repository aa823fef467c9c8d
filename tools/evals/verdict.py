"""The verdict: does the candidate meet the task's success criteria? Pure, so it is unit-tested."""

from __future__ import annotations

from typing import Any

ABSOLUTE_BELOW = 0.05  # below this baseline score a relative gain is meaningless: use the absolute gain


def relative_improvement(candidate: float | None, baseline: float | None) -> float | None:
    """(c − b) / b; the absolute difference when the baseline is ≈0 (0 → 0.3 is not an infinite gain)."""
    if candidate is None or baseline is None:
        return None
    if baseline < ABSOLUTE_BELOW:
        return candidate - baseline
    return (candidate - baseline) / baseline


def _fmt(m: dict | None) -> str:
    if not m or m.get("mean") is None:
        return "n/a"
    lo, hi = m.get("ci") or (None, None)
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{m['mean']:.3f}{ci}"


def decide_verdict(
    *,
    primary_metric: str,
    baseline: str | None,
    candidate: str | None,
    systems: dict,
    success: Any = None,
    regression: dict | None = None,
    forgetting: dict | None = None,
) -> dict:
    """{"passed", "reasons", "improvement", "checks"} from the report's aggregates and the criteria.

    Criteria (defaults from `TaskSpec.success`): ≥ min_improvement over the best baseline on the
    primary metric, ≥ min_format_rate, no loss on the regression set (unless allowed), forgetting
    within max_forgetting_drop. Each check states its numbers; any failed check fails the verdict.
    """
    min_imp = getattr(success, "min_improvement", 0.10)
    min_fmt = getattr(success, "min_format_rate", 0.95)
    allow_reg = getattr(success, "allow_regression_loss", False)
    max_drop = getattr(success, "max_forgetting_drop", 0.5)
    reasons: list[str] = []
    checks: dict[str, bool | None] = {}
    if candidate is None or candidate not in systems:
        return {
            "passed": False,
            "improvement": None,
            "checks": {"candidate": False},
            "reasons": ["no candidate system to judge (train an adapter, or evaluate at least two systems)"],
        }
    cand = systems[candidate]
    cm = cand["metrics"].get(primary_metric)
    bm = systems[baseline]["metrics"].get(primary_metric) if baseline in systems else None
    improvement = relative_improvement(cm and cm.get("mean"), bm and bm.get("mean"))
    if improvement is None:
        checks["improvement"] = False
        reasons.append(f"✗ {primary_metric}: cannot compare {candidate} with a baseline (missing scores)")
    else:
        ok = improvement >= min_imp
        checks["improvement"] = ok
        kind = "absolute" if (bm["mean"] < ABSOLUTE_BELOW) else "relative"
        reasons.append(
            f"{'✓' if ok else '✗'} {primary_metric}: {candidate} {_fmt(cm)} vs best baseline {baseline} "
            f"{_fmt(bm)} → {improvement:+.1%} {kind} (need ≥ {min_imp:+.0%})"
        )
    fmt_rate = cand.get("format_rate")
    if fmt_rate is not None:
        ok = fmt_rate >= min_fmt
        checks["format_rate"] = ok
        reasons.append(f"{'✓' if ok else '✗'} format rate {fmt_rate:.1%} (need ≥ {min_fmt:.0%})")
    if regression and regression.get("n"):
        delta = regression.get("delta")
        n_reg = len(regression.get("regressed_ids") or [])
        lost = delta is not None and delta < 0
        ok = (not lost) or allow_reg
        checks["regression"] = ok
        reasons.append(
            f"{'✓' if ok else '✗'} regression set: mean {primary_metric} change {delta:+.3f} over "
            f"{regression['n']} examples, {n_reg} example(s) regressed"
            + (" (loss allowed by the spec)" if lost and allow_reg else "")
        )
    else:
        checks["regression"] = None
        reasons.append("· regression set: not run (no regression.jsonl)")
    if forgetting and forgetting.get("n") and not forgetting.get("skipped"):
        drop = forgetting.get("score_drop")
        significant = bool(forgetting.get("significant"))
        ok = not significant
        checks["forgetting"] = ok
        drop_txt = (
            f"judge score drop {drop + 0.0:+.2f} (max {max_drop})"
            if drop is not None
            else "no pointwise scores"
        )
        reasons.append(
            f"{'✓' if ok else '✗'} forgetting: {drop_txt}, {forgetting.get('losses', 0)} of "
            f"{forgetting['n']} general prompts worse than base"
        )
    else:
        checks["forgetting"] = None
        why = (forgetting or {}).get("skipped") or "not run"
        reasons.append(f"· forgetting: {why}")
    passed = all(v is not False for v in checks.values())
    return {"passed": passed, "improvement": improvement, "checks": checks, "reasons": reasons}
