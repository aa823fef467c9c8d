"""Loading a documents folder and cutting it into overlapping word windows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tools.errors import UserError

TEXT_SUFFIXES = {
    ".txt",
    ".md",
    ".markdown",
    ".rst",
    ".html",
    ".htm",
    ".csv",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
}


@dataclass(frozen=True)
class Chunk:
    text: str
    source: str  # path relative to the documents folder
    index: int  # position of the chunk inside its source


def chunk_text(text: str, max_words: int = 120, overlap: int = 20) -> list[str]:
    """Windows of `max_words` words sharing `overlap` words, so an answer split at a boundary stays findable.

    Paragraphs are kept whole when they fit: a window ends at a paragraph break when one is in its second half.
    """
    if max_words <= 0:
        raise UserError("chunk size must be positive", where="retrieval.chunk_words", fix="use e.g. 120")
    overlap = max(0, min(overlap, max_words // 2))
    words: list[str] = []
    breaks: set[int] = set()  # word indices that start a paragraph
    for para in text.split("\n\n"):
        w = para.split()
        if w:
            breaks.add(len(words))
            words.extend(w)
    chunks, start = [], 0
    while start < len(words):
        end = min(start + max_words, len(words))
        if end < len(words):
            para_ends = [b for b in breaks if start + max_words // 2 < b < end]
            if para_ends:
                end = max(para_ends)
        chunks.append(" ".join(words[start:end]))
        if end >= len(words):
            break
        start = max(end - overlap, start + 1)
    return chunks


def _read_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".jsonl":
        # one document per line: take the text-like fields
        parts = []
        for line in raw.splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                parts.append(line)
                continue
            if isinstance(obj, dict):
                parts.append(" ".join(str(v) for v in obj.values() if isinstance(v, str)))
        return "\n\n".join(parts)
    return raw


def load_documents(folder: str | Path) -> dict[str, str]:
    """{relative path: text} for the text files under `folder` (sorted, so indexes are reproducible)."""
    root = Path(folder)
    if not root.exists():
        raise UserError(
            "documents folder not found", where=str(root), fix="set `documents:` in the task to a folder"
        )
    files = _text_files(root)
    docs = {str(p.relative_to(root) if root.is_dir() else p.name): _read_text(p) for p in files}
    docs = {k: v for k, v in docs.items() if v.strip()}
    if not docs:
        raise UserError(
            "no text documents found",
            where=str(root),
            fix=f"add files ending in {', '.join(sorted(TEXT_SUFFIXES))}",
        )
    return docs


def _text_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)


def documents_fingerprint(docs: dict[str, str]) -> dict[str, str]:
    """{path: sha256[:16]}: which exact documents an index was built from."""
    return {k: hashlib.sha256(v.encode()).hexdigest()[:16] for k, v in docs.items()}


_FINGERPRINTS: dict[str, tuple[tuple, dict[str, str]]] = {}  # folder → (its files' stats, fingerprint)


def folder_fingerprint(folder: str | Path) -> dict[str, str]:
    """`documents_fingerprint(load_documents(folder))`, read again only when a file was added, removed or
    changed (size or modification time) since the last call in this process: the probe's signature is
    worked out on every decision and decision screen, and a large folder took seconds to read and hash."""
    root = Path(folder)
    try:
        stats = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in _text_files(root))
    except OSError:
        stats = ()
    key = str(root.resolve())
    hit = _FINGERPRINTS.get(key)
    if hit is not None and stats and hit[0] == stats:
        return dict(hit[1])
    fingerprint = documents_fingerprint(load_documents(root))
    _FINGERPRINTS[key] = (stats, fingerprint)
    return dict(fingerprint)


def document_sentences(folder: str | Path, min_words: int = 4) -> list[str]:
    """The documents' sentences and list items of at least `min_words` words (headings and stubs left out)."""
    import re

    out: list[str] = []
    for text in load_documents(folder).values():
        for piece in re.split(r"(?<=[.!?])\s+|\n+", text):
            piece = piece.strip(" -*#\t")
            if len(piece.split()) >= min_words:
                out.append(piece)
    return out
