"""Faults: kill -9 mid-run, graceful stop, and resume to the same final step with no duplicated events."""

from __future__ import annotations

import json
import os
import signal
import time

from test_train_run import TINY, write_data


def _events(out):
    p = out / "events.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def _wait_for(out, pred, timeout=300):
    t = time.time()
    while time.time() - t < timeout:
        if any(pred(e) for e in _events(out)):
            return
        time.sleep(0.2)
    raise AssertionError(
        f"timed out waiting; events: {_events(out)}; log: {(out / 'train.log').read_text()[-2000:]}"
    )


def test_kill9_then_stop_then_resume_reaches_the_same_final_step(workspace):
    from tools.train import runner

    run = workspace.create_run("faults")
    write_data(run)
    out = runner.prepare_training(
        run, data_version="v1", overrides={**TINY, "max_steps": 6}, workspace=workspace
    )

    # 1) kill -9 after step 3 was logged: checkpoint-2 is the newest complete checkpoint
    proc = runner.launch(out)
    _wait_for(out, lambda e: e["event"] == "log" and e["step"] >= 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    result = runner.training_result(out, proc.returncode)
    assert result["status"] == "failed" and result["resumable"] and "resume" in result["advice"]

    # 2) resume, then a graceful stop (what Ctrl-C does): a checkpoint at the stop step, status "stopped"
    runner.resume_training(out)
    _wait_for(out, lambda e: e["event"] == "start" and e["resumed_from"])
    assert max(e["step"] for e in _events(out) if e["event"] == "log") <= 2  # the log was cut back to step 2
    _wait_for(out, lambda e: e["event"] == "log" and e["step"] >= 3)
    assert runner.stop_training(out)
    m = runner.wait_training(out)
    assert m["status"] == "stopped", m
    stopped_at = m["final_step"]
    assert (out / "checkpoints" / f"checkpoint-{stopped_at}").is_dir()
    assert m["resumed_from"].endswith("checkpoint-2")

    # 3) resume again: it finishes where an uninterrupted run would
    runner.resume_training(out)
    m = runner.wait_training(out)
    assert m["status"] == "completed" and m["final_step"] == 6, m
    assert (out / "adapter" / "adapter_config.json").exists()

    ev = _events(out)
    assert [e["step"] for e in ev if e["event"] == "log"] == [1, 2, 3, 4, 5, 6]  # each step exactly once
    ckpts = [e["step"] for e in ev if e["event"] == "checkpoint"]
    assert len(ckpts) == len(set(ckpts)) and 6 in ckpts
    assert [e["event"] for e in ev].count("start") == 3
    assert [e["event"] for e in ev].count("end") == 1 and ev[-1]["event"] == "end"
    evals = [e["step"] for e in ev if e["event"] == "eval"]
    assert len(evals) == len(set(evals))


def test_a_trainer_stops_when_the_program_waiting_on_it_is_gone_unless_kept_going(workspace):
    """The walk killed the terminal and the trainer kept the cores busy for its whole run. A trainer
    launched for an owner (the agent, `tunewise train` without --detach) checkpoints and stops when the
    owner is gone; after `detach_training` (the person chose to keep it going) it carries on."""
    import subprocess
    import sys

    from tools.train import runner

    run = workspace.create_run("owner")
    write_data(run)
    out = runner.prepare_training(
        run, data_version="v1", overrides={**TINY, "max_steps": 40}, workspace=workspace
    )
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    runner.launch(out, owner_pid=owner.pid)
    _wait_for(out, lambda e: e["event"] == "log" and e["step"] >= 1)
    owner.kill()
    owner.wait()
    m = runner.wait_training(out)
    assert m["status"] == "stopped" and m["final_step"] < 40, m
    assert f"pid {owner.pid}) is gone" in m["stop_reason"]
    assert (out / "checkpoints" / f"checkpoint-{m['final_step']}").is_dir()  # resumable from there

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    runner.resume_training(out, owner_pid=owner.pid)
    _wait_for(out, lambda e: e["event"] == "start" and e.get("resumed_from"))
    runner.detach_training(out)
    owner.kill()
    owner.wait()
    past = m["final_step"] + 3
    _wait_for(out, lambda e: e["event"] == "log" and e["step"] >= past)  # still going without its owner
    assert runner.is_running(out)
    assert runner.stop_training(out)
    assert runner.wait_training(out)["status"] == "stopped"
