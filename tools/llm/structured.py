"""JSON extraction and JSON-Schema validation for structured outputs."""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str):
    """The first JSON value in `text` (fenced or bare); raises ValueError when there is none."""
    text = text.strip()
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)] + [text]
    for cand in candidates:
        try:
            return json.loads(cand)
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                obj, _ = decoder.raw_decode(text[i:])
                return obj
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found in the reply")


def validate_against(obj, schema: dict | None) -> str | None:
    """None when valid, else a one-line reason."""
    if not schema:
        return None
    import jsonschema

    try:
        jsonschema.validate(obj, schema)
    except jsonschema.ValidationError as e:
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        return f"{path}: {e.message}"
    except jsonschema.SchemaError as e:
        return f"invalid schema: {e.message}"
    return None


def parse_structured(text: str, schema: dict | None):
    """(obj, error): obj when the text holds JSON valid against the schema, else error."""
    try:
        obj = extract_json(text)
    except ValueError as e:
        return None, str(e)
    err = validate_against(obj, schema)
    return (obj, None) if err is None else (None, err)


def schema_instruction(schema: dict) -> str:
    return (
        "Reply with only a JSON value that conforms to this JSON Schema, no prose, no code fence:\n"
        + json.dumps(schema, ensure_ascii=False)
    )


def repair_message(error: str, schema: dict | None) -> str:
    msg = f"Your previous reply was not valid: {error}. Reply again with only the corrected JSON."
    if schema:
        msg += " It must conform to: " + json.dumps(schema, ensure_ascii=False)
    return msg
