"""Which metrics apply to a task, the primary one, and scoring one reply against its reference."""

from __future__ import annotations

from typing import Any

from tools.evals._classification import extract_label, label_match
from tools.evals._json import json_field_accuracy, json_valid, schema_conformance
from tools.evals._match import exact_match, rouge_l, token_f1
from tools.evals._pattern import format_errors, regex_match

# Metrics where higher is better and the value is in [0, 1]; "judge" is the rubric mean rescaled to [0, 1].
KNOWN_METRICS = (
    "exact_match",
    "token_f1",
    "rouge_l",
    "label_accuracy",
    "macro_f1",
    "json_valid",
    "json_field_accuracy",
    "schema_conformance",
    "regex_match",
    "format_ok",
    "judge",
)


def primary_metric_for(spec: Any, *, judge_available: bool = True) -> str:
    """The metric the verdict is decided on.

    An explicit `success.primary_metric` wins; otherwise json → field accuracy, label → accuracy,
    free text → the judge's rubric score (token F1 when no judge runs: it needs no model).
    """
    explicit = getattr(getattr(spec, "success", None), "primary_metric", None)
    if explicit:
        if explicit == "judge" and not judge_available:
            return "token_f1"
        return explicit
    fmt = getattr(getattr(spec, "output", None), "format", "text")
    if fmt == "json":
        return "json_field_accuracy"
    if fmt == "label":
        return "label_accuracy"
    return "judge" if judge_available else "token_f1"


def score_output(output: str, reference: str, spec: Any) -> dict:
    """Per-example metric values (floats in [0, 1]) plus `format_errors` and, for labels, `label_pred`."""
    out_spec: Any = getattr(spec, "output", None)
    fmt = getattr(out_spec, "format", "text")
    scores: dict[str, Any] = {
        "exact_match": exact_match(output, reference),
        "token_f1": token_f1(output, reference),
        "rouge_l": rouge_l(output, reference),
    }
    if fmt == "json":
        scores["json_valid"] = json_valid(output)
        scores["json_field_accuracy"] = json_field_accuracy(output, reference)
        if getattr(out_spec, "json_schema", None):
            scores["schema_conformance"] = schema_conformance(output, out_spec.json_schema)
    elif fmt == "label":
        labels = out_spec.labels or []
        scores["label_accuracy"] = label_match(output, reference, labels)
        scores["label_pred"] = extract_label(output, labels)
    if getattr(out_spec, "regex", None):
        scores["regex_match"] = regex_match(output, out_spec.regex)
    errors = (
        format_errors(output, out_spec)
        if out_spec is not None
        else ([] if str(output).strip() else ["empty reply"])
    )
    scores["format_ok"] = 0.0 if errors else 1.0
    scores["format_errors"] = errors
    return scores
