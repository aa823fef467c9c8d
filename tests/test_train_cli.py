"""`tunewise train` / `train resume` / `train stop` / `export` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

from test_train_run import write_data


def tunewise(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_cli_trains_shows_progress_and_refuses_bad_input(workspace, tmp_path):
    run = workspace.create_run("cli", run_id="clirun")
    write_data(run)
    bad = tunewise("train", "clirun", "--set", "method=full", cwd=tmp_path)
    assert bad.returncode == 2 and "method" in bad.stderr and "lora, qlora" in bad.stderr
    assert "Traceback" not in bad.stderr
    stop = tunewise("train", "stop", "clirun", cwd=tmp_path)
    assert stop.returncode == 2 and "no train version" in stop.stderr

    ok = tunewise(
        "train",
        "clirun",
        "--max-steps",
        "2",
        "--set",
        "lora_r=2",
        "--set",
        "max_length=96",
        "--set",
        "eval_steps=2",
        "--set",
        "save_steps=2",
        "--set",
        "dtype=float32",
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "why" in ok.stderr and "lora_r" in ok.stderr  # the config table with reasons
    assert "2/2" in ok.stderr and "loss" in ok.stderr  # the progress line
    assert "completed at step 2/2" in ok.stdout and "tunewise chat --adapter" in ok.stdout
    m = json.loads((run.path / "train" / "v1" / "metrics.json").read_text())
    assert m["status"] == "completed" and m["final_step"] == 2

    again = tunewise("train", "resume", "clirun", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to resume" in again.stdout


def test_train_with_bad_rows_is_refused_with_line_numbers(workspace, tmp_path):
    run = workspace.create_run("bad", run_id="badrun")
    d = write_data(run)
    lines = (d / "train.jsonl").read_text().splitlines()
    lines[2] = '{"messages": [{"role": "user", "content": "hi"}]}'
    lines[4] = "{not json"
    (d / "train.jsonl").write_text("\n".join(lines) + "\n")
    res = tunewise("train", "badrun", cwd=tmp_path)
    assert res.returncode == 2
    assert "train.jsonl:3" in res.stderr and "train.jsonl:5" in res.stderr and "assistant" in res.stderr
    assert not (run.path / "train").exists()
