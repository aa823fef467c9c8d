"""Builders for the TUI tests: a run with fixed ids and small, realistic artifacts (no tests in here)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tools.workspace import Workspace, atomic_write_json, atomic_write_jsonl

RUN_ID = "demo-run"


def make_run(ws: Workspace, run_id: str = RUN_ID):
    return ws.create_run("demo", run_id=run_id)


def chat_row(i: int, *, score: int | None, flags=(), category: str = "ok") -> dict:
    return {
        "messages": [
            {"role": "system", "content": "Extract the city as JSON."},
            {"role": "user", "content": f"Person {i} lives in City{i}."},
            {"role": "assistant", "content": json.dumps({"city": f"City{i}"})},
        ],
        "metadata": {
            "id": f"ex-{i:02d}",
            "score": score,
            "critique": f"critique of {i}",
            "category": category,
            "flags": list(flags),
            "source": "teacher",
        },
    }


def write_critiqued(ws: Workspace, n: int = 20, run_id: str = RUN_ID) -> Path:
    """n rows: every 7th flagged, every 5th scored 2 (low), the rest 4–5."""
    rows = []
    for i in range(1, n + 1):
        flags = ["too_short"] if i % 7 == 0 else []
        score = 2 if i % 5 == 0 else 4 + (i % 2)
        rows.append(chat_row(i, score=score, flags=flags, category="format" if i % 5 == 0 else "ok"))
    p = ws.run(run_id).path / "work" / "iter1" / "critiqued.jsonl"
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_jsonl(p, rows)
    return p


def train_events(steps: range, max_steps: int = 20) -> list[dict]:
    out = []
    for s in steps:
        out.append(
            {
                "event": "log",
                "time": 1000.0 + s,
                "step": s,
                "max_steps": max_steps,
                "epoch": s / 10,
                "loss": round(2.0 - 0.05 * s, 4),
                "lr": 2e-4,
                "grad_norm": 1.0,
                "tokens_per_s": 200.0,
                "mem_mb": 900.0,
                "eta_s": float((max_steps - s) * 4),
            }
        )
        if s % 5 == 0:
            out.append(
                {
                    "event": "eval",
                    "time": 1000.0 + s,
                    "step": s,
                    "max_steps": max_steps,
                    "eval_loss": round(2.1 - 0.04 * s, 4),
                }
            )
    return out


def write_train_dir(ws: Workspace, events: list[dict], run_id: str = RUN_ID, version: str = "v1") -> Path:
    d = ws.run(run_id).path / "train" / version
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "events.jsonl", "w") as fh:
        fh.write(json.dumps({"event": "start", "time": 1000.0, "step": 0, "max_steps": 20}) + "\n")
        for ev in events:
            fh.write(json.dumps(ev) + "\n")
    atomic_write_json(d / "config.json", {"max_steps": 20})
    return d


def append_events(train_dir: Path, events: list[dict]) -> None:
    with open(train_dir / "events.jsonl", "a") as fh:
        for ev in events:
            fh.write(json.dumps(ev) + "\n")


def write_eval(ws: Workspace, run_id: str = RUN_ID, version: str = "v1") -> Path:
    d = ws.run(run_id).path / "eval" / version
    d.mkdir(parents=True, exist_ok=True)
    systems = {
        "base zero-shot": {
            "kind": "base",
            "metrics": {"exact_match": {"mean": 0.1, "ci": [0.0, 0.3], "n": 4}},
            "prompt_tokens_mean": 30.0,
            "format_rate": 0.25,
        },
        "base few-shot": {
            "kind": "prompted",
            "metrics": {"exact_match": {"mean": 0.5, "ci": [0.25, 0.75], "n": 4}},
            "prompt_tokens_mean": 310.0,
            "format_rate": 1.0,
        },
        "tuned v1": {
            "kind": "tuned",
            "metrics": {"exact_match": {"mean": 0.75, "ci": [0.5, 1.0], "n": 4}},
            "prompt_tokens_mean": 40.0,
            "format_rate": 1.0,
        },
    }
    report = {
        "systems": systems,
        "primary_metric": "exact_match",
        "baseline": "base few-shot",
        "candidate": "tuned v1",
        "verdict": {"passed": True, "reasons": ["tuned v1 beats base few-shot by 50%"], "improvement": 0.5},
        "regression": {"regressed_ids": ["reg-02"]},
    }
    atomic_write_json(d / "report.json", report)
    rows = []
    for i in range(1, 4):
        rows.append(
            {
                "id": f"t-{i}",
                "split": "test",
                "input": f"Ann lives in Town{i}.",
                "reference": json.dumps({"city": f"Town{i}"}),
                "outputs": {
                    name: {
                        "text": json.dumps({"city": f"Town{i}" if k else "?"}),
                        "metrics": {"exact_match": float(k > 0)},
                        "judge": {
                            "passed": k > 0,
                            "correctness": 5 if k else 1,
                            "reason": f"{name} judged on t-{i}",
                        },
                    }
                    for k, name in enumerate(systems)
                },
                "pairwise": {
                    "outcome": "win" if i != 2 else "tie",
                    "flipped": i == 3,
                    "reasons": [f"candidate names Town{i}"],
                },
            }
        )
    rows.append(
        {
            "id": "reg-02",
            "split": "regression",
            "input": "Say hello.",
            "reference": "Hello!",
            "regressed": True,
            "outputs": {
                name: {"text": "Hello!" if name != "tuned v1" else "{}", "judge": {"reason": "r"}}
                for name in systems
            },
        }
    )
    # a forgetting row may reuse an id from another split: it must stay a separate example
    rows.append(
        {
            "id": "t-1",
            "split": "forgetting",
            "input": "What is 2+2?",
            "reference": None,
            "outputs": {
                "tuned v1": {"text": "4", "judge": {"reason": "fine"}},
                "base": {"text": "4", "judge": {"reason": "fine"}},
            },
            "pairwise": {"outcome": "tie", "reasons": []},
            "forgotten": False,
        }
    )
    atomic_write_jsonl(d / "outputs.jsonl", rows)
    return d


# Every interview question answered for the "cities" task (no examples, JSON answers): the graph goes
# straight on to the decision. Shared by the tests that need a session past its interview.
ANSWERED_CITIES = {
    "spec": "Extract the city from a sentence as JSON.",
    "problem": "",
    "knowledge_needed": "no",
    "examples": 0,
    "prompted_success": "20%",
    "goals": ["format"],
    "volume": "",
    "constraints": "",
}


async def wait_for(pilot, cond, timeout: float = 120.0) -> None:
    """Pause the pilot until `cond()` holds (tests wait on conditions, never on a fixed time). The timeout
    is a safety net, generous so that a machine busy with other work does not fail a test that would pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")
