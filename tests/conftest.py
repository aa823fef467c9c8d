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
_KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "TOGETHER_API_KEY",
    "TUNEWISE_BASE_URL",
    "TUNEWISE_TEACHER",
    "TUNEWISE_JUDGE",
    "TUNEWISE_STUDENT",
    "TUNEWISE_CHAT",
    "TUNEWISE_API_KEY",
)
for _var in _KEY_VARS:
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Each test gets its own `.tunewise/` (cache, runs) under tmp_path; the converted model cache is shared."""
    monkeypatch.setenv("TUNEWISE_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    keys = {var: os.environ.get(var) for var in _KEY_VARS}
    yield
    # a key a test puts in the environment itself (the TUI's `k` writes os.environ, which monkeypatch cannot
    # undo) must not make the next test in this worker pick a paid provider
    for var, value in keys.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


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


# ---------------------------------------------------------------- tiers
# `make test-fast` (pytest --fast): the unit tier, pure functions and in-process logic, in about two minutes.
# A test belongs to the integration tier when it loads a model, drives the TUI, starts a server or a
# process, or trains; `make test` runs both tiers.
_HEAVY_FIXTURES = {"embedded", "embedded_dir", "tiny_model", "canned_server", "server", "scripted", "backend"}
_HEAVY_WORDS = (
    "subprocess",
    "run_test(",
    "_tunewise(",
    "run_cli(",
    "embedded_model_dir",
    "LocalProvider",
    "start_training",
    "train_blocking",
    "ThreadingHTTPServer",
    "drive(",
    "snap_compare",
)


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true", help="only the unit tier (see tests/conftest.py)")


def _integration(item) -> bool:
    import inspect

    if _HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())) or inspect.iscoroutinefunction(item.function):
        return True
    if item.fspath.basename.startswith(("test_tui_", "test_train_", "test_export", "test_ct2", "test_serve")):
        return True
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return True
    return any(word in source for word in _HEAVY_WORDS)


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--fast"):
        return
    keep = [it for it in items if not _integration(it)]
    config.hook.pytest_deselected(items=[it for it in items if it not in keep])
    items[:] = keep
