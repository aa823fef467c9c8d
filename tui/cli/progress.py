"""Live progress for long CLI steps (generation, training, evaluation), always on stderr.

In a terminal: rich progress bars — what is being done now (step, and for evaluation the system), items
done / total, items/s, ETA, and the latest generated input (truncated, refreshed every few seconds).
Elsewhere (CI, pipes, files): one plain line per bar every ~10% or every 30 s, and one at the end.

One `Progress` object takes every event source the CLI sees:
  - agent events (`AgentContext.on_event(kind, data)`): "status", "progress" (step=generate|evaluate) and
    "train" events;
  - generation events (`{"event": "input"|"answer", "total": …}`) from `tools.data.generate`;
  - evaluation events (`{"stage", "system", "done", "total"}`) from `tools.evals.run.evaluate`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from tui.widgets.progress.model import REPLAY_BURST_S  # one rule for the TUI and the CLI

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

NOTE_EVERY_S = 3.0  # the latest generated input is refreshed at most this often
PLAIN_EVERY_S = 30.0  # non-terminal: a line at least this often while a bar moves…
PLAIN_STEPS = 10  # …and whenever it crosses another tenth
NOTE_CHARS = 48


def truncate(text: str, n: int = NOTE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class _Bar:
    """One thing being counted (a generation phase, a system being evaluated, training steps)."""

    def __init__(self, label: str, done: int, total: int | None, now: float):
        self.label, self.done, self.total = label, done, total
        self.note = ""
        self.start_t, self.start_done = now, done
        self.last_line_t, self.last_line_tenth = now, self._tenth()
        self.finished = False
        self.printed_done: int | None = None  # plain mode: the count on the last line printed
        self.task_id: TaskID | None = None  # rich task

    def _tenth(self) -> int:
        if not self.total:
            return 0
        return min(self.done, self.total) * PLAIN_STEPS // self.total  # integers: 30/100 is tenth 3

    def rate(self, now: float) -> float | None:
        dt = now - self.start_t
        return (self.done - self.start_done) / dt if dt > 0 and self.done > self.start_done else None

    def eta(self, now: float) -> float | None:
        r = self.rate(now)
        if not r or not self.total:
            return None
        return max(0.0, (self.total - self.done) / r)

    def line(self, now: float) -> str:
        total = "?" if not self.total else str(self.total)
        pct = f" ({min(self.done, self.total) / self.total:.0%})" if self.total else ""
        r = self.rate(now)
        parts = [f"{self.label}: {self.done}/{total}{pct}"]
        parts.append("–/s" if r is None else f"{r:.2f}/s" if r < 10 else f"{r:.0f}/s")
        eta = self.eta(now) if self.total and self.done < self.total else None
        if eta is not None:
            parts.append(f"ETA {format_eta(eta)}")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)


class Progress:
    """Progress bars (terminal) or periodic plain lines (anything else) on stderr.

    `out` is the console for the command's own lines (normally stdout): `log()` sends a line there, or
    through the live display when both share the terminal, so bars and lines do not tear each other.
    """

    def __init__(
        self,
        *,
        err=None,
        out=None,
        interactive: bool | None = None,
        run_path: str | os.PathLike | None = None,
        clock=time.monotonic,
    ):
        from tui.cli import common

        self.err = err or common.err_console()
        self.out = out or common.console()
        self.interactive = self.err.is_terminal if interactive is None else interactive
        self.run_path = Path(run_path) if run_path else None
        self.clock = clock
        self.bars: dict[str, _Bar] = {}
        self._rich: RichProgress | None = None
        self._journal: Path | None = None
        self._journal_checked = 0.0
        self._note_t = -1e9
        self._accepted: int | None = None  # generation: inputs accepted so far (journal + events)
        self._epoch: dict[str, int] = {}  # step → how many times it started (iterations, eval sources)

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> Progress:
        if self.interactive:
            from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn
            from rich.progress import Progress as RichProgress
            from rich.table import Column
            from rich.text import Text

            class Rate(ProgressColumn):
                def render(self, task):
                    r = task.speed
                    return Text("–/s" if not r else f"{r:.2f}/s" if r < 10 else f"{r:.0f}/s", style="dim")

            class Eta(ProgressColumn):
                max_refresh = 0.5

                def render(self, task):
                    if task.finished or not task.total:
                        return Text("")
                    return Text(f"ETA {format_eta(task.time_remaining)}", style="cyan")

            self._rich = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                Rate(),
                Eta(),
                TextColumn("{task.fields[note]}", style="dim", table_column=Column(no_wrap=True)),
                console=self.err,
                redirect_stdout=False,
                redirect_stderr=False,
                refresh_per_second=4,
                speed_estimate_period=60.0,
                get_time=self.clock,
            )
            self._rich.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        now = self.clock()
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        else:
            for bar in self.bars.values():
                if not bar.finished and bar.done != bar.printed_done:
                    self._plain(bar.line(now))
                bar.finished = True

    # ---------------------------------------------------------------- output
    def log(self, text: str, *, to_err: bool = False) -> None:
        """A line of the command's own output (stdout), or of progress news (stderr) with to_err."""
        rich = self._rich
        if rich is not None and (to_err or _same_terminal()):
            rich.console.print(text)
        elif to_err:
            self.err.print(text)
        else:
            self.out.print(text)

    def _plain(self, line: str) -> None:
        self.err.print(line, markup=False, highlight=False, soft_wrap=True)

    # ---------------------------------------------------------------- bars
    def update(self, key: str, label: str, done: int, total: int | None, note: str | None = None) -> None:
        now = self.clock()
        total = int(total) if total else None
        key = self._key(key)
        bar = self.bars.get(key)
        new = bar is None
        if bar is None:
            bar = self.bars[key] = _Bar(label, int(done), total, now)
        bar.label = label
        bar.done, bar.total = int(done), total or bar.total
        # items within a second of the bar's start were read back from the cache (a resumed step replays
        # them in a burst): the rate starts after them, not at "1068/s · ETA 0s"
        replayed = not new and now - bar.start_t < REPLAY_BURST_S
        if replayed:
            bar.start_t, bar.start_done = now, bar.done
        if note is not None:
            bar.note = note
        if self._rich is not None:
            if new:
                bar.task_id = self._rich.add_task(label, total=bar.total, completed=bar.done, note=bar.note)
            elif replayed:  # (bar.task_id: set when the bar was new, with the live display on)
                self._rich.reset(
                    cast("TaskID", bar.task_id),
                    total=bar.total,
                    completed=bar.done,
                    description=label,
                    note=bar.note,
                )
            else:
                self._rich.update(
                    cast("TaskID", bar.task_id),
                    description=label,
                    completed=bar.done,
                    total=bar.total,
                    note=bar.note,
                )
            return
        if new:  # a line when a bar starts (resumed: where it starts)
            self._plain(bar.line(now))
            bar.printed_done = bar.done
            return
        tenth = bar._tenth()
        complete = bool(bar.total and bar.done >= bar.total)
        if complete and not bar.finished:
            bar.finished = True
            self._plain(bar.line(now))
            bar.printed_done = bar.done
        elif not complete and (tenth > bar.last_line_tenth or now - bar.last_line_t >= PLAIN_EVERY_S):
            self._plain(bar.line(now))
            bar.printed_done = bar.done
            bar.last_line_t, bar.last_line_tenth = now, tenth

    def _key(self, key: str) -> str:
        step = key.split(":", 1)[0]
        return f"{key}#{self._epoch.get(step, 0)}"

    def start_step(self, step: str) -> None:
        """A step starts (again): earlier bars are done, this step's bars start fresh."""
        self.finish_all()
        self._epoch[step] = self._epoch.get(step, 0) + 1
        if step == "generate":
            self._accepted, self._journal, self._journal_checked = None, None, 0.0

    def finish(self, key: str) -> None:
        self._finish(self._key(key))

    def _finish(self, key: str) -> None:
        bar = self.bars.get(key)
        if bar is None or bar.finished:
            return
        bar.finished = True
        if self._rich is not None:
            if bar.total is None:
                self._rich.update(cast("TaskID", bar.task_id), total=bar.done or 1, completed=bar.done or 1)
            return
        if bar.done != bar.printed_done:
            self._plain(bar.line(self.clock()))
            bar.printed_done = bar.done

    def finish_all(self, prefix: str = "") -> None:
        for key in list(self.bars):
            if key.startswith(prefix):
                self._finish(key)

    # ---------------------------------------------------------------- event sources
    def on_agent_event(self, kind: str, data: dict) -> None:
        """`AgentContext.on_event`: the graph's status lines, step progress and training events."""
        if kind == "status":
            msg = str(data.get("message") or "")
            self.start_step(msg.split(":", 1)[0].strip())
            self.log(f"[dim]… {msg}[/dim]", to_err=True)
        elif kind == "progress" and data.get("step") == "generate":
            self.on_generation(data)
        elif kind == "progress" and data.get("step") == "evaluate":
            self.on_evaluation(data)
        elif kind == "progress" and data.get("step") == "critique" and data.get("total") is not None:
            stage = str(data.get("stage") or "checking")
            self.update(f"critique:{stage}", f"critique · {stage}", int(data.get("done") or 0), data["total"])
        elif kind == "train":
            self.on_train(data)

    def on_generation(self, ev: dict) -> None:
        """Teacher generation: inputs accepted / wanted, then answers written / inputs kept."""
        event = ev.get("event")
        if event == "input":
            if self._accepted is None:
                self._accepted = self._journal_accepted_inputs()
            elif ev.get("accepted"):
                self._accepted += 1
            total = ev.get("total")
            done = min(self._accepted, total) if total else self._accepted
            self.update("generate:inputs", "generate · inputs", done, total, self._latest_note())
        elif event == "answer":
            self.finish("generate:inputs")
            self.update(
                "generate:answers",
                "generate · answers",
                int(ev.get("done") or 0),
                ev.get("total"),
                self._latest_note("answer"),
            )
        elif event in ("stage", "budget_stop") and ev.get("message"):
            self.log(f"[dim]{ev['message']}[/dim]", to_err=True)

    def on_evaluation(self, ev: dict) -> None:
        """Evaluation: which system is answering (or the judge), done / total."""
        stage = ev.get("stage")
        if stage in ("generate", "judge", "pairwise", "golden", "practice") and ev.get("total") is not None:
            system = ev.get("system")
            key = f"evaluate:{stage}:{system or ''}"
            words = {"golden": "your own examples", "practice": "what it still gets wrong"}.get(stage, stage)
            label = "evaluate · " + (f"{system}" if stage == "generate" and system else words)
            self.update(key, label, int(ev.get("done") or 0), ev.get("total"))
        elif stage == "forgetting":
            self.log("[dim]… evaluate: forgetting set[/dim]", to_err=True)
        elif stage == "done":  # the next evaluate() call (another test set) gets fresh bars
            self.start_step("evaluate")

    def on_train(self, ev: dict) -> None:
        """Training events (events.jsonl): optimizer steps done / max, with the latest loss."""
        event, step, mx = ev.get("event"), ev.get("step"), ev.get("max_steps")
        if event not in ("start", "log", "eval", "end", "error"):
            return
        if step is not None:
            loss = ev.get("loss") if ev.get("loss") is not None else ev.get("eval_loss")
            note = None
            if loss is not None:
                note = f"{'eval ' if event == 'eval' else ''}loss {float(loss):.4f}"
            self.update("train", "train · steps", int(step), mx, note)
        if event in ("end", "error"):
            self.finish("train")

    # ---------------------------------------------------------------- the generation journal
    def _find_journal(self) -> Path | None:
        """The newest generation journal under the run (agent: work/iterN/gen, data generate: generation/…)."""
        now = self.clock()
        if self.run_path is None or (self._journal is not None and self._journal.exists()):
            return self._journal
        if now - self._journal_checked < NOTE_EVERY_S and self._journal_checked:
            return None
        self._journal_checked = now
        found = [
            p
            for pattern in ("work/iter*/gen/generation.jsonl", "generation/*/generation.jsonl")
            for p in self.run_path.glob(pattern)
        ]
        self._journal = max(found, key=lambda p: p.stat().st_mtime) if found else None
        return self._journal

    def _journal_accepted_inputs(self) -> int:
        path = self._find_journal()
        n = 0
        if path is None:
            return n
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if '"kind": "input"' in line and '"accepted": true' in line:
                        n += 1
        except OSError:
            pass
        return n

    def _latest_note(self, kind: str = "input") -> str | None:
        """The latest accepted input (or, while answering, the latest input → its answer), truncated —
        read from the journal's tail every few seconds."""
        now = self.clock()
        if now - self._note_t < NOTE_EVERY_S:
            return None
        self._note_t = now
        if kind == "answer":
            pair = latest_answer(self._find_journal())
            return (
                f"“{truncate(pair[0], NOTE_CHARS // 2)}” → “{truncate(pair[1], NOTE_CHARS // 2)}”"
                if pair
                else None
            )
        text = latest_input(self._find_journal())
        return f"“{truncate(text)}”" if text else None


def latest_answer(path: Path | None) -> tuple[str, str] | None:
    """(input, answer) of the last answer written to a generation journal (reads only its tail)."""
    entry = _last_entry(path, lambda e: e.get("kind") == "answer" and isinstance(e.get("row"), dict))
    if entry is None:
        return None
    from tools.data.schema import answer_text, user_text

    return user_text(entry["row"]), answer_text(entry["row"])


def latest_input(path: Path | None) -> str | None:
    """The text of the last accepted input in a generation journal (reads only its tail)."""
    entry = _last_entry(path, lambda e: e.get("kind") == "input" and e.get("accepted"))
    return None if entry is None else str(entry.get("text") or "")


def _last_entry(path: Path | None, wanted) -> dict | None:
    from tools.data.generate import Journal

    return next((e for e in reversed(Journal.tail(path)) if wanted(e)), None)


def _same_terminal() -> bool:
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
