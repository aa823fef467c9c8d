"""Per-iteration step results in the run directory, so every node is idempotent on resume.

A node that finishes writes `work/iter<k>/<step>.json`; re-entered after a crash or a resume, it
finds that file and returns the same result instead of paying for the work again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.workspace import Run, atomic_write_json, read_json


def work_dir(run: Run, iteration: int) -> Path:
    d = run.path / "work" / f"iter{iteration}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def load_step(run: Run, iteration: int, step: str) -> dict | None:
    p = run.path / "work" / f"iter{iteration}" / f"{step}.json"
    return read_json(p) if p.exists() else None


def save_step(run: Run, iteration: int, step: str, result: dict[str, Any]) -> dict:
    atomic_write_json(work_dir(run, iteration) / f"{step}.json", result)
    return result
