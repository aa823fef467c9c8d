from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

LABELS = {
    "spec": "Task",
    "problem": "Problem today",
    "knowledge_needed": "Needs outside facts",
    "knowledge_changes": "Facts change",
    "examples": "Examples",
    "prompted_success": "Right with a prompt",
    "goals": "Matters most",
    "volume": "Requests a day",
    "constraints": "Limits",
}
CLIP = 48  # a long answer is cut here: the panel must fit beside the chat at 80×24


def _clip(text: str, n: int = CLIP) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _goal_words(goals: list) -> str:
    from agent.answers import GOAL_CHOICES

    short = {k: label.split(" (")[0].lower() for k, label in GOAL_CHOICES}
    return ", ".join(short.get(str(g), str(g)) for g in goals) or "none"


def _value(key: str, v, s: dict) -> str:
    if key == "goals":
        return _goal_words(list(v or []))
    if key == "prompted_success":
        if v in (None, "", "unknown"):
            return "I'll measure it"
        from agent.answers import display

        return display(key, v)
    if key == "examples" and s.get("examples"):
        # typed in the app or read from a file (walk 21 read "your file" beside the ones it had typed)
        return f"{v} given"
    if key == "knowledge_needed" and isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        v = ", ".join(map(str, v)) or "none"
    return _clip(v) if v not in (None, "") else "—"


def _documents_words(path: str) -> str:
    """'2 files in shop-info' (walk 12: the documents given never showed in the panel)."""
    from pathlib import Path

    try:
        from tools.rag.chunking import load_documents

        n = len(load_documents(path))
    except Exception:  # noqa: BLE001 - moved or unreadable since: show the path alone
        return _clip(path)
    return _clip(f"{n} file{'s' if n != 1 else ''} in {Path(path).name}")


def spec_lines(spec_so_far: dict | None) -> tuple[str | None, list[tuple[str, str]]]:
    """The running spec, short and in plain words: (the task sentence, [(label, value)])."""
    s = spec_so_far or {}
    answers = dict(s.get("answers") or {})
    spec = answers.get("spec") or s.get("spec")
    items = []
    for key, label in LABELS.items():
        if key == "spec" or key not in answers:
            continue
        items.append((label, _value(key, answers[key], s)))
    if s.get("documents"):
        items.append(("Documents", _documents_words(str(s["documents"]))))
    if s.get("examples") and "examples" not in answers:
        items.append(("Examples", f"{len(s['examples'])} given"))
    out = s.get("output") or {}
    if out.get("format") == "json":
        keys = ((out.get("schema") or {}).get("required")) or []
        items.append(("Answer", "JSON" + (f" with {', '.join(keys)}" if keys else "")))
    elif out.get("format") == "label":
        items.append(("Answer", f"one of {', '.join(out.get('labels') or ['(to be given)'])}"))
    metric = (s.get("success") or {}).get("primary_metric")
    if out.get("format", "text") == "text" and metric in ("exact_match", "token_f1"):
        # the interview's "exactly like yours, or other words?" (walk 17), where it can be seen again
        items.append(("Right when", "exactly like yours" if metric == "exact_match" else "most words match"))
    budget = s.get("budget")
    if budget is not None:
        items.append(("Budget", f"${budget:g}" if isinstance(budget, (int, float)) else str(budget)))
    return (_clip(spec, 100) if spec else None), items


def spec_text(spec_so_far: dict | None) -> Text:
    """The panel's text: no Markdown margins, so the whole cafe task fits beside the chat at 80×24."""
    spec, items = spec_lines(spec_so_far)
    text = Text()
    text.append("Your task so far\n", style="bold")
    text.append(spec or "not described yet", style="bold" if spec else "italic")
    text.append("\n")
    for label, value in items:
        text.append(f"\n• {label}: ", style="bold")
        text.append(value)
    return text


class SpecPanel(VerticalScroll):
    plain = spec_text(None).plain  # what the panel says, as plain text

    def compose(self):
        yield Static(spec_text(None), id="spec-md")

    def show(self, spec_so_far: dict | None) -> None:
        text = spec_text(spec_so_far)
        self.plain = text.plain
        self.query_one("#spec-md", Static).update(text)
