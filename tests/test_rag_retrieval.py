"""The retrieval baseline: chunking, BM25 and hybrid ranking, the saved config, graceful fallback without embeddings."""

from __future__ import annotations

import json

from tools.evals.systems import build_messages, rag_system
from tools.rag import RetrievalConfig, Retriever, chunk_text, embeddings_available, format_context
from tools.spec import parse_spec_dict


def _docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "refunds.md").write_text(
        "# Refunds\n\nRefunds are paid within 14 days to the original card.\n\nGift cards cannot be refunded."
    )
    (d / "shipping.txt").write_text("Shipping takes 3 to 5 working days. Express shipping arrives next day.")
    (d / "image.png").write_bytes(b"\x89PNG")  # not a text document: ignored
    return d


def test_chunking_windows_overlap_and_cover_everything():
    words = [f"w{i}" for i in range(25)]
    chunks = chunk_text(" ".join(words), max_words=10, overlap=3)
    assert chunks[0].split() == words[:10] and chunks[1].split()[:3] == words[7:10]
    assert set(" ".join(chunks).split()) == set(words)
    assert chunk_text("", 10) == []


def test_bm25_finds_the_right_document_and_config_is_an_artifact(tmp_path):
    cfg = RetrievalConfig(documents=str(_docs(tmp_path)), k=2, chunk_words=8, overlap=2)
    r = Retriever.build(cfg)
    hits = r.search("how many days until my refund is paid?")
    assert hits and hits[0].source == "refunds.md"
    assert r.search("zzz unknown words") == []  # no overlap: no made-up context
    assert set(cfg.documents_sha) == {"refunds.md", "shipping.txt"} and cfg.n_chunks >= 3
    saved = cfg.save(tmp_path / "retrieval.json")
    assert RetrievalConfig.from_dict(json.loads(saved.read_text())).documents_sha == cfg.documents_sha
    ctx = format_context(hits, max_chars=60)
    assert ctx.startswith("[1] (refunds.md)") and len(ctx) <= 60 + len(hits)


def test_hybrid_without_embedding_package_falls_back_to_bm25(tmp_path):
    ok, why = embeddings_available()
    cfg = RetrievalConfig(documents=str(_docs(tmp_path)), method="hybrid")
    r = Retriever.build(cfg)
    if not ok:
        assert "not installed" in why and cfg.embeddings_note == why and cfg.embedding_model is None
    assert r.search("express shipping")[0].source == "shipping.txt"


def test_rag_system_puts_retrieved_context_in_the_system_prompt(tmp_path):
    spec = parse_spec_dict(
        {"spec": "Answer customer questions from the policy.", "documents": str(_docs(tmp_path))}
    )
    system = rag_system(spec, spec.documents, k=1)
    retriever = Retriever.build(RetrievalConfig.from_dict(system.retrieval))
    row = {
        "messages": [
            {"role": "user", "content": "Can gift cards be refunded?"},
            {"role": "assistant", "content": "No."},
        ]
    }
    msgs = build_messages(system, row, retriever)
    assert msgs[0]["role"] == "system" and "Gift cards cannot be refunded" in msgs[0]["content"]
    assert msgs[-1] == {"role": "user", "content": "Can gift cards be refunded?"}


def test_hybrid_is_the_default_and_finds_a_question_asked_in_other_words(tmp_path):
    """No word in common with the passage: BM25 finds nothing, the embeddings find the refunds rule."""
    ok, _ = embeddings_available()
    if not ok:
        import pytest

        pytest.skip("the embedding model is not installed (make setup installs it)")
    docs = _docs(tmp_path)
    question = "When do I get my money back?"
    assert Retriever.build(RetrievalConfig(documents=str(docs), method="bm25")).search(question) == []
    cfg = RetrievalConfig(documents=str(docs))
    hits = Retriever.build(cfg).search(question)
    assert cfg.method == "hybrid" and cfg.embedding_model and hits[0].source == "refunds.md"
    assert Retriever.build(cfg).search("zzz qqq") == []  # nothing close in meaning either: no made-up context


def test_a_folders_fingerprint_is_read_again_only_when_a_file_changes(tmp_path, monkeypatch):
    import os

    import tools.rag.chunking as chunking

    (tmp_path / "a.txt").write_text("Opening hours are nine to five.\n")
    (tmp_path / "b.md").write_text("Parking is free after six.\n")
    reads: list[str] = []
    real = chunking._read_text
    monkeypatch.setattr(chunking, "_read_text", lambda p: reads.append(p.name) or real(p))
    first = chunking.folder_fingerprint(tmp_path)
    assert sorted(first) == ["a.txt", "b.md"] and len(reads) == 2
    assert chunking.folder_fingerprint(tmp_path) == first and len(reads) == 2  # nothing changed: not read
    (tmp_path / "a.txt").write_text("Opening hours are ten to four.\n")
    os.utime(tmp_path / "a.txt", ns=(1, 1))  # a changed time even on a coarse clock
    changed = chunking.folder_fingerprint(tmp_path)
    assert changed["a.txt"] != first["a.txt"] and changed["b.md"] == first["b.md"]
    (tmp_path / "c.txt").write_text("Lockers take a one euro coin.\n")
    assert "c.txt" in chunking.folder_fingerprint(tmp_path)
    assert chunking.folder_fingerprint(tmp_path) == chunking.documents_fingerprint(
        chunking.load_documents(tmp_path)
    )
