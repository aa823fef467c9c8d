"""Runtime context for the graph: the workspace, the run, providers per role. Not part of the state
(providers hold clients and keys; the state is persisted)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tools.spec import TaskSpec
from tools.workspace import Run, Workspace


@dataclass
class AgentContext:
    workspace: Workspace
    budget_usd: float | None = None
    on_event: Callable[[str, dict], None] | None = None  # progress callback (CLI/TUI)
    train_max_steps: int | None = None  # tests: cap training steps
    quick: bool = False  # tests: tiny generation/eval sizes
    stream: bool = False  # a person watches (TUI): stream model text where the provider streams
    _providers: dict[str, Any] = field(default_factory=dict)
    _budgets: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, run_id: str) -> Run:
        return self.workspace.run(run_id)

    def budget(self, run_id: str, spec: TaskSpec | None = None):
        """The run's budget: the caller's limit, else the task's (the interview's budget answer)."""
        from tools.llm.budget import Budget

        limit = self.budget_usd if self.budget_usd is not None else (spec.budget if spec else None)
        # one Budget per run, shared by every role: each role's spending counts against the others
        b = self._budgets.get(run_id)
        if b is None:
            b = self._budgets[run_id] = Budget(limit, self.run(run_id).budget_path)
        elif limit is not None:
            b.limit_usd = limit
        return b

    def provider(self, role: str, spec: TaskSpec, run_id: str, adapter: str | None = None):
        """One provider per role (and adapter), sharing the run's budget."""
        key = (role, adapter)
        with self._lock:
            if key not in self._providers:
                from tools.llm import get_provider

                rs = getattr(spec, role, None) if role in ("teacher", "student", "judge") else None
                self._providers[key] = get_provider(
                    role,
                    rs.provider if rs else None,
                    rs.model if rs else None,
                    base_url=rs.base_url if rs else None,
                    adapter=adapter,
                    workspace=self.workspace,
                    budget=self.budget(run_id, spec),
                )
            return self._providers[key]

    def emit(self, kind: str, **data) -> None:
        if self.on_event:
            self.on_event(kind, data)

    def stream_callback(self) -> Callable[[dict], None] | None:
        """Where streamed model text goes (as "stream" events), or None when nobody watches."""
        if self.on_event is None or not self.stream:
            return None
        return lambda piece: self.emit("stream", **piece)
