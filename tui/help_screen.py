"""The help screen: every key, per screen, read from the screens' own BINDINGS so it cannot drift."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


def _key_label(key: str) -> str:
    """A key as it is typed: "?" for textual's "question_mark" (walk 8 read "question_mark" in the help)."""
    from textual.keys import key_to_character

    ch = key_to_character(key)
    return ch if ch and len(key) > 1 and ch.isprintable() else key


def _keys(bindings) -> list[tuple[str, str]]:
    out = []
    for b in bindings:
        if isinstance(b, Binding):
            out.append((_key_label(b.key), b.description or b.action))
        else:
            out.append((_key_label(b[0]), b[2] if len(b) > 2 else b[1]))
    return out


# words the screens use that a newcomer may not know, each in one line (the decision screen points here)
GLOSSARY = (
    (
        "the model you start from (base model)",
        "the ready-made model tunewise begins with; with no API key it is a "
        "small model that runs on this computer",
    ),
    ("prompt", "the instructions sent to the model with every request"),
    (
        "a prompt with examples (few-shot)",
        "a few of your examples go into the instructions so the model copies their shape",
    ),
    (
        "train your own small model (fine-tune)",
        "the model practises on examples until it answers your way with short instructions",
    ),
    ("adapter (LoRA)", "the small file training makes; it sits on top of the model you start from"),
    (
        "a bigger model (teacher)",
        "the model that writes the practice examples; with no API key it is the same "
        "small model, given your examples as a long prompt",
    ),
    (
        "look things up (retrieval, RAG)",
        "the passages of your documents that match a request go into the prompt",
    ),
    ("token", "a piece of text the model reads or writes, about ¾ of a word"),
    ("epoch", "one pass over all the practice examples while training"),
    ("judge", "a model that grades answers when there is no exact right answer to compare with"),
    # walk 19 met these on the progress and review screens and found nothing in this list
    (
        "set aside",
        "a practice example left out before training: unlike your examples, a near copy of another, or an "
        "answer the checks found wrong or unsure",
    ),
    (
        "second opinion, third opinion",
        "the writer answers the same input again; an answer it does not give twice is left out",
    ),
    ("not graded by a model", "no judge model looked at this example; only the checks and you did"),
    (
        "loss",
        "how far the model's answers still are from the practice answers while it trains (lower is better)",
    ),
    ("held back, test", "examples kept out of training so the model is tested on ones it never saw"),
)


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
    lines = ["# Words you will see", ""]
    lines += [f"- **{term}** — {text}" for term, text in GLOSSARY]
    lines += [
        "",
        "# Keys",
        "",
        "A narrow terminal's footer shows the main keys; every key is listed here.",
        "",
    ]
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
