"""A private workspace (issue #14, item 8): the CLI sets a 077 umask at start, so everything under
`.tunewise/` (sqlite, JSONL logs, train.log, checkpoints, adapters, written by us or by the training
subprocess that inherits it) is 0600 files in 0700 folders; a workspace made before is closed at its root."""

from __future__ import annotations

import os
import stat

from tests.test_cli_basic import run_cli


def _loose(root) -> list[str]:
    """Files and folders under root that group or others can read, write or enter."""
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = os.path.join(dirpath, name)
            if stat.S_IMODE(os.lstat(p).st_mode) & 0o077:
                bad.append(f"{oct(stat.S_IMODE(os.lstat(p).st_mode))} {os.path.relpath(p, root)}")
    if stat.S_IMODE(os.stat(root).st_mode) & 0o077:
        bad.append(f"{oct(stat.S_IMODE(os.stat(root).st_mode))} .")
    return bad


def test_the_cli_keeps_the_workspace_private(tmp_path):
    rows = "".join(
        f'{{"messages": [{{"role": "user", "content": "q{i}"}}, {{"role": "assistant", "content": "a{i}"}}]}}\n'
        for i in range(12)
    )
    (tmp_path / "rows.jsonl").write_text(rows)
    old = os.umask(0o022)  # a typical login umask: what the person's shell hands the CLI
    try:
        r = run_cli("data", "import", "rows.jsonl", "--run", "r1")
        r2 = run_cli("eval", "run", "r1", "--test", "missing.jsonl")  # writes nothing; a second process
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert r2.returncode == 2
    ws = tmp_path / ".tunewise"
    assert (ws / "runs" / "r1" / "data" / "v1" / "train.jsonl").exists()
    assert _loose(ws) == []


def test_an_old_world_readable_workspace_is_made_private(tmp_path):
    from tools.workspace import Workspace

    ws = tmp_path / ".tunewise"
    ws.mkdir(mode=0o755)
    os.chmod(ws, 0o755)
    Workspace(tmp_path).ensure()
    assert stat.S_IMODE(os.stat(ws).st_mode) == 0o700
