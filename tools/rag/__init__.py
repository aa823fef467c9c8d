"""Retrieval over the user's documents: chunking, BM25, and sentence embeddings beside it when installed.

    from tools.rag import RetrievalConfig, Retriever
    r = Retriever.build(RetrievalConfig(documents="docs/"))
    hits = r.search("how do refunds work?", k=3)

The config (with the documents' hashes) is saved as an artifact next to the eval that used it.
"""

from tools.rag.chunking import Chunk, chunk_text, load_documents
from tools.rag.config import RetrievalConfig
from tools.rag.embeddings import embeddings_available
from tools.rag.index import Hit, Retriever, format_context

__all__ = [
    "Chunk",
    "Hit",
    "RetrievalConfig",
    "Retriever",
    "chunk_text",
    "embeddings_available",
    "format_context",
    "load_documents",
]
