from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown

LABELS = {
    "spec": "Spec",
    "problem": "Problem today",
    "knowledge_needed": "Needs outside facts",
    "knowledge_changes": "Facts change",
    "examples": "Examples on hand",
    "prompted_success": "Prompted success",
    "goals": "Goals",
    "volume": "Requests/day",
    "constraints": "Constraints",
}


def spec_markdown(spec_so_far: dict | None) -> str:
    """The running spec as Markdown: what the interview has established so far."""
    s = spec_so_far or {}
    answers = dict(s.get("answers") or {})
    lines = ["### Your task so far", ""]
    spec = answers.get("spec") or s.get("spec")
    lines.append(f"**{spec}**" if spec else "_not described yet_")
    lines.append("")
    for key, label in LABELS.items():
        if key == "spec" or key not in answers:
            continue
        v = answers[key]
        if isinstance(v, list):
            v = ", ".join(map(str, v)) or "none"
        lines.append(f"- {label}: {v if v not in (None, '') else '—'}")
    out = s.get("output") or {}
    if out.get("format") == "json":
        keys = ((out.get("schema") or {}).get("required")) or []
        lines.append(
            "- Output: a JSON object"
            + (f" with keys {', '.join(keys)}" if keys else "")
            + (" (values copied from the input)" if out.get("grounded") else "")
        )
    elif out.get("format") == "label":
        lines.append(f"- Output: one label of {', '.join(out.get('labels') or ['(to be given)'])}")
    if s.get("examples"):
        lines.append(f"- Example pairs loaded: {len(s['examples'])}")
    if s.get("budget") is not None:
        lines.append(f"- Budget: ${s['budget']}")
    return "\n".join(lines)


class SpecPanel(VerticalScroll):
    def compose(self):
        yield Markdown(spec_markdown(None), id="spec-md")

    def show(self, spec_so_far: dict | None) -> None:
        self.query_one("#spec-md", Markdown).update(spec_markdown(spec_so_far))
