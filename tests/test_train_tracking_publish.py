"""Experiment tracking and publishing on one real run: 2 CPU LoRA steps on the embedded model with the
default `report_to` (TensorBoard when installed), a real evaluation, then the model card and a push to a
local HTTP server that speaks the Hub endpoints `create_repo` and `upload_folder` use (HF_ENDPOINT)."""

from __future__ import annotations

import json

import pytest

from tests.hub_server import run_cli, serving
from tests.test_train_run import SYSTEM, TINY, write_data
from tools.errors import ConfigError

SPEC = {
    "name": "cities",
    "spec": "Extract the city a sentence mentions as a JSON object with the key city.",
    "system_prompt": SYSTEM,
    "output": {"format": "json", "schema": {"type": "object", "required": ["city"]}},
}

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("tensorboard") is None, reason="tensorboard not installed"
)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, embedded):
    from tools.data.versions import write_data_version
    from tools.evals import evaluate
    from tools.evals.systems import build_systems
    from tools.spec import parse_spec_dict
    from tools.train.runner import train_blocking
    from tools.workspace import Workspace, atomic_write_yaml, read_jsonl

    root = tmp_path_factory.mktemp("trackws")
    ws = Workspace(root).ensure()
    run = ws.create_run("cities", run_id="cities")
    atomic_write_yaml(run.spec_path, SPEC)
    scratch = ws.create_run("scratch")  # the test rows, written as a real data version with its manifest
    d = write_data(scratch)
    splits = {s: list(read_jsonl(d / f"{s}.jsonl")) for s in ("train", "val", "test")}
    write_data_version(
        run, splits, {"reason": "cities for the tracking test", "sources": [{"kind": "import", "rows": 12}]}
    )
    overrides = {k: v for k, v in TINY.items()} | {"max_steps": 2, "eval_steps": 2, "save_steps": 2}
    metrics = train_blocking(run, data_version="v1", overrides=overrides, workspace=ws)
    spec = parse_spec_dict(SPEC)
    train_rows = list(read_jsonl(run.path / "data" / "v1" / "train.jsonl"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUNEWISE_DTYPE", "float32")
        mp.setenv("TUNEWISE_HOME", str(root))
        systems = build_systems(spec, run.path, train_rows, names=["base", "tuned"], max_tokens=8)
        report = evaluate(
            run, systems=systems, spec=spec, use_judge=False, workspace=ws, providers={"base": embedded}
        )
    return root, run, metrics, report


def test_report_to_is_a_config_field_with_a_reason(tracked):
    _, run, metrics, _ = tracked
    cfg = json.loads((run.path / "train" / "v1" / "config.json").read_text())
    assert cfg["report_to"] == "tensorboard" and "event files" in cfg["reasons"]["report_to"]
    assert metrics["status"] == "completed" and metrics["tensorboard"].endswith("train/v1/tensorboard")


def test_the_loss_curve_is_in_the_tensorboard_event_file(tracked):
    from tools.evals.tracking import read_scalars

    _, run, _, _ = tracked
    tb = run.path / "train" / "v1" / "tensorboard"
    assert list(tb.glob("events.out.tfevents.*"))
    scalars = read_scalars(tb)
    logged = [
        json.loads(line)
        for line in (run.path / "train" / "v1" / "events.jsonl").read_text().splitlines()
        if json.loads(line)["event"] == "log"
    ]
    loss = scalars["train/loss"]
    assert [s for s, _ in loss] == [r["step"] for r in logged] == [1, 2]
    assert [v for _, v in loss] == pytest.approx([r["loss"] for r in logged], rel=1e-4)
    assert [s for s, _ in scalars["eval/loss"]] == [2] and "train/learning_rate" in scalars


def test_the_evaluation_and_verdict_go_to_the_same_run(tracked):
    from tools.evals.tracking import read_scalars

    _, run, _, report = tracked
    tb = run.path / "train" / "v1" / "tensorboard"
    assert report["trackers"] == [{"train": "v1", "tracker": "tensorboard", "where": str(tb), "step": 2}]
    scalars = read_scalars(tb)
    m = report["primary_metric"]
    tuned = report["systems"]["tuned-v1"]["metrics"][m]
    assert scalars[f"eval/tuned-v1/{m}"] == [(2, pytest.approx(tuned["mean"]))]
    assert scalars[f"eval/tuned-v1/{m}_ci_low"] == [(2, pytest.approx(tuned["ci"][0]))]
    assert f"eval/base/{m}" in scalars
    assert scalars["eval/verdict_passed"] == [(2, 1.0 if report["verdict"]["passed"] else 0.0)]


def test_trackers_asked_for_but_absent_or_unknown_are_clear_errors():
    import importlib.util

    from tools.train.config import TrainConfig, apply_overrides

    for name in ("wandb", "mlflow"):
        if importlib.util.find_spec(name) is None:
            with pytest.raises(ConfigError, match=f"pip install {name}") as e:
                apply_overrides(TrainConfig(), {"report_to": f"tensorboard,{name}"})
            assert e.value.where == "report_to"
    with pytest.raises(ConfigError, match="unknown tracker 'comet'"):
        apply_overrides(TrainConfig(), {"report_to": "comet"})
    assert apply_overrides(TrainConfig(), {"report_to": "none"}).report_to == "none"


def test_the_model_card_is_made_from_the_run(tracked):
    from tools.publish import stage_model

    root, run, metrics, report = tracked
    stage = stage_model(run, "v1", repo_id="me/cities-lora", dry_run=True)
    card_path = run.path / "hub" / "v1-adapter" / "README.md"
    assert stage == card_path.parent
    card = card_path.read_text()
    assert card.startswith("---\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\nlibrary_name: peft\n")
    assert SPEC["spec"] in card  # the task
    assert "Data version v1 (parent –): cities for the tracking test" in card  # the data version
    assert "| train | 8 |" in card and "| test | 2 |" in card  # and its manifest counts
    assert (
        "| lora_r | 4 | set by --set |" in card and "| report_to | tensorboard |" in card
    )  # config + reasons
    m = report["primary_metric"]
    tuned = report["systems"]["tuned-v1"]["metrics"][m]
    assert (
        f"| tuned-v1 (this model) | tuned | {tuned['mean']:.3f} [{tuned['ci'][0]:.3f}, {tuned['ci'][1]:.3f}]"
        in card
    )
    assert (
        f"**Verdict: {report['verdict']['status']}**" in card and report["verdict"]["reasons"][0][:40] in card
    )
    assert "## Intended use" in card and "## Limits" in card
    assert (run.path / "hub" / "v1-adapter" / "adapter_config.json").exists()
    # the merged model's card, before any merge: a dry run builds nothing
    stage = stage_model(run, "v1", artifact="merged", repo_id="me/cities", dry_run=True)
    merged_card = (stage / "README.md").read_text()
    assert "library_name: transformers" in merged_card and 'from_pretrained("me/cities")' in merged_card
    assert sorted(p.name for p in stage.iterdir()) == ["README.md"] and not (run.path / "export").exists()


@pytest.fixture
def fake_hub(monkeypatch):
    with serving(monkeypatch) as hub:
        yield hub


def test_data_export_pushes_a_dataset_with_its_card(tracked, fake_hub):
    import io

    import pyarrow.parquet as pq

    root, run, _, _ = tracked
    hub, token = fake_hub
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": token}
    r = run_cli(
        root,
        ["data", "export", run.id, "--format", "parquet", "--push-to-hub", "me/cities-data", "--json"],
        env,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["path"].endswith("export-data/v1/parquet") and doc["hub"]["url"].endswith(
        "datasets/me/cities-data"
    )
    files = hub.repos["dataset:me/cities-data"]["files"]
    assert set(files) == {
        "README.md",
        *(f"data/{s}-00000-of-00001.parquet" for s in ("train", "val", "test")),
    }
    train = pq.read_table(io.BytesIO(files["data/train-00000-of-00001.parquet"])).to_pylist()
    assert len(train) == 8 and train[0]["messages"][0] == {"role": "system", "content": SYSTEM}
    card = files["README.md"].decode()
    assert "- split: train\n    path: data/train-00000-of-00001.parquet" in card and "| train | 8 |" in card
