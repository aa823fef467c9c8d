"""`tunewise export RUN --push-to-hub ORG/NAME`: a real LoRA adapter (PEFT on the embedded model) uploaded with
its model card to a local HTTP server speaking the Hub API (HF_ENDPOINT); the token stays out of every output."""

from __future__ import annotations

import json

import pytest

from tests.hub_server import run_cli, serving
from tests.test_train_run import SYSTEM, write_data


@pytest.fixture(scope="module")
def adapter_run(tmp_path_factory, embedded_dir):
    """A run with a spec, a data version with its manifest, and train/v1 holding a real (untrained) adapter."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tools.data.versions import write_data_version
    from tools.workspace import Workspace, atomic_write_json, atomic_write_yaml, read_jsonl

    root = tmp_path_factory.mktemp("pushws")
    ws = Workspace(root).ensure()
    run = ws.create_run("cities", run_id="cities")
    atomic_write_yaml(
        run.spec_path, {"name": "cities", "spec": "Extract the city as JSON.", "system_prompt": SYSTEM}
    )
    d = write_data(ws.create_run("scratch"))
    write_data_version(
        run, {s: list(read_jsonl(d / f"{s}.jsonl")) for s in ("train", "val", "test")}, {"reason": "t"}
    )
    out = run.path / "train" / "v1"
    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir))
    peft = get_peft_model(
        model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], task_type="CAUSAL_LM")
    )
    peft.save_pretrained(str(out / "adapter"))
    AutoTokenizer.from_pretrained(str(embedded_dir)).save_pretrained(str(out / "adapter"))
    atomic_write_json(
        out / "config.json",
        {
            "model": "embedded",
            "data_version": "v1",
            "lora_r": 2,
            "system_prompt": SYSTEM,
            "reasons": {"lora_r": "test"},
        },
    )
    atomic_write_json(out / "metrics.json", {"status": "completed", "final_step": 0})
    return root, run


@pytest.fixture
def fake_hub(monkeypatch):
    with serving(monkeypatch) as hub:
        yield hub


def test_dry_run_writes_the_card_and_sends_nothing(adapter_run, fake_hub):
    root, run = adapter_run
    hub, _ = fake_hub
    r = run_cli(
        root, ["export", run.id, "--push-to-hub", "me/cities-lora", "--dry-run"], {"HF_ENDPOINT": hub.url}
    )
    assert r.returncode == 0, r.stderr
    card = run.path / "hub" / "v1-adapter" / "README.md"
    assert str(card) in r.stdout and hub.requests == []
    text = card.read_text()
    assert "library_name: peft" in text and "## Evaluation" in text and "Not evaluated yet" in text
    r = run_cli(root, ["export", run.id, "--push-to-hub", "me/cities", "--merged", "--dry-run", "--json"])
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["artifact"] == "merged" and doc["url"] is None
    assert not (run.path / "export").exists() and hub.requests == []


def test_push_uploads_adapter_and_card_and_keeps_the_token_out(adapter_run, fake_hub):
    root, run = adapter_run
    hub, token = fake_hub
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": token}
    r = run_cli(root, ["export", run.id, "--push-to-hub", "me/cities-lora", "--private"], env)
    assert r.returncode == 0, r.stderr
    repo = hub.repos["model:me/cities-lora"]
    assert repo["private"] is True
    adapter = run.path / "train" / "v1" / "adapter"
    assert repo["files"]["adapter_model.safetensors"] == (adapter / "adapter_model.safetensors").read_bytes()
    assert json.loads(repo["files"]["adapter_config.json"]) == json.loads(
        (adapter / "adapter_config.json").read_text()
    )
    assert repo["files"]["README.md"].decode() == (run.path / "hub" / "v1-adapter" / "README.md").read_text()
    assert {p for _, p, _ in hub.requests} >= {"/api/repos/create", "/api/models/me/cities-lora/commit/main"}
    # the token went only into the Authorization header
    assert token not in r.stdout + r.stderr
    for f in root.rglob("*"):
        if f.is_file() and f.suffix in (".md", ".json", ".jsonl", ".log", ".yaml", ".txt"):
            assert token not in f.read_text(errors="replace"), f
    assert all(token not in content.decode(errors="replace") for content in repo["files"].values())

    # no token: one line, nothing sent
    before = len(hub.requests)
    r = run_cli(root, ["export", run.id, "--push-to-hub", "me/cities-lora"], {"HF_ENDPOINT": hub.url})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "HF_TOKEN" in r.stderr
    # a refused token: one line naming the fix, the token redacted
    r = run_cli(root, ["export", run.id, "--push-to-hub", "me/x"], {**env, "HF_TOKEN": "hf_" + "x" * 32})
    assert r.returncode == 2 and "token was refused" in r.stderr and "x" * 32 not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and len(hub.requests) > before
    r = run_cli(root, ["export", run.id, "--push-to-hub", "not a repo"], env)
    assert r.returncode == 2 and "ORG/NAME" in r.stderr
