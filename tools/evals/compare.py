"""What got better and worse between two eval versions, example by example."""

from __future__ import annotations

from pathlib import Path

from tools.errors import UserError


def _primary(entry: dict, metric: str) -> float | None:
    if metric == "judge":
        return (entry.get("judge") or {}).get("normalized")
    return (entry.get("metrics") or {}).get(metric)


def compare_evals(
    run_path: Path,
    version_a: str,
    version_b: str,
    *,
    system_a: str | None = None,
    system_b: str | None = None,
) -> dict:
    """Per-example primary-metric changes from eval `version_a` (its candidate) to `version_b` (its candidate).

    {"metric", "a": {...}, "b": {...}, "better": [...], "worse": [...], "same": n, "mean_a", "mean_b"}.
    """
    from tools.workspace import read_json, read_jsonl

    dirs = {}
    for v in (version_a, version_b):
        d = Path(run_path) / "eval" / v
        if not (d / "report.json").exists():
            known = (
                sorted(p.name for p in (Path(run_path) / "eval").glob("v*"))
                if (Path(run_path) / "eval").is_dir()
                else []
            )
            raise UserError(
                f"eval version {v} not found", where=str(d), fix=f"use one of: {', '.join(known) or 'none'}"
            )
        dirs[v] = d
    rep_a, rep_b = read_json(dirs[version_a] / "report.json"), read_json(dirs[version_b] / "report.json")
    metric = rep_b.get("primary_metric") or rep_a.get("primary_metric")
    sys_a, sys_b = system_a or rep_a.get("candidate"), system_b or rep_b.get("candidate")
    rows_a = {
        (r["split"], r["id"]): r
        for r in read_jsonl(dirs[version_a] / "outputs.jsonl")
        if r.get("split") != "forgetting"
    }
    rows_b = {
        (r["split"], r["id"]): r
        for r in read_jsonl(dirs[version_b] / "outputs.jsonl")
        if r.get("split") != "forgetting"
    }
    better, worse, same = [], [], 0
    sa, sb = [], []
    for key in sorted(set(rows_a) & set(rows_b)):
        ea, eb = rows_a[key]["outputs"].get(sys_a), rows_b[key]["outputs"].get(sys_b)
        if ea is None or eb is None:
            continue
        va, vb = _primary(ea, metric), _primary(eb, metric)
        if va is None or vb is None:
            continue
        sa.append(va)
        sb.append(vb)
        item = {
            "split": key[0],
            "id": key[1],
            "input": rows_b[key]["input"],
            "reference": rows_b[key]["reference"],
            "a": ea.get("text"),
            "b": eb.get("text"),
            "score_a": va,
            "score_b": vb,
            "delta": vb - va,
        }
        if vb > va:
            better.append(item)
        elif vb < va:
            worse.append(item)
        else:
            same += 1
    return {
        "metric": metric,
        "a": {"version": version_a, "system": sys_a},
        "b": {"version": version_b, "system": sys_b},
        "better": sorted(better, key=lambda x: -x["delta"]),
        "worse": sorted(worse, key=lambda x: x["delta"]),
        "same": same,
        "mean_a": sum(sa) / len(sa) if sa else None,
        "mean_b": sum(sb) / len(sb) if sb else None,
    }
