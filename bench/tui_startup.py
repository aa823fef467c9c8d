"""Time from launch to first screen: `tunewise` (no arguments) vs a minimal Textual app, both launched the
same way — a fresh process in a real terminal (tmux, 80×24) — measured until their first screen's text is
on the pane. Runs interleaved, reports medians and the ratio. Needs tmux.

    .venv/bin/python bench/tui_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static


class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("MINIMAL READY")
        yield Footer()


Minimal().run()
"""


def time_to_text(cmd: str, needle: str, *, timeout: float = 60.0) -> float:
    """Seconds from starting `cmd` in a new tmux pane until `needle` appears on it."""
    tmux = shutil.which("tmux")
    sock = f"tw-bench-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    subprocess.run(
        [tmux, "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", cmd],
        check=True,
    )
    try:
        while time.perf_counter() - start < timeout:
            out = subprocess.run(
                [tmux, "-L", sock, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
            ).stdout
            if needle in out:
                return time.perf_counter() - start
            time.sleep(0.01)
        raise TimeoutError(f"{needle!r} did not appear within {timeout}s for {cmd}")
    finally:
        subprocess.run([tmux, "-L", sock, "kill-server"], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is required (apt-get install -y tmux)")
    py = sys.executable
    exe = Path(py).parent / "tunewise"
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        q = shlex.quote
        cmd_min = f"cd {q(tmp)} && {q(py)} {q(str(minimal))}"
        cmd_tw = f"cd {q(tmp)} && TUNEWISE_HOME={q(tmp)} {q(str(exe))}"
        # warm the OS file cache once for both, then measure interleaved
        time_to_text(cmd_min, "MINIMAL READY")
        time_to_text(cmd_tw, "New session")
        mins, tws, lists = [], [], []
        for _ in range(args.runs):
            mins.append(time_to_text(cmd_min, "MINIMAL READY"))
            tws.append(time_to_text(cmd_tw, "New session"))
            lists.append(time_to_text(cmd_tw, "No sessions yet"))
    m, t, s = statistics.median(mins), statistics.median(tws), statistics.median(lists)
    load = os.getloadavg()[0]
    print(f"runs: {args.runs} (interleaved), load average {load:.1f}")
    print(f"minimal Textual app, first screen:      median {m:.3f} s  (min {min(mins):.3f})")
    print(f"tunewise, first screen (Home):          median {t:.3f} s  (min {min(tws):.3f})")
    print(f"tunewise, sessions listed (worker done): median {s:.3f} s  (min {min(lists):.3f})")
    print(f"ratio tunewise / minimal (first screen): {t / m:.2f}x")
    print(f"ratio tunewise sessions listed / minimal: {s / m:.2f}x")


if __name__ == "__main__":
    main()
