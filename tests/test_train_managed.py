"""Managed fine-tuning (OpenAI, Together AI) through httpx.MockTransport flows mirroring their JSON."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from test_train_run import write_data

from tools.errors import ProviderError, UserError
from tools.train.managed import cancel_managed, start_managed, wait_managed
from tools.train.sft import EVENT_KEYS

TODAY = dt.date(2026, 11, 23)


def openai_server(refuse: bool = False):
    """A stateful fake of /v1/files and /v1/fine_tuning/jobs: validating → running → succeeded."""
    state = {"polls": 0, "files": [], "job_body": None, "cancelled": False}
    job = {
        "object": "fine_tuning.job",
        "id": "ftjob-abc123",
        "model": "gpt-4.1-mini-2025-04-14",
        "created_at": 1763900000,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": "org-x",
        "result_files": [],
        "status": "validating_files",
        "validation_file": "file-val",
        "training_file": "file-train",
        "trained_tokens": None,
        "error": None,
        "seed": 42,
    }
    events = [
        {
            "object": "fine_tuning.job.event",
            "id": "ftevent-1",
            "created_at": 1763900001,
            "level": "info",
            "message": "Validating training file: file-train",
            "data": {},
            "type": "message",
        },
        {
            "object": "fine_tuning.job.event",
            "id": "ftevent-2",
            "created_at": 1763900010,
            "level": "info",
            "message": "Step 1/3: training loss=2.10",
            "type": "metrics",
            "data": {"step": 1, "train_loss": 2.1, "total_steps": 3, "train_mean_token_accuracy": 0.5},
        },
        {
            "object": "fine_tuning.job.event",
            "id": "ftevent-3",
            "created_at": 1763900020,
            "level": "info",
            "message": "Step 2/3: training loss=1.40, validation loss=1.55",
            "type": "metrics",
            "data": {"step": 2, "train_loss": 1.4, "valid_loss": 1.55, "total_steps": 3},
        },
        {
            "object": "fine_tuning.job.event",
            "id": "ftevent-4",
            "created_at": 1763900030,
            "level": "info",
            "message": "Step 3/3: training loss=0.90",
            "type": "metrics",
            "data": {"step": 3, "train_loss": 0.9, "total_steps": 3},
        },
    ]

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.headers["authorization"] == "Bearer sk-test"
        path = req.url.path
        if path == "/v1/files" and req.method == "POST":
            assert b'name="purpose"' in req.content and b"fine-tune" in req.content
            fid = "file-train" if not state["files"] else "file-val"
            state["files"].append(req.content)
            return httpx.Response(
                200,
                json={
                    "id": fid,
                    "object": "file",
                    "bytes": 100,
                    "created_at": 1,
                    "filename": "x.jsonl",
                    "purpose": "fine-tune",
                },
            )
        if path == "/v1/fine_tuning/jobs" and req.method == "POST":
            if refuse:
                return httpx.Response(
                    403,
                    json={
                        "error": {
                            "message": "Fine-tuning is no longer available for new jobs on this organization.",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": "fine_tuning_unavailable",
                        }
                    },
                )
            state["job_body"] = json.loads(req.content)
            return httpx.Response(200, json=job)
        if path == "/v1/fine_tuning/jobs/ftjob-abc123" and req.method == "GET":
            state["polls"] += 1
            j = dict(job)
            if state["polls"] == 1:
                j["status"] = "running"
            else:
                j.update(
                    status="succeeded",
                    finished_at=1763900040,
                    trained_tokens=4242,
                    fine_tuned_model="ft:gpt-4.1-mini-2025-04-14:org-x:abc123:Bx9",
                )
            return httpx.Response(200, json=j)
        if path == "/v1/fine_tuning/jobs/ftjob-abc123/events":
            after = req.url.params.get("after")
            shown = events[:2] if state["polls"] <= 1 else events
            if after:
                shown = [e for e in shown if e["id"] > after]
            return httpx.Response(
                200, json={"object": "list", "data": list(reversed(shown)), "has_more": False}
            )
        if path == "/v1/fine_tuning/jobs/ftjob-abc123/cancel":
            state["cancelled"] = True
            return httpx.Response(200, json={**job, "status": "cancelled"})
        return httpx.Response(404, json={"error": {"message": f"no route {path}"}})

    return state, httpx.Client(transport=httpx.MockTransport(handler))


def test_openai_flow_records_ft_model_and_events(workspace, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    run = workspace.create_run("managed")
    write_data(run)
    state, client = openai_server()
    out = start_managed(
        run, "openai", model="gpt-4.1-mini-2025-04-14", data_version="v1", client=client, today=TODAY
    )
    body = state["job_body"]
    assert body["training_file"] == "file-train" and body["validation_file"] == "file-val"
    assert (
        body["method"]["type"] == "supervised"
        and body["method"]["supervised"]["hyperparameters"]["n_epochs"] >= 1
    )
    uploaded = state["files"][0].decode()
    assert '"messages"' in uploaded and '"metadata"' not in uploaded  # our metadata stays local
    seen = []
    m = wait_managed(out, on_event=seen.append, client=client, poll_s=0)
    assert m["status"] == "completed" and m["fine_tuned_model"].startswith("ft:")
    assert m["trained_tokens"] == 4242 and m["final_step"] == 3 and m["train_loss"] == 0.9
    assert m["best_eval_loss"] == 1.55
    rows = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert all(set(EVENT_KEYS) <= set(r) for r in rows)
    steps = [r["step"] for r in rows if r["event"] == "log" and r["loss"] is not None]
    assert steps == [1, 2, 3]  # each provider event once, oldest first, across two polls
    assert rows[0]["event"] == "start" and rows[-1]["event"] == "end"
    assert "sk-test" not in (out / "job.json").read_text() + (out / "events.jsonl").read_text()
    cancel_managed(out, client=client)
    assert state["cancelled"]


def test_openai_refusal_is_said_plainly(workspace, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    run = workspace.create_run("refused")
    write_data(run)
    _, client = openai_server(refuse=True)
    with pytest.raises(ProviderError) as e:
        start_managed(run, "openai", model="gpt-4.1-mini-2025-04-14", client=client, today=TODAY)
    msg = e.value.one_line()
    assert "2027-01-06" in msg and "winding down" in msg and "together" in msg.lower()
    assert not (run.path / "train").exists()
    with pytest.raises(UserError, match="2027-01-06"):  # after the date: said before any request
        start_managed(run, "openai", model="gpt-4.1-mini", client=client, today=dt.date(2027, 1, 6))


def test_missing_key_is_a_user_error(workspace):
    run = workspace.create_run("nokey")
    write_data(run)
    with pytest.raises(UserError, match="TOGETHER_API_KEY"):
        start_managed(run, "together", model="x", today=TODAY)


def test_together_flow(workspace, monkeypatch):
    monkeypatch.setenv("TOGETHER_API_KEY", "tg-test")
    run = workspace.create_run("together")
    write_data(run)
    state = {"polls": 0, "body": None, "uploads": 0}
    job = {
        "id": "ft-7b3c2a",
        "status": "pending",
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        "output_name": "me/Meta-Llama-3.1-8B-Instruct-Reference-together-1a2b",
        "training_file": "file-t",
        "created_at": "2026-11-23T10:00:00.000Z",
        "total_tokens": None,
    }
    events = [
        {
            "object": "fine-tune-event",
            "created_at": "2026-11-23T10:00:01Z",
            "message": "Fine tune request created",
            "type": "JOB_PENDING",
            "level": "info",
        },
        {
            "object": "fine-tune-event",
            "created_at": "2026-11-23T10:01:00Z",
            "message": "Training started",
            "type": "TRAINING_START",
            "level": "info",
        },
        {
            "object": "fine-tune-event",
            "created_at": "2026-11-23T10:05:00Z",
            "message": "Job finished",
            "type": "JOB_COMPLETE",
            "level": "info",
        },
    ]

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.headers["authorization"] == "Bearer tg-test"
        p = req.url.path
        if p == "/v1/files/upload":
            state["uploads"] += 1
            assert b"fine-tune" in req.content
            return httpx.Response(
                200,
                json={
                    "id": f"file-{state['uploads']}",
                    "object": "file",
                    "filename": "t.jsonl",
                    "purpose": "fine-tune",
                    "bytes": 10,
                },
            )
        if p == "/v1/fine-tunes" and req.method == "POST":
            state["body"] = json.loads(req.content)
            return httpx.Response(200, json=job)
        if p == "/v1/fine-tunes/ft-7b3c2a" and req.method == "GET":
            state["polls"] += 1
            return httpx.Response(
                200,
                json={
                    **job,
                    "status": "running" if state["polls"] == 1 else "completed",
                    "total_tokens": 9000 if state["polls"] > 1 else None,
                },
            )
        if p == "/v1/fine-tunes/ft-7b3c2a/events":
            return httpx.Response(200, json={"data": events[:2] if state["polls"] <= 1 else events})
        if p == "/v1/fine-tunes/ft-7b3c2a/cancel":
            return httpx.Response(200, json={**job, "status": "cancel_requested"})
        return httpx.Response(404, json={"error": {"message": "nope"}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    out = start_managed(
        run, "together", model=job["model"], overrides={"lora_r": 16}, client=client, today=TODAY
    )
    b = state["body"]
    assert b["training_type"] == {
        "type": "Lora",
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "lora_trainable_modules": "all-linear",
    }
    assert (
        b["training_file"] == "file-1" and b["validation_file"] == "file-2" and b["train_on_inputs"] is False
    )
    m = wait_managed(out, client=client, poll_s=0)
    assert (
        m["status"] == "completed"
        and m["fine_tuned_model"] == job["output_name"]
        and m["trained_tokens"] == 9000
    )
    msgs = [json.loads(line).get("message") for line in (out / "events.jsonl").read_text().splitlines()]
    assert msgs.count("Training started") == 1 and "Job finished" in msgs
    assert cancel_managed(out, client=client)["status"] == "cancel_requested"
