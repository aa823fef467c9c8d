"""The `tunewise` console script. With no arguments it opens the terminal app straight away: no typer, no
subcommand registry (their imports were ~0.2 s of the ~0.6 s to the first screen). With any argument it is
the typer CLI (`tui.cli.main`). Keep this module's imports to the standard library."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1:
        from tui.cli.main import main as cli_main

        cli_main()
        return
    import os

    from tools.workspace import PRIVATE_UMASK
    from tui.cli import common

    os.umask(PRIVATE_UMASK)  # as the CLI's main: 0700 folders / 0600 files throughout

    def open_app() -> int:
        from tui.app import run_app

        return run_app()

    sys.exit(common.run_guarded(open_app))


if __name__ == "__main__":
    main()
