"""`--processes 2`: the same runner under `accelerate launch` (DDP, gloo on CPU), same events and checkpoints."""

from __future__ import annotations

import json

import pytest
from test_train_run import TINY, write_data


@pytest.mark.slow  # two model copies on a shared 2-core CPU: ~1 minute
def test_two_cpu_processes_train_with_the_same_events(workspace):
    from tools.train import runner

    run = workspace.create_run("ddp")
    write_data(run)
    metrics = runner.train_blocking(
        run, data_version="v1", overrides={**TINY, "max_steps": 2}, processes=2, workspace=workspace
    )
    assert metrics["status"] == "completed", metrics
    out = run.path / "train" / "v1"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["processes"] == 2
    rows = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert rows[0]["event"] == "start" and rows[0]["world_size"] == 2
    assert [r["step"] for r in rows if r["event"] == "log"] == [1, 2]  # rank 0 alone writes: no duplicates
    assert [r["event"] for r in rows].count("start") == 1 and rows[-1]["event"] == "end"
    # 8 examples, 4 per process per step, 2 processes → one epoch per step
    assert [r["epoch"] for r in rows if r["event"] == "log"] == [1.0, 2.0]
    assert (out / "checkpoints" / "checkpoint-2" / "trainer_state.json").exists()
    assert (out / "adapter" / "adapter_config.json").exists()
