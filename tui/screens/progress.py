"""Progress of a long step (generation, critique, evaluation; training has its own monitor): what is being
done now in plain words, items done / total, the live rate and ETA, and the latest samples.

The app folds every agent event of the run into a `StepProgress` (so this screen can open mid-step, from
Home or the palette, with the counts so far); the screen redraws on each event and once a second (the ETA
counts down, the elapsed time goes up). When the events carry no sample text, the newest question and
answer come from the generation journal (`work/iter<k>/gen/generation.jsonl`).
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader
from tui.widgets.progress import StepProgress, journal_counts, journal_samples, system_words


def _esc(text: str) -> str:
    return str(text).replace("[", r"\[")


RUNNING_NOTE = (
    "[dim]s stops here (nothing is lost; ctrl+r continues). a starts again with examples of your own added. "
    "Escape: Home (the work goes on; Enter on the session brings you back).[/dim]"
)
STOPPING_NOTE = "[b]Stopping at the next safe point…[/b] [dim](what is done so far is kept)[/dim]"
STOPPED_NOTE = (
    "[b]Stopped.[/b] ctrl+r continues from where it stopped; a starts again with examples of your own added; "
    "Escape: Home."
)


class ProgressScreen(Screen):
    SCREEN_NAME = "progress"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home (work goes on)"),
        Binding("s", "stop", "Stop"),
        Binding("ctrl+r", "continue", "Continue"),
        Binding("a", "add_examples", "Add your examples"),
    ]
    TICK_S = 1.0

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.journal_seen: list[tuple[str, str]] = []
        self._journal_size = -1
        self._note = RUNNING_NOTE
        self._note_drive = 0  # the drive the note was written in: a later drive is a continued session
        self._idle_since: float | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Vertical(id="progress-body"):
            yield Static("", id="progress-title")
            yield ProgressBar(id="step-progress", total=None, show_eta=False)
            yield Static("", id="progress-counts")
            yield Static("Latest", classes="section-title", id="progress-samples-title")
            yield Static("", id="progress-samples")
            yield Static(RUNNING_NOTE, id="progress-note")
        yield FitFooter()

    @property
    def model(self) -> StepProgress:
        return self.app.step_progress(self.run_id)

    def on_mount(self) -> None:
        self.render_progress()
        self.set_interval(self.TICK_S, self.render_progress)

    def _set_note(self, note: str) -> None:
        self._note = note
        self._note_drive = self.app.drives_started.get(self.run_id, 0)

    def on_agent_event(self, kind: str, data: dict) -> None:
        if kind == "stopped":
            self._set_note(STOPPED_NOTE)
        elif kind == "error":
            # walk 13: the reason showed in a toast for 12 s and the screen only said "not running now"
            self._set_note(
                f"[b red]Stopped on an error:[/b red] {_esc(str(data.get('line', '')))}\n"
                "[dim]ctrl+r tries again once it is fixed; Escape: Home, where Enter on the session offers to "
                "change your answers.[/dim]"
            )
        self.render_progress()

    def action_stop(self) -> None:
        if self.app.stop_session(self.run_id):
            self._set_note(STOPPING_NOTE)
            self.render_progress()
        else:
            self.notify("This session is not running now: ctrl+r continues it.", severity="warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers Stop while the session runs and Continue once it has stopped."""
        busy = self.run_id in self.app.busy
        if action == "stop":
            return busy
        if action == "continue":
            return not busy
        return True

    def action_continue(self) -> None:
        self.app.current_run = self.run_id
        self.app.action_retry()

    def action_add_examples(self) -> None:
        self.app.add_examples_to(self.run_id)

    def _journal(self) -> Path | None:
        m = self.model
        if m.step != "generate":
            return None
        it = m.iteration or int((self.app.run_values.get(self.run_id) or {}).get("iteration") or 1)
        return self.app.workspace.run(self.run_id).path / "work" / f"iter{it}" / "gen" / "generation.jsonl"

    def _sync_journal(self) -> None:
        """A resumed generation replays its journal without events: count what it holds (when it grew)."""
        path = self._journal()
        if path is None:
            return
        try:
            size = path.stat().st_size if path.exists() else 0
            if size != self._journal_size:
                self._journal_size = size
                self.model.sync_journal(*journal_counts(path))
        except OSError:
            pass

    def samples(self) -> list[tuple[str, str]]:
        m = self.model
        if m.samples:
            return list(m.samples)
        path = self._journal()
        if path is not None:
            try:
                self.journal_seen = journal_samples(path, k=2)
            except OSError:
                pass
            return self.journal_seen
        return []

    def render_progress(self) -> None:
        if not self.is_mounted:
            return
        self._sync_journal()
        m = self.model
        busy = self.run_id in self.app.busy
        # continued (ctrl+r, Home): a drive began after the note was written. Not "busy" alone: the app hears
        # that a drive stopped a moment before its thread stops counting as busy (the flake of session 21)
        if (
            busy
            and self._note != RUNNING_NOTE
            and self.app.drives_started.get(self.run_id, 0) > self._note_drive
        ):
            self._note = RUNNING_NOTE
        self.query_one("#progress-note", Static).update(self._note)
        # stopped: the clock stops with it (walk 10 watched the ETA count down on a stopped session)
        if busy:
            if self._idle_since is not None:
                self.refresh_bindings()
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
            self.refresh_bindings()
        now = self._idle_since
        self.sub_title = m.headline(now)  # the header's facts, ticking with the ETA
        title = f"[b]{_esc(m.activity())}[/b]"
        where = f"run {self.run_id}" + (f" · iteration {m.iteration}" if m.iteration else "")
        if not busy and m.step is not None:
            where += " · the agent is not running this session now (Home → Enter continues it)"
        self.query_one("#progress-title", Static).update(f"{title}\n[dim]{_esc(where)}[/dim]")
        bar = self.query_one("#step-progress", ProgressBar)
        if m.total:
            bar.update(total=m.total, progress=min(m.done, m.total))
        else:
            bar.update(total=None)
        counts = _esc(m.counts_line(now))
        if m.error:
            counts += f"\n[red]{_esc(m.error)}[/red]"
        self.query_one("#progress-counts", Static).update(counts)
        self.query_one("#progress-samples", Static).update(self._samples_text(m))

    def _samples_text(self, m: StepProgress) -> str:
        if m.step == "evaluate" and m.system_counts:
            lines = []
            for i, name in enumerate(m.systems, 1):
                done, total = m.system_counts.get(name, (0, None))
                mark = "✔" if total and done >= total else ("…" if name == m.system else " ")
                lines.append(f"{mark} system {i}: {_esc(system_words(name))} — {done}/{total or '?'} answers")
            total = next(iter(m.system_counts.values()))[1]
            if m.must_keep and total:
                lines.append(
                    f"[dim]Each answers the {total - m.must_keep} test inputs and the {m.must_keep} examples "
                    "the tuned model must keep right.[/dim]"
                )
            return "\n".join(lines)
        shown = self.samples()
        poor = m.poor_inputs_note()
        if poor:
            return f"[yellow]{_esc(poor)}[/yellow]" + (
                "\n"
                + "\n".join(f"[b]{label}:[/b] {_esc(_one_line(text, 150))}" for label, text in shown[-2:])
                if shown
                else ""
            )
        if not shown:
            if m.step == "critique" and m.phase == "general examples":
                # (also the whole check when the practice examples are the person's own: walk 16 read "each
                # practice example is checked" while nothing was)
                return (
                    "[dim]A few general questions, answered by the model you start from, go into the "
                    "training so it keeps its general skills.[/dim]"
                )
            if m.step == "critique":
                return (
                    "[dim]Each practice example is checked (right shape, answered the same way twice); the "
                    "ones kept go to your review.[/dim]"
                )
            return "[dim]Samples appear here as they are written.[/dim]"
        return "\n".join(f"[b]{label}:[/b] {_esc(_one_line(text, 150))}" for label, text in shown[-3:])


def _one_line(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"
