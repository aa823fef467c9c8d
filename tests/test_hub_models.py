"""Models by Hub id: a real Hugging Face cache layout (models--org--name/blobs, snapshots/<hash>, refs/main)
built offline from the embedded model's files, loaded by id through the real code path (no mocks)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.errors import UserError

REPO = "testorg/smol-tiny"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_hub_cache(hub: Path, repo_id: str, src: Path, commit: str, *, repo_type: str = "model") -> Path:
    """The layout huggingface_hub writes: blobs named by content hash, a snapshot of relative symlinks
    into blobs, and refs/main naming the snapshot. Blobs link to `src`'s files (nothing is copied)."""
    repo = hub / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snap = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    for f in sorted(src.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(src)
        blob = repo / "blobs" / _sha256(f)
        if not blob.exists():
            blob.symlink_to(f.resolve())
        dest = snap / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(os.path.relpath(blob, dest.parent))
    (repo / "refs" / "main").write_text(commit)
    return snap


@pytest.fixture
def hf_home(tmp_path, monkeypatch, embedded_dir):
    home = tmp_path / "hf"
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    make_hub_cache(home / "hub", REPO, embedded_dir, COMMIT)
    return home


def test_parse_hub_id(tmp_path):
    from tools.llm.hub import parse_hub_id

    assert parse_hub_id("org/name") == ("org/name", None)
    assert parse_hub_id("HuggingFaceTB/SmolLM2-135M-Instruct@v1.0") == (
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "v1.0",
    )
    assert parse_hub_id(f"org/name@{COMMIT}") == ("org/name", COMMIT)
    for not_an_id in ("embedded", "gpt-5-mini", "./org/name", "/abs/path", "a/b/c", "org/../x", "", None):
        assert parse_hub_id(not_an_id) is None, not_an_id
    (tmp_path / "org" / "name").mkdir(parents=True)  # a local folder of that name wins
    assert parse_hub_id("org/name") is None


def test_a_model_loads_by_hub_id_from_the_cache(hf_home, embedded):
    """`testorg/smol-tiny` (and @main, @<commit>) resolve to the cached snapshot and answer exactly like the
    embedded model they were made from: the id went through resolve_model_path and transformers."""
    from tools.llm.embedded import resolve_model_path
    from tools.llm.local import LocalProvider

    snap = hf_home / "hub" / "models--testorg--smol-tiny" / "snapshots" / COMMIT
    assert resolve_model_path(REPO) == snap
    assert resolve_model_path(f"{REPO}@main") == snap
    assert resolve_model_path(f"{REPO}@{COMMIT}") == snap

    msgs = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Capital of France?"},
    ]
    by_id = LocalProvider(REPO, dtype="float32")
    assert by_id.model_path == snap
    assert (
        by_id.complete(msgs, max_tokens=6, temperature=0).text
        == embedded.complete(msgs, max_tokens=6, temperature=0).text
    )


def test_a_missing_id_offline_is_one_line_naming_the_fix(hf_home):
    from tools.llm.embedded import resolve_model_path

    with pytest.raises(UserError) as e:
        resolve_model_path("testorg/not-here@v2")
    line = e.value.one_line()
    assert "\n" not in line
    assert "testorg/not-here@v2" in line and "hf download testorg/not-here --revision v2" in line
    assert "huggingface-cli download" in line and "HF_HUB_OFFLINE" in line
    assert "models--testorg--not-here" in line
    with pytest.raises(UserError, match="not in the Hugging Face cache"):
        resolve_model_path(f"{REPO}@ffffffffffffffffffffffffffffffffffffffff")  # an uncached revision


def test_cli_model_flag_takes_a_hub_id(hf_home, tmp_path):
    """Every --model goes through the same resolution: a missing id is exit 2 with one line."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "chat", "--model", "testorg/missing", "--no-cache", "hi"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "testorg/missing" in lines[0] and "HF_HUB_OFFLINE" in lines[0]
    assert "Traceback" not in r.stderr


def test_training_plans_with_a_hub_id(hf_home, workspace):
    """The student of a training can be a Hub id (the config keeps the id; the tokenizer is read from the cache)."""
    from tests.test_train_run import write_data
    from tools.train.runner import plan_training

    run = workspace.create_run("hubid")
    write_data(run)
    cfg, doc = plan_training(run, data_version="v1", model=REPO, workspace=workspace)
    assert cfg.model == REPO and doc["dataset"]["n_train"] == 8


def test_doctor_lists_cached_students(hf_home, tmp_path):
    from tools.llm.hub import cached_causal_lms
    from tui.cli.doctor import hub_student_rows

    # an encoder in the cache is not a student
    enc = tmp_path / "enc"
    enc.mkdir()
    (enc / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "hidden_size": 8}))
    (enc / "model.safetensors").write_bytes(b"x")
    (enc / "tokenizer.json").write_text("{}")
    make_hub_cache(hf_home / "hub", "testorg/an-encoder", enc, COMMIT)

    found = cached_causal_lms()
    assert [m.repo_id for m in found] == [REPO]
    assert found[0].architecture == "LlamaForCausalLM" and found[0].revision == COMMIT
    assert 100e6 < found[0].n_params < 200e6
    rows = hub_student_rows()
    assert rows[0][0] == f"student {REPO}" and f"--model {REPO}" in rows[0][2]
