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


def ungrounded_values(obj, input_text: str) -> list[str]:
    """String values (at any depth) of a JSON answer that do not occur in the input, case-insensitively. Pure."""
    haystack = " ".join(input_text.lower().split())
    out: list[str] = []

    def walk(v) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v.strip() and " ".join(v.lower().split()) not in haystack:
            out.append(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and str(v) not in haystack:
            out.append(str(v))

    walk(obj)
    return out


def check_answer(answer: str, spec: TaskSpec | None, input_text: str | None = None) -> list[tuple[str, str]]:
    """A list of (category, reason) for every way `answer` breaks the spec's output rules; [] when fine.

    With `output.grounded` and the input given, extracted values must occur in the input (catches a teacher
    that copies values from its few-shot examples)."""
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
            elif out.grounded and input_text is not None:
                missing = ungrounded_values(obj, input_text)
                if missing:
                    problems.append(
                        (
                            "incorrect",
                            f"value(s) {', '.join(map(repr, missing[:3]))} do not appear in the input",
                        )
                    )
    elif out.format == "label" and out.labels:
        allowed = {lab.strip().lower() for lab in out.labels}
        if text.lower() not in allowed:
            problems.append(
                ("label", f"answer {text[:40]!r} is not one of the labels {', '.join(out.labels)}")
            )
    if out.regex:
        try:
            if not _compiled(out.regex).fullmatch(text):
                problems.append(("format", f"answer does not match the pattern {out.regex!r}"))
        except re.error:
            problems.append(("format", f"the spec's regex {out.regex!r} is invalid"))
    if out.max_chars is not None and len(text) > out.max_chars:
        problems.append(("length", f"answer has {len(text)} characters, more than max_chars {out.max_chars}"))
    if out.min_chars is not None and len(text) < out.min_chars:
        problems.append(
            ("length", f"answer has {len(text)} characters, fewer than min_chars {out.min_chars}")
        )
    return problems
