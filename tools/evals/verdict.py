"""The verdict: does the candidate meet the task's success criteria? Pure, so it is unit-tested."""

from __future__ import annotations

import math
from typing import Any

ABSOLUTE_BELOW = 0.05  # below this baseline score a relative gain is meaningless: use the absolute gain
# a system right this much less often on the person's own held-out examples than on the test: the test flatters it
OWN_GAP = 0.4
OWN_MIN = 6  # own examples needed before their count is set against the test's


def verdict_word(verdict: dict | None) -> str:
    """PASS / FAIL / INCONCLUSIVE for a verdict dict (older reports have only `passed`)."""
    v = verdict or {}
    status = v.get("status") or ("pass" if v.get("passed") else "fail")
    return status.upper()


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


def decide_verdict(  # noqa: PLR0915 - one reason line per success criterion, in the order the report lists them
    *,
    primary_metric: str,
    baseline: str | None,
    candidate: str | None,
    systems: dict,
    success: Any = None,
    regression: dict | None = None,
    forgetting: dict | None = None,
    paired: dict | None = None,
    distributions: dict | None = None,
    n_test: int | None = None,
    golden: dict | None = None,
) -> dict:
    """{"status", "passed", "reasons", "improvement", "checks", ...} from the report's aggregates.

    Criteria (defaults from `TaskSpec.success`): ≥ min_improvement over the best baseline on the
    primary metric (the baselines include the majority answer), ≥ min_format_rate, answers that do
    not collapse to one value, no loss on the regression set (unless allowed), forgetting within
    max_forgetting_drop. Each check states its numbers; any failed check fails the verdict.

    With `paired` (the bootstrap CI of candidate − baseline per example) the improvement is only
    called met or missed when the whole CI is on one side of the bar; a CI that straddles it makes
    the verdict "inconclusive" with the number of test rows that would settle it. A test whose
    label/enum values are far from the user's examples also makes it inconclusive.

    With `golden` (the person's own held-out examples, at least `OWN_MIN`) the candidate must not be far
    worse on them than on the test, nor clearly worse than the baseline (`own_examples_check`).
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
    inconclusive: list[str] = []
    add_rows = None
    if improvement is None:
        checks["improvement"] = False
        reasons.append(f"✗ {primary_metric}: cannot compare {candidate} with a baseline (missing scores)")
    else:
        ok = improvement >= min_imp
        kind = "absolute" if (bm["mean"] < ABSOLUTE_BELOW) else "relative"
        line = (
            f"{primary_metric}: {candidate} {_fmt(cm)} vs best baseline {baseline} "
            f"{_fmt(bm)} → {improvement:+.1%} {kind} (need ≥ {min_imp:+.0%})"
        )
        straddle = _straddles(paired, min_imp, bm["mean"])
        if straddle is not None:
            add_rows = rows_to_settle(paired, straddle, n_test)
            more = f"about {add_rows} more test rows" if add_rows else "many more test rows"
            inconclusive.append(
                f"the test cannot tell yet: the difference is {paired['mean']:+.3f} with 95% CI "
                f"[{paired['ci'][0]:+.3f}, {paired['ci'][1]:+.3f}], which includes the bar {straddle:+.3f}; "
                f"{more} would settle it"
            )
            checks["improvement"] = None
            reasons.append(f"? {line} — inconclusive")
        else:
            checks["improvement"] = ok
            reasons.append(f"{'✓' if ok else '✗'} {line}")
    trivial = next((n for n, s_ in systems.items() if s_.get("kind") == "trivial"), None)
    if trivial and trivial != baseline and cm and cm.get("mean") is not None:
        tm = systems[trivial]["metrics"].get(primary_metric) or {}
        if tm.get("mean") is not None:
            ok = cm["mean"] > tm["mean"]
            checks["beats_trivial"] = ok
            reasons.append(
                f"{'✓' if ok else '✗'} beats always giving the most common practice answer: "
                f"{cm['mean']:.3f} vs {tm['mean']:.3f}"
            )
    collapsed = ((distributions or {}).get("collapsed") or {}).get(candidate)
    if collapsed or (distributions and distributions.get("fields")):
        # a text answer chosen from a few words is counted for this alone (no fields: distribution.answer_field)
        checks["varied_answers"] = not collapsed
        for c in collapsed or []:
            reasons.append(
                f"✗ {candidate} answers {c['field']} = {c['value']} for {c['count']} of {c['n']} inputs "
                f"while {c.get('of', 'the references')} use {c['reference_values']} values: its answers collapsed"
            )
        if not collapsed:
            reasons.append(
                f"✓ answers vary like the references ({', '.join((distributions or {})['fields'])})"
            )
    if distributions and distributions.get("fields"):
        shift = test_shift(distributions)
        if shift:
            inconclusive.append(shift)
    fmt_rate = cand.get("format_rate")
    if fmt_rate is not None:
        ok = fmt_rate >= min_fmt
        checks["format_rate"] = ok
        reasons.append(f"{'✓' if ok else '✗'} format rate {fmt_rate:.1%} (need ≥ {min_fmt:.0%})")
    if regression and regression.get("n"):
        delta = regression.get("delta")
        n_reg = len(regression.get("regressed_ids") or [])
        ci = regression.get("delta_ci") or [None, None]
        # a loss counts when the paired CI lies below zero, as forgetting's does: one example of 26 a little
        # worse (the demo: −0.013, CI up to 0) is noise the primary metric's own CI would not fail either;
        # without a CI (an older report) any loss counts
        lost = delta is not None and delta < 0 and (ci[1] is None or ci[1] < 0)
        ok = (not lost) or allow_reg
        checks["regression"] = ok
        noise = delta is not None and delta < 0 and not lost
        # walk 20 read "✓ … 2 example(s) regressed" as a tick on a bad result: a loss within noise is "·"
        mark = "✗" if not ok else ("·" if noise or (n_reg and not lost) else "✓")
        reasons.append(
            f"{mark} regression set: mean {primary_metric} change {delta:+.3f} over "
            f"{regression['n']} examples, {n_reg} example(s) regressed"
            + (f" (within noise: the 95% CI reaches {ci[1]:+.3f}; worth a look)" if noise else "")
            + (" (loss allowed by the spec)" if lost and allow_reg else "")
        )
    else:
        checks["regression"] = None
        reasons.append("· regression set: not run (no regression.jsonl)")
    checks["forgetting"], line = _forgetting_check(forgetting, max_drop)
    reasons.append(line)
    if paired and paired.get("ci") and paired["ci"][0] is not None:
        half = (paired["ci"][1] - paired["ci"][0]) / 2
        reasons.append(
            f"· this test ({n_test or paired.get('n')} rows) can tell differences larger than about ±{half:.3f}"
        )
    own = own_examples_check(golden, systems, candidate, baseline, primary_metric)
    if own is not None:
        checks["own_examples"], line = own
        reasons.insert(0, line)
    failed = any(v is False for v in checks.values())
    status = "fail" if failed else ("inconclusive" if inconclusive else "pass")
    reasons += [f"? {x}" for x in inconclusive]
    return {
        "status": status,
        "passed": status == "pass",
        "improvement": improvement,
        "checks": checks,
        "reasons": reasons,
        "inconclusive": inconclusive,
        "add_test_rows": add_rows,
    }


def _forgetting_check(forgetting: dict | None, max_drop: float) -> tuple[bool | None, str]:
    """(ok, reason) for the general prompts the tuned model must not get worse at; None when not run."""
    if not (forgetting and forgetting.get("n") and not forgetting.get("skipped")):
        return None, f"· forgetting: {(forgetting or {}).get('skipped') or 'not run'}"
    drop = forgetting.get("score_drop")
    ok = not bool(forgetting.get("significant"))
    drop_txt = (
        f"judge score drop {drop + 0.0:+.2f} (max {max_drop})" if drop is not None else "no pointwise scores"
    )
    return ok, (
        f"{'✓' if ok else '✗'} forgetting: {drop_txt}, {forgetting.get('losses', 0)} of "
        f"{forgetting['n']} general prompts worse than base"
    )


def flattered(test_share: float | None, own: int, n: int) -> bool:
    """Whether a system right on `test_share` of the test but on `own` of the person's `n` held-out examples is
    flattered by the test (`OWN_GAP`, at least `OWN_MIN` examples). Pure."""
    return test_share is not None and n >= OWN_MIN and test_share - own / n >= OWN_GAP


def own_examples_check(
    golden: dict | None, systems: dict, candidate: str, baseline: str | None, primary_metric: str
) -> tuple[bool, str] | None:
    """(ok, reason) from the person's own held-out examples, or None with fewer than `OWN_MIN` of them.

    Not ok when the candidate is right on a far smaller share of them than of the test (`OWN_GAP`; the test's
    share is `right_share`, counted the same way): the parcels bench passed on a 14-row test the small
    model wrote and answered, where the person's own examples and the private test said it was wrong most of
    the time. Not ok either when the baseline got clearly more of them right (by 2 and a quarter of them).
    Pure."""
    g = (golden or {}).get("systems") or {}
    n = int((golden or {}).get("n") or 0)
    if n < OWN_MIN or candidate not in g or (systems.get(candidate) or {}).get("kind") == "trivial":
        return None
    own = int(g[candidate].get("correct") or 0)
    line = f"your own {n} held-out examples: {candidate} {own} right"
    base_own = None
    if baseline in g and (systems.get(baseline) or {}).get("kind") != "trivial":
        base_own = int(g[baseline].get("correct") or 0)
        line += f", {baseline} {base_own} right"
    test_share = (systems.get(candidate) or {}).get("right_share")
    if (golden or {}).get("metric") == primary_metric and flattered(test_share, own, n):
        return False, (
            f"✗ {line}: {own / n:.0%} of them against {test_share:.0%} of the test, so the test flatters it "
            "(count on your own examples)"
        )
    if base_own is not None and base_own - own >= max(2, math.ceil(n / 4)):
        return False, f"✗ {line}: {baseline} does clearly better on them"
    return True, f"✓ {line}"


def _bar(min_imp: float, baseline_mean: float) -> float:
    """The smallest candidate − baseline difference that meets the criterion, in metric units."""
    return min_imp if baseline_mean < ABSOLUTE_BELOW else min_imp * baseline_mean


def _straddles(paired: dict | None, min_imp: float, baseline_mean: float) -> float | None:
    """The bar, when the paired CI includes it (the test cannot tell); None when it is clear."""
    if not paired or not paired.get("ci") or paired["ci"][0] is None or paired.get("mean") is None:
        return None
    lo, hi = paired["ci"]
    bar = _bar(min_imp, baseline_mean)
    if lo < bar - 1e-12 and hi > bar + 1e-12 and hi - lo > 1e-9:
        return bar
    return None


def rows_to_settle(paired: dict, bar: float, n_test: int | None) -> int | None:
    """Rows to add so the CI half-width shrinks (∝ 1/√n) below the distance between the estimate and the
    bar; None when the estimate sits on the bar."""
    n = n_test or paired.get("n") or 0
    lo, hi = paired["ci"]
    margin = abs(paired["mean"] - bar)
    if not n or margin < 1e-6:
        return None
    need = math.ceil(n * ((hi - lo) / 2 / margin) ** 2)
    return max(1, need - n) if need - n < 100_000 else None


def test_shift(distributions: dict) -> str | None:
    """A reason when the test's label/enum values are far from those of the user's examples."""
    shift = shift_of(distributions)
    if shift is None:
        return None
    return (
        f"the test's {shift['field']} values are far from your examples' (distance {shift['distance']:.2f}; the "
        f"test's most common is {shift['top']!r}): its score may not reflect your task — check the test's "
        "references"
    )


def shift_of(distributions: dict) -> dict | None:
    """{"field", "distance", "top"}: the first field whose test values are far (total variation above
    `SHIFT_TVD`) from the person's examples' (at least 4 of them), with the test's most common value; None
    when none is. Pure."""
    from tools.evals.distribution import SHIFT_TVD, total_variation

    seeds, ref = (distributions or {}).get("seeds") or {}, (distributions or {}).get("reference") or {}
    for f in (distributions or {}).get("fields") or []:
        if sum((seeds.get(f) or {}).values()) < 4:
            continue
        tvd = total_variation(ref.get(f) or {}, seeds.get(f) or {})
        if tvd > SHIFT_TVD:
            return {"field": f, "distance": tvd, "top": next(iter(ref.get(f) or {"?": 0}))}
    return None
