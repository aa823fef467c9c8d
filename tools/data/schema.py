"""The canonical row: chat JSONL with optional metadata, and helpers every data step shares.

A row is `{"messages": [{"role": "system"|"user"|"assistant", "content": str}, …], "metadata": {…}}`.
`metadata.id` is a stable hash of the row's input (system + user turns), so the same input keeps the
same id across versions, sources and reruns.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

ROLES = ("system", "user", "assistant")
SOURCES = ("seed", "teacher", "import", "general", "repair", "targeted")
REVIEW_STATES = ("accepted", "edited", "rejected")

_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, collapse whitespace: the form duplicates and answers are compared in."""
    return _WS.sub(" ", str(text)).strip().lower()


def stable_hash(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b(digest_size=size)
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def hash64(text: str) -> int:
    """A stable 64-bit integer hash (blake2b; Python's hash() is randomised per process)."""
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
    )


def input_messages(messages: list[dict]) -> list[dict]:
    """Everything before the final assistant turn: what the model is given."""
    if messages and messages[-1].get("role") == "assistant":
        return messages[:-1]
    return messages


def input_text(row_or_messages: dict | list) -> str:
    msgs = row_or_messages["messages"] if isinstance(row_or_messages, dict) else row_or_messages
    return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in input_messages(msgs))


def user_text(row: dict) -> str:
    """The last user turn's content (the 'input' of a single-turn example)."""
    for m in reversed(row.get("messages", [])):
        if m.get("role") == "user":
            return str(m.get("content", ""))
    return ""


def answer_text(row: dict) -> str:
    msgs = row.get("messages", [])
    if msgs and msgs[-1].get("role") == "assistant":
        return str(msgs[-1].get("content", ""))
    return ""


def system_text(row: dict) -> str | None:
    msgs = row.get("messages", [])
    if msgs and msgs[0].get("role") == "system":
        return str(msgs[0].get("content", ""))
    return None


def example_id(messages: list[dict]) -> str:
    """Stable id of an example: a hash of its normalized input turns."""
    return stable_hash(
        *(f"{m.get('role')}:{normalize_text(m.get('content', ''))}" for m in input_messages(messages))
    )


def make_row(
    user: str,
    assistant: str,
    *,
    system: str | None = None,
    source: str = "import",
    score: int | None = None,
    critique: str | None = None,
    category: str | None = None,
    flags: list[str] | None = None,
    review: str | None = None,
    extra: dict | None = None,
) -> dict:
    messages: list[dict] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": assistant})
    return with_metadata(
        {"messages": messages},
        source=source,
        score=score,
        critique=critique,
        category=category,
        flags=flags or [],
        review=review,
        **(extra or {}),
    )


def with_metadata(row: dict, **updates: Any) -> dict:
    """A copy of `row` whose metadata has every canonical field (id recomputed from the input)."""
    meta = dict(row.get("metadata") or {})
    meta.setdefault("source", "import")
    meta.setdefault("score", None)
    meta.setdefault("critique", None)
    meta.setdefault("category", None)
    meta.setdefault("flags", [])
    meta.setdefault("review", None)
    meta.update(updates)
    meta["flags"] = list(dict.fromkeys(meta.get("flags") or []))
    meta["id"] = example_id(row["messages"])
    return {"messages": [dict(m) for m in row["messages"]], "metadata": meta}


def row_id(row: dict) -> str:
    meta = row.get("metadata") or {}
    return meta.get("id") or example_id(row["messages"])


def row_label(row: dict, label_key: str | None) -> str | None:
    """A row's stratification label: `assistant` = the normalized answer, else a metadata field."""
    if label_key is None:
        return None
    if label_key == "assistant":
        return normalize_text(answer_text(row))
    val = (row.get("metadata") or {}).get(label_key)
    return None if val is None else str(val)


def dumps_row(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)
