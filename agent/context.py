"""Runtime context for the graph: the workspace, the run, providers per role. Not part of the state
(providers hold clients and keys; the state is persisted).

It also carries the cancellation token a person's "quit" sets: every `emit` (progress, status, training
events, streamed text) is a safe point where a cancelled context raises `Cancelled`. Those callbacks run
after the work they report is journaled (generation's journal, the trainer's checkpoints), so the node
stops without saving its step result and a resume continues from the journal or the checkpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.errors import GraphBubbleUp

from tools.spec import TaskSpec
from tools.workspace import Run, Workspace


class Cancelled(GraphBubbleUp):
    """The person quit (or stopped the step): raised at a safe point; the step's result is not saved.

    A GraphBubbleUp (like an interrupt), so LangGraph writes no error for the step: the session stays at its
    last checkpoint with the step still to run, and lists as resumable rather than failed."""


@dataclass
class AgentContext:
    workspace: Workspace
    budget_usd: float | None = None
    on_event: Callable[[str, dict], None] | None = None  # progress callback (CLI/TUI)
    train_max_steps: int | None = None  # tests: cap training steps
    quick: bool = False  # tests: tiny generation/eval sizes
    stream: bool = False  # a person watches (TUI): stream model text where the provider streams
    _providers: dict[tuple[str, str | None, str | None], Any] = field(
        default_factory=dict
    )  # by (role, adapter, precision)
    _budgets: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cancel: threading.Event = field(default_factory=threading.Event)
    keep_training: bool = False  # on cancel, leave a running trainer going (the person chose background)
    _train_tps: float | None = None  # the trainer's last tokens/s (recorded as this machine's rate)

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

    def provider(
        self, role: str, spec: TaskSpec, run_id: str, adapter: str | None = None, precision: str | None = None
    ):
        """One provider per role (and adapter, and a local model's precision: `agent.precision`), sharing the
        run's budget."""
        key = (role, adapter, precision)
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
                    **({"precision": precision} if precision else {}),
                )
                # s / quit: a local batch ends at its next token and the step stops there (a safe point:
                # what the batch would have answered is not kept)
                self._providers[key].stop_event = self._cancel
                self._providers[key].on_stop = self.check_cancelled
            return self._providers[key]

    # ------------------------------------------------------------ cancellation
    def cancel(self, *, keep_training: bool = False) -> None:
        """Ask the running step to stop at its next safe point (any thread may call this)."""
        self.keep_training = keep_training
        self._cancel.set()

    def reset_cancel(self) -> None:
        """A new drive of the graph starts uncancelled."""
        self._cancel.clear()
        self.keep_training = False

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("stopped at a safe point; the session resumes from its last checkpoint")

    def emit(self, kind: str, **data) -> None:
        self.check_cancelled()  # a safe point: what the event reports is already journaled
        if kind == "train":
            self._note_training(data)
        if self.on_event:
            self.on_event(kind, data)

    def _note_training(self, ev: dict) -> None:
        """Remember this machine's real training speed for the next estimate (agent.rates)."""
        if ev.get("tokens_per_s"):
            self._train_tps = float(ev["tokens_per_s"])
        if (
            ev.get("event") == "end"
            and ev.get("status") in ("completed", "early_stopped")
            and self._train_tps
        ):
            try:
                from agent.rates import record_rate

                record_rate(
                    self.workspace, "train_tokens_per_s", self._train_tps, "measured here (last training)"
                )
            except Exception:  # noqa: BLE001 - a rate is a nicety, never a failure
                pass

    def stream_callback(self) -> Callable[[dict], None] | None:
        """Where streamed model text goes (as "stream" events), or None when nobody watches."""
        if self.on_event is None or not self.stream:
            return None
        return lambda piece: self.emit("stream", **piece)
