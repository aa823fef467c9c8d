"""Fold the trainer's progress events into what the monitor shows.

Events (one JSON object per line of `train/vN/events.jsonl`, written by tools/train/sft.py):
{"event": "start|log|eval|checkpoint|end|error", "step", "max_steps", "epoch", "loss", "eval_loss", "lr",
"grad_norm", "tokens_per_s", "mem_mb", "eta_s", ...}. The same file feeds the CLI, so one format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EventTail:
    """Read only the lines appended since the last call; a torn last line waits for its newline, and a
    file cut back (a resume rewrites it) is read again from the start."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._buf = b""
        self._inode: int | None = None
        self.restarted = False  # the last read started over: the caller rebuilds its state from scratch

    def read_new(self) -> list[dict]:
        self.restarted = False
        if not self.path.exists():
            return []
        st = self.path.stat()
        size = st.st_size
        # a resume rewrites the file atomically (new inode), possibly longer than what we had read
        if size < self.offset or (self._inode is not None and st.st_ino != self._inode):
            self.offset, self._buf, self.restarted = 0, b"", True
        self._inode = st.st_ino
        if size == self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        self.offset += len(chunk)
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        from tools.workspace import json_objects

        return json_objects(lines)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(max(seconds, 0))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


@dataclass
class TrainProgress:
    status: str = "waiting"  # waiting | running | stopped | done | failed
    step: int = 0
    max_steps: int | None = None
    epoch: float | None = None
    loss: float | None = None
    eval_loss: float | None = None
    best_eval_loss: float | None = None
    lr: float | None = None
    tokens_per_s: float | None = None
    mem_mb: float | None = None
    eta_s: float | None = None
    error: str | None = None
    checkpoints: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    eval_losses: list[tuple[int, float]] = field(default_factory=list)
    events: int = 0

    def apply(self, ev: dict) -> None:
        self.events += 1
        kind = ev.get("event")
        for key in ("max_steps", "epoch", "lr", "tokens_per_s", "mem_mb", "eta_s"):
            if ev.get(key) is not None:
                setattr(self, key, ev[key])
        if ev.get("step") is not None:
            self.step = int(ev["step"])
        if kind == "start":
            self.status, self.error = "running", None
            # a resume replays from its checkpoint: drop points past it so the curve does not fold back
            self.losses = [p for p in self.losses if p[0] <= self.step]
            self.eval_losses = [p for p in self.eval_losses if p[0] <= self.step]
        elif kind == "log":
            self.status = "running"
            if ev.get("loss") is not None:
                self.loss = float(ev["loss"])
                self.losses.append((self.step, self.loss))
        elif kind == "eval":
            if ev.get("eval_loss") is not None:
                self.eval_loss = float(ev["eval_loss"])
                self.eval_losses.append((self.step, self.eval_loss))
                if self.best_eval_loss is None or self.eval_loss < self.best_eval_loss:
                    self.best_eval_loss = self.eval_loss
        elif kind == "checkpoint":
            self.checkpoints += 1
        elif kind == "end":
            # status: completed | early_stopped | stopped | failed (an "error" event comes first then)
            status: Any = ev.get("status")  # whatever the event says; unknown values read as "done"
            if self.status != "failed":
                self.status = {"stopped": "stopped", "failed": "failed"}.get(status, "done")
            if ev.get("best_eval_loss") is not None:
                self.best_eval_loss = float(ev["best_eval_loss"])
        elif kind == "error":
            self.status = "failed"
            self.error = str(ev.get("message") or ev.get("error") or "training failed")

    @property
    def fraction(self) -> float:
        return min(self.step / self.max_steps, 1.0) if self.max_steps else 0.0

    def stats_line(self) -> str:
        def f(v, fmt):
            return "—" if v is None else format(v, fmt)

        return (
            f"step {self.step}/{self.max_steps or '?'} · {f(self.epoch, '.1f')}× through the examples · "
            f"loss {f(self.loss, '.4f')} · on held-out examples {f(self.eval_loss, '.4f')} "
            f"(best {f(self.best_eval_loss, '.4f')})\n"
            f"learning rate {f(self.lr, '.1e')} · {f(self.tokens_per_s, '.0f')} tokens/s · "
            f"memory {f(self.mem_mb, '.0f')} MB · {format_eta(self.eta_s)} left · "
            f"saved {self.checkpoints}× · {self.status}"
        )
