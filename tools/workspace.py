"""The `.tunewise/` workspace: runs, atomic writes, and a per-run lock.

Nothing is lost: every write goes to a temp file in the same directory, is fsynced, then renamed
over the target, so a crash leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tools.errors import RunLocked, UserError

WORKSPACE_DIRNAME = ".tunewise"


# ---------------------------------------------------------------- privacy
PRIVATE_UMASK = 0o077  # the CLI sets it at start: every file 0600, every folder 0700 (sqlite, logs,
# train.log, checkpoints and adapters written by the training subprocess too, which inherits it)


def make_private(path: str | os.PathLike) -> None:
    """Take group/other permissions off a folder we own (a workspace made before this was the rule).

    With the workspace root at 0700 nothing inside it can be reached by another user, whatever the
    modes of the files below it."""
    with contextlib.suppress(OSError):
        st = os.stat(path)
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, st.st_mode & 0o700)


# ---------------------------------------------------------------- atomic writes
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False, default=str) + "\n")


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    return atomic_write_text(path, text)


def atomic_write_yaml(path: str | os.PathLike, obj: Any) -> Path:
    import yaml

    return atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))


def append_jsonl(path: str | os.PathLike, row: Any) -> None:
    """Append one line and fsync: an append-only log survives a kill -9 up to the last full line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def pid_alive(pid: int) -> bool:
    """Is process `pid` still running? A zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): os.kill said it exists
    return state != "Z"


def read_json(path: str | os.PathLike) -> Any:
    from tools.userfile import loads_json

    path = Path(path)
    try:
        return loads_json(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise UserError(
            f"invalid JSON ({e.msg})", where=f"{path}:{e.lineno}", fix="repair or delete the file"
        ) from None


def read_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """Yield rows; a torn last line (from a crash mid-append) is skipped, any other bad line is an error.

    A UTF-8 byte-order mark (from editors on Windows) is dropped."""
    from tools.userfile import loads_json

    path = Path(path)
    with open(path, encoding="utf-8-sig") as fh:
        lines = fh.readlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield loads_json(line)
        except json.JSONDecodeError as e:
            if i == len(lines) and not line.endswith("\n"):
                return  # torn tail of an append-only log
            raise UserError(f"invalid JSON ({e.msg})", where=f"{path}:{i}", fix="repair the line") from None


def json_objects(lines: Iterable[str | bytes]) -> list[dict]:
    """The JSON objects among `lines` of a log being read while it grows (a tail, a tailer's new bytes):
    blank, cut and torn lines are skipped, never an error."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """A YAML file, or one UserError (missing, a folder, unreadable, binary, not UTF-8, bad YAML, nested
    absurdly deep). A byte-order mark is dropped."""
    import yaml

    from tools.userfile import loads_yaml, read_text

    text = read_text(os.fspath(path), what="YAML file")
    path = Path(path)
    try:
        return loads_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e)
        fix = (
            "flatten it (task, answers and config files are a few levels deep)"
            if "nested" in problem
            else "fix the YAML syntax"
        )
        raise UserError(f"invalid YAML ({problem})", where=where, fix=fix) from None


# ---------------------------------------------------------------- lock
class RunLock:
    """An exclusive, process-level lock on a run directory (fcntl.flock on `lock`).

    The OS drops a flock when its holder dies, so a kill -9 never leaves a stale lock behind. The lock
    is re-entrant within one process (the agent holds the run while a tool it calls locks it again);
    another process gets `RunLocked` with the holder's pid.
    """

    _held: dict[str, list] = {}  # path → [file handle, depth], per process
    _held_lock = threading.Lock()

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / "lock"
        self._key = str(self.path.resolve())
        self._acquired = False

    def acquire(self) -> RunLock:
        import fcntl

        with RunLock._held_lock:
            held = RunLock._held.get(self._key)
            if held is not None:
                held[1] += 1
                self._acquired = True
                return self
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                fh.close()
                raise RunLocked(
                    f"run {self.path.parent.name} is in use by {holder}",
                    fix="wait for it to finish, or stop that process",
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            RunLock._held[self._key] = [fh, 1]
            self._acquired = True
        return self

    def held_by_someone(self) -> bool:
        """Is the run being worked on right now (by this process or another)? Probes the flock without
        taking it for long; a holder that died released it, so a stale `lock` file reads as free."""
        import fcntl

        with RunLock._held_lock:
            if self._key in RunLock._held:
                return True
        if not self.path.exists():
            return False
        with open(self.path, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        if not self._acquired:
            return
        import fcntl

        with RunLock._held_lock:
            held = RunLock._held.get(self._key)
            self._acquired = False
            if held is None:
                return
            held[1] -= 1
            if held[1] == 0:
                del RunLock._held[self._key]
                fcntl.flock(held[0].fileno(), fcntl.LOCK_UN)
                held[0].close()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- workspace
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


def slugify(text: str, max_len: int = 32) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:max_len].strip("-") or "run"


class Workspace:
    """`.tunewise/` under a root directory (default: the current directory or $TUNEWISE_HOME)."""

    def __init__(self, root: str | os.PathLike | None = None):
        if root is None:
            root = os.environ.get("TUNEWISE_HOME") or Path.cwd()
        root = Path(root)
        self.path = root if root.name == WORKSPACE_DIRNAME else root / WORKSPACE_DIRNAME

    # layout
    @property
    def cache_dir(self) -> Path:
        return self.path / "cache"

    @property
    def llm_cache_path(self) -> Path:
        return self.cache_dir / "llm.sqlite"

    @property
    def sessions_db(self) -> Path:
        return self.path / "sessions.sqlite"

    @property
    def runs_dir(self) -> Path:
        return self.path / "runs"

    def ensure(self) -> Workspace:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        make_private(self.path)  # prompts, answers, data and adapters are nobody else's business
        self.runs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self

    def new_run_id(self, name: str = "run") -> str:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return f"{stamp}-{slugify(name)}-{secrets.token_hex(2)}"

    def create_run(self, name: str = "run", run_id: str | None = None) -> Run:
        self.ensure()
        run_id = run_id or self.new_run_id(name)
        run = self.run(run_id)
        run.path.mkdir(parents=True, exist_ok=True)
        return run

    def run(self, run_id: str) -> Run:
        if not _RUN_ID_RE.match(run_id):
            raise UserError(f"invalid run id {run_id!r}", fix="use letters, digits, '.', '_' or '-'")
        return Run(self, run_id)

    def get_run(self, run_id: str) -> Run:
        """An existing run, by exact id or unique prefix/suffix."""
        if (self.runs_dir / run_id).is_dir():
            return self.run(run_id)
        matches = [r for r in self.list_runs() if r.id.startswith(run_id) or r.id.endswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(r.id for r in self.list_runs()[-5:]) or "none yet"
        what = "is ambiguous" if matches else "not found"
        raise UserError(f"run {run_id!r} {what} in {self.runs_dir}", fix=f"use one of: {known}")

    def list_runs(self) -> list[Run]:
        if not self.runs_dir.is_dir():
            return []
        return [Run(self, p.name) for p in sorted(self.runs_dir.iterdir()) if p.is_dir()]


class Run:
    """One run directory: spec, decision, data/vN, train/vN, eval/vN, export."""

    def __init__(self, workspace: Workspace, run_id: str):
        self.workspace = workspace
        self.id = run_id
        self.path = workspace.runs_dir / run_id

    def __repr__(self) -> str:
        return f"Run({self.id!r})"

    @property
    def spec_path(self) -> Path:
        return self.path / "spec.yaml"

    @property
    def decision_path(self) -> Path:
        return self.path / "decision.json"

    @property
    def budget_path(self) -> Path:
        return self.path / "budget.json"

    def lock(self) -> RunLock:
        return RunLock(self.path)

    def versions(self, kind: str) -> list[str]:
        """Existing versions under data/, train/ or eval/, in numeric order (v1, v2, …)."""
        base = self.path / kind
        if not base.is_dir():
            return []
        vs = [p.name for p in base.iterdir() if p.is_dir() and re.fullmatch(r"v\d+", p.name)]
        return sorted(vs, key=lambda v: int(v[1:]))

    def latest_version(self, kind: str) -> str | None:
        vs = self.versions(kind)
        return vs[-1] if vs else None

    def next_version(self, kind: str) -> str:
        vs = self.versions(kind)
        return f"v{int(vs[-1][1:]) + 1}" if vs else "v1"

    def version_dir(self, kind: str, version: str | None = None) -> Path:
        version = version or self.latest_version(kind)
        if version is None:
            raise UserError(
                f"run {self.id} has no {kind} version yet", fix=f"create one first (tunewise {kind} …)"
            )
        return self.path / kind / version

    def summary(self) -> dict:
        """A small dict for listings: state and verdict when known."""
        info: dict[str, Any] = {"id": self.id, "path": str(self.path)}
        for kind in ("data", "train", "eval"):
            info[kind] = self.latest_version(kind)
        if self.decision_path.exists():
            with contextlib.suppress(Exception):
                info["approach"] = json.loads(self.decision_path.read_text()).get("approach")
        ev = info.get("eval")
        if ev:
            rep = self.path / "eval" / ev / "report.json"
            if rep.exists():
                with contextlib.suppress(Exception):
                    verdict = json.loads(rep.read_text()).get("verdict", {})
                    info["verdict"] = verdict.get("passed")
                    info["verdict_status"] = verdict.get("status")  # "inconclusive": not passed, not failed
        prompt = self.path / "work" / "iter0" / "prompt.json"
        if not ev and prompt.exists():
            # a prompt session's own result (walk 26's list read "—" beside 9 of 15 right)
            with contextlib.suppress(Exception):
                best = json.loads(prompt.read_text()).get("best") or {}
                if best.get("n_held_out") and best.get("correct") is not None:
                    info["prompt_right"] = f"{best['correct']} of {best['n_held_out']} right"
        return info


def as_run(run: Run | str | os.PathLike, workspace: Workspace | None = None) -> Run:
    """The one reading of a run argument, for every tool that takes a run: a Run as it is; a path, the run
    directory it names (`.tunewise/runs/<id>`); a string, a run id or a unique prefix in `workspace` (default:
    the current one)."""
    if isinstance(run, Run):
        return run
    if isinstance(run, os.PathLike):
        p = Path(run)
        if p.parent.name != "runs":
            raise UserError("not a run directory", where=str(p), fix="pass a run id, or .tunewise/runs/<id>")
        return Workspace(p.parent.parent).run(p.name)
    return (workspace or Workspace()).get_run(str(run))
