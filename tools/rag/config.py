"""The retrieval configuration: an artifact saved with every eval that used retrieval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal


@dataclass
class RetrievalConfig:
    documents: str  # folder (or file) of documents
    chunk_words: int = 120  # ≈160 tokens: a few chunks fit a small model's context beside the question
    overlap: int = 20
    k: int = 3  # chunks put into the prompt
    # hybrid adds sentence embeddings when their model is installed (make setup installs it), else BM25 alone;
    # measured on the faq bench's 60 questions: the answer in the top 3 passages 52 vs BM25's 49 (bench/retrieval.py)
    method: Literal["bm25", "hybrid"] = "hybrid"
    embedding_weight: float = 0.5  # share of the dense score in hybrid ranking
    min_similarity: float = 0.25  # a passage sharing no word with the question needs this cosine to count
    max_context_chars: int = 2000  # keeps the prompt inside the embedded model's window
    # filled when the index is built
    embedding_model: str | None = None
    embeddings_note: str | None = None
    documents_sha: dict[str, str] = field(default_factory=dict)
    n_chunks: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RetrievalConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: str | Path) -> Path:
        from tools.workspace import atomic_write_json

        return atomic_write_json(path, self.to_dict())
