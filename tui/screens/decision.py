"""Decision: the recommendation with its reasons, the rubric table, the probe's evidence and the estimate.
Accept it, change the answers (the interview again, in the same session, earlier answers as defaults),
or override the approach."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Markdown, Select, Static

from tui.widgets.header import StatusHeader

APPROACHES = ("prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune")

ESTIMATE_LABELS = {
    "hardware": "runs on",
    "cost_usd": "cost (USD)",
    "time_minutes": "time (minutes, all steps)",
    "generate_minutes": "  data generation + checks (minutes)",
    "train_minutes": "  training (minutes)",
    "evaluate_minutes": "  evaluation (minutes)",
    "data_generation_tokens": "data generation tokens",
    "training_tokens": "training tokens",
    "evaluation_tokens": "evaluation tokens",
    "gpu_hours": "GPU hours",
    "gpu_cost_usd": "GPU cost (USD)",
    "cpu_minutes_embedded": "CPU minutes (embedded model)",
}


def decision_markdown(decision: dict) -> str:
    lines = [f"## Recommendation: **{decision.get('approach', '?')}**", ""]
    if decision.get("chosen") and decision.get("chosen") != decision.get("approach"):
        lines += [f"_Chosen: **{decision['chosen']}** — {decision.get('override_note') or ''}_", ""]
    lines += ["**Why**", ""] + [f"- {r}" for r in decision.get("reasons") or []]
    return "\n".join(lines)


def probe_text(probe: dict | None, example: dict | None = None) -> str:
    """The probe's evidence in plain words: the score, on how many of the person's examples, and one answer."""
    if not probe:
        return "No probe was needed: the rubric used your answers (give ≥4 examples and no success rate to measure it)."
    if probe.get("measured") is False:
        return f"Probe: not measured — {probe.get('reason') or 'too few examples'}."
    bits = []
    ps, n = probe.get("prompted_success"), probe.get("n_test")
    shots = probe.get("n_shots")
    cs = probe.get("correct_share")
    if ps is not None:
        who = "The base model, shown " + (f"{shots} of your examples" if shots else "your instructions")
        on = f" on {n} others" if n else ""
        partial = PARTIAL_WORDS.get(str(probe.get("metric") or ""))
        if cs is not None and n:
            right = f"got {round(cs * n)} of {n} fully right"
            bits.append(
                f"{who}, {right}{on}" + (f" ({ps:.0%} {partial} on average)" if partial else f" ({ps:.0%})")
            )
        else:
            bits.append(f"{who}, scored {ps:.0%}{on}")
        bits.append("the final verdict is measured the same way")
    text = "How well prompting works now: " + (
        "; ".join(bits) if bits else ", ".join(f"{k}={v}" for k, v in probe.items())
    )
    if example:
        mark = "✔ right" if example.get("correct") else "✗ not what you expected"
        text += (
            f"\nOne of its answers — input: {_clip(example.get('input'))}\n"
            f"  it answered: {_clip(example.get('prediction'))}\n"
            f"  you expected: {_clip(example.get('reference'))}  ({mark})"
        )
    return text


# what a partial score means, per metric (a share of fields is not a share of answers)
PARTIAL_WORDS = {
    "json_field_accuracy": "of the fields right",
    "token_f1": "of the words matching",
    "rouge_l": "of the words matching",
}


def _clip(text, n: int = 120) -> str:
    s = " ".join(str(text or "").split())
    return escape(s if len(s) <= n else s[: n - 1] + "…")


def estimate_rows(estimate: dict | None) -> list[tuple[str, str]]:
    rows = []
    for k, v in (estimate or {}).items():
        if k in ("path", "assumptions"):
            continue
        if k.startswith("gpu_") and not v:
            continue  # no GPU here (or none needed): "GPU hours 0" would only mislead
        rows.append((ESTIMATE_LABELS.get(k, k), f"{v:,}" if isinstance(v, int) else str(v)))
    return rows


class DecisionScreen(Screen):
    SCREEN_NAME = "decision"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("a", "accept", "Accept"),
        Binding("c", "change_answers", "Change answers"),
        Binding("o", "override", "Override"),
    ]

    def __init__(self, run_id: str, pending: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.pending = pending
        self.decision: dict = dict((pending or {}).get("decision") or {})
        self.sent: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll(id="decision-body"):
            yield Markdown("", id="decision-md")
            yield Static("Rubric", classes="section-title")
            yield DataTable(id="rubric", cursor_type="row", show_cursor=False)
            yield Static("", id="probe")
            yield Static("Estimate", classes="section-title")
            yield DataTable(id="estimate", show_cursor=False)
            yield Static("", id="assumptions")
            yield Markdown("", id="next-steps")
        with Horizontal(id="decision-actions"):
            yield Button("Accept", id="accept", variant="success")
            yield Button("Change answers", id="change")
            yield Select(
                [(a, a) for a in APPROACHES], prompt="override…", id="override-choice", allow_blank=True
            )
            yield Button("Override", id="override", variant="warning")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rubric", DataTable).add_columns("fired", "rule and evidence")
        self.query_one("#estimate", DataTable).add_columns("item", "value")
        if self.decision:
            self.show_decision(self.decision)
        else:
            self.load_decision()

    @work(thread=True, exit_on_error=False)
    def load_decision(self) -> None:
        from tools.workspace import read_json

        p = self.app.workspace.run(self.run_id).decision_path
        decision = read_json(p) if p.exists() else {}
        self.app.call_from_thread(self.show_decision, decision)

    @work(thread=True, exit_on_error=False, group="probe-example")
    def load_probe_example(self, probe: dict) -> None:
        """One of the probe's answers (kept with the probe's result in the run), shown under its score."""
        from agent.artifacts import load_step

        saved = load_step(self.app.workspace.run(self.run_id), 0, "probe") or {}
        rows = saved.get("rows") or []
        if rows and saved.get("signature") == probe.get("signature"):
            text = probe_text(probe, rows[0])
            self.app.call_from_thread(self.query_one("#probe", Static).update, text)

    def show_decision(self, decision: dict) -> None:
        self.decision = decision
        if not decision:
            self.query_one("#decision-md", Markdown).update(
                "# No decision yet\n\nFinish the interview first."
            )
            return
        self.query_one("#decision-md", Markdown).update(decision_markdown(decision))
        rubric = self.query_one("#rubric", DataTable)
        rubric.clear()
        for r in decision.get("rubric") or []:
            rubric.add_row(
                "✔" if r.get("fired") else "·",
                Text.assemble(r.get("rule", ""), "\n", (f"  {r.get('evidence', '')}", "dim")),
                height=2,
            )
        self.query_one("#probe", Static).update(probe_text(decision.get("probe")))
        if (decision.get("probe") or {}).get("measured"):
            self.load_probe_example(decision["probe"])
        est = self.query_one("#estimate", DataTable)
        est.clear()
        for k, v in estimate_rows(decision.get("estimate")):
            est.add_row(k, v)
        self.query_one("#assumptions", Static).update(
            f"Assumptions: {(decision.get('estimate') or {}).get('assumptions', '—')}"
        )
        steps = decision.get("next_steps") or []
        self.query_one("#next-steps", Markdown).update(
            "## Next steps\n\n" + "\n".join(f"1. {s}" for s in steps)
        )
        waiting = self.pending is not None
        for bid in ("#accept", "#override", "#override-choice"):
            self.query_one(bid).disabled = not waiting
        if not waiting:
            self._working()

    def _working(self) -> None:
        """Once accepted (or decided earlier), no Accept to press: the button says the agent works on it."""
        accept = self.query_one("#accept", Button)
        accept.disabled = True
        working = self.sent is not None or self.run_id in getattr(self.app, "busy", ())
        accept.label = "working…" if working else "decided"

    def _resume(self, answer: str) -> None:
        if self.pending is None:
            self.notify(
                "This decision is already made; start a new session to decide again.", severity="warning"
            )
            return
        self.sent = answer
        self.pending = None
        for bid in ("#accept", "#override", "#override-choice"):
            self.query_one(bid).disabled = True
        self._working()
        if answer == "accept":
            self.notify(f"Going ahead with {self.decision.get('approach')}…")
        elif answer in APPROACHES:
            self.notify(f"Going ahead with {answer}…")
        self.app.answer(self.run_id, answer)

    def action_accept(self) -> None:
        self._resume("accept")

    def action_override(self) -> None:
        sel = self.query_one("#override-choice", Select)
        if sel.value in APPROACHES:
            self._resume(str(sel.value))
        else:
            sel.focus()
            self.notify("Pick an approach in the list, then Override.")

    def action_change_answers(self) -> None:
        """Back to the interview in this same session (every earlier answer offered as the default);
        once the decision is made, a new session pre-filled with the answers."""
        if self.pending is not None:
            from agent.nodes.decide import CHANGE

            self._resume(CHANGE)
            return
        values = self.app.run_values.get(self.run_id) or {}
        answers = dict(values.get("answers") or {})
        if not answers:
            from tools.workspace import read_yaml

            p = self.app.workspace.run(self.run_id).spec_path
            if p.exists():
                answers = dict((read_yaml(p) or {}).get("answers") or {})
        self.app.new_session(defaults=answers)

    def on_graph_paused(self, msg) -> None:
        self.pending = msg.interrupt
        self.show_decision(dict(msg.interrupt.get("decision") or {}))

    @on(Button.Pressed, "#accept")
    def _accept(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#override")
    def _override(self) -> None:
        self.action_override()

    @on(Button.Pressed, "#change")
    def _change(self) -> None:
        self.action_change_answers()
