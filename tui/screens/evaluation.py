"""Evaluation: first the result in one plain sentence and what to do about it, then a small table, then
every test example with its expected answer beside the systems' answers. A person who sees a wrong
expected answer marks it (`w`); the mark goes to eval/vN/reference_flags.jsonl for the next data version.
"""

from __future__ import annotations

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tools.evals.summary import (
    COUNTED,
    METRIC_HELP,
    OVERLAP,
    column_help,
    metric_help,
    plain_reason,
    system_phrase,
    system_rows,
)
from tui.screens.review import short_id
from tui.widgets.evaluation import EvalView, ExampleRow, load_eval, system_table_rows, table_header
from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader

STATUS_COLOR = {"pass": "green", "fail": "red", "inconclusive": "yellow"}
SPLIT_WORD = {"regression": "keep", "forgetting": "general"}  # must-keep examples; general questions
KIND_WORD = {"tuned": "tuned", "prompted": "prompt", "trivial": "common", "base": "base", "rag": "docs"}


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _values(text: str) -> str:
    """A JSON object's values for a narrow cell ("latte, large, oat"); anything else as it is."""
    import json

    try:
        obj = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if isinstance(obj, dict) and obj:
        return ", ".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in obj.values())
    return str(text)


def result_words(entry: dict | None, metric: str) -> str:
    """How one answer did on the primary metric, in words: "✓ right", "✗ 2 of 3 fields right (67%)"."""
    if not entry:
        return ""
    if metric == "judge":
        judge = entry.get("judge") or {}
        if judge.get("passed") is None:
            return ""
        return "✓ the judge accepts it" if judge.get("passed") else "✗ the judge rejects it"
    v = (entry.get("metrics") or {}).get(metric)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return ""
    if metric in OVERLAP:
        return f"{v:.0%} of the words match"
    if v >= 1.0 - 1e-9:
        return "✓ right"
    if metric == "json_field_accuracy" and v > 0:
        return f"✗ {v:.0%} of the fields right"
    if metric in COUNTED:
        return "✗ wrong"
    return f"{metric.replace('_', ' ')} {v:.2f}"


def output_panel_text(system: str, entry: dict | None, metric: str = "") -> str:
    """One system's answer to one example: the answer, how it did, format problems, the judge's reason."""
    if entry is None:
        return f"[b]{escape(system)}[/b]\n(no answer)"
    judge = entry.get("judge") or {}
    bits = [f"[b]{escape(system)}[/b]", escape(str(entry.get("text", entry.get("output", ""))))]
    said = result_words(entry, metric)
    if said:
        color = "green" if said.startswith("✓") else ("red" if said.startswith("✗") else "default")
        bits.append(f"[{color}]{escape(said)}[/]")
    if entry.get("format_errors"):
        bits.append("[red]format: " + escape("; ".join(map(str, entry["format_errors"]))) + "[/red]")
    if judge.get("reason"):
        bits.append(f"[i]judge:[/i] {escape(str(judge.get('reason')))}")
    return "\n".join(bits)


def expected_panel_text(ex: ExampleRow, flagged: bool) -> str:
    if ex.split == "forgetting" or not ex.reference:
        return (
            "[b]expected answer[/b]\n(none: a general question; the judge compares the tuned model's "
            "answer with the answer of the model you start from)"
        )
    if flagged:
        return (
            f"[b]expected answer[/b] [b yellow]marked wrong[/]\n{escape(ex.reference)}\n"
            "[yellow]the next data version fixes or drops this example (w: unmark)[/]"
        )
    return f"[b]expected answer[/b]\n{escape(ex.reference)}"


def pairwise_words(pairwise: dict, report: dict) -> str:
    """The judge's side-by-side preference in words."""
    outcome = pairwise.get("outcome")
    cand = system_phrase(report.get("candidate"), report)
    base = system_phrase(report.get("baseline"), report)
    said = {
        "win": f"the judge preferred {cand}",
        "loss": f"the judge preferred {base}",
        "tie": "the judge saw no difference",
    }.get(str(outcome), f"judge: {outcome}")
    if pairwise.get("flipped"):
        said += " (it changed its mind when the order was swapped)"
    reasons = "; ".join(map(str, pairwise.get("reasons") or []))
    return said + (f": {reasons}" if reasons else "")


def details_text(view: EvalView) -> str:
    """The checks behind the sentence, the scores with their ranges, and what every number means."""
    rep = view.report
    pm = rep.get("primary_metric") or ""
    v = rep.get("verdict") or {}
    lines = ["[b]The checks[/b]"]
    lines += [escape(plain_reason(r)) for r in v.get("reasons") or []] or ["(no verdict)"]
    lines += ["", f"[b]Scores[/b] ({escape(metric_help(pm))})"]
    systems = rep.get("systems") or {}
    for name in [r["name"] for r in system_rows(rep)]:
        m = (systems[name].get("metrics") or {}).get(pm) or {}
        ci = m.get("ci") or [None, None]
        rng = f", 95% range {ci[0]:.2f}–{ci[1]:.2f}" if ci and ci[0] is not None else ""
        mean = "–" if m.get("mean") is None else f"{m['mean']:.2f}"
        lines.append(escape(f"{system_phrase(name, rep, short=True)}: {mean}{rng}"))
    shown = [pm, "format_rate", "prompt_tokens", "ci"]
    lines += ["", "[b]What the numbers mean[/b]"]
    lines += [escape(METRIC_HELP[k]) for k in shown if k in METRIC_HELP]
    return "\n".join(lines)


class EvaluationScreen(Screen):
    SCREEN_NAME = "evaluation"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("w", "flag_reference", "Expected answer is wrong"),
        Binding("d", "toggle_details", "Details"),
        Binding("g", "toggle_regressions", "Regressions only"),
        Binding("s", "toggle_all_systems", "All systems"),
        Binding("f5", "reload", "Reload"),
        Binding("o", "open_report", "Report"),
        # shown only while the agent asks whether to spend another round (the question sits under the sentence)
        Binding("n", "another_round", "Another round"),
        Binding("x", "stop_here", "Stop here"),
    ]
    # dropped from a narrow footer first, in this order (F1 lists every key)
    FOOTER_OPTIONAL = ("toggle_all_systems", "toggle_regressions", "toggle_details", "flag_reference")

    def __init__(self, run_id: str, version: str | None = None, round_ask: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.version = version
        self.round_ask = round_ask  # the pending "another round?" question, if the agent asks it
        self.wants_report = False
        self.eval_view = EvalView(None, {}, [])
        self.regressions_only = False
        self.all_systems = False
        self.details = False
        self.shown: list[ExampleRow] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static("Loading the evaluation…", id="verdict")
        yield Static("", id="round-ask")
        yield DataTable(id="systems", show_cursor=False)
        with VerticalScroll(id="eval-details"):
            yield Static("", id="eval-details-text")
        yield Static("", id="examples-title", classes="section-title")
        yield DataTable(id="examples", cursor_type="row", zebra_stripes=True)
        yield Horizontal(id="side-by-side")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#eval-details").display = False
        self.show_round_ask()
        self.action_reload()

    # ------------------------------------------------------------------ another round?
    def show_round_ask(self) -> None:
        """The agent's question, under the result it is about: the person reads the sentence, then answers."""
        box = self.query_one("#round-ask", Static)
        ask = self.round_ask
        box.display = ask is not None
        # while the question is asked, the result, the advice and the question have the room (at 80×24 the
        # walk's advice was cut off under the question); the examples come back once it is answered
        for part in ("#examples-title", "#examples", "#side-by-side"):
            self.query_one(part).display = ask is None
        if ask is not None:
            err = f"\n[red]{escape(str(ask['error']))}[/red]" if ask.get("error") else ""
            question = str(ask.get("question") or "Try another round?")
            said = self.eval_view.summary().get("sentence") if self.eval_view.version else None
            if said and question.startswith(said):
                question = question[len(said) :].strip()  # the sentence is right above: ask only the question
            box.update(
                f"[b]{escape(question)}[/b]\n"
                f"{escape(str(ask.get('help') or ''))}\n"
                "[b]n[/b] another round · [b]x[/b] stop here and see the report" + err
            )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("another_round", "stop_here"):
            return self.round_ask is not None
        return True

    def on_graph_paused(self, msg) -> None:
        ask = msg.interrupt if isinstance(msg.interrupt, dict) else None
        self.round_ask = ask if (ask or {}).get("kind") == "round" else None
        self.show_round_ask()
        self.action_reload()  # the round's evaluation has just been written

    def _answer_round(self, another: bool) -> None:
        ask = self.round_ask
        if ask is None:
            return
        choices = list(ask.get("choices") or ["Try another round", "Stop here and see the report"])
        self.round_ask = None
        self.show_round_ask()
        if another:
            self.notify("Another round: new practice examples first…")
            self.app.answer(self.run_id, choices[0])
            self.app.open("progress", self.run_id)
        else:
            self.notify("Stopping here: the report follows.")
            self.wants_report = True  # the app opens the report when the run ends
            self.app.answer(self.run_id, choices[-1])

    def action_another_round(self) -> None:
        self._answer_round(True)

    def action_stop_here(self) -> None:
        self._answer_round(False)

    def action_reload(self) -> None:
        self.load()

    def action_open_report(self) -> None:
        self.app.open("report", self.run_id)

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        view = load_eval(self.app.workspace.run(self.run_id).path, self.version)
        self.app.call_from_thread(self.set_view, view)

    def set_view(self, view: EvalView) -> None:
        self.eval_view = view
        rep = view.report
        verdict = self.query_one("#verdict", Static)
        pm = rep.get("primary_metric") or ""
        if view.version is None:
            verdict.update("No evaluation yet for this run.")
        else:
            s = view.summary()
            color = STATUS_COLOR.get(s["status"], "default")
            text = f"[b {color}]{escape(s['sentence'])}[/]"
            if s.get("own_examples"):  # the answers the person trusts most, right under the result
                text += f"\n{escape(s['own_examples'])}"
            text += f"\n[b]→[/b] {escape(s['recommendation'])}"
            if s.get("serve_command"):
                text += f"\n  [b]{escape(s['serve_command'])}[/b]"
            verdict.update(text)
            verdict.tooltip = metric_help(pm)
        systems = self.query_one("#systems", DataTable)
        systems.clear(columns=True)
        systems.add_columns(*table_header(rep))
        for row in system_table_rows(rep, view.rows):
            systems.add_row(*row)
        systems.tooltip = "\n".join(
            [column_help(pm), METRIC_HELP["format_rate"], METRIC_HELP["prompt_tokens"]]
        )
        self.query_one("#eval-details-text", Static).update(details_text(view))
        if self.round_ask is not None:
            self.show_round_ask()
        table = self.query_one("#examples", DataTable)
        table.clear(columns=True)
        cand, base = rep.get("candidate"), rep.get("baseline")
        table.add_columns("id", "input", "expected", self._column(cand), self._column(base))
        self.refresh_examples()
        table.focus()

    def _column(self, name: str | None) -> str:
        kind = ((self.eval_view.report.get("systems") or {}).get(name) or {}).get("kind")
        return KIND_WORD.get(kind, _short(name or "–", 7))

    def _mark(self, ex: ExampleRow, system: str | None) -> str:
        said = result_words(ex.outputs.get(system or ""), self.eval_view.report.get("primary_metric") or "")
        return said[:1] if said[:1] in ("✓", "✗") else (said.split(" ")[0] if said else "")

    def refresh_examples(self) -> None:
        table = self.query_one("#examples", DataTable)
        table.clear()
        rep = self.eval_view.report
        self.shown = self.eval_view.filtered(self.regressions_only)
        for ex in self.shown:
            flag = "wrong? " if self.eval_view.is_flagged(ex) else ""
            regressed = "↓ " if self.eval_view.is_regression(ex) else ""
            # the id is 8 characters and a must-keep/general example says so in its input cell: a 32-character
            # id (or "keep:" before it) took the width and cut the ✓/✗ columns off at 80 columns
            kind = "" if ex.split in ("", "test") else f"{SPLIT_WORD.get(ex.split, ex.split)}: "
            table.add_row(
                short_id(ex.id),
                _short(regressed + kind + " ".join(str(ex.input).split()), 24),
                flag + _short(_values(ex.reference) if ex.reference else "—", 22 - len(flag)),
                self._mark(ex, rep.get("candidate")),
                self._mark(ex, rep.get("baseline")),
                key=ex.key,
            )
        what = "regressions" if self.regressions_only else "examples"
        n_flags = len(self.eval_view.flags)
        marked = f" · {n_flags} expected answer{'s' if n_flags != 1 else ''} marked wrong" if n_flags else ""
        # the walk read "0 of 11" above and "15 examples" here: say what the other rows are
        parts: dict[str, int] = {}
        for ex in self.shown:
            word = {"": "test", "test": "test", "regression": "must-keep", "forgetting": "general"}.get(
                ex.split, ex.split
            )
            parts[word] = parts.get(word, 0) + 1
        of = " (" + " + ".join(f"{n} {w}" for w, n in parts.items()) + ")" if len(parts) > 1 else ""
        self.query_one("#examples-title", Static).update(f"{len(self.shown)} {what}{of}{marked}")
        self.show_example()

    def show_example(self) -> None:
        box = self.query_one("#side-by-side", Horizontal)
        box.remove_children()
        table = self.query_one("#examples", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return
        ex = self.shown[table.cursor_row]
        rep = self.eval_view.report
        pm = rep.get("primary_metric") or ""
        if self.all_systems:  # every system that answered this example
            systems = [s for s in self.eval_view.systems if s in ex.outputs] or self.eval_view.systems
        else:
            pair = self.eval_view.compared()
            systems = [pair[1], pair[0]] if len(pair) == 2 else pair  # the tuned model next to the expected
        expected = Static(expected_panel_text(ex, self.eval_view.is_flagged(ex)), id="expected-text")
        panels = [VerticalScroll(expected, classes="sbs-panel sbs-expected")]
        for name in systems:
            text = output_panel_text(system_phrase(name, rep, short=True), ex.outputs.get(name), pm)
            if ex.pairwise and name == rep.get("candidate"):
                text += "\n[i]" + escape(pairwise_words(ex.pairwise, rep)) + "[/i]"
            panel = VerticalScroll(Static(text), classes="sbs-panel")
            panel.tooltip = metric_help(pm)
            panels.append(panel)
        box.mount_all(panels)

    @on(DataTable.RowHighlighted, "#examples")
    def _highlighted(self) -> None:
        self.show_example()

    def action_flag_reference(self) -> None:
        table = self.query_one("#examples", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return
        ex = self.shown[table.cursor_row]
        if ex.split == "forgetting" or not ex.reference:
            self.notify("This example has no expected answer to mark.", severity="warning")
            return
        row = table.cursor_row
        wrong = self.eval_view.toggle_flag(ex)
        self.notify(
            f"Marked the expected answer of {ex.id} wrong: the next data version fixes or drops it."
            if wrong
            else f"The expected answer of {ex.id} is no longer marked wrong."
        )
        self.refresh_examples()
        table.move_cursor(row=row)

    def action_toggle_details(self) -> None:
        self.details = not self.details
        self.query_one("#eval-details").display = self.details
        for sel in ("#examples-title", "#examples", "#side-by-side"):
            self.query_one(sel).display = not self.details
        # the keys go where the eye goes: walk 24's PageDown and End did nothing on the details (the hidden
        # examples table still had the focus)
        self.query_one("#eval-details" if self.details else "#examples").focus()

    def action_toggle_regressions(self) -> None:
        self.regressions_only = not self.regressions_only
        self.refresh_examples()
        # walk 8 pressed g and saw nothing change at 80×24 (the table's title was scrolled away): say it
        n = len(self.shown)
        if not self.regressions_only:
            self.notify(f"Showing all {n} examples again.")
        elif n:
            self.notify(
                f"Showing only the {n} example{'s' if n != 1 else ''} the tuned model got worse on (g: all)."
            )
        else:
            self.notify("The tuned model got no example worse than before: nothing to show (g: all).")

    def action_toggle_all_systems(self) -> None:
        self.all_systems = not self.all_systems
        self.refresh_examples()
