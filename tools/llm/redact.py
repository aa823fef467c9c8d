"""Keep secrets out of everything we print or store.

Keys come from the environment only. Any value of an environment variable whose name looks like a
secret is replaced in text before it reaches a log, an error message, a cache row or a report.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)
# Shapes of well-known keys, caught even when the value did not come from our environment.
_KEY_SHAPES = re.compile(
    r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|tgp_v1_[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,})\b"
)


def secret_values() -> list[str]:
    vals = []
    for name, value in os.environ.items():
        if _SECRET_NAME.search(name) and value and len(value) >= 8:
            vals.append(value)
    return sorted(set(vals), key=len, reverse=True)


def redact(text: str) -> str:
    if not text:
        return text
    for v in secret_values():
        if v in text:
            text = text.replace(v, "***")
    return _KEY_SHAPES.sub("***", text)
