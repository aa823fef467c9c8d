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
    method: Literal["bm25", "hybrid"] = "bm25"  # hybrid adds dense embeddings when a model is installed
    embedding_weight: float = 0.5  # share of the dense score in hybrid ranking
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
