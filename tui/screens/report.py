"""Report / export: where the files are, how to serve the model, what to do next."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from tui.widgets.header import StatusHeader

NEXT_STEPS = {
    "prompt": "Use the prompt tunewise wrote (see the prompt file above); re-evaluate when the task changes.",
    "few-shot": "Use the few-shot prompt; collect more examples if you later want a smaller, faster model.",
    "rag": "Keep the documents folder current: re-index, no retraining needed.",
    "fine-tune": "Serve the adapter, watch real traffic, and add failures as examples for the next iteration.",
    "rag+fine-tune": "Serve the adapter with retrieval in front; keep the documents current.",
}


def results_markdown(summary: dict) -> list[str]:
    """The final evaluation as a small table and the verdict, when the run got that far."""
    from tui.widgets.evaluation.model import _fmt

    rows = summary.get("rows") or []
    if not rows:
        return []
    lines = [
        f"## Results ({summary.get('primary_metric') or 'primary metric'})",
        "",
        "| system | score | format | prompt tok |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.get('system')} | {_fmt(r.get('primary'))} | {_fmt(r.get('format_rate'), '.2f')} "
            f"| {_fmt(r.get('prompt_tokens'), '.0f')} |"
        )
    verdict = summary.get("verdict") or {}
    if verdict:
        lines += ["", f"**Verdict: {'PASS' if verdict.get('passed') else 'not met'}**", ""]
        lines += [f"- {reason}" for reason in verdict.get("reasons") or []]
    return [*lines, ""]


def report_markdown(run_id: str, run_path: Path, values: dict | None = None) -> str:
    """What a finished (or partial) run left behind, with relative paths so it reads the same anywhere."""
    from tools.workspace import read_json

    values = values or {}
    rel = f".tunewise/runs/{run_id}"
    lines = [f"# Run {run_id}", ""]
    summary = {}
    if (run_path / "summary.json").exists():
        try:
            summary = read_json(run_path / "summary.json") or {}
        except Exception:  # noqa: BLE001
            summary = {}
    approach = values.get("approach") or summary.get("approach")
    if (run_path / "decision.json").exists() and not approach:
        try:
            approach = read_json(run_path / "decision.json").get("chosen") or read_json(
                run_path / "decision.json"
            ).get("approach")
        except Exception:  # noqa: BLE001
            pass
    stop = values.get("stop_reason") or summary.get("stop_reason")
    lines += [f"**Approach:** {approach or '—'}  ", f"**Stopped because:** {stop or '—'}", ""]
    lines += results_markdown(summary.get("summary") or {})
    lines += ["## Files", "", f"Under `{rel}/`:", "", "| what | file |", "|---|---|"]
    files = [
        ("task spec", "spec.yaml"),
        ("decision", "decision.json"),
        ("report", "report.md"),
        ("summary", "summary.json"),
        ("data versions", "data"),
        ("training runs", "train"),
        ("evaluations", "eval"),
        ("export", "export"),
    ]
    for label, name in files:
        if (run_path / name).exists():
            lines.append(f"| {label} | `{name}` |")
    for key, path in sorted((values.get("artifacts") or {}).items()):
        if isinstance(path, str) and "error" not in key:
            shown = path.split(f"/runs/{run_id}/", 1)[-1]
            lines.append(f"| {key} | `{shown}` |")
    lines.append("")
    adapter = next(
        (
            p
            for p in (run_path / "export" / "adapter", *sorted(run_path.glob("train/v*/adapter")))
            if p.exists()
        ),
        None,
    )
    lines += ["## Serve it", ""]
    if adapter is not None:
        shown = adapter.relative_to(run_path).as_posix()
        lines += [
            "An OpenAI-compatible server with your adapter:",
            "",
            f"```\ntunewise serve --adapter {rel}/{shown} --port 8000\n```",
            "",
            "Then point any OpenAI client at `http://127.0.0.1:8000/v1`.",
        ]
        if (run_path / "export" / "Modelfile").exists():
            lines += ["", f"Ollama: `ollama create my-model -f {rel}/export/Modelfile`"]
    else:
        lines.append(
            "No trained adapter in this run: serve the base model with the prompt "
            "(`tunewise serve`), or use your provider as before."
        )
    lines += [
        "",
        "## Next steps",
        "",
        f"- {NEXT_STEPS.get(approach or '', 'Read the report and decide.')}",
        "- Re-run the evaluation after any change: `tunewise eval …` (see `tunewise --help`).",
        "",
    ]
    if (run_path / "report.md").exists():
        lines += ["---", "", (run_path / "report.md").read_text(encoding="utf-8", errors="replace")]
    return "\n".join(lines)


class ReportScreen(Screen):
    SCREEN_NAME = "report"
    BINDINGS = [Binding("escape", "app.go_home", "Home"), Binding("f5", "reload", "Reload")]

    def __init__(self, run_id: str, values: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.values = values

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll(id="report-body"):
            yield Markdown("Loading…", id="report-md")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        values = self.values if self.values is not None else self.app.run_values.get(self.run_id)
        text = report_markdown(self.run_id, self.app.workspace.run(self.run_id).path, values)
        self.app.call_from_thread(self.query_one("#report-md", Markdown).update, text)
