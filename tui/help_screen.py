"""The help screen: every key, per screen, read from the screens' own BINDINGS so it cannot drift."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


def _keys(bindings) -> list[tuple[str, str]]:
    out = []
    for b in bindings:
        if isinstance(b, Binding):
            out.append((b.key, b.description or b.action))
        else:
            out.append((b[0], b[2] if len(b) > 2 else b[1]))
    return out


def help_markdown() -> str:
    from tui.app import TunewiseApp
    from tui.screens.conversation import ConversationScreen
    from tui.screens.decision import DecisionScreen
    from tui.screens.evaluation import EvaluationScreen
    from tui.screens.home import HomeScreen
    from tui.screens.progress import ProgressScreen
    from tui.screens.report import ReportScreen
    from tui.screens.review import ReviewScreen
    from tui.screens.training import TrainingScreen

    sections = [
        (
            "Everywhere",
            [("ctrl+p", "command palette: every screen, theme, help"), *_keys(TunewiseApp.BINDINGS)],
        )
    ]
    for title, cls in (
        ("Home", HomeScreen),
        ("Conversation", ConversationScreen),
        ("Decision", DecisionScreen),
        ("Data review", ReviewScreen),
        ("Progress (generation, critique, evaluation)", ProgressScreen),
        ("Training", TrainingScreen),
        ("Evaluation", EvaluationScreen),
        ("Report", ReportScreen),
    ):
        sections.append((title, _keys(cls.BINDINGS)))
    lines = ["# Keys", ""]
    for title, keys in sections:
        lines += [f"**{title}**", "", "```"]
        lines += [f"{k:<14} {d}" for k, d in keys]
        lines += ["```", ""]
    from tools.evals.summary import METRIC_HELP

    lines += ["**What the evaluation's numbers mean**", ""]
    lines += [f"- `{name}` — {text}" for name, text in METRIC_HELP.items()]
    lines.append("")
    lines.append("Sessions are saved at every step: close tunewise any time and resume from Home.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_markdown())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
