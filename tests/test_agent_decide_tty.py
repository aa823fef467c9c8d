"""An interactive `tunewise decide` in a real (pseudo-)terminal asks the questions and recommends."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _read_until(fd: int, needle: str, buf: list[str], timeout: float = 60) -> str:
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
            buf.append(chunk)
            if needle in "".join(buf):
                return "".join(buf)
    raise AssertionError(f"did not see {needle!r}; screen so far:\n{''.join(buf)[-2000:]}")


def spawn_in_terminal(*args: str, **env: str) -> tuple[subprocess.Popen, int]:
    """`tunewise ARGS` in a pseudo-terminal: the process and the terminal's master end."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120", "TERM": "dumb", **env},
        cwd=REPO,
        close_fds=True,
    )
    os.close(slave)
    return proc, master


def converse(
    proc: subprocess.Popen, master: int, steps: list[tuple[str, str]], until: str, code: int = 0
) -> str:
    """Answer each prompt as it appears, read until `until`, let the process end with exit `code`;
    returns the screen."""
    buf: list[str] = []
    try:
        for prompt, reply in steps:
            _read_until(master, prompt, buf)
            os.write(master, (reply + "\n").encode())
        screen = _read_until(master, until, buf, timeout=60)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == code, screen[-2000:]
    return screen


def test_interactive_decide_in_a_terminal():
    proc, master = spawn_in_terminal("decide")
    answers = [
        ("what should the model do", "Answer customer questions about our refund policy"),
        ("What goes wrong today", "it makes up policy details"),
        ("facts the model does not know", "yes"),
        ("How often do those facts change", "maybe"),  # invalid: re-asked with the reason
        ("must be never, rarely or often", "often"),
        ("Where are those facts written down", "/no/such/folder"),  # re-asked with the reason
        ("no file or folder at /no/such/folder", ""),  # Enter: on without them
        ("How many examples do you have", "120"),
        ("Where are those examples", ""),  # not at hand: Enter goes on
        ("how often was it right", "unknown"),
        ("What matters most", "accuracy"),
        ("how many requests per day", "2000"),
        ("may an online AI service see them", "cloud ok"),
    ]
    screen = converse(proc, master, answers, "Next steps")
    assert "Recommendation" in screen and "rag" in screen
    assert "retrieval" in screen  # the reason is tied to the knowledge answer


def test_resume_in_a_terminal_offers_the_guessed_answer_shape(tmp_path):
    """`tunewise resume RUN` at the answer-shape question shows the guess (JSON, read from the examples);
    Enter keeps it and the session moves on to the next question."""
    import json

    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state, session_state
    from tools.spec import parse_spec_dict
    from tools.workspace import Workspace

    ws = Workspace(tmp_path)
    examples = [
        {"input": f"{n} lives in {c}.", "output": json.dumps({"name": n, "city": c})}
        for n, c in (("Anna", "Porto"), ("Tom", "Leeds"))
    ]
    spec = parse_spec_dict({"spec": "Extract name and city.", "examples": examples})
    run = create_run_for(ws, spec)
    st = initial_state(run.id, spec, headless=False)
    st["answers"] = {"spec": spec.spec, "problem": "", "knowledge_needed": "no", "examples": 2}
    out = drive(ws, run.id, st, AgentContext(ws))
    assert out["interrupt"]["key"] == "output_format" and out["interrupt"]["default"] == "json"

    proc, master = spawn_in_terminal("resume", run.id, TUNEWISE_HOME=str(tmp_path))
    # Enter keeps the offered guess
    screen = converse(
        proc,
        master,
        [("What should each answer look like? [json]:", "")],
        "waiting:",
        code=3,  # a session left waiting on a question has no passing verdict: exit 3 (README)
    )
    assert "If you have tried a chatbot" in screen  # the next question
    # the shapes in plain words, one to pick (not the "comma-separated" hint of a pick-any list)
    assert "2. named parts (JSON: e.g. name, day, service)" in screen and "its number or its words" in screen
    assert (
        "comma-separated" not in screen.split("What should each answer look like")[0].rsplit("1. free", 1)[-1]
    )
    state = session_state(ws, run.id)
    assert state["interrupt"]["key"] == "prompted_success"
    assert state["interrupt"]["spec_so_far"]["output"]["format"] == "json"
