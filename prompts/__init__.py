"""Every prompt the system sends lives here as a Markdown template, loaded by name.

A template is `prompts/<name>.md`. Placeholders are `{{var}}` (so JSON braces need no escaping).
A template may be split into chat messages with marker lines `=== system ===`, `=== user ===`,
`=== assistant ===`. `Prompt.version` is a short content hash, recorded with judge verdicts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).parent
_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MARKER = re.compile(r"^=== (system|user|assistant) ===\s*$", re.M)


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:10]

    @property
    def variables(self) -> set[str]:
        return set(_VAR.findall(self.text))

    def render(self, **values) -> str:
        missing = self.variables - values.keys()
        if missing:
            raise KeyError(f"prompt {self.name!r} needs {sorted(missing)}")
        return _VAR.sub(lambda m: str(values[m.group(1)]), self.text).strip()

    def messages(self, **values) -> list[dict]:
        text = self.render(**values)
        parts = _MARKER.split(text)
        if len(parts) == 1:
            return [{"role": "user", "content": text}]
        msgs = []
        for role, content in zip(parts[1::2], parts[2::2], strict=True):
            msgs.append({"role": role, "content": content.strip()})
        return msgs


@cache
def load_prompt(name: str) -> Prompt:
    path = PROMPTS_DIR / f"{name}.md"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.md")))
        raise FileNotFoundError(f"no prompt named {name!r} in {PROMPTS_DIR} (have: {known})")
    return Prompt(name, path.read_text(encoding="utf-8"))
