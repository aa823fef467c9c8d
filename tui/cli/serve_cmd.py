"""The CLI side of the serve log: `tunewise monitor DIR` and `tunewise data import --from-serve-log DIR`.

(No `app` and no `register`: main.py and data_cmd.py call these functions.)
"""

from __future__ import annotations

from pathlib import Path


def run_monitor(log_dir: Path, *, spec=None, run=None, since=None, as_json: bool = False) -> None:
    from tools.evals.monitor import daily, find_spec, render
    from tools.llm.servelog import read_log
    from tui.cli.common import console, print_json

    data = read_log(log_dir)  # one-line error when DIR holds no log
    task, source = find_spec(data, str(spec) if spec else None, run)
    days = daily(log_dir, spec=task, since=since)
    if as_json:
        print_json({"log": str(log_dir), "spec": source, "days": days})
        return
    console().print(render(days, source), soft_wrap=True, markup=False, highlight=False)


def run_import(log_dir: Path, *, run=None, since=None, max_rating: int = 2, seed: int = 0, as_json=False):
    from tools.data.from_serve import import_serve_log, select
    from tools.data.versions import load_manifest
    from tui.cli.common import console, print_json
    from tui.cli.data_cmd import _run_for

    picked = select(log_dir, since=since, max_rating=max_rating)  # bad input stops here: nothing written
    c = picked["counts"]
    if not picked["rows"] and not picked["queue"] and not run:
        msg = (
            f"serve log {log_dir}: {c['requests']} answered, {c['rated']} rated, none corrected and none rated "
            f"≤ {max_rating}: nothing to import"
        )
        if as_json:
            print_json({"run_id": None, "version": None, "rows": 0, "queued": 0, "counts": c})
        else:
            console().print(msg)
        return
    r = _run_for(run, f"serve-{Path(log_dir).resolve().name}")
    out = import_serve_log(r, log_dir, since=since, max_rating=max_rating, seed=seed, picked=picked)
    if out["version"]:
        out["counts_by_split"] = load_manifest(r, out["version"])["counts"]
    if as_json:
        print_json(out)
        return
    c = out["counts"]
    con = console()
    con.print(
        f"serve log {log_dir}: {c['requests']} answered, {c['rated']} rated, {c['corrected']} corrected, "
        f"{c['low_rated']} rated ≤ {max_rating} without a correction"
    )
    if out["version"]:
        splits = ", ".join(f"{k} {n}" for k, n in out["counts_by_split"].items())
        con.print(
            f"run {r.id}: data {out['version']} — {out['rows']} corrected answer(s) added as targets ({splits})"
        )
    else:
        con.print(f"run {r.id}: no corrected answer to add (no new data version)")
    if out["queued"]:
        con.print(
            f"review queue: {out['queue']} — {out['queued']} low-rated answer(s) that need a target: post a "
            "correction (POST /v1/feedback) and import again, or give the file to the teacher as the task's "
            "`inputs:`"
        )
