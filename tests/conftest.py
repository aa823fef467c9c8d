"""Shared fixtures. The embedded model is loaded once per test session and reused."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# estimates scale with how busy the cores are (agent/rates.busy): pinned, so a screen or an estimate in a test
# reads the same with other work running on the machine
os.environ["TUNEWISE_BUSY"] = "1"
# Tests must never reach a paid API by accident.
for _var in (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "TOGETHER_API_KEY",
    "TUNEWISE_BASE_URL",
    "TUNEWISE_TEACHER",
    "TUNEWISE_JUDGE",
    "TUNEWISE_STUDENT",
    "TUNEWISE_CHAT",
):
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Each test gets its own `.tunewise/` (cache, runs) under tmp_path; the converted model cache is shared."""
    monkeypatch.setenv("TUNEWISE_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def workspace(tmp_path):
    from tools.workspace import Workspace

    return Workspace(tmp_path).ensure()


@pytest.fixture(scope="session")
def embedded_dir():
    """The converted embedded model directory (converts once, ~30 s on first ever use)."""
    from tools.llm.embedded import embedded_model_dir

    return embedded_model_dir()


@pytest.fixture(scope="session")
def embedded(embedded_dir):
    """A LocalProvider on the embedded model, no cache, weights loaded once per session.

    fp32 keeps greedy outputs identical across machines with and without bf16 instructions.
    """
    from tools.llm.local import LocalProvider

    p = LocalProvider("embedded", dtype="float32")
    p._loaded()
    return p
