"""Push a run's adapter, merged model or data version to the Hugging Face Hub, with a generated card.

    stage = stage_model(run, "v1", repo_id="org/name")          # runs/<id>/hub/<vN>-adapter/ with README.md
    url = push_folder(stage, "org/name")                          # create_repo + upload_folder

Staging is a folder you can read before anything leaves the machine (`--dry-run` stops there). The
token comes from HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) only; it is passed to huggingface_hub and never
printed, logged or written into a card. HF_ENDPOINT points the upload at another Hub (or a test server).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.workspace import Run

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def check_repo_id(repo_id: str, flag: str = "--push-to-hub") -> str:
    if not _REPO_ID.match(repo_id or "") or ".." in repo_id or len(repo_id) > 96:
        raise UserError(
            f"{repo_id!r} is not a Hub repository id",
            where=flag,
            fix="write ORG/NAME, e.g. my-org/orders-lora",
        )
    return repo_id


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # large weights: no second copy on disk
    except OSError:
        shutil.copy2(src, dst)


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def stage_model(
    run: Run,
    train_version: str | None,
    *,
    artifact: str = "adapter",
    dry_run: bool = False,
    repo_id: str | None = None,
) -> Path:
    """`runs/<id>/hub/<vN>-<artifact>/`: README.md (the card) plus the files to upload.

    artifact="adapter" takes train/vN/adapter; "merged" takes export/merged (exported first when it is
    missing or from another training, unless `dry_run`)."""
    from tools.train.card import model_card, write_card
    from tools.workspace import read_json

    if artifact not in ("adapter", "merged"):
        raise UserError(f"unknown artifact {artifact!r}", fix="push the adapter or the merged model")
    train_dir = run.version_dir("train", train_version)
    version = train_dir.name
    adapter = train_dir / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise UserError(
            f"training {version} has no adapter yet",
            where=str(adapter),
            fix=f"finish (or resume) it first: tunewise train resume {run.id} {version}",
        )
    src: Path | None = adapter
    if artifact == "merged":
        exp = run.path / "export"
        info = read_json(exp / "export.json") if (exp / "export.json").exists() else {}
        if info.get("train_version") != version or not (exp / "merged" / "config.json").exists():
            if dry_run:
                src = None  # the card alone: merging is the slow part and a dry run changes nothing
            else:
                from tools.train.export import export_run

                export_run(run, version)
        if src is not None:
            src = exp / "merged"
    stage = _fresh_dir(run.path / "hub" / f"{version}-{artifact}")
    if src is not None:
        for f in sorted(src.rglob("*")):
            if f.is_file() and f.name != "README.md":
                _link_or_copy(f, stage / f.relative_to(src))
    write_card(stage / "README.md", model_card(run, version, artifact=artifact, repo_id=repo_id))
    return stage


def stage_dataset(run: Run, version: str | None) -> Path:
    """`runs/<id>/hub/data-<vN>/`: data/<split>-00000-of-00001.parquet and README.md (a dataset card)."""
    from tools.data.sources import export_version
    from tools.data.versions import load_manifest
    from tools.train.card import dataset_card, write_card

    version = load_manifest(run, version)["version"]
    stage = run.path / "hub" / f"data-{version}"
    export_version(run, version, "parquet", stage, hub_layout=True)
    splits = {p.name.split("-")[0]: f"data/{p.name}" for p in sorted((stage / "data").glob("*.parquet"))}
    write_card(stage / "README.md", dataset_card(run, version, splits))
    return stage


def hub_token() -> str:
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if not token:
        raise UserError(
            "no Hugging Face token",
            where="HF_TOKEN",
            fix="export HF_TOKEN=<a write token from your Hub account settings> (or check the card first "
            "with --dry-run)",
        )
    return token


def staged_files(stage: Path) -> list[str]:
    return sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())


def push_folder(
    stage: Path, repo_id: str, *, repo_type: str = "model", private: bool = False, message: str | None = None
) -> str:
    """Create the repo (if needed) and upload the staged folder in one commit; returns the repo URL."""
    from tools.llm.hub import hub_offline
    from tools.llm.redact import redact

    check_repo_id(repo_id)
    token = hub_token()
    if hub_offline():
        raise UserError(
            "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set: pushing needs the Hub",
            where="HF_HUB_OFFLINE",
            fix=f"run the push with HF_HUB_OFFLINE=0 (the card is already written: {stage / 'README.md'})",
        )
    from huggingface_hub import HfApi

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(stage),
            repo_type=repo_type,
            commit_message=message or "Upload from tunewise",
        )
    except Exception as e:  # noqa: BLE001 - auth, network, server: one line, the token redacted
        status: Any = getattr(getattr(e, "response", None), "status_code", None)  # an HTTP status, or None
        first = (str(e).splitlines() or [""])[0]
        fix = {
            401: "the token was refused: check HF_TOKEN (a write token)",
            403: f"the token may not write to {repo_id.split('/')[0]}: use a token with write access there",
            404: "check the repository id and HF_ENDPOINT",
        }.get(status, "check the network, HF_ENDPOINT and HF_TOKEN, then retry")
        raise UserError(
            redact(
                f"upload to {repo_id} failed ({type(e).__name__}{f' {status}' if status else ''}: {first[:200]})"
            ),
            where=str(stage),
            fix=fix,
        ) from None
    return str(url)
