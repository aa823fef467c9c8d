"""`tunewise monitor DIR`: what production looked like, per day, from a `tunewise serve --log DIR` log.

Per UTC day: answered requests, failed ones, latency p50/p95, tokens, the rating distribution (1-5), how many
answers were corrected, and the share of answers that fail the task's format checks (tools/evals/_pattern's
`format_errors`, the evaluation's own check) — with a small text plot of volume and format failures. The task
comes from `--spec`, `--run`, or the run the served adapter was trained in (the log names it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _ms(seconds: float | None) -> float | None:
    """Seconds as milliseconds to 0.1 (None stays None: a percentile of no values)."""
    return None if seconds is None else round(1000 * seconds, 1)


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d")


def find_spec(data, spec_path: str | None = None, run_id: str | None = None):
    """(TaskSpec or None, where it came from)."""
    from tools.spec import load_spec
    from tools.workspace import Workspace

    if spec_path:
        return load_spec(spec_path), str(spec_path)
    ws = Workspace()
    candidates = [run_id] if run_id else []
    if not run_id:
        for req in reversed(list(data.requests.values())):
            rid = (req.get("version") or {}).get("run_id")
            if rid and rid not in candidates:
                candidates.append(rid)
    for rid in candidates:
        run = ws.get_run(rid) if run_id else ws.run(rid)
        if run.spec_path.exists():
            return load_spec(run.spec_path), str(run.spec_path)
        if run_id:
            from tools.errors import UserError

            raise UserError(
                f"run {run.id} has no spec.yaml", where=str(run.path), fix="pass --spec task.yaml"
            )
    return None, None


def daily(directory: str | Path, *, spec=None, since: str | None = None) -> list[dict[str, Any]]:
    """One dict per day with requests, errors, latency, tokens, ratings, corrections and format failures."""
    from tools.data.from_serve import parse_since
    from tools.evals._pattern import format_errors
    from tools.llm.servelog import read_log

    start = parse_since(since)
    data = read_log(directory)
    days: dict[str, dict[str, Any]] = {}
    for rid, req in data.requests.items():
        ts = req.get("ts") or 0
        if start is not None and ts < start:
            continue
        d = days.setdefault(
            _day(ts),
            {
                "requests": 0,
                "errors": 0,
                "latency": [],
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "ratings": {str(i): 0 for i in range(1, 6)},
                "corrected": 0,
                "format_checked": 0,
                "format_failed": 0,
                "failures": {},
            },
        )
        if not (200 <= (req.get("status") or 0) < 300):
            d["errors"] += 1
            continue
        d["requests"] += 1
        if isinstance(req.get("latency_s"), (int, float)):
            d["latency"].append(float(req["latency_s"]))
        d["prompt_tokens"] += req.get("prompt_tokens") or 0
        d["completion_tokens"] += req.get("completion_tokens") or 0
        fb = data.feedback.get(rid) or {}
        if fb.get("rating") is not None:
            d["ratings"][str(fb["rating"])] += 1
        if fb.get("correction") is not None:
            d["corrected"] += 1
        if spec is not None and req.get("response") is not None:
            d["format_checked"] += 1
            errs = format_errors(req["response"], spec.output)
            if errs:
                d["format_failed"] += 1
                for e in errs:
                    key = e.split(":")[0]
                    d["failures"][key] = d["failures"].get(key, 0) + 1
    out = []
    for day in sorted(days):
        d = days[day]
        lat = d.pop("latency")
        rated = sum(d["ratings"].values())
        out.append(
            {
                "day": day,
                **d,
                "latency_p50_ms": _ms(percentile(lat, 50)),
                "latency_p95_ms": _ms(percentile(lat, 95)),
                "rated": rated,
                "mean_rating": None
                if not rated
                else round(sum(int(k) * n for k, n in d["ratings"].items()) / rated, 2),
                "format_fail_share": None
                if not d["format_checked"]
                else round(d["format_failed"] / d["format_checked"], 4),
            }
        )
    return out


def _bar(value: float, top: float, width: int = 24) -> str:
    if top <= 0 or value <= 0:
        return ""
    n = value / top * width
    full = int(n)
    return "█" * full + ("▌" if n - full >= 0.5 else "")


def render(days: list[dict], spec_source: str | None = None) -> str:
    """The per-day table and a small text plot."""
    if not days:
        return "no requests in this log (for this period)"

    def ms(v):
        return "-" if v is None else f"{v:.0f}"

    head = (
        f"{'day':10}  {'answered':>8}  {'errors':>6}  {'p50 ms':>7}  {'p95 ms':>7}  {'tokens in/out':>13}  "
        f"{'ratings 1 2 3 4 5':>17}  {'corrected':>9}  {'format fail':>11}"
    )
    lines = [head, "-" * len(head)]
    for d in days:
        r = d["ratings"]
        ratings = " ".join(f"{r[str(i)]}" for i in range(1, 6))
        fmt = (
            "-"
            if d["format_fail_share"] is None
            else f"{d['format_fail_share']:.0%} of {d['format_checked']}"
        )
        lines.append(
            f"{d['day']:10}  {d['requests']:>8}  {d['errors']:>6}  {ms(d['latency_p50_ms']):>7}  "
            f"{ms(d['latency_p95_ms']):>7}  {d['prompt_tokens']:>6}/{d['completion_tokens']:<6}  "
            f"{ratings:>17}  {d['corrected']:>9}  {fmt:>11}"
        )
    total = sum(d["requests"] for d in days)
    rated = sum(d["rated"] for d in days)
    lines.append("")
    lines.append(
        f"{total} answered, {sum(d['errors'] for d in days)} failed, {rated} rated"
        + (
            f" (mean {sum(int(k) * n for d in days for k, n in d['ratings'].items()) / rated:.2f})"
            if rated
            else ""
        )
        + f", {sum(d['corrected'] for d in days)} corrected"
    )
    lines.append(
        f"format checks: the task in {spec_source}"
        if spec_source
        else "format checks: no task found (pass --spec task.yaml or --run RUN)"
    )
    top = max(d["requests"] for d in days)
    lines += ["", "answered per day" + " " * 20 + "format failures"]
    for d in days:
        share = d["format_fail_share"]
        fail = "" if share is None else f"{_bar(share, 1.0, 20)} {share:.0%}"
        lines.append(f"{d['day']}  {_bar(d['requests'], top):<25}{d['requests']:>5}   {fail}")
    return "\n".join(lines)
