"""Every `from tunewise_module import name` in the code resolves, lazy ones inside functions included.

Heavy imports live inside functions (to keep `tunewise --help` fast), so a renamed or removed helper is only
found when that function runs: CI once caught `from tools.train.runner import _as_run` in the managed
training backends after the helper was removed. This walks every module's imports instead."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "tools", "tui", "prompts")


def test_every_internal_from_import_resolves():
    missing = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                if node.module.split(".")[0] not in PACKAGES:
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if alias.name == "*" or hasattr(module, alias.name):
                        continue
                    try:  # a submodule: `from tools.llm import ct2`
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}")
    assert not missing, missing
