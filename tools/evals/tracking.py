"""After an evaluation: its metrics and verdict go to the tracker run of each evaluated training.

A training with `report_to` containing tensorboard wrote its loss curves to train/vN/tensorboard; the
evaluation adds, at the training's last step, `eval/<system>/<metric>` (mean, ci_low, ci_high) for every
system measured, `eval/<system>/format_rate`, `eval/verdict_passed` (1/0) and the verdict's reasons as
text — so one TensorBoard run shows the curve and the result. W&B / MLflow runs recorded by the
training (metrics.json `trackers`) are resumed the same way. Logging never fails an evaluation.
"""

from __future__ import annotations

import json
from pathlib import Path


def _scalars(report: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, s in (report.get("systems") or {}).items():
        key = name.replace(" ", "_")
        for metric, m in (s.get("metrics") or {}).items():
            if not isinstance(m, dict) or not isinstance(m.get("mean"), (int, float)):
                continue
            out[f"eval/{key}/{metric}"] = float(m["mean"])
            ci = m.get("ci") or []
            if len(ci) == 2 and all(isinstance(c, (int, float)) for c in ci):
                out[f"eval/{key}/{metric}_ci_low"] = float(ci[0])
                out[f"eval/{key}/{metric}_ci_high"] = float(ci[1])
        if isinstance(s.get("format_rate"), (int, float)):
            out[f"eval/{key}/format_rate"] = float(s["format_rate"])
    v = report.get("verdict") or {}
    out["eval/verdict_passed"] = 1.0 if v.get("passed") else 0.0
    if isinstance(v.get("improvement"), (int, float)):
        out["eval/improvement_vs_best_baseline"] = float(v["improvement"])
    return out


def _verdict_text(report: dict) -> str:
    v = report.get("verdict") or {}
    head = (
        f"**{v.get('status') or ('pass' if v.get('passed') else 'fail')}** — eval {report.get('eval_version')}, "
        f"{report.get('candidate')} vs {report.get('baseline')} on `{report.get('primary_metric')}` "
        f"({report.get('n_test')} test examples)"
    )
    return "\n\n".join([head, *[f"- {r}" for r in v.get("reasons") or []]])


def _train_dirs(report: dict) -> list[Path]:
    dirs = []
    for s in (report.get("systems") or {}).values():
        if s.get("kind") == "tuned" and s.get("adapter"):
            d = Path(s["adapter"]).parent
            if (d / "config.json").exists() and d not in dirs:
                dirs.append(d)
    return dirs


def log_eval_to_trackers(report: dict) -> list[dict]:
    """Write the report's metrics and verdict into each evaluated training's trackers; what was written."""
    from tools.train.config import trackers

    done: list[dict] = []
    scalars, text = _scalars(report), _verdict_text(report)
    for d in _train_dirs(report):
        try:
            cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
            metrics = (
                json.loads((d / "metrics.json").read_text(encoding="utf-8"))
                if (d / "metrics.json").exists()
                else {}
            )
        except (OSError, ValueError):
            continue
        step = int(metrics.get("final_step") or 0)
        names = trackers(cfg.get("report_to"))
        for name in names:
            try:
                if name == "tensorboard":
                    where = _tensorboard(d / "tensorboard", scalars, text, step)
                elif name == "wandb":
                    where = _wandb((metrics.get("trackers") or {}).get("wandb"), scalars, text, step)
                else:
                    where = _mlflow((metrics.get("trackers") or {}).get("mlflow"), scalars, step)
            except Exception as e:  # noqa: BLE001 - a tracker problem must not lose the evaluation
                done.append({"train": d.name, "tracker": name, "error": f"{type(e).__name__}: {e}"[:200]})
                continue
            if where:
                done.append({"train": d.name, "tracker": name, "where": where, "step": step})
    return done


def _tensorboard(log_dir: Path, scalars: dict[str, float], text: str, step: int) -> str | None:
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        return None
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=str(log_dir))
    try:
        for tag, value in scalars.items():
            w.add_scalar(tag, value, step)
        w.add_text("eval/verdict", text, step)
    finally:
        w.close()
    return str(log_dir)


def _wandb(run_id: str | None, scalars: dict[str, float], text: str, step: int) -> str | None:
    if not run_id:
        return None
    import os

    import wandb

    run = wandb.init(id=run_id, resume="allow", project=os.environ.get("WANDB_PROJECT", "tunewise"))
    try:
        run.log({**scalars, "eval/verdict": text})
    finally:
        run.finish()
    return f"wandb run {run_id}"


def _mlflow(run_id: str | None, scalars: dict[str, float], step: int) -> str | None:
    if not run_id:
        return None
    import mlflow

    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({k.replace("/", "."): v for k, v in scalars.items()}, step=step)
    return f"mlflow run {run_id}"


def read_scalars(log_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a TensorBoard log folder: tag → [(step, value)] (for tests and the report)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for f in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {k: sorted(v) for k, v in out.items()}
