"""Failure analysis for the iteration loop: why the candidate failed, and what data would fix it.

Failing test and regression examples are grouped by cause (format error, missing field, wrong
label, length, the judge's weakest rubric dimension) and each group becomes a structured request
for targeted data: "30 more inputs like these, where the model does X instead of Y".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.evals._json import missing_fields

FAIL_BELOW = 1.0  # a reference-matching primary score under this is a failure (exact tasks)
TEXT_FAIL_BELOW = 0.5  # token F1 / ROUGE-L / judge-normalized: under half is a failure
MAX_EXAMPLES = 5


def _load_outputs(report_or_outputs: Any) -> tuple[list[dict], str | None, str | None]:
    """(outputs rows, candidate name, primary metric) from a report dict, an outputs list or a path."""
    from tools.workspace import read_json, read_jsonl

    if isinstance(report_or_outputs, (str, Path)):
        p = Path(report_or_outputs)
        if p.is_dir():
            p = p / "report.json"
        report_or_outputs = read_json(p) if p.suffix == ".json" else list(read_jsonl(p))
    if isinstance(report_or_outputs, dict):
        rep = report_or_outputs
        rows = rep.get("_outputs")
        if rows is None and rep.get("paths", {}).get("outputs"):
            rows = list(read_jsonl(rep["paths"]["outputs"]))
        return list(rows or []), rep.get("candidate"), rep.get("primary_metric")
    return list(report_or_outputs), None, None


def classify_failure(
    entry: dict, reference: str, spec: Any, primary_metric: str | None
) -> tuple[str, dict] | None:
    """(cause, details) when this system output fails, else None. Causes in priority order."""
    fmt = getattr(getattr(spec, "output", None), "format", "text")
    metrics = entry.get("metrics") or {}
    errors = entry.get("format_errors") or metrics.get("format_errors") or []
    text = entry.get("text", "")
    length_errors = [e for e in errors if e.startswith(("too long", "too short"))]
    other_errors = [e for e in errors if e not in length_errors]
    if other_errors and fmt == "json" and all(e.startswith("schema:") for e in other_errors):
        miss = missing_fields(text, reference)
        if miss:  # valid JSON that only lacks required fields: a content gap, not a format problem
            return "missing_field", {"fields": miss, "errors": other_errors}
    if other_errors:
        return "format_error", {"errors": other_errors}
    if fmt == "json":
        miss = missing_fields(text, reference)
        if miss:
            return "missing_field", {"fields": miss}
        if (metrics.get("json_field_accuracy") or 0) < FAIL_BELOW:
            return "wrong_value", {}
    if fmt == "label" and not metrics.get("label_accuracy"):
        return "wrong_label", {"predicted": metrics.get("label_pred"), "expected": reference.strip()}
    if length_errors:
        return "length", {"errors": length_errors}
    ref_len, out_len = len(reference.strip()), len(text.strip())
    judge = entry.get("judge") or {}
    if judge.get("passed") is False:
        dims = {
            d: judge.get(d) for d in ("correctness", "format", "completeness") if judge.get(d) is not None
        }
        weakest = min(dims, key=dims.get) if dims else "correctness"
        return f"judge_{weakest}", {"reason": judge.get("reason", ""), "scores": dims}
    if fmt == "text" and ref_len >= 20 and (out_len > 2.5 * ref_len or out_len < 0.3 * ref_len):
        primary = metrics.get(primary_metric or "token_f1")
        if primary is not None and primary < TEXT_FAIL_BELOW:
            return "length", {"errors": [f"{out_len} chars vs {ref_len} in the reference"]}
    primary = metrics.get(primary_metric) if primary_metric else None
    if primary_metric == "judge":
        primary = judge.get("normalized")
    if primary is not None:
        limit = TEXT_FAIL_BELOW if primary_metric in ("token_f1", "rouge_l", "judge") else FAIL_BELOW
        if primary < limit:
            return "wrong_content", {}
    return None


def _error_phrase(error: str) -> str:
    """A format error as what the model did ("replies with …")."""
    if error.startswith("schema:"):
        return "JSON that breaks the schema"
    if error.startswith("does not match"):
        return "text that does not match the required pattern"
    return {
        "not valid JSON": "text that is not valid JSON",
        "no allowed label": "no allowed label",
        "label wrapped in extra text": "the label wrapped in extra text",
        "empty reply": "an empty reply",
    }.get(error, error)


def _describe(cause: str, group: list[dict], spec: Any, n: int) -> str:
    fmt = getattr(getattr(spec, "output", None), "format", "text")
    want = {"json": "valid JSON that matches the schema", "label": "exactly one allowed label"}.get(
        fmt, "a clean answer"
    )
    if cause == "format_error":
        errs = Counter(_error_phrase(e) for g in group for e in g["details"].get("errors", []))
        top = " or ".join(e for e, _ in errs.most_common(2))
        return f"{n} more inputs like these, where the model replies with {top} instead of {want}"
    if cause == "missing_field":
        fields = Counter(f.split("[")[0] for g in group for f in g["details"].get("fields", []))
        top = ", ".join(f for f, _ in fields.most_common(3))
        return f"{n} more inputs like these, where the model leaves out {top} instead of filling every field from the input"
    if cause == "wrong_value":
        return f"{n} more inputs like these, where the model fills the JSON fields with wrong values instead of the ones in the input"
    if cause == "wrong_label":
        conf = Counter(
            (g["details"].get("predicted") or "no label", g["details"].get("expected")) for g in group
        )
        (pred, exp), _ = conf.most_common(1)[0]
        return f"{n} more inputs like these, where the model answers {pred} instead of {exp}"
    if cause == "length":
        errs = Counter(
            e.split(" ")[1] if e.startswith("too") else "off"
            for g in group
            for e in g["details"].get("errors", [])
        )
        way = errs.most_common(1)[0][0] if errs else "off"
        return (
            f"{n} more inputs like these, where the model's answer is too {way} instead of matching the "
            "expected length"
        )
    if cause.startswith("judge_"):
        dim = cause.removeprefix("judge_")
        reasons = [g["details"].get("reason") for g in group if g["details"].get("reason")]
        why = f" (judge: {reasons[0]})" if reasons else ""
        return f"{n} more inputs like these, where the model's answer is weak on {dim} instead of matching the reference{why}"
    return f"{n} more inputs like these, where the model's answer differs from the reference instead of matching it"


TESTED_SPLITS = (None, "test", "regression")


def analyze_failures(
    report_or_outputs: Any,
    spec: Any,
    *,
    system: str | None = None,
    primary_metric: str | None = None,
    splits: tuple = TESTED_SPLITS,
) -> list[dict]:
    """Targeted-data requests, largest group first:
    {"cause", "description", "examples": [{"input", "output", "expected"}], "n", "count", "ids", "splits"}.
    `splits`: the rows' splits looked at (the report's: the test and regression rows; the agent's next round
    asks from "val" rows only, so that no test input reaches a teacher)."""
    rows, candidate, primary = _load_outputs(report_or_outputs)
    system = system or candidate
    primary_metric = primary_metric or primary
    if system is None and rows:
        system = next(iter(rows[0].get("outputs", {})), None)
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("split") not in splits:
            continue
        entry = (row.get("outputs") or {}).get(system)
        if entry is None:
            continue
        regressed = row.get("split") == "regression" and row.get("regressed")
        found = classify_failure(entry, row.get("reference", ""), spec, primary_metric)
        if found is None and not regressed:
            continue
        cause, details = found or ("regression", {})
        groups.setdefault(cause, []).append({"row": row, "entry": entry, "details": details})
    requests = []
    for cause, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        n = max(10, min(50, 10 * len(group)))  # ~10 new inputs per failure, 10–50 per request
        requests.append(
            {
                "cause": cause,
                "description": _describe(cause, group, spec, n),
                "examples": [
                    {
                        "input": g["row"].get("input", ""),
                        "output": g["entry"].get("text", ""),
                        "expected": g["row"].get("reference", ""),
                    }
                    for g in group[:MAX_EXAMPLES]
                ],
                "n": n,
                "count": len(group),
                "ids": [g["row"].get("id") for g in group],
                "splits": sorted({g["row"].get("split") or "test" for g in group}),
                "categories": sorted(
                    {str(g["row"].get("category")) for g in group if g["row"].get("category")}
                ),
            }
        )
    return requests


def failure_summary(requests: Sequence[dict]) -> str:
    """One line per cause, for the CLI and report.md."""
    return "\n".join(f"- {r['cause']} ×{r['count']}: {r['description']}" for r in requests) or "- none"
