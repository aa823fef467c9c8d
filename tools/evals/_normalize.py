"""Text normalization shared by the text-matching scorers (SQuAD-style: case, punctuation, articles)."""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


# a number keeps its sign, decimal point and thousands commas: walk 16 scored "-12" as a match for "12" (the
# minus was punctuation), so a model that dropped the sign of every temperature below zero lost nothing;
# a minus right after a letter or digit ("10-12", "2026-12-04") is a dash, not a sign
_NUMBER = re.compile(r"(?<![\w.])(?:(?<![\w-])[-−])?\d+(?:,\d{3})*(?:\.\d+)?(?![\w.]\w)")


def normalize_text(text: str) -> str:
    """Casefold, drop punctuation and English articles, collapse whitespace; numbers keep their sign and
    decimal point ("-12" is not "12", "3.5" not "3 5").

    Punctuation becomes a space (not deleted) so "yes,no" yields two words, not "yesno".
    """
    text = str(text or "").casefold()
    parts, last = [], 0
    for m in _NUMBER.finditer(text):
        parts += [_words(text[last : m.start()]), m.group().replace("−", "-")]
        last = m.end()
    parts.append(_words(text[last:]))
    return " ".join(" ".join(parts).split())


def _words(text: str) -> str:
    return _ARTICLES.sub(" ", text.translate(_PUNCT))


def tokens(text: str) -> list[str]:
    return normalize_text(text).split()
