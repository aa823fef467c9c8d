"""Training monitor: tails `train/vN/events.jsonl` — progress with ETA, live loss and eval-loss plot,
tokens/s and memory — and stops (SIGINT, checkpoint kept) or resumes the run."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, ProgressBar, Static
from textual_plotext import PlotextPlot

from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader
from tui.widgets.training import EventTail, TrainProgress, format_eta


def training_headline(p: TrainProgress) -> str:
    """One header line for the trainer's progress (never "None")."""
    if p.status == "waiting":
        return "Training: starting the trainer…"
    bits = [f"Training: step {p.step}/{p.max_steps}" if p.max_steps else f"Training: step {p.step}"]
    if p.tokens_per_s is not None:
        bits.append(f"{p.tokens_per_s:.0f} tokens/s")
    if p.status == "running":
        bits.append(f"ETA {format_eta(p.eta_s)}" if p.eta_s is not None else "measuring the rate…")
    else:
        bits.append(p.status)
    return " · ".join(bits)[:70]


def plain_training_line(p: TrainProgress) -> str:
    """What the training is doing, in words a newcomer reads (the figures below it are for experts)."""
    if p.status == "waiting":
        return "Starting the trainer (loading the model you start from)…"
    if p.status == "running":
        of = f" of {p.max_steps}" if p.max_steps else ""
        left = f", about {format_eta(p.eta_s)} left" if p.eta_s is not None else ""
        return (
            f"Your model is practising on the checked examples: step {p.step}{of}{left}. The line shows how far "
            "its answers still are from the practice answers (the 'loss'): it should go down overall (it wobbles "
            "from step to step, and may rise at first)."
        )
    if p.status == "done":
        return "Training finished: next, your model is tested against a prompt with your examples."
    if p.status == "stopped":
        return "Training stopped at a saved point: r resumes it."
    return "Training failed: see the message below."


class TrainingScreen(Screen):
    SCREEN_NAME = "training"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("b", "app.quit_keep_training", "Quit, keep training"),
    ]
    POLL_S = 0.5

    def __init__(self, run_id: str, version: str | None = None, *, poll: bool = True) -> None:
        super().__init__()
        self.run_id = run_id
        self.version = version
        self.pinned = version is not None
        self.progress = TrainProgress()
        self.tail: EventTail | None = None
        self.poll_enabled = poll

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static("", id="train-title")
        with Horizontal(id="train-progress-row"):
            yield ProgressBar(id="train-progress", total=100, show_eta=False)
            yield Button("Stop", id="stop", variant="error")
            yield Button("Resume", id="resume")
        yield Static("", id="train-stats")
        yield PlotextPlot(id="loss-plot")
        yield FitFooter()

    @property
    def out_dir(self) -> Path | None:
        if self.version is None:
            return None
        return self.app.workspace.run(self.run_id).path / "train" / self.version

    def on_mount(self) -> None:
        self._find_version()
        self.poll_events()
        if self.poll_enabled:
            self.set_interval(self.POLL_S, self.poll_events)

    def _find_version(self) -> None:
        if self.pinned:
            pass
        else:
            run = self.app.workspace.run(self.run_id)
            latest = run.latest_version("train") if run.path.exists() else None
            if latest and latest != self.version:
                self.version, self.progress, self.tail = latest, TrainProgress(), None
        if self.version and self.tail is None:
            self.tail = EventTail(self.out_dir / "events.jsonl")

    def poll_events(self) -> None:
        """Read the lines appended since the last poll (a few KB: cheap enough for the UI thread)."""
        self._find_version()
        new = self.tail.read_new() if self.tail else []
        if self.tail is not None and self.tail.restarted:
            self.progress = TrainProgress()
        for ev in new:
            self.progress.apply(ev)
        changed = self._session_error()
        if new or changed or self.progress.events == 0:
            self.render_progress()

    def _session_error(self) -> bool:
        """A session that stopped on an error before its trainer wrote anything: say so here (the walk's screen
        read "Starting the trainer… waiting" for 3 minutes while Home said "stopped: error"). True if changed."""
        err = (getattr(self.app, "errors", None) or {}).get(self.run_id)
        p = self.progress
        if err and p.status == "waiting" and p.events == 0:
            p.status, p.error, self._shown_error = "failed", f"{err} — ctrl+r tries again", True
            return True
        if not err and getattr(self, "_shown_error", False) and p.events == 0:
            p.status, p.error, self._shown_error = "waiting", None, False  # retried: waiting again
            return True
        return False

    def render_progress(self) -> None:
        p = self.progress
        title = (
            f"[b]Training[/b] run {self.run_id} · {self.version}"
            if self.version
            else f"[b]Training[/b] run {self.run_id} · not started yet"
        )
        self.query_one("#train-title", Static).update(title)
        bar = self.query_one("#train-progress", ProgressBar)
        bar.update(total=p.max_steps or 100, progress=p.step if p.max_steps else 0)
        stats = (
            plain_training_line(p)
            + f"\n[dim]{p.stats_line()}[/dim]"
            + (f"\n[red]{escape(p.error)}[/red]" if p.error else "")
        )
        self.query_one("#train-stats", Static).update(stats)
        plot = self.query_one("#loss-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss: how far from the practice answers (lower is better)")
        # walk 8: y labels at uneven values and two lines of one look; now round, evenly spaced ticks, a line
        # for the practice examples and dots of another colour for the held-back ones
        for points, draw, label, marker, color in (
            (p.losses, plt.plot, "practice", "braille", "cyan"),
            (p.eval_losses, plt.scatter, "held back", "●", "orange"),
        ):
            if points:
                draw([s for s, _ in points], [v for _, v in points], label=label, marker=marker, color=color)
        ticks = loss_ticks([v for _, v in p.losses] + [v for _, v in p.eval_losses])
        if ticks:
            plt.yticks(ticks[0], ticks[1])
        plt.xlabel("step")
        plot.refresh()
        # the same facts the header shows for every long step: what, how far, how fast, how long
        self.sub_title = training_headline(p)
        self.query_one("#stop", Button).disabled = p.status not in ("running",)
        self.query_one("#resume", Button).disabled = p.status in ("running", "done") or self.version is None

    def on_agent_event(self, kind: str, data: dict) -> None:
        if kind == "train":
            self.poll_events()

    def action_stop(self) -> None:
        if self.out_dir is None:
            return
        self.stop_training(self.out_dir)

    @work(thread=True, exit_on_error=False)
    def stop_training(self, out_dir: Path) -> None:
        try:
            from tools.train.runner import stop_training
        except ImportError:
            self.app.call_from_thread(self.notify, "This build has no training runner.", severity="error")
            return
        stopped = stop_training(out_dir)
        msg = (
            "Stop requested: the trainer saves a checkpoint and exits (r resumes)."
            if stopped
            else "No training process is running for this version."
        )
        self.app.call_from_thread(self.notify, msg)

    def action_resume(self) -> None:
        if self.out_dir is None:
            return
        self.resume_training(self.out_dir)

    @work(thread=True, exit_on_error=False)
    def resume_training(self, out_dir: Path) -> None:
        try:
            from tools.train.runner import is_running, resume_training
        except ImportError:
            self.app.call_from_thread(self.notify, "This build has no training runner.", severity="error")
            return
        if is_running(out_dir):
            self.app.call_from_thread(self.notify, "Training is already running.")
            return
        try:
            resume_training(out_dir)
        except Exception as e:  # noqa: BLE001 - one line on screen
            self.app.call_from_thread(self.notify, f"Could not resume: {e}", severity="error")
            return
        self.app.call_from_thread(self.notify, "Resumed from the newest checkpoint.")

    @on(Button.Pressed, "#stop")
    def _stop(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#resume")
    def _resume(self) -> None:
        self.action_resume()


def loss_ticks(values: list[float], n: int = 4) -> tuple[list[float], list[str]] | None:
    """About `n` evenly spaced y ticks at round values (a step of 1, 2 or 5 × a power of ten) covering
    `values`, with labels of one width; None when there is nothing to plot. Pure."""
    import math

    vals = [v for v in values if v == v and abs(v) != math.inf]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = [first + i * step for i in range(int(math.ceil((hi - first) / step - 1e-9)) + 1)]
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    return ticks, [f"{t:.{digits}f}" for t in ticks]
