"""JSON outputs: validity, schema conformance, and field-level accuracy against the reference."""

from __future__ import annotations

import json
import re
from typing import Any

from tools.evals._normalize import normalize_text

_FENCE = re.compile(r"^```[A-Za-z]*\s*\n?(.*?)\n?```$", re.S)


def parse_json_output(text: str) -> tuple[Any, str | None]:
    """(value, error). Only the whole reply counts, optionally inside one code fence.

    Stricter than the provider's extractor on purpose: a consumer calling json.loads on the reply
    fails on leading prose, so prose + JSON is a format error here.
    """
    s = str(text or "").strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    from tools.userfile import loads_json

    try:
        return loads_json(s), None  # a reply nested over 100 levels is invalid, not a RecursionError
    except json.JSONDecodeError as e:
        return None, f"invalid JSON: {e.msg} at char {e.pos}"


def json_valid(output: str) -> float:
    value, err = parse_json_output(output)
    return 1.0 if err is None and isinstance(value, (dict, list)) else 0.0


def schema_error(output: str, schema: dict | None) -> str | None:
    """None when the reply is JSON that conforms to the schema, else the reason."""
    value, err = parse_json_output(output)
    if err is not None:
        return err
    if not schema:
        return None
    from tools.llm.structured import validate_against

    return validate_against(value, schema)


def schema_conformance(output: str, schema: dict | None) -> float:
    return 1.0 if schema_error(output, schema) is None else 0.0


def flatten_json(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths → values: {"a": {"b": [1, 2]}} → {"a.b[0]": 1, "a.b[1]": 2}. Empty containers are leaves."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for k, v in value.items():
            out.update(flatten_json(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            out.update(flatten_json(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def values_equal(a: Any, b: Any) -> bool:
    """Leaf equality that forgives case/punctuation in strings and "3" vs 3 in numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return (
            a is b
            or (isinstance(a, str) and a.lower() == str(b).lower())
            or (isinstance(b, str) and b.lower() == str(a).lower())
        )
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        pass
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a == b
    return normalize_text(str(a)) == normalize_text(str(b))


def json_field_accuracy(output: str, reference: str | Any) -> float:
    """Share of the reference's leaf fields the reply reproduces (0.0 when the reply is not JSON).

    Extra fields in the reply are not penalised here; schema conformance catches unwanted ones.
    """
    ref = reference
    if isinstance(reference, str):
        ref, err = parse_json_output(reference)
        if err is not None:
            return 0.0
    pred, err = parse_json_output(output)
    if err is not None:
        return 0.0
    ref_flat, pred_flat = flatten_json(ref), flatten_json(pred)
    if not ref_flat:
        return 1.0 if not pred_flat else 0.0
    hits = sum(1 for path, v in ref_flat.items() if path in pred_flat and values_equal(pred_flat[path], v))
    return hits / len(ref_flat)


def missing_fields(output: str, reference: str | Any) -> list[str]:
    """Reference leaf paths absent from the reply (for failure analysis)."""
    ref = reference
    if isinstance(reference, str):
        ref, err = parse_json_output(reference)
        if err is not None:
            return []
    pred, err = parse_json_output(output)
    if err is not None:
        return sorted(flatten_json(ref))
    pred_flat = flatten_json(pred)
    return [p for p in flatten_json(ref) if p not in pred_flat]
