"""The CLI side of `tunewise data export` and `tunewise export --push-to-hub` (tools/publish.py does the work)."""

from __future__ import annotations

from pathlib import Path

from tui.cli import common


def _print_stage(con, stage: Path, repo_id: str, repo_type: str, dry_run: bool, url: str | None) -> None:
    from tools.publish import staged_files

    files = staged_files(stage)
    con.print(f"card: {stage / 'README.md'}   (read it before pushing)", soft_wrap=True)
    con.print(f"files: {', '.join(files)}", soft_wrap=True)
    if dry_run:
        con.print(
            f"dry run: nothing uploaded; push with: HF_TOKEN=… tunewise … --push-to-hub {repo_id}",
            soft_wrap=True,
        )
    else:
        con.print(f"pushed to {url} ({repo_type}, {len(files)} files)", soft_wrap=True)


def data_export(run_id, version, fmt, out, push_to_hub, private, dry_run, as_json) -> None:
    from tools.data.sources import EXPORT_FORMATS, export_version
    from tools.errors import UserError
    from tools.workspace import Workspace

    if fmt not in EXPORT_FORMATS:
        raise UserError(
            f"unknown export format {fmt!r}", where="--format", fix=f"use one of {', '.join(EXPORT_FORMATS)}"
        )
    if dry_run and not push_to_hub:
        raise UserError(
            "--dry-run goes with --push-to-hub", where="--dry-run", fix="add --push-to-hub ORG/NAME"
        )
    common.quiet_libraries()
    run = Workspace().get_run(run_id)
    doc: dict = {"run_id": run.id}
    with common.json_mode(as_json):
        path = export_version(run, version, fmt, out)
        doc.update(format=fmt, path=str(path))
        if push_to_hub:
            from tools.publish import check_repo_id, push_folder, stage_dataset

            check_repo_id(push_to_hub)
            stage = stage_dataset(run, version)
            url = None
            if not dry_run:
                url = push_folder(
                    stage,
                    push_to_hub,
                    repo_type="dataset",
                    private=private,
                    message=f"tunewise run {run.id}: data {stage.name.removeprefix('data-')}",
                )
            doc["hub"] = {
                "repo_id": push_to_hub,
                "card": str(stage / "README.md"),
                "dry_run": dry_run,
                "url": url,
            }
    if as_json:
        common.print_json(doc)
        return
    con = common.console()
    con.print(f"wrote {fmt} to {path}", soft_wrap=True)
    if push_to_hub:
        _print_stage(con, Path(doc["hub"]["card"]).parent, push_to_hub, "dataset", dry_run, doc["hub"]["url"])


def model_push(run_id, version, repo_id, merged, private, dry_run, as_json) -> None:
    from tools.publish import check_repo_id, push_folder, stage_model
    from tools.workspace import Workspace

    check_repo_id(repo_id)
    common.quiet_libraries()
    run = Workspace().get_run(run_id)
    artifact = "merged" if merged else "adapter"
    with common.json_mode(as_json):
        if not dry_run:
            from tools.publish import hub_token

            hub_token()  # before a merge: a missing token is known at once
        stage = stage_model(run, version, artifact=artifact, dry_run=dry_run, repo_id=repo_id)
        url = None
        if not dry_run:
            url = push_folder(stage, repo_id, private=private, message=f"tunewise run {run.id}: {stage.name}")
    if as_json:
        common.print_json(
            {
                "run_id": run.id,
                "repo_id": repo_id,
                "artifact": artifact,
                "card": str(stage / "README.md"),
                "stage": str(stage),
                "dry_run": dry_run,
                "url": url,
            }
        )
        return
    _print_stage(common.console(), stage, repo_id, "model", dry_run, url)
