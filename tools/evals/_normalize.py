"""Text normalization shared by the text-matching scorers (SQuAD-style: case, punctuation, articles)."""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalize_text(text: str) -> str:
    """Casefold, drop punctuation and English articles, collapse whitespace.

    Punctuation becomes a space (not deleted) so "yes,no" yields two words, not "yesno".
    """
    text = str(text or "").casefold().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    return normalize_text(text).split()
