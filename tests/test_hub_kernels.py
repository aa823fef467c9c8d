"""transformers' Hub kernels stay off unless asked for: on CUDA they are fetched at run time (offline: a failure)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _enabled(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "USE_HUB_KERNELS"}
    if env_value is not None:
        env["USE_HUB_KERNELS"] = env_value
    code = (
        "import tools\n"
        "from transformers.integrations.hub_kernels import _kernels_enabled\n"
        "print(_kernels_enabled())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_hub_kernels_are_off_by_default_and_a_person_can_turn_them_on():
    assert _enabled(None) == "False"
    assert _enabled("YES") == "True"
