"""Datasets in and out: parquet, datasets.save_to_disk folders and hf://datasets/… (a real Hub cache layout,
offline) with the CSV column mapping; `data export` in every format, each read back by `data import`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tools.errors import UserError

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
QA = [{"question": f"What is {i} plus {i}?", "answer": str(2 * i), "topic": "sums"} for i in range(12)]


def _pairs(rows):
    from tools.data.schema import answer_text, user_text

    return sorted((user_text(r), answer_text(r)) for r in rows)


def _write_parquet(path, records):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


def test_parquet_uses_the_csv_column_mapping(tmp_path):
    from tools.data.sources import import_source

    p = _write_parquet(tmp_path / "qa.parquet", QA)
    rows, info = import_source(str(p), system="Add the numbers.")
    assert _pairs(rows) == sorted((r["question"], r["answer"]) for r in QA)
    assert rows[0]["messages"][0] == {"role": "system", "content": "Add the numbers."}
    assert info["format"] == "parquet" and info["rows"] == 12 and "question" in info["columns"]
    # named columns, like --input-col/--output-col on a CSV
    odd = _write_parquet(tmp_path / "odd.parquet", [{"q_text": "hi", "gold": "hello"}])
    with pytest.raises(UserError, match="cannot tell input and output apart"):
        import_source(str(odd))
    rows, _ = import_source(str(odd), input_col="q_text", output_col="gold")
    assert _pairs(rows) == [("hi", "hello")]
    with pytest.raises(UserError, match="column 'nope' not found") as e:
        import_source(str(odd), input_col="nope", output_col="gold")
    assert "--input-col" in e.value.one_line()
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(UserError, match="not a readable parquet file"):
        import_source(str(bad))


def test_save_to_disk_folder_and_its_splits(tmp_path):
    import datasets

    from tools.data.sources import import_source

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list([{"instruction": "Say hi", "input": "", "output": "hi"}] * 3),
            "test": datasets.Dataset.from_list([{"instruction": "Say bye", "input": "", "output": "bye"}]),
        }
    )
    dd.save_to_disk(str(tmp_path / "saved"))
    rows, info = import_source(str(tmp_path / "saved"))  # alpaca columns, the train split by default
    assert _pairs(rows) == [("Say hi", "hi")] * 3 and info["split"] == "train"
    rows, _ = import_source(str(tmp_path / "saved"), split="test")
    assert _pairs(rows) == [("Say bye", "bye")]
    with pytest.raises(UserError, match="no split 'dev'"):
        import_source(str(tmp_path / "saved"), split="dev")
    single = datasets.Dataset.from_list(
        [{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}]
    )
    single.save_to_disk(str(tmp_path / "one"))
    rows, _ = import_source(str(tmp_path / "one"))  # ShareGPT columns
    assert _pairs(rows) == [("a", "b")]


@pytest.fixture
def hub_dataset(tmp_path, monkeypatch):
    """hf://datasets/testorg/sums as huggingface_hub caches it: blobs, snapshots/<commit>/data/*.parquet, refs/main."""
    from tests.test_hub_models import make_hub_cache

    src = tmp_path / "src"
    _write_parquet(src / "data" / "train-00000-of-00001.parquet", QA[:10])
    _write_parquet(src / "data" / "test-00000-of-00001.parquet", QA[10:])
    home = tmp_path / "hf"
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_DATASETS_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    make_hub_cache(home / "hub", "testorg/sums", src, COMMIT, repo_type="dataset")
    return home


def test_a_hub_dataset_loads_from_the_cache_through_datasets(hub_dataset):
    from tools.data.sources import import_source

    rows, info = import_source("hf://datasets/testorg/sums")
    assert _pairs(rows) == sorted((r["question"], r["answer"]) for r in QA[:10])
    assert info["hub_id"] == "testorg/sums" and info["commit"] == COMMIT and info["split"] == "train"
    rows, info = import_source("hf://datasets/testorg/sums:test")
    assert len(rows) == 2 and info["split"] == "test"
    rows, _ = import_source(f"hf://datasets/testorg/sums@{COMMIT}:test")
    assert len(rows) == 2
    assert (hub_dataset / "datasets").is_dir()  # datasets' cache went beside the hub cache, not to ~/.cache


def test_a_missing_hub_dataset_offline_is_one_line(hub_dataset):
    from tools.data.sources import import_source

    with pytest.raises(UserError) as e:
        import_source("hf://datasets/testorg/nope:train")
    line = e.value.one_line()
    assert "\n" not in line and "testorg/nope" in line and "HF_HUB_OFFLINE" in line
    assert "hf download testorg/nope --repo-type dataset" in line
    with pytest.raises(UserError, match="not a Hub dataset address"):
        import_source("hf://datasets/just-a-name")


def test_cli_imports_a_hub_dataset(hub_dataset, tmp_path):
    env = {**os.environ, "HF_HOME": str(hub_dataset), "HF_HUB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "tui.cli.main",
        "data",
        "import",
        "hf://datasets/testorg/sums:train",
        "--json",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert sum(doc["counts"][s] for s in ("train", "val", "test")) == 10
    manifest = json.loads(
        (tmp_path / ".tunewise" / "runs" / doc["run_id"] / "data" / "v1" / "manifest.json").read_text()
    )
    assert manifest["sources"][0]["hub_id"] == "testorg/sums" and manifest["sources"][0]["commit"] == COMMIT
    r = subprocess.run(
        [*cmd[:5], "hf://datasets/testorg/absent"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "testorg/absent" in r.stderr


def test_export_every_format_and_read_it_back(workspace, tmp_path):
    from tools.data.convert import import_file
    from tools.data.schema import make_row
    from tools.data.sources import EXPORT_FORMATS, export_version, import_source
    from tools.data.versions import read_split, split_rows, write_data_version

    run = workspace.create_run("exp")
    rows = [make_row(r["question"], r["answer"], system="Add.") for r in QA]
    v = write_data_version(run, split_rows(rows, seed=0), {"reason": "test"})
    train = read_split(run, v, "train")
    assert train
    for fmt in EXPORT_FORMATS:
        out = export_version(run, v, fmt)
        assert out == run.path / "export-data" / v / fmt
        if fmt == "parquet":
            back, _ = import_source(str(out / "train.parquet"))
            assert [r["metadata"]["id"] for r in back] == [r["metadata"]["id"] for r in train]
        elif fmt == "hf":
            back, _ = import_source(str(out), split="train")
        else:
            back = import_file(out / "train.jsonl")
        assert _pairs(back) == _pairs(train), fmt
        assert all(r["messages"][0] == {"role": "system", "content": "Add."} for r in back), fmt
        assert json.loads((out / "tunewise_export.json").read_text())["counts"]["train"] == len(train)
    with pytest.raises(UserError, match="unknown export format"):
        export_version(run, v, "xlsx")
