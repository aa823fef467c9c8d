"""Programmatic checks of an answer against the task's output spec (run before any judge).

Pure functions: the validator, the critic and the hardness filter share them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tools.spec import TaskSpec


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.S)


def check_answer(answer: str, spec: TaskSpec | None) -> list[tuple[str, str]]:
    """A list of (category, reason) for every way `answer` breaks the spec's output rules; [] when fine."""
    if spec is None:
        return []
    out = spec.output
    problems: list[tuple[str, str]] = []
    text = answer.strip()
    if out.format == "json":
        import json

        from tools.llm.structured import validate_against

        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(("format", f"answer is not valid JSON ({e.msg} at char {e.pos})"))
        else:
            err = validate_against(obj, out.json_schema)
            if err:
                problems.append(("format", f"answer does not match the JSON Schema: {err}"))
    elif out.format == "label" and out.labels:
        allowed = {lab.strip().lower() for lab in out.labels}
        if text.lower() not in allowed:
            problems.append(("label", f"answer {text[:40]!r} is not one of the labels {', '.join(out.labels)}"))
    if out.regex:
        try:
            if not _compiled(out.regex).fullmatch(text):
                problems.append(("format", f"answer does not match the pattern {out.regex!r}"))
        except re.error:
            problems.append(("format", f"the spec's regex {out.regex!r} is invalid"))
    if out.max_chars is not None and len(text) > out.max_chars:
        problems.append(("length", f"answer has {len(text)} characters, more than max_chars {out.max_chars}"))
    if out.min_chars is not None and len(text) < out.min_chars:
        problems.append(("length", f"answer has {len(text)} characters, fewer than min_chars {out.min_chars}"))
    return problems
