"""What a long step (generate, critique, train, evaluate) is doing, folded from the agent's events.

Pure and testable: `StepProgress.apply(kind, data)` takes the same (kind, data) the graph worker posts —
`status` {"message"}, `progress` {"step", ...the tool's event}, `train` (a trainer event from events.jsonl)
and `log` {"node"} when a node finishes. Events it reads:

- generation: {"event": "input", "slot", "accepted", "reason"[, "text", "total", "done"]} then
  {"event": "answer", "key", "done"[, "text", "total"]}; without "total" the count planned in the status
  message ("generate: 12 examples …") is the total;
- evaluation: {"stage": "generate", "system", "done", "total"}, {"stage": "judge"|"pairwise", …},
  {"stage": "golden", "done", "total"} (the person's own held-out examples), {"stage": "forgetting"},
  {"stage": "done"}, then {"stage": "practice", "done", "total"} (the tuned model on validation rows, when
  another round may follow);
- training: {"event": "start|log|eval|checkpoint|end|error", "step", "max_steps", "tokens_per_s", "eta_s"}.

Rates and ETAs are measured live (items per second since the phase began), never assumed.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field

from tui.widgets.training.progress import format_eta

LONG_STEPS = ("generate", "critique", "train", "evaluate", "prompt")

ACTIVITY = {
    ("generate", "inputs"): "Writing new practice inputs like your examples",
    ("generate", "answers"): "Writing the answers to the practice inputs",
    ("critique", None): "Checking the practice answers",
    ("critique", "second answers"): "Checking the practice answers: answering again to see if it agrees",
    (
        "critique",
        "third answers",
    ): "Checking the practice answers: a third answer where the first two disagree",
    (
        "critique",
        "repairs",
    ): "Checking the practice answers: asking again for the answers that failed a check",
    (
        "critique",
        "last checks",
    ): "Checking the practice answers: which ones the model you start from already knows, then a few "
    "general examples mixed in",
    (
        "critique",
        "starting model",
    ): "Checking the practice answers: which ones the model you start from already knows",
    (
        "critique",
        "general examples",
    ): "Checking the practice answers: a few general questions answered, so the model keeps its general "
    "skills",
    ("train", None): "Training the model on the reviewed examples",
    ("evaluate", "generate"): "Testing the tuned model against a prompt with your examples",
    ("evaluate", "judge"): "Judging every answer against your task",
    ("evaluate", "pairwise"): "Comparing the tuned model with the best alternative, answer by answer",
    ("evaluate", "golden"): "Testing every model on your own examples that no prompt showed",
    ("evaluate", "forgetting"): "Checking that the tuned model kept its general skills",
    ("evaluate", "practice"): "Finding what the tuned model still gets wrong on practice examples it did not "
    "train on, to aim the next round at",
    ("evaluate", "done"): "Writing the evaluation report",
    ("probe", None): "Measuring the model you start from on your examples",
    # walk 17: two minutes of "working…" after Accept on a prompt's advice, nothing on screen
    ("prompt", None): "Trying prompts with 0, 2, 4 and 6 of your examples in them on your other examples",
}
SHORT = {
    ("generate", "inputs"): "Writing practice inputs",
    ("generate", "answers"): "Writing practice answers",
    ("critique", None): "Checking the practice answers",
    ("critique", "second answers"): "Checking answers (second opinion)",
    ("critique", "third answers"): "Checking answers (third opinion)",
    ("critique", "repairs"): "Checking answers (fixing failed ones)",
    ("critique", "last checks"): "Checking answers (last checks)",
    ("critique", "starting model"): "Checking answers (what it already knows)",
    ("critique", "general examples"): "Checking answers (general questions)",
    ("train", None): "Training",
    ("evaluate", "generate"): "Testing",
    ("evaluate", "judge"): "Judging answers",
    ("evaluate", "pairwise"): "Comparing answers",
    ("evaluate", "golden"): "Testing on your examples",
    ("evaluate", "forgetting"): "Checking general skills",
    ("evaluate", "practice"): "Finding what it gets wrong",
    ("evaluate", "done"): "Writing the report",
    ("probe", None): "Measuring the starting model",
    ("prompt", None): "Trying prompts",
}
UNITS = {
    "generate": "examples",
    "critique": "examples",
    "evaluate": "answers",
    "train": "steps",
    "prompt": "answers",
}
_STEP = re.compile(r"^\s*(generate|critique|train|evaluate|probe|prompt)\b")
_COUNT = {
    "generate": re.compile(r"(\d+) examples"),
    "critique": re.compile(r"(\d+) examples"),
    "evaluate": re.compile(r"(\d+) systems"),
}
_ITER = re.compile(r"iteration (\d+)")


POOR_INPUTS_AFTER = 40  # written inputs judged before the note below may show
POOR_INPUTS_SHARE = 0.6  # …and the share of them set aside above which it does


def system_words(name: str | None) -> str:
    """An evaluation system's name in plain words."""
    if not name:
        return "a system"
    n = name.strip()
    if n == "base zero-shot":
        return "the model you start from, with no prompt"
    if n == "base few-shot":
        return "a prompt with your examples"  # the walk: "'your prompt' — I never wrote a prompt"
    if n.startswith("tuned "):
        return f"the tuned model {n[6:]}"
    if n.startswith("rag"):
        return "retrieval over your documents"
    return n


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


REPLAY_BURST_S = 1.0  # items this soon after a phase starts were replayed, not worked on


TOP_UP = ("writing more ", "answering more ")  # the critique's stages that write more of a rare value


@dataclass
class StepProgress:
    """One run's current long step. `step` is None until a step announces itself."""

    step: str | None = None
    phase: str | None = None
    message: str = ""  # the step's last status line, as the node wrote it
    iteration: int | None = None
    planned: int | None = None  # the count the status message announced (examples, systems)
    done: int = 0
    total: int | None = None
    rejected: int = 0
    spare: int = 0  # inputs kept beyond the planned count while the last batch finishes
    system: str | None = None
    systems: list[str] = field(default_factory=list)
    n_systems: int | None = None
    system_counts: dict = field(default_factory=dict)  # evaluation: system → (done, total)
    must_keep: int = 0  # evaluation: of each system's total, the examples it must keep right
    samples: deque = field(default_factory=lambda: deque(maxlen=4))  # (label, text), newest last
    started_at: float | None = None
    phase_started_at: float | None = None
    phase_done0: int = 0
    phase_items: int = 0  # items the events reported in this phase (the live rate counts these)
    phases_seen: list[str] = field(
        default_factory=list
    )  # this step's phases in order (the critique's checks)
    counted: int = 0  # generation: items the events counted in this phase
    journal: dict = field(default_factory=dict)  # generation: counts in its journal, per phase
    last_event_at: float | None = None
    finished: bool = False
    events: int = 0
    # training (from the trainer's own events)
    tokens_per_s: float | None = None
    train_eta_s: float | None = None
    train_status: str | None = None
    error: str | None = None

    # ------------------------------------------------------------------ folding
    def apply(self, kind: str, data: dict, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.events += 1
        if kind == "status":
            self._status(str(data.get("message") or ""), now)
        elif kind == "progress":
            step = data.get("step")
            if step and step != self.step:
                self._begin(step, now)
            if self.step == "generate":
                self._generation(data, now)
            elif self.step == "evaluate":
                self._evaluation(data, now)
            elif self.step in ("critique", "prompt"):
                self._counted_stage(data, now)
                if data.get("text"):
                    self.samples.append(("result", str(data["text"])))
            self._skip_replay(now)
            self.last_event_at = now
        elif kind == "train":
            if self.step != "train":
                self._begin("train", now)
            self._training(data, now)
            self.last_event_at = now
        elif kind == "log":
            if data.get("node") and data.get("node") == self.step:
                self.finished = True
        elif kind == "error":
            self.error = str(data.get("line") or "")

    def _begin(self, step: str, now: float) -> None:
        self.step, self.phase, self.finished, self.error = step, None, False, None
        self.done, self.total, self.rejected, self.system = 0, None, 0, None
        self.spare = 0
        self.systems, self.n_systems, self.planned, self.system_counts = [], None, None, {}
        self.samples.clear()
        self.journal = {}
        self.tokens_per_s = self.train_eta_s = self.train_status = None
        self.started_at = now
        self.phases_seen = []
        self._phase(None, now)

    def _phase(self, phase: str | None, now: float, done0: int = 0) -> None:
        if phase and phase not in self.phases_seen:
            self.phases_seen.append(phase)
        self.phase, self.phase_started_at, self.phase_done0 = phase, now, done0
        self.phase_items, self.counted = 0, 0
        self.last_event_at = None

    def _skip_replay(self, now: float) -> None:
        """Items that arrive within a second of their phase's start are answers read back from the cache (a
        resumed step replays them in a burst), not work: the live rate starts after them. The walk read
        "520.9 answers/s · finishing…" at 16% and "about 1s left" at 17%."""
        if self.phase_started_at is not None and now - self.phase_started_at < REPLAY_BURST_S:
            self.phase_started_at, self.phase_done0, self.phase_items = now, self.done, 0

    def _status(self, message: str, now: float) -> None:
        m = _STEP.match(message)
        if m is None:
            self.message = message  # a free status line: shown, counts kept
            return
        step = m.group(1)
        if step != self.step or self.finished:
            self._begin(step, now)
        self.message = message
        if step in _COUNT and (c := _COUNT[step].search(message)):
            if step == "evaluate":
                self.n_systems = int(c.group(1))
            else:
                self.planned = int(c.group(1))
        if i := _ITER.search(message):
            self.iteration = int(i.group(1))
        if step == "generate":
            if self.phase is None:
                self._phase("inputs", now)
            if self.total is None:
                self.total = self.planned  # the plan until the events say otherwise
        elif step == "evaluate" and self.phase is None:
            self._phase("generate", now)

    def _generation(self, ev: dict, now: float) -> None:
        kind = ev.get("event")
        if kind == "input":
            if self.phase != "inputs":
                self._phase("inputs", now)
            if ev.get("accepted"):
                self.counted = int(ev["done"]) if ev.get("done") is not None else self.counted + 1
                self.phase_items += 1
                if ev.get("text"):
                    self.samples.append(("input", str(ev["text"])))
            else:
                self.rejected += 1
        elif kind == "answer":
            if self.phase != "answers":
                # the answers began being written when the last input came, not at the first answer: a
                # batch of answers arrives at once (a rate from that burst read 78 answers/s)
                self._phase("answers", self.last_event_at if self.last_event_at is not None else now)
            self.counted = int(ev["done"]) if ev.get("done") is not None else self.counted + 1
            self.phase_items += 1
            if ev.get("text"):
                self.samples.append(("answer", str(ev["text"])))
        elif kind == "budget_stop":
            self.error = str(ev.get("message") or "budget stop")
        if kind in ("input", "answer"):
            self.total = _int(ev.get("total")) or self.planned
            self._generation_done()

    def _generation_done(self) -> None:
        """Done = what the events counted or the journal holds, whichever is further (a resumed step
        replays its journal without events); never more than the total."""
        journal = self.journal.get(self.phase or "inputs", 0)
        done = max(self.counted, journal)
        self.done = min(done, self.total) if self.total else done
        # the generator's last batch runs to its end after enough inputs were kept: say so, not "finishing…"
        self.spare = max(0, done - self.total) if self.total and self.phase == "inputs" else 0

    def sync_journal(self, accepted_inputs: int, answers: int, now: float | None = None) -> None:
        """Counts from the generation journal (see `_generation_done`)."""
        if self.step != "generate":
            return
        if self.phase == "inputs" and answers and self.total and accepted_inputs >= self.total:
            # resumed after every question was written: the answers are what runs now
            self._phase("answers", time.monotonic() if now is None else now)
        self.journal = {"inputs": accepted_inputs, "answers": answers}
        self._generation_done()

    def _counted_stage(self, ev: dict, now: float) -> None:
        """A step's stage with done/total (the critique's second and third teacher answers)."""
        stage = ev.get("stage")
        if stage and stage != self.phase:
            self._phase(stage, now, done0=_int(ev.get("done")) or 0)
            # a stage's own counts: the walk read "63/63 … finishing…" for 3 minutes of a later, uncounted stage
            self.done, self.total = _int(ev.get("done")) or 0, _int(ev.get("total"))
        if ev.get("done") is not None:
            self.done = int(ev["done"])
        if ev.get("total") is not None:
            self.total = int(ev["total"])

    def _evaluation(self, ev: dict, now: float) -> None:
        stage = ev.get("stage")
        if stage == "generate":
            system = ev.get("system")
            if system != self.system or self.phase != "generate":
                self.system = system
                if system not in self.systems:
                    self.systems.append(system)
                self._phase("generate", now, done0=_int(ev.get("done")) or 0)
        elif (
            stage in ("judge", "pairwise", "golden", "forgetting", "practice", "done") and stage != self.phase
        ):
            self._phase(stage, now, done0=_int(ev.get("done")) or 0)
            self.system = None
        if ev.get("done") is not None:
            self.done = int(ev["done"])
        if ev.get("total") is not None:
            self.total = int(ev["total"])
        elif stage in ("forgetting", "done"):
            self.done, self.total = 0, None
        if stage == "generate" and self.system:
            self.system_counts[self.system] = (self.done, self.total)
            self.must_keep = _int(ev.get("must_keep")) or 0

    def _training(self, ev: dict, now: float) -> None:
        if ev.get("step") is not None:
            if ev.get("event") == "start" or self.last_event_at is None:
                # the rate counts steps from here (a resume starts at its checkpoint's step)
                self.phase_started_at, self.phase_done0 = now, int(ev["step"])
            self.done = int(ev["step"])
        if ev.get("max_steps") is not None:
            self.total = int(ev["max_steps"])
        if ev.get("tokens_per_s") is not None:
            self.tokens_per_s = float(ev["tokens_per_s"])
        if ev.get("eta_s") is not None:
            self.train_eta_s = float(ev["eta_s"])
        kind = ev.get("event")
        if kind in ("start", "log", "eval", "checkpoint"):
            self.train_status = "running"
        elif kind == "end":
            self.train_status = ev.get("status") or "done"
        elif kind == "error":
            self.train_status, self.error = "failed", str(ev.get("message") or ev.get("error") or "")

    # ------------------------------------------------------------------ reading
    @property
    def active(self) -> bool:
        return self.step is not None and not self.finished

    def activity(self) -> str:
        """What is being done now, in plain words."""
        if self.step is None:
            return "Continuing from the last checkpoint…"
        text = ACTIVITY.get((self.step, self.phase))
        if text is None:
            text = ACTIVITY.get((self.step, None)) or self.message or self.step
            if self.phase and self.step == "critique":
                text += f" ({self.phase})"
        if self.step == "evaluate" and self.phase == "generate" and self.system:
            k = self.systems.index(self.system) + 1 if self.system in self.systems else len(self.systems)
            of = f" of {self.n_systems}" if self.n_systems else ""
            text += f" (system {k}{of}: {system_words(self.system)})"
        if self.finished:
            text += " — done"
        return text

    def short_activity(self) -> str:
        if self.step is None:
            return "Working"
        return SHORT.get((self.step, self.phase)) or SHORT.get((self.step, None)) or self.step

    def unit(self) -> str:
        if self.step == "generate" and self.phase == "inputs":
            return "inputs"
        if self.step == "critique" and self.phase:
            return "answers"
        return UNITS.get(self.step or "", "items")

    def rate(self) -> float | None:
        """Items per second in the current phase, measured since it began (None until one is done)."""
        if self.phase_started_at is None or self.last_event_at is None:
            return None
        # generation counts the items its events reported (not what a resume replayed from the journal)
        n = self.phase_items if self.step == "generate" else self.done - self.phase_done0
        dt = self.last_event_at - self.phase_started_at
        return n / dt if n > 0 and dt > 0 else None

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left in this phase at the live rate, counted down since the last event."""
        now = time.monotonic() if now is None else now
        since = now - self.last_event_at if self.last_event_at is not None else 0.0
        if self.step == "train" and self.train_eta_s is not None:
            return max(self.train_eta_s - since, 0.0)
        r = self.rate()
        if r is None or self.total is None:
            return None
        return max((self.total - self.done) / r - since, 0.0)

    def elapsed_s(self, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        return None if self.started_at is None else now - self.started_at

    def poor_inputs_note(self) -> str | None:
        """Said while the inputs are written when most are set aside: walk 9 waited 80 minutes to learn that
        its data was unusable, with 67 of the first 90 inputs off task by minute 17."""
        tried = self.rejected + self.counted
        if self.phase != "inputs" or tried < POOR_INPUTS_AFTER or self.rejected <= POOR_INPUTS_SHARE * tried:
            return None
        return (
            f"Most of what the writer makes is unlike your examples ({self.rejected} of {tried} set aside so far), "
            "so few practice examples will be kept. Examples of your own teach far more: press a to start "
            "again with some added (this session stops), or s to stop here."
        )

    def counts_line(self, now: float | None = None) -> str:
        """Done / total, rate, ETA and elapsed time; every figure says "—" or is left out, never None."""
        if self.step is None:
            return "Nothing running yet."
        parts = []
        checks = [p for p in self.phases_seen if not p.startswith(TOP_UP)]
        if self.total and self.step == "critique" and self.phase in checks:
            # each check counts its own answers: walk 24 read "24/79", then "8/48", then "32/158" as a total
            # that kept changing — the check's number says a new count began (not the top-ups of a value with
            # few examples: walk 27 read "check 17" after five services were topped up twice each)
            k = checks.index(self.phase) + 1
            parts.append(f"check {k}: {self.done}/{self.total} {self.unit()}")
        elif self.total:
            parts.append(f"{self.done}/{self.total} {self.unit()}")
        elif self.done:
            parts.append(f"{self.done} {self.unit()} done")
        elif self.step == "critique" and self.planned:
            parts.append(f"{self.planned} examples to check")
        if self.rejected:
            # the walk read this count through the answers and thought the checks had stopped
            parts.append(f"{self.rejected} written inputs set aside")
        if self.spare:
            parts.append(f"enough kept; the last batch is finishing ({self.spare} spare)")
        r = self.rate()
        if self.step == "train" and self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:.0f} tokens/s")
        if r is not None:
            parts.append(f"{r * 60:.1f} {self.unit()}/min" if r < 1 else f"{r:.1f} {self.unit()}/s")
        eta = self.eta_s(now)
        if not self.finished:
            if self.spare:
                pass  # said above: the last batch is finishing
            elif eta is not None:
                parts.append(f"about {format_eta(eta)} left" if eta > 0 else "finishing…")
            elif self.total or self.step in ("generate", "evaluate"):
                parts.append("measuring the rate…")
        el = self.elapsed_s(now)
        if el is not None:
            parts.append(f"running {format_eta(el)}")
        return " · ".join(parts)

    def headline(self, now: float | None = None) -> str:
        """One line for the header (≤70 characters, never "None")."""
        if self.step is None:
            return _clip(self.message or "working…", 70)
        bits = [self.short_activity()]
        if self.step == "evaluate" and self.phase == "generate" and self.system:
            k = self.systems.index(self.system) + 1 if self.system in self.systems else len(self.systems)
            bits[0] += f" {k}/{self.n_systems}" if self.n_systems else f" system {k}"
        if self.total:
            bits.append(f"{self.done}/{self.total}")
        elif self.done:
            bits.append(f"{self.done} done")
        eta = self.eta_s(now)
        if self.finished:
            bits.append("done")
        elif eta is not None:
            bits.append(f"ETA {format_eta(eta)}")
        return _clip(": ".join(bits[:2]) + (" · " + " · ".join(bits[2:]) if bits[2:] else ""), 70)


def _int(v) -> int | None:
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


def journal_counts(path) -> tuple[int, int]:
    """(accepted inputs, answers) journaled so far in a generation journal."""
    import json
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        return 0, 0
    inputs, answers = set(), set()
    with open(p, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(e, dict):
                continue
            if e.get("kind") == "input" and e.get("accepted"):
                inputs.add(e.get("slot"))
            elif e.get("kind") == "answer":
                answers.add(e.get("key"))
    return len(inputs), len(answers)


def journal_samples(path, k: int = 2) -> list[tuple[str, str]]:
    """The newest accepted question and answer in a generation journal (its last ~16 KB), oldest first."""
    from tools.data.generate import Journal
    from tools.data.schema import answer_text, user_text

    out: list[tuple[str, str]] = []
    for e in Journal.tail(path, tail_bytes=16384):
        if e.get("kind") == "input" and e.get("accepted") and e.get("text"):
            out.append(("input", str(e["text"])))
        elif e.get("kind") == "answer":
            user, answer = user_text(e.get("row") or {}), answer_text(e.get("row") or {})
            if answer:
                # the question and its answer: "example", not "answer" (walk 25 read "answer:" before an input)
                out.append(("example", f"{_clip(user, 60)} → {answer}") if user else ("answer", str(answer)))
    return out[-k:]
