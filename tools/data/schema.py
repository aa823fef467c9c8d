"""The canonical row: chat JSONL with optional metadata, and helpers every data step shares.

A row is `{"messages": [{"role": "system"|"user"|"assistant", "content": str}, …], "metadata": {…}}`.
`metadata.id` is a stable hash of the row's input (system + user turns), so the same input keeps the
same id across versions, sources and reruns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")
SOURCES = ("seed", "teacher", "import", "general", "repair", "targeted")
REVIEW_STATES = ("accepted", "edited", "rejected")

_WS = re.compile(r"\s+")


# How to fix each structural problem (tools/data/validate.py adds the content checks' fixes).
STRUCTURE_FIXES = {
    "not_object": 'each line must be an object like {"messages": [...]}',
    "missing_messages": 'put the conversation in a "messages" list; convert other formats with `tunewise data import`',
    "empty_messages": "add at least a user and an assistant message",
    "bad_message": 'each message must be an object with "role" and "content"',
    "missing_role": 'add "role": "system", "user" or "assistant" to the message',
    "unknown_role": "use only the roles system, user and assistant",
    "non_string_content": "make content a string (serialize JSON answers with json.dumps)",
    "empty_content": "write the missing text or drop the example",
    "wrong_order": "start with an optional system message, then alternate user and assistant",
    "last_not_assistant": "end each example with the assistant's answer (the text to learn)",
}


@dataclass(frozen=True)
class RowProblem:
    """One structural problem of a row; the caller adds where it is (file:line)."""

    kind: str  # a key of STRUCTURE_FIXES
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.message} — fix: {self.fix}"


def check_chat_row(obj: Any) -> tuple[list[RowProblem], list[dict] | None]:
    """Every structural problem of one parsed row, and its messages when they are usable for
    further checks (each an object with a known role and string content), else None.

    The one structure check: `tunewise data validate` and the evaluator's row loader judge a row
    by it (each adds its own file:line).
    """
    problems: list[RowProblem] = []

    def add(kind: str, message: str, fix: str | None = None) -> None:
        problems.append(RowProblem(kind, message, fix or STRUCTURE_FIXES[kind]))

    if not isinstance(obj, dict):
        add("not_object", f"the line is a JSON {type(obj).__name__}, not an object")
        return problems, None
    msgs = obj.get("messages")
    if msgs is None:
        keys = ", ".join(sorted(obj)[:6])
        hint = None
        if {"instruction", "output"} <= obj.keys() or "conversations" in obj:
            hint = "this looks like Alpaca/ShareGPT: convert it with `tunewise data import FILE`"
        add("missing_messages", f'no "messages" list (keys: {keys or "none"})', hint)
        return problems, None
    if not isinstance(msgs, list):
        add("missing_messages", f'"messages" is a {type(msgs).__name__}, not a list')
        return problems, None
    if not msgs:
        add("empty_messages", '"messages" is empty')
        return problems, None
    if not all([_message_usable(i, m, add) for i, m in enumerate(msgs, 1)]):  # every message reported
        return problems, None
    _check_order([m["role"] for m in msgs], add)
    return problems, msgs


def _message_usable(i: int, m: Any, add) -> bool:
    """Report message i's problems; usable = an object with a known role and string content."""
    if not isinstance(m, dict):
        add("bad_message", f"message {i} is a {type(m).__name__}, not an object")
        return False
    usable = True
    role = m.get("role")
    if role is None:
        add("missing_role", f"message {i} has no role")
        usable = False
    elif role not in ROLES:
        add(
            "unknown_role",
            f"message {i} has unknown role {str(role)[:20]!r}",
            "use system, user or assistant (e.g. human→user, gpt→assistant)",
        )
        usable = False
    content = m.get("content")
    if not isinstance(content, str):
        what = "no content" if content is None else f"{type(content).__name__} content"
        add("non_string_content", f"message {i} ({role}) has {what}")
        usable = False
    elif not content.strip():
        add("empty_content", f"message {i} ({role}) is empty or whitespace")
    return usable


def _check_order(roles: list[str], add) -> None:
    """An optional first system message, then user and assistant alternating, the assistant last."""
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        add(
            "wrong_order",
            f"a system message at position {roles.index('system', 1) + 1}; only the first "
            "message may be system",
        )
    elif not body or body[0] != "user":
        add("wrong_order", "the conversation must start with a user message (after an optional system)")
    else:
        for i in range(1, len(body)):
            if body[i] == body[i - 1]:
                pos = i + (2 if roles[0] == "system" else 1)
                add("wrong_order", f"two {body[i]} messages in a row (message {pos})")
                break
    if roles[-1] != "assistant":
        add("last_not_assistant", f"the last message is {roles[-1]}, not assistant")


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
