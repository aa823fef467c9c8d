"""Evaluation: systems with confidence intervals and the verdict; per-example outputs side by side with
the judge's reasons; a filter to the regressions."""

from __future__ import annotations

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.widgets.evaluation import EvalView, ExampleRow, load_eval, system_table_rows, verdict_text
from tui.widgets.header import StatusHeader


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def output_panel_text(system: str, entry: dict | None) -> str:
    if entry is None:
        return f"[b]{escape(system)}[/b]\n(no output)"
    judge = entry.get("judge") or {}
    bits = [f"[b]{escape(system)}[/b]", escape(str(entry.get("text", entry.get("output", "")))), ""]
    metrics = entry.get("metrics") or {}
    shown = [
        f"{k} {v:.2f}" for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if shown:
        bits.append("[dim]" + escape(" · ".join(shown[:4])) + "[/dim]")
    if entry.get("format_errors"):
        bits.append("[red]format: " + escape("; ".join(map(str, entry["format_errors"]))) + "[/red]")
    if judge:
        verdict = "pass" if judge.get("passed") else ("fail" if judge.get("passed") is False else "")
        scores = " ".join(
            f"{d} {judge[d]}" for d in ("correctness", "format", "completeness") if judge.get(d) is not None
        )
        bits.append(f"[i]judge {verdict} {scores}[/i]: {escape(str(judge.get('reason') or ''))}")
    return "\n".join(bits)


class EvaluationScreen(Screen):
    SCREEN_NAME = "evaluation"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("g", "toggle_regressions", "Regressions only"),
        Binding("s", "toggle_all_systems", "All systems"),
        Binding("f5", "reload", "Reload"),
        Binding("o", "open_report", "Report"),
    ]

    def __init__(self, run_id: str, version: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.version = version
        self.eval_view = EvalView(None, {}, [])
        self.regressions_only = False
        self.all_systems = False
        self.shown: list[ExampleRow] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static("", id="verdict")
        yield DataTable(id="systems", show_cursor=False)
        yield Static("", id="examples-title", classes="section-title")
        yield DataTable(id="examples", cursor_type="row", zebra_stripes=True)
        yield Static("", id="pairwise")
        yield Horizontal(id="side-by-side")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#systems", DataTable).add_columns(
            "system", "kind", "primary", "95% CI", "format", "prompt tok"
        )
        self.query_one("#examples", DataTable).add_columns(
            "id", "split", "regr.", "pair", "input", "reference"
        )
        self.action_reload()

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
        if view.version is None:
            self.query_one("#verdict", Static).update("No evaluation yet for this run.")
        else:
            pm = rep.get("primary_metric") or "?"
            head, _, rest = verdict_text(rep).partition("\n")
            passed = (rep.get("verdict") or {}).get("passed")
            color = "green" if passed else ("red" if passed is False else "default")
            self.query_one("#verdict", Static).update(
                f"[b]Evaluation {view.version}[/b] · primary metric {escape(pm)}\n[b {color}]{escape(head)}[/]"
                + (f"\n{escape(rest)}" if rest else "")
            )
        systems = self.query_one("#systems", DataTable)
        systems.clear()
        for row in system_table_rows(rep):
            systems.add_row(*row)
        self.refresh_examples()
        self.query_one("#examples", DataTable).focus()

    def refresh_examples(self) -> None:
        table = self.query_one("#examples", DataTable)
        table.clear()
        self.shown = self.eval_view.filtered(self.regressions_only)
        for ex in self.shown:
            table.add_row(
                ex.id,
                ex.split,
                "yes" if self.eval_view.is_regression(ex) else "",
                str(ex.pairwise.get("outcome") or ""),
                _short(ex.input, 26),
                _short(ex.reference, 18),
                key=ex.key,
            )
        what = "regressions" if self.regressions_only else "examples"
        self.query_one("#examples-title", Static).update(
            f"{len(self.shown)} {what} (g: {'all' if self.regressions_only else 'regressions only'}; "
            f"s: {'two' if self.all_systems else 'all'} systems)"
        )
        self.show_example()

    def show_example(self) -> None:
        box = self.query_one("#side-by-side", Horizontal)
        box.remove_children()
        table = self.query_one("#examples", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return
        ex = self.shown[table.cursor_row]
        pair = self.query_one("#pairwise", Static)
        pair.display = bool(ex.pairwise)
        if ex.pairwise:
            reasons = "; ".join(map(str, ex.pairwise.get("reasons") or []))
            flipped = " (changed when the order was swapped)" if ex.pairwise.get("flipped") else ""
            pair.update(
                f"[b]pairwise[/b] candidate {escape(str(ex.pairwise.get('outcome')))}{flipped}"
                + (f": {escape(reasons)}" if reasons else "")
            )
        if self.all_systems:  # every system that answered this example
            systems = [s for s in self.eval_view.systems if s in ex.outputs] or self.eval_view.systems
        else:
            systems = self.eval_view.compared()
        panels = []
        for name in systems:
            panels.append(
                VerticalScroll(Static(output_panel_text(name, ex.outputs.get(name))), classes="sbs-panel")
            )
        box.mount_all(panels)

    @on(DataTable.RowHighlighted, "#examples")
    def _highlighted(self) -> None:
        self.show_example()

    def action_toggle_regressions(self) -> None:
        self.regressions_only = not self.regressions_only
        self.refresh_examples()

    def action_toggle_all_systems(self) -> None:
        self.all_systems = not self.all_systems
        self.refresh_examples()
