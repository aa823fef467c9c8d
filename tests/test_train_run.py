"""A few-step CPU LoRA run on the embedded model, end to end: config → subprocess → events → adapter → export."""

from __future__ import annotations

import json

import pytest

from tools.train.sft import EVENT_KEYS, EVENT_TYPES

SYSTEM = "Reply with the city as JSON."
CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Oslo", "Vienna", "Lisbon", "Prague"]


def write_data(run, n_train: int = 8, n_val: int = 2, version: str = "v1"):
    d = run.path / "data" / version
    d.mkdir(parents=True, exist_ok=True)

    def row(i):
        c = CITIES[i % len(CITIES)]
        return {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"I flew to {c} last week."},
                {"role": "assistant", "content": json.dumps({"city": c})},
            ],
            "metadata": {"i": i},
        }

    for split, rows in (("train", range(n_train)), ("val", range(3, 3 + n_val)), ("test", range(2))):
        (d / f"{split}.jsonl").write_text("".join(json.dumps(row(i)) + "\n" for i in rows))
    return d


TINY = {
    "max_steps": 4,
    "lora_r": 4,
    "lora_alpha": 8,
    "max_length": 128,
    "per_device_train_batch_size": 4,
    "per_device_eval_batch_size": 2,
    "gradient_accumulation_steps": 1,
    "eval_steps": 2,
    "save_steps": 2,
    "logging_steps": 1,
    "warmup_steps": 0,
    "learning_rate": 1e-3,
    "dtype": "float32",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tools.train.runner import train_blocking
    from tools.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("trainws")).ensure()
    run = ws.create_run("tiny")
    write_data(run)
    seen: list[dict] = []
    metrics = train_blocking(run, data_version="v1", overrides=TINY, on_event=seen.append, workspace=ws)
    return run, metrics, seen


def test_run_completes_and_records_loss(trained):
    run, m, seen = trained
    assert m["status"] == "completed", m
    assert m["final_step"] == 4 and m["train_loss"] is not None and m["best_eval_loss"] is not None
    assert m["train_loss"] < m["first_train_loss"]  # lr 1e-3 on 8 repeated examples: loss falls
    assert m["tokens_per_s"] > 0 and m["peak_mem_mb"] > 0
    out = run.path / "train" / "v1"
    assert (out / "adapter" / "adapter_config.json").exists()
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == [
        "checkpoint-2",
        "checkpoint-4",
    ]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["data_version"] == "v1" and cfg["reasons"]["lora_r"] == "set by --set"
    assert cfg["reasons"]["method"] and cfg["system_prompt"] == SYSTEM


def test_events_follow_the_schema(trained):
    run, m, seen = trained
    rows = [
        json.loads(line) for line in (run.path / "train" / "v1" / "events.jsonl").read_text().splitlines()
    ]
    assert rows == seen  # the callback saw exactly what is on disk
    for r in rows:
        assert set(EVENT_KEYS) <= set(r) and r["event"] in EVENT_TYPES
        assert isinstance(r["time"], float) and isinstance(r["step"], int)
    assert rows[0]["event"] == "start" and rows[-1]["event"] == "end" and rows[-1]["status"] == "completed"
    logs = [r for r in rows if r["event"] == "log"]
    assert [r["step"] for r in logs] == [1, 2, 3, 4]
    assert all(
        isinstance(r["loss"], float) and r["lr"] is not None and r["grad_norm"] is not None for r in logs
    )
    assert all(r["max_steps"] == 4 and r["eta_s"] is not None and r["mem_mb"] > 0 for r in logs)
    assert [r["step"] for r in rows if r["event"] == "eval"] == [2, 4]
    assert [r["step"] for r in rows if r["event"] == "checkpoint"] == [2, 4]
    assert any(r["tokens_per_s"] for r in logs)


def test_reloaded_adapter_changes_outputs(trained, embedded):
    from tools.llm.local import LocalProvider

    run, _, _ = trained
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "I flew to Oslo last week."}]
    tuned = LocalProvider("embedded", adapter=str(run.path / "train" / "v1" / "adapter"), dtype="float32")
    base_text = embedded.complete(msgs, max_tokens=12, temperature=0).text
    tuned_text = tuned.complete(msgs, max_tokens=12, temperature=0).text
    assert tuned_text and tuned_text != base_text


def test_export_merged_model_loads_and_answers(trained):
    from tools.llm.local import LocalProvider
    from tools.train.export import export_run

    run, _, _ = trained
    out = export_run(run, "v1")
    assert (out / "merged" / "config.json").exists() and (out / "adapter" / "adapter_config.json").exists()
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./") and SYSTEM in modelfile and "<|im_end|>" in modelfile
    readme = (out / "README.md").read_text()
    assert "tunewise serve --model" in readme and "merged" in readme
    info = json.loads((out / "export.json").read_text())
    assert info["train_version"] == "v1"
    assert info["gguf"] or "convert_hf_to_gguf.py" in info["gguf_note"]  # says exactly what is missing
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "I flew to Rome last week."}]
    merged = LocalProvider(model=str(out / "merged"), dtype="float32")
    adapted = LocalProvider("embedded", adapter=str(run.path / "train" / "v1" / "adapter"), dtype="float32")
    text = merged.complete(msgs, max_tokens=12, temperature=0).text
    assert text
    # merging is exact up to float rounding: greedy answers agree with base+adapter
    assert text == adapted.complete(msgs, max_tokens=12, temperature=0).text


def test_early_stopping_on_eval_loss_keeps_the_best(workspace):
    from tools.train.runner import train_blocking

    run = workspace.create_run("early")
    write_data(run)
    # no eval can improve by 10 nats: patience 1 stops at the second evaluation at the latest
    m = train_blocking(
        run,
        overrides={**TINY, "max_steps": 8, "early_stopping_patience": 1, "early_stopping_threshold": 10.0},
        workspace=workspace,
    )
    assert m["status"] == "early_stopped", m
    assert m["final_step"] in (2, 4) and m["best_eval_loss"] is not None
    assert (run.path / "train" / "v1" / "adapter" / "adapter_config.json").exists()
