"""Format checks from the spec's output constraints: regex, length bounds, labels, JSON."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tools.evals._classification import extract_label
from tools.evals._json import json_valid, schema_error
from tools.evals._normalize import normalize_text


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.S)


def regex_match(output: str, pattern: str) -> float:
    """1.0 when the whole stripped reply matches the pattern (fullmatch: a pattern describes the answer)."""
    return 1.0 if _compiled(pattern).fullmatch(str(output or "").strip()) else 0.0


def format_errors(output: str, output_spec: Any) -> list[str]:
    """Every way the reply breaks the spec's output constraints; [] when it is well-formed.

    `output_spec` is a `tools.spec.OutputSpec` (or anything with the same attributes).
    """
    text = str(output or "").strip()
    errors: list[str] = []
    fmt = getattr(output_spec, "format", "text")
    if not text:
        return ["empty reply"]
    if fmt == "json":
        if not json_valid(text):
            errors.append("not valid JSON")
        else:
            err = schema_error(text, getattr(output_spec, "json_schema", None))
            if err:
                errors.append(f"schema: {err}")
    elif fmt == "label":
        labels = getattr(output_spec, "labels", None) or []
        if normalize_text(text) not in {normalize_text(lab) for lab in labels}:
            named = extract_label(text, labels)
            errors.append("label wrapped in extra text" if named else "no allowed label")
    pattern = getattr(output_spec, "regex", None)
    if pattern and not regex_match(text, pattern):
        errors.append("not in the layout the task asks for (like its examples' answers)")
    max_chars, min_chars = getattr(output_spec, "max_chars", None), getattr(output_spec, "min_chars", None)
    if max_chars and len(text) > max_chars:
        errors.append(f"too long ({len(text)} > {max_chars} chars)")
    if min_chars and len(text) < min_chars:
        errors.append(f"too short ({len(text)} < {min_chars} chars)")
    return errors


def format_ok(output: str, output_spec: Any) -> float:
    return 0.0 if format_errors(output, output_spec) else 1.0
