"""Shared CLI plumbing: one-line errors with exit code 2, consoles, lazy sub-command registration."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

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
    for name in ("transformers", "peft", "trl", "accelerate", "datasets", "httpx", "urllib3"):
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

        path = Workspace().path / "logs" / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
        atomic_write_text(path, redact("".join(traceback.format_exception(exc))))
        return str(path)
    except Exception:  # noqa: BLE001
        return None


def run_cli(app) -> int:
    import click

    from tools.errors import UserError
    from tools.llm.redact import redact

    try:
        rv = app(standalone_mode=False)
    except UserError as e:
        print(f"error: {e.one_line()}", file=sys.stderr)
        return e.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except click.ClickException as e:
        e.show()
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a bug: one line here, the traceback in a log file
        path = crash_log(e)
        where = f" (details: {path})" if path else ""
        print(f"internal error: {redact(type(e).__name__ + ': ' + str(e))[:300]}{where}", file=sys.stderr)
        return 1
    return rv if isinstance(rv, int) else 0
