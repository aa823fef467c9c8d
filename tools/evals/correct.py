"""One notion of correct: is this answer right for this task, and how right?

Every place that needs the answer to that question calls `score()`: the decision probe, the hardness
filter, the critique's self-consistency check, the evaluation (through `score_output`), and the rubric's
`prompted_success` (the probe's mean). So the number that decided "fine-tune" is the number the verdict
is later measured on.

- `value` is the task's primary metric for this one answer, in [0, 1] (json → field accuracy,
  label → label accuracy, text → token F1; an explicit `success.primary_metric` wins when it can be
  computed per answer without a model).
- `correct` is `value ≥ CORRECT_AT[metric]`: fully right for exact metrics, ≥ 0.6 for overlap metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.evals._primary import primary_metric_for, score_output

# Overlap metrics count an answer as right from this much overlap; every other metric needs 1.0.
CORRECT_AT = {"token_f1": 0.6, "rouge_l": 0.6, "judge": 0.75}


@dataclass(frozen=True)
class Score:
    metric: str
    value: float
    correct: bool
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)


def answer_metric(spec: Any) -> str:
    """The per-answer metric: the evaluation's primary metric, with the judge replaced by token F1
    (a judge needs a model call; callers that have one use the evaluation instead)."""
    return primary_metric_for(spec, judge_available=False)


def score(spec: Any, prediction: str, reference: str) -> Score:
    """Score one answer against its reference with the task's own rule. Pure."""
    metrics = score_output(prediction, reference, spec)
    metric = answer_metric(spec)
    value = metrics.get(metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        # a metric this task cannot compute per answer (e.g. macro_f1): fall back to the format's own
        metric = primary_metric_for(_without_explicit(spec), judge_available=False)
        value = metrics.get(metric, 0.0)
    value = float(value)
    return Score(metric, value, value >= CORRECT_AT.get(metric, 1.0) - 1e-9, metrics)


def mean_score(spec: Any, pairs) -> dict[str, Any]:
    """{"metric", "mean", "correct_share", "n"} over (prediction, reference) pairs. Pure."""
    scores = [score(spec, p, r) for p, r in pairs]
    n = len(scores)
    return {
        "metric": scores[0].metric if scores else answer_metric(spec),
        "mean": sum(s.value for s in scores) / n if n else None,
        "correct_share": sum(s.correct for s in scores) / n if n else None,
        "n": n,
    }


class _NoExplicit:
    def __init__(self, spec: Any):
        self.output = getattr(spec, "output", None)
        self.success = None


def _without_explicit(spec: Any) -> Any:
    return _NoExplicit(spec)
