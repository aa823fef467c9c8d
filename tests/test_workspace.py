"""The `.tunewise/` workspace: runs, versions, atomic writes under crashes, and the per-run lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.errors import RunLocked, UserError
from tools.workspace import (
    RunLock,
    Workspace,
    append_jsonl,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    atomic_write_yaml,
    read_json,
    read_jsonl,
    read_yaml,
)

REPO = Path(__file__).resolve().parents[1]


def _child(code: str, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ---------------------------------------------------------------- runs
def test_runs_are_created_listed_and_found_by_prefix(workspace):
    a = workspace.create_run("JSON extraction: invoices!")
    b = workspace.create_run("other", run_id="fixed-id")
    assert "json-extraction-invoices" in a.id and a.path.is_dir()
    assert [r.id for r in workspace.list_runs()] == sorted([a.id, b.id])
    assert workspace.get_run("fixed").id == "fixed-id"
    assert workspace.get_run(a.id[-4:]).id == a.id  # unique suffix
    with pytest.raises(UserError, match="not found"):
        workspace.get_run("nope")
    with pytest.raises(UserError, match="invalid run id"):
        workspace.run("../escape")


def test_versions_count_numerically(workspace):
    run = workspace.create_run("v")
    assert run.versions("data") == [] and run.next_version("data") == "v1"
    for v in ("v1", "v2", "v10"):
        (run.path / "data" / v).mkdir(parents=True)
    (run.path / "data" / "notes").mkdir()
    assert run.versions("data") == ["v1", "v2", "v10"]
    assert run.next_version("data") == "v11"
    assert run.version_dir("data") == run.path / "data" / "v10"
    with pytest.raises(UserError, match="no train version"):
        run.version_dir("train")


def test_workspace_root_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEWISE_HOME", str(tmp_path / "elsewhere"))
    assert Workspace().path == tmp_path / "elsewhere" / ".tunewise"
    assert Workspace(tmp_path / ".tunewise").path == tmp_path / ".tunewise"


# ---------------------------------------------------------------- files
def test_atomic_writers_round_trip(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": [1, "ü"]})
    atomic_write_jsonl(tmp_path / "b.jsonl", [{"i": 1}, {"i": 2}])
    atomic_write_yaml(tmp_path / "c.yaml", {"name": "t", "list": [1, 2]})
    atomic_write_text(tmp_path / "deep" / "d.txt", "hi")
    assert read_json(tmp_path / "a.json") == {"x": [1, "ü"]}
    assert list(read_jsonl(tmp_path / "b.jsonl")) == [{"i": 1}, {"i": 2}]
    assert read_yaml(tmp_path / "c.yaml") == {"name": "t", "list": [1, 2]}
    assert (tmp_path / "deep" / "d.txt").read_text() == "hi"
    assert not list(tmp_path.rglob("*.tmp"))


def test_bad_files_name_the_line(tmp_path):
    (tmp_path / "bad.json").write_text('{\n  "a": 1,\n  oops\n}')
    with pytest.raises(UserError) as e:
        read_json(tmp_path / "bad.json")
    assert f"{tmp_path / 'bad.json'}:3" in str(e.value)
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2"):
        list(read_jsonl(tmp_path / "bad.jsonl"))
    (tmp_path / "bad.yaml").write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(UserError, match=r"bad.yaml:\d"):
        read_yaml(tmp_path / "bad.yaml")


def test_append_only_log_tolerates_a_torn_last_line(tmp_path):
    log = tmp_path / "events.jsonl"
    append_jsonl(log, {"step": 1})
    append_jsonl(log, {"step": 2})
    with open(log, "a") as fh:
        fh.write('{"step": 3, "lo')  # killed mid-append
    assert [r["step"] for r in read_jsonl(log)] == [1, 2]


def test_atomic_write_failing_at_rename_keeps_old_content_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "manifest.json"
    atomic_write_json(target, {"version": 1})

    def crash(*_a, **_k):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        atomic_write_json(target, {"version": 2, "rows": list(range(1000))})
    monkeypatch.undo()
    assert read_json(target) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_atomic_write_killed_mid_write_keeps_old_content(tmp_path):
    """kill -9 while the new content is half written: the target still holds the complete old file."""
    target = tmp_path / "data.jsonl"
    atomic_write_jsonl(target, [{"old": i} for i in range(3)])
    child = _child(
        f"""
        import os, sys, time
        from tools import workspace
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("half-written", flush=True)  # the temp file has data, the rename has not happened
            time.sleep(60)
        workspace.os.fsync = slow_fsync
        workspace.atomic_write_jsonl({str(target)!r}, ({{"new": i}} for i in range(100000)))
    """,
        tmp_path,
    )
    try:
        assert child.stdout.readline().strip() == "half-written"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert list(read_jsonl(target)) == [{"old": 0}, {"old": 1}, {"old": 2}]
    # the only trace is a hidden temp file next to it, never mistaken for the target
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "data.jsonl"]
    assert all(n.startswith(".data.jsonl.") and n.endswith(".tmp") for n in leftovers)


# ---------------------------------------------------------------- lock
def test_second_process_gets_a_clear_run_locked_error(workspace, tmp_path):
    run = workspace.create_run("locked")
    child = _child(
        f"""
        import time
        from tools.workspace import RunLock
        with RunLock({str(run.path)!r}):
            print("locked", flush=True)
            time.sleep(60)
    """,
        tmp_path,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunLocked) as e:
            run.lock().acquire()
        msg = e.value.one_line()
        assert run.id in msg and f"pid {child.pid}" in msg and "fix:" in msg
        assert e.value.exit_code == 2
    finally:
        child.kill()
        child.communicate()
    # the OS drops the lock with its holder: no stale lock after a kill -9
    with run.lock():
        assert (run.path / "lock").read_text() == f"pid {os.getpid()}"


def test_lock_is_reentrant_within_a_process(tmp_path):
    """The agent holds a run while the tools it calls lock it again: same process, no deadlock; the
    flock is dropped only when the outermost holder releases."""
    import fcntl

    first = RunLock(tmp_path).acquire()
    inner = RunLock(tmp_path).acquire()
    inner.release()
    with open(tmp_path / "lock") as fh:  # still held: a fresh open file description cannot take it
        with pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    first.release()
    with open(tmp_path / "lock") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def test_a_run_reads_as_running_only_while_someone_holds_it(tmp_path):
    """`sessions` and Home listed a quit session as "running" because its lock file stayed behind."""
    import subprocess
    import sys

    from tools.workspace import RunLock

    run_dir = tmp_path / "r1"
    run_dir.mkdir()
    lock = RunLock(run_dir)
    assert not lock.held_by_someone()  # no lock file yet
    with RunLock(run_dir):
        assert lock.held_by_someone()  # this process works on it
    assert (run_dir / "lock").exists() and not lock.held_by_someone()  # a stale file is not a holder
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from tools.workspace import RunLock; "
            f"RunLock({str(run_dir)!r}).acquire(); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert lock.held_by_someone()  # another process holds it
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not lock.held_by_someone()  # its holder exited: the OS dropped the flock
