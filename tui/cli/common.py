"""Shared CLI plumbing: exit codes, one-line errors, usage errors, `--json` output, consoles, lazy
sub-command registration."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import traceback
from typing import Protocol, cast

# Exit codes a pipeline can rely on (also in `tunewise --help` and the README).
EXIT_OK = 0  # done; for run/resume/eval run/eval compare: the verdict passed
EXIT_INTERNAL = 1  # a bug: one line here, the traceback in .tunewise/logs/
EXIT_BAD_INPUT = 2  # bad input or usage: one line (where, what, how to fix), nothing written
EXIT_NOT_PASSED = 3  # the verdict failed or is inconclusive (also: a budget stop, a session left waiting)
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes: 0 ok (run, resume, eval run, eval compare: the verdict passed); "
    "3 the verdict failed or is inconclusive; 2 bad input or usage; 1 internal error "
    "(details in .tunewise/logs/); 130 interrupted."
)


def verdict_exit(verdict: dict | None) -> int:
    """0 when a verdict passed, 3 for anything else (failed, inconclusive, missing)."""
    if not isinstance(verdict, dict) or verdict.get("passed") is not True:
        return EXIT_NOT_PASSED
    return EXIT_OK if verdict.get("status", "pass") == "pass" else EXIT_NOT_PASSED


# Sub-command groups, each in its own module (tui/cli/<module>.py) exposing `app` (a typer.Typer) or
# `register(app)`. Modules that do not exist yet are skipped, so areas can land independently.
SUBCOMMAND_MODULES = ["data_cmd", "train_cmd", "eval_cmd", "agent_cmd"]


def register_subcommands(app) -> None:
    for name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(f"tui.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"tui.cli.{name}":
                continue
            raise
        if hasattr(mod, "register"):
            mod.register(app)
        else:
            app.add_typer(mod.app, name=getattr(mod, "NAME", name.removesuffix("_cmd")))


def err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def console():
    from rich.console import Console

    return Console(highlight=False)


def quiet_libraries() -> None:
    """Silence library progress bars and warnings that are noise for a CLI user."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    from tools import NOISY_LOGGERS

    for name in (*NOISY_LOGGERS, "httpx", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - optional nicety
        pass


def crash_log(exc: BaseException) -> str | None:
    """Write a redacted traceback to .tunewise/logs/ and return its path."""
    try:
        import datetime as dt

        from tools.llm.redact import redact
        from tools.workspace import Workspace, atomic_write_text

        logs = Workspace().path / "logs"
        # unique even for two crashes in one second, or in two processes at once: nothing is overwritten
        stem = f"crash-{dt.datetime.now():%Y%m%d-%H%M%S-%f}-{os.getpid()}"
        path = logs / f"{stem}.log"
        n = 1
        while path.exists():
            n += 1
            path = logs / f"{stem}-{n}.log"
        atomic_write_text(path, redact("".join(traceback.format_exception(exc))))
        return str(path)
    except Exception:  # noqa: BLE001
        return None


def click_error_kind(exc: BaseException) -> str | None:
    """ "usage" for a command-line usage error, "abort" for an abort, None for anything else.

    typer ≥ 0.26 bundles its own copy of click (`typer._click`), older typer uses the `click` package:
    check the exception classes of whichever is loaded (an exception can only come from a loaded one)."""
    for name in ("typer.exceptions", "typer._click.exceptions", "click.exceptions"):
        mod = sys.modules.get(name)
        if mod is None:
            continue
        abort = getattr(mod, "Abort", None)
        if abort is not None and isinstance(exc, abort):
            return "abort"
        click_exc = getattr(mod, "ClickException", None)
        if click_exc is not None and isinstance(exc, click_exc):
            return "usage"
    return None


class _ShowsUsage(Protocol):
    """A click ClickException (of whichever click is loaded): prints the usage line and the problem."""

    def show(self) -> None: ...


def run_cli(app) -> int:
    return run_guarded(lambda: app(standalone_mode=False))


def run_guarded(call) -> int:
    """Run the CLI (or the terminal app) and turn what it raises into one line and an exit code."""
    from tools.errors import UserError
    from tools.llm.redact import redact

    try:
        rv = call()
    except UserError as e:
        print(f"error: {e.one_line()}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - a bug: one line here, the traceback in a log file
        kind = click_error_kind(e)
        if kind == "abort":
            print("aborted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if kind == "usage":  # the usage line and the problem; no crash log: nothing went wrong inside
            cast(_ShowsUsage, e).show()
            return EXIT_BAD_INPUT
        path = crash_log(e)
        where = f" (details: {path})" if path else ""
        print(f"internal error: {redact(type(e).__name__ + ': ' + str(e))[:300]}{where}", file=sys.stderr)
        return EXIT_INTERNAL
    return rv if isinstance(rv, int) else EXIT_OK


def task_differences(stored, spec) -> list[str]:
    """Top-level task fields that differ between a run's spec.yaml and a task (the budget may differ)."""
    from tools.errors import ConfigError
    from tools.spec import parse_spec_dict

    if not isinstance(stored, dict):
        return ["spec.yaml (unreadable)"]
    try:
        old = parse_spec_dict(stored).to_yaml_dict()
    except ConfigError:
        old = stored
    new = spec.to_yaml_dict()
    return [k for k in sorted((set(old) | set(new)) - {"budget"}) if old.get(k) != new.get(k)]


# ------------------------------------------------------------------ --json
@contextlib.contextmanager
def json_mode(enabled: bool):
    """`--json`: stdout carries one JSON document and nothing else.

    While the block runs, whatever would reach stdout (tables, library prints, child processes) goes
    to stderr instead; print the document with `print_json` after the block."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    fds: tuple[int, int] | None
    try:
        fds = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        fds = None
    if fds is None:  # no real file descriptors (e.g. an in-process test runner)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    out_fd, err_fd = fds
    saved = os.dup(out_fd)
    os.dup2(err_fd, out_fd)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, out_fd)
        os.close(saved)


def print_json(doc) -> None:
    print(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    sys.stdout.flush()
