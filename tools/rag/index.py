"""BM25 (rank-bm25) over document chunks, optionally blended with dense similarity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from tools.rag.chunking import Chunk, chunk_text, documents_fingerprint, load_documents
from tools.rag.config import RetrievalConfig
from tools.rag.embeddings import embed, embeddings_available

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of to in and or is are was were be for on with as by at it this that what how which "
    "who do does did i you".split()
)


def bm25_tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass(frozen=True)
class Hit:
    text: str
    source: str
    score: float


class Retriever:
    def __init__(self, config: RetrievalConfig, chunks: list[Chunk]):
        from rank_bm25 import BM25Plus

        self.config = config
        self.chunks = chunks
        # BM25+ rather than Okapi: Okapi's idf is ≤ 0 for a term in half of a small corpus (2 documents),
        # which ranks nothing; BM25+ keeps idf positive. An empty chunk still needs a placeholder token.
        self._tokens = [set(bm25_tokens(c.text)) for c in chunks]
        self._bm25 = BM25Plus([bm25_tokens(c.text) or ["_"] for c in chunks])
        self._dense = None
        if config.method == "hybrid":
            ok, info = embeddings_available()
            if ok:
                self._dense = embed([c.text for c in chunks], info)
                config.embedding_model = info
            else:
                config.embeddings_note = info  # graceful: hybrid falls back to BM25 and says so

    @classmethod
    def build(cls, config: RetrievalConfig) -> Retriever:
        docs = load_documents(config.documents)
        chunks = [
            Chunk(text, src, i)
            for src, text in docs.items()
            for i, text in enumerate(chunk_text(text, config.chunk_words, config.overlap))
        ]
        config.documents_sha = documents_fingerprint(docs)
        config.n_chunks = len(chunks)
        return cls(config, chunks)

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        import numpy as np

        k = k or self.config.k
        q = bm25_tokens(query)
        scores = np.asarray(self._bm25.get_scores(q), dtype=float)
        # BM25+ gives every chunk a floor score per query term; a chunk sharing no term is not a hit
        scores = np.where([bool(t & set(q)) for t in self._tokens], scores, 0.0)
        keep = scores > 0
        if self._dense is not None:
            model = cast(str, self.config.embedding_model)  # set with self._dense in __init__
            dense = self._dense @ embed([query], model)[0]
            top = scores.max() if scores.size and scores.max() > 0 else 1.0
            w = self.config.embedding_weight
            scores = (1 - w) * scores / top + w * dense
            keep = keep | (
                dense >= self.config.min_similarity
            )  # no shared word: close in meaning, or nothing
        order = sorted(range(len(self.chunks)), key=lambda i: (-scores[i], i))[:k]
        return [Hit(self.chunks[i].text, self.chunks[i].source, float(scores[i])) for i in order if keep[i]]


def format_context(hits: list[Hit], max_chars: int = 2000) -> str:
    """Numbered excerpts with their sources, cut to `max_chars` in total."""
    parts, used = [], 0
    for n, h in enumerate(hits, 1):
        piece = f"[{n}] ({h.source}) {h.text}"
        if used + len(piece) > max_chars:
            piece = piece[: max(0, max_chars - used)]
        if not piece:
            break
        parts.append(piece)
        used += len(piece)
    return "\n".join(parts)


EXCERPTS_INTRO = "Use these excerpts from the reference documents when they are relevant:\n"


def with_excerpts(system_prompt: str | None, hits: list[Hit], max_chars: int = 2000) -> str | None:
    """`system_prompt` followed by the numbered excerpts of `hits` (as the retrieval baseline sends them);
    unchanged when nothing was found."""
    context = format_context(hits, max_chars)
    if not context:
        return system_prompt
    return (f"{system_prompt}\n\n" if system_prompt else "") + EXCERPTS_INTRO + context


_RETRIEVERS: dict[str, Retriever] = {}


def documents_retriever(documents: str | Path) -> Retriever:
    """The retriever over a documents folder (hybrid when the embedding model is installed), built once per
    process per folder."""
    key = str(Path(documents).resolve())
    if key not in _RETRIEVERS:
        _RETRIEVERS[key] = Retriever.build(RetrievalConfig(documents=key))
    return _RETRIEVERS[key]
