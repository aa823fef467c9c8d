"""The practice-data writer's number format: int8 weights where they measured no worse on the person's examples.

The embedded model writes the practice examples when no bigger model is set. CTranslate2 answers with int8
weights about 2–3× faster than with float32 on this machine's 2 cores (bench/RESULTS.md, session 25), but
its answers differ (issue #17: 0 of 3 the same in the first measurement; 4 of 16 on the engines bench) —
sometimes better, sometimes worse. So the writer uses int8 only after a measurement: the probe's requests
(the person's own examples, others shown) are answered again in int8, scored by the task's own rule, and
int8 is used when it got at least as many right as float32 did, with a mean score no lower than
`VALUE_SLACK` below. The decision is saved with the probe (`probe["teacher_precision"]`) and said in the
run's log. The student is always measured and served in float32. `TUNEWISE_TEACHER_PRECISION=float32` or
`int8` sets it without measuring.
"""

from __future__ import annotations

import os
import time
from typing import Any

ENV = "TUNEWISE_TEACHER_PRECISION"
VALUE_SLACK = 0.02  # of the task's mean score: rounding noise, not a worse writer


def choose(right8: int, right32: int, value8: float, value32: float, n: int) -> tuple[str, str]:
    """(precision, reason) from the same `n` answers scored in int8 and float32. Pure."""
    # in words a newcomer reads in the log: "int8" and "float32" only in brackets
    counts = f"of your {n} examples the faster copy got {right8} right, the full model {right32}"
    if right8 >= right32 and value8 >= value32 - VALUE_SLACK:
        return (
            "int8",
            f"a faster copy of the model (int8, about twice as fast here), as good on your examples: {counts}",
        )
    return "float32", f"the full model (float32), since the faster copy did worse on your examples: {counts}"


def applies(teacher, student) -> bool:
    """Whether the writer's precision is worth measuring: the teacher is the local CTranslate2 model that the
    probe measured (the same model as the student), so the probe's float32 answers are the writer's."""
    return (
        getattr(teacher, "name", None) == "local"
        and getattr(student, "name", None) == "local"
        and teacher.describe() == student.describe()
        and getattr(teacher, "engine", None) == "ctranslate2"
    )


def measure(spec, probe: dict, int8_provider) -> dict[str, Any]:
    """{"precision", "reason", "n", "right", "right_float32", "value", "value_float32", "seconds"}: the probe's
    requests answered with int8 weights, set against the probe's float32 answers (`probe["rows"]`)."""
    from agent.probe import probe_plan
    from tools.evals.correct import score

    planned = probe_plan(spec)
    rows = probe.get("rows") or []
    if isinstance(planned, str) or len(planned[1]) != len(rows):
        return {
            "precision": "float32",
            "reason": "float32 weights (the probe's answers could not be compared)",
        }
    examples, reqs = planned[0], planned[1]
    t0 = time.perf_counter()
    texts = [out.text for out in int8_provider.map(reqs)]
    seconds = time.perf_counter() - t0
    scores = [score(spec, t, ex.output) for t, ex in zip(texts, examples, strict=True)]
    right8, right32 = sum(s.correct for s in scores), sum(bool(r.get("correct")) for r in rows)
    value8 = sum(s.value for s in scores) / len(scores)
    value32 = sum(float(r.get("value") or 0.0) for r in rows) / len(rows)
    precision, reason = choose(right8, right32, value8, value32, len(rows))
    return {
        "precision": precision,
        "reason": reason,
        "n": len(rows),
        "right": right8,
        "right_float32": right32,
        "value": round(value8, 4),
        "value_float32": round(value32, 4),
        "seconds": round(seconds, 2),
    }


def teacher_precision(ctx, spec, run) -> dict:
    """The writer's precision for this run: set by `ENV`, saved with the probe, or measured now (and saved)."""
    from agent.artifacts import load_step, save_step
    from agent.probe import probe_signature

    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("float32", "int8"):
        return {"precision": forced, "reason": f"{forced} weights (set by {ENV})"}
    probe = load_step(run, 0, "probe")
    if not (probe and probe.get("measured")) or probe.get("signature") != probe_signature(spec):
        return {"precision": "float32", "reason": "float32 weights (nothing measured to compare int8 with)"}
    if probe.get("teacher_precision"):
        return probe["teacher_precision"]
    teacher, student = ctx.provider("teacher", spec, run.id), ctx.provider("student", spec, run.id)
    if not applies(teacher, student):
        return {"precision": "float32", "reason": "float32 weights"}
    ctx.emit("status", message="teacher: trying int8 weights on your examples")
    checked = measure(spec, probe, ctx.provider("teacher", spec, run.id, precision="int8"))
    save_step(run, 0, "probe", {**probe, "teacher_precision": checked})
    return checked


def teacher_provider(ctx, spec, run, measured_spec=None) -> tuple[Any, dict]:
    """(the teacher for writing practice data, the precision `teacher_precision` chose for it). `measured_spec`
    is the task as the probe measured it (the writer's own spec may hide the test's examples)."""
    chosen = teacher_precision(ctx, measured_spec or spec, run)
    int8 = chosen.get("precision") == "int8"
    return ctx.provider("teacher", spec, run.id, precision="int8" if int8 else None), chosen
