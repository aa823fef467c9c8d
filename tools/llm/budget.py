"""One budget per run, shared by teacher, judge and training spend.

The guard stops *before* a call whose worst-case cost would push spend past the limit. Spend is kept
in `budget.json` in the run directory so separate processes (training subprocess, a resumed run)
share it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from tools.errors import BudgetExceeded


class Budget:
    def __init__(self, limit_usd: float | None = None, path: str | Path | None = None):
        self.limit_usd = limit_usd
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self.spent: dict[str, float] = {}
        self._reserved = 0.0
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text())
            self.spent = {k: float(v) for k, v in data.get("spent", {}).items()}
            if limit_usd is None:
                self.limit_usd = data.get("limit_usd")

    @property
    def total(self) -> float:
        return sum(self.spent.values())

    @property
    def remaining(self) -> float | None:
        return None if self.limit_usd is None else self.limit_usd - self.total - self._reserved

    def reserve(self, estimate_usd: float, what: str = "call") -> None:
        """Hold `estimate_usd` for an in-flight call, or raise BudgetExceeded without spending."""
        if estimate_usd <= 0:
            return
        with self._lock:
            if (
                self.limit_usd is not None
                and self.total + self._reserved + estimate_usd > self.limit_usd + 1e-12
            ):
                raise BudgetExceeded(
                    f"budget stop: {what} would cost up to ${estimate_usd:.4f}; spent ${self.total:.4f} "
                    f"of ${self.limit_usd:.2f}",
                    fix="raise the budget (--budget) or use a cheaper model; finished work is kept",
                )
            self._reserved += estimate_usd

    def release(self, estimate_usd: float) -> None:
        if estimate_usd <= 0:
            return
        with self._lock:
            self._reserved = max(0.0, self._reserved - estimate_usd)

    def charge(self, usd: float, kind: str = "llm") -> None:
        if usd <= 0:
            return
        with self._lock:
            self.spent[kind] = self.spent.get(kind, 0.0) + usd
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        from tools.workspace import atomic_write_json

        atomic_write_json(self.path, {"limit_usd": self.limit_usd, "spent": self.spent, "total": self.total})
