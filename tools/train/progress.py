"""Pure helpers to show training progress from `events.jsonl` rows (used by the CLI and the TUI)."""

from __future__ import annotations

from dataclasses import dataclass, field

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 32) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    vals = [v for v in values if v is not None][-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-12:
        return SPARK[3] * len(vals)
    return "".join(
        SPARK[min(len(SPARK) - 1, int((v - lo) / (hi - lo) * (len(SPARK) - 1) + 0.5))] for v in vals
    )


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(max(0, seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass
class ProgressState:
    """What a progress view needs, folded from events in order (resume-safe: a step seen again replaces)."""

    step: int = 0
    max_steps: int | None = None
    epoch: float | None = None
    loss_by_step: dict[int, float] = field(default_factory=dict)
    eval_by_step: dict[int, float] = field(default_factory=dict)
    lr: float | None = None
    tokens_per_s: float | None = None
    mem_mb: float | None = None
    eta_s: float | None = None
    status: str = "starting"
    last_checkpoint: int | None = None
    error: str | None = None

    def update(self, e: dict) -> ProgressState:
        kind = e.get("event")
        if e.get("max_steps"):
            self.max_steps = e["max_steps"]
        if e.get("step") is not None:
            self.step = e["step"]
        for k in ("epoch", "mem_mb"):
            if e.get(k) is not None:
                setattr(self, k, e[k])
        if kind == "start":
            self.status = "running"
            self.loss_by_step = {s: v for s, v in self.loss_by_step.items() if s <= self.step}
            self.eval_by_step = {s: v for s, v in self.eval_by_step.items() if s <= self.step}
        elif kind == "log":
            if e.get("loss") is not None and e.get("step") is not None:
                self.loss_by_step[e["step"]] = e["loss"]
            self.lr, self.eta_s = e.get("lr"), e.get("eta_s")
            if e.get("tokens_per_s"):
                self.tokens_per_s = e["tokens_per_s"]
        elif kind == "eval":
            if e.get("eval_loss") is not None:
                self.eval_by_step[e["step"]] = e["eval_loss"]
        elif kind == "checkpoint":
            self.last_checkpoint = e["step"]
        elif kind == "error":
            self.error = e.get("message")
        elif kind == "end":
            self.status, self.eta_s = e.get("status") or "ended", 0
        return self

    @property
    def losses(self) -> list[float]:
        return [self.loss_by_step[s] for s in sorted(self.loss_by_step)]

    @property
    def best_eval(self) -> float | None:
        return min(self.eval_by_step.values()) if self.eval_by_step else None

    def summary(self) -> str:
        parts = [f"step {self.step}/{self.max_steps or '?'}"]
        if self.losses:
            parts.append(f"loss {self.losses[-1]:.4f}")
        if self.best_eval is not None:
            parts.append(f"best eval {self.best_eval:.4f}")
        if self.tokens_per_s:
            parts.append(f"{self.tokens_per_s:.0f} tok/s")
        if self.mem_mb:
            parts.append(f"{self.mem_mb:.0f} MB")
        parts.append(f"ETA {format_duration(self.eta_s)}")
        return " · ".join(parts)
