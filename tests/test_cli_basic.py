"""The `tunewise` command as a user runs it: a real subprocess each time, no keys, offline."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "anthropic", "openai", "langgraph", "textual", "fastapi")


def tunewise_cmd() -> list[str]:
    """The installed console script when present (what a user types), else the module."""
    script = shutil.which("tunewise", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "tui.cli.main"]


def run_cli(*args: str, env: dict | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TUNEWISE_BASE_URL"):
        full_env.pop(var, None)
    return subprocess.run(
        [*tunewise_cmd(), *args], env=full_env, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(r: subprocess.CompletedProcess, *fragments: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for f in fragments:
        assert f in lines[0]


def test_help_is_fast_path_without_heavy_imports():
    code = (
        "import sys\n"
        "from tui.cli.main import app\n"
        "try:\n"
        "    app(['--help'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "chat" in r.stdout and "serve" in r.stdout and "doctor" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_the_console_script_opens_the_app_without_the_cli_and_runs_the_cli_with_arguments():
    """`tunewise` alone goes straight to the terminal app (typer and the subcommands cost ~0.2 s of its
    first screen); with arguments it is the CLI."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "tunewise"]
    assert script.value == "tui.cli.entry:main"
    code = (
        "import sys\n"
        "import tui.app\n"
        "tui.app.run_app = lambda: print('APP', 'typer' in sys.modules, 'tui.cli.main' in sys.modules) or 3\n"
        "sys.argv = ['tunewise']\n"
        "from tui.cli.entry import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.stdout.strip() == "APP False False" and r.returncode == 3, r.stderr
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("tunewise ")


def test_chat_answers_offline_with_no_keys():
    r = run_cli("chat", "Say hello", "--max-tokens", "16")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    assert "local:embedded" in r.stderr  # the provider line names the embedded model


def test_doctor_runs_and_reports_keys_as_absent():
    r = run_cli("doctor", env={"COLUMNS": "200"})  # wide enough that rich does not wrap the table
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OPENAI_API_KEY absent" in r.stdout
    assert "embedded model" in r.stdout


def test_unknown_provider_is_one_line_exit_2():
    assert_one_line_error(run_cli("chat", "hi", "--provider", "bogus"), "unknown provider 'bogus'", "fix:")


def test_unreachable_base_url_is_one_line_exit_2():
    r = run_cli("chat", "hi", "--provider", "compatible", "--base-url", "http://127.0.0.1:9/v1")
    assert_one_line_error(r, "cannot reach http://127.0.0.1:9/v1", "fix:")


def test_malformed_price_file_is_one_line_exit_2(tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  openai:\n    gpt-x: {input: -1, output: 1}\n")
    r = run_cli("chat", "hi", env={"TUNEWISE_PRICES": str(prices)})
    assert_one_line_error(r, str(prices), "models.openai.gpt-x.input")


def test_serve_rejects_a_busy_port_and_a_bad_model(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert_one_line_error(run_cli("serve", "--port", str(port)), f"127.0.0.1:{port}", "--port")
    assert_one_line_error(run_cli("serve", "--port", "0", "--model", str(tmp_path / "missing")), "not found")
    assert_one_line_error(
        run_cli("serve", "--port", "0", "--prompt", str(tmp_path)), "--prompt", "prompt.json"
    )


@pytest.fixture(scope="module")
def serve_process():
    from tools.llm.server import start_server_process

    env = {"HF_HUB_OFFLINE": "1"}
    base_url, stop = start_server_process("embedded", name="smol", env=env)
    yield base_url
    stop()


def test_serve_answers_the_official_openai_client(serve_process):
    import openai

    client = openai.OpenAI(base_url=serve_process, api_key="x")
    assert [m.id for m in client.models.list().data] == ["smol"]
    messages = [{"role": "user", "content": "Say hello"}]
    reply = client.chat.completions.create(model="smol", messages=messages, max_tokens=10)
    assert reply.choices[0].message.content
    assert reply.usage.completion_tokens > 0
    stream = client.chat.completions.create(model="smol", messages=messages, max_tokens=10, stream=True)
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == reply.choices[0].message.content


def test_chat_through_served_model(serve_process):
    """`tunewise chat --provider compatible` finds the served model id by itself (GET /v1/models)."""
    r = run_cli(
        "chat", "Say hello", "--provider", "compatible", "--base-url", serve_process, "--max-tokens", "8"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() and "compatible:smol" in r.stderr
