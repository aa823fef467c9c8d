"""Datasets in and out beyond JSONL and CSV: parquet, `datasets.save_to_disk` folders, Hub datasets.

    rows, info = import_source("hf://datasets/org/name:train")      # cache first, like models
    rows, info = import_source("data.parquet", input_col="q", output_col="a")
    out = export_version(run, "v2", "parquet")                       # runs/<id>/export-data/v2/parquet/

Records map to chat rows exactly like CSV and JSONL columns (tools/data/convert.py): `messages` is a
chat row, `conversations` is ShareGPT, `instruction`/`output` is Alpaca, and otherwise the input and
answer columns are picked from the same names (input/prompt/question/…, output/completion/answer/…)
or named with --input-col/--output-col. Every bad record is one UserError naming the source and row.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from tools.data.convert import INPUT_KEYS, OUTPUT_KEYS, _jsonl_row, _need_str, _sharegpt_row
from tools.data.schema import make_row
from tools.errors import UserError

HF_PREFIX = "hf://datasets/"
EXPORT_FORMATS = ("jsonl", "parquet", "alpaca", "sharegpt", "hf")
EXPORT_SPLITS = ("train", "val", "test", "regression", "golden")
_HF_URI = re.compile(r"^([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+?))?(?::([\w.-]+))?$")


def is_tabular_source(source: str) -> bool:
    """Whether `tunewise data import SOURCE` goes through this module (else convert.import_file)."""
    if source.startswith(HF_PREFIX):
        return True
    p = Path(source).expanduser()
    return p.suffix.lower() == ".parquet" or (p.is_dir() and _is_saved_dataset(p))


def _is_saved_dataset(p: Path) -> bool:
    return (p / "dataset_dict.json").exists() or (p / "state.json").exists()


# ----------------------------------------------------------------- records → rows
def _detect(rec: dict) -> str:
    if "conversations" in rec:
        return "sharegpt"
    if "instruction" in rec:
        return "alpaca"
    return "jsonl"


def records_to_rows(
    records: Iterable[dict],
    where: str,
    *,
    fmt: str | None = None,
    input_col: str | None = None,
    output_col: str | None = None,
    system: str | None = None,
    columns: list[str] | None = None,
) -> list[dict]:
    """Canonical rows from table records, with the CSV/JSONL column mapping. `where` names the source."""
    if fmt not in (None, "alpaca", "sharegpt", "jsonl", "csv"):
        raise UserError(f"unknown format {fmt!r}", fix="use alpaca | sharegpt | jsonl, or leave it out")
    if columns is not None and (input_col or output_col):
        for key, flag in ((input_col, "--input-col"), (output_col, "--output-col")):
            if key is not None and key not in columns:
                raise UserError(
                    f"column {key!r} not found (columns: {', '.join(columns)})",
                    where=where,
                    fix=f"pass {flag} with one of the column names",
                )
    if columns is not None and not (input_col and output_col) and fmt is None:
        names = set(columns)
        if not ({"messages", "conversations", "instruction"} & names) and (
            not (input_col or any(k in names for k in INPUT_KEYS))
            or not (output_col or any(k in names for k in OUTPUT_KEYS))
        ):
            raise UserError(
                f"cannot tell input and output apart (columns: {', '.join(columns)})",
                where=where,
                fix="pass --input-col and --output-col",
            )
    rows: list[dict] = []
    kind = None if fmt in (None, "csv") else fmt
    for i, rec in enumerate(records, 1):
        at = f"{where} row {i}"
        if not isinstance(rec, dict):
            raise UserError(f"expected a record, got {type(rec).__name__}", where=at)
        if isinstance(rec.get("metadata"), str):  # our own parquet/hf exports keep metadata as JSON text
            try:
                rec = {**rec, "metadata": json.loads(rec["metadata"])}
            except ValueError:
                rec = {k: v for k, v in rec.items() if k != "metadata"}
        if input_col or output_col:
            k = "jsonl"
        else:
            k = kind or _detect(rec)
        if k == "alpaca":
            instr = _need_str(rec.get("instruction"), at, "instruction")
            extra = rec.get("input") or ""
            user = f"{instr}\n\n{extra}".strip() if extra else instr
            rows.append(
                make_row(user, _need_str(rec.get("output"), at, "output"), system=system or rec.get("system"))
            )
        elif k == "sharegpt":
            rows.append(_sharegpt_row(rec, at, system))
        else:
            rows.append(_jsonl_row(rec, at, input_col, output_col, system))
    if not rows:
        raise UserError("no examples found", where=where, fix="check the source and its split")
    return rows


# ----------------------------------------------------------------- sources
def parse_hf_uri(uri: str) -> tuple[str, str | None, str | None]:
    """'hf://datasets/org/name@rev:split' → ('org/name', 'rev', 'split')."""
    m = _HF_URI.match(uri[len(HF_PREFIX) :])
    if m is None:
        raise UserError(
            f"not a Hub dataset address: {uri}",
            fix="write hf://datasets/ORG/NAME, optionally @REVISION and :SPLIT (e.g. hf://datasets/org/name:train)",
        )
    return m.group(1), m.group(2), m.group(3)


def _pick_split(dd, split: str | None, where: str):
    """One split of a DatasetDict (default train, or the only one)."""
    names = list(dd.keys())
    if split is None:
        split = "train" if "train" in names else (names[0] if len(names) == 1 else None)
        if split is None:
            raise UserError(
                f"several splits and none is `train` ({', '.join(names)})",
                where=where,
                fix="name one: SOURCE:SPLIT or --split SPLIT",
            )
    if split not in names:
        raise UserError(
            f"no split {split!r} (splits: {', '.join(names)})", where=where, fix="pick one of those"
        )
    return dd[split], split


def _load_hub_dataset(uri: str, split: str | None):
    from tools.llm.hub import hub_cache_dir, hub_offline, not_cached_error, snapshot

    repo_id, revision, uri_split = parse_hf_uri(uri)
    split = uri_split or split
    import datasets

    datasets.disable_progress_bars()
    # datasets' own cache beside the hub cache, from the environment as it is now (datasets reads it at import)
    cache_dir = os.environ.get("HF_DATASETS_CACHE") or str(hub_cache_dir().parent / "datasets")
    try:
        folder = snapshot(repo_id, revision, repo_type="dataset")
    except UserError:
        if not hub_offline("dataset"):
            raise
        # offline: datasets may still hold a prepared copy from an earlier load_dataset(repo_id)
        try:
            dd = datasets.load_dataset(repo_id, revision=revision, cache_dir=cache_dir)
        except Exception:  # noqa: BLE001 - nothing usable offline: the one-line error
            raise not_cached_error(repo_id, revision, "dataset") from None
        ds, split = _pick_split(dd, split, uri)
        return ds, {"hub_id": repo_id, "revision": revision, "split": split}
    try:
        dd = datasets.load_dataset(str(folder), cache_dir=cache_dir)
    except Exception as e:  # noqa: BLE001 - a layout datasets cannot read
        raise UserError(
            f"datasets cannot read {repo_id} ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
            where=str(folder),
            fix="check the dataset's files (parquet, JSON or CSV), or import one file with a path",
        ) from None
    ds, split = _pick_split(dd, split, uri)
    return ds, {"hub_id": repo_id, "revision": revision or "main", "commit": folder.name, "split": split}


def _load_saved(path: Path, split: str | None):
    import datasets

    try:
        obj = datasets.load_from_disk(str(path))
    except Exception as e:  # noqa: BLE001
        raise UserError(
            f"not a readable datasets folder ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
            where=str(path),
            fix="pass the folder that Dataset.save_to_disk / DatasetDict.save_to_disk wrote",
        ) from None
    if isinstance(obj, datasets.DatasetDict):
        ds, split = _pick_split(obj, split, str(path))
        return ds, {"split": split}
    return obj, {"split": split}


def _load_parquet(path: Path):
    import pyarrow.parquet as pq

    if path.is_dir():
        raise UserError(
            "is a folder, not a parquet file", where=str(path), fix="pass the .parquet file itself"
        )
    if not path.is_file():
        raise UserError("file not found", where=str(path), fix="check the path")
    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - not parquet, truncated, …
        raise UserError(
            f"not a readable parquet file ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
            where=str(path),
            fix="pass a .parquet file (pandas: df.to_parquet; datasets: ds.to_parquet)",
        ) from None
    return table.column_names, table.to_pylist()


def import_source(
    source: str,
    *,
    fmt: str | None = None,
    input_col: str | None = None,
    output_col: str | None = None,
    system: str | None = None,
    split: str | None = None,
) -> tuple[list[dict], dict]:
    """(canonical rows, a manifest source entry) from parquet, a save_to_disk folder or hf://datasets/…"""
    info: dict = {"kind": "import", "path": source}
    if source.startswith(HF_PREFIX):
        ds, extra = _load_hub_dataset(source, split)
        columns, records, fmt_name = list(ds.column_names), ds, "hub"
    else:
        p = Path(source).expanduser()
        if p.suffix.lower() == ".parquet":
            columns, records = _load_parquet(p)
            extra, fmt_name = {}, "parquet"
        else:
            ds, extra = _load_saved(p, split)
            columns, records, fmt_name = list(ds.column_names), ds, "save_to_disk"
        info["path"] = str(p.resolve())
    rows = records_to_rows(
        records, source, fmt=fmt, input_col=input_col, output_col=output_col, system=system, columns=columns
    )
    info.update(format=fmt_name, rows=len(rows), columns=columns, **{k: v for k, v in extra.items() if v})
    return rows, info


# ----------------------------------------------------------------- export
def _flat(row: dict) -> dict:
    """A row for a table: messages as a list of {role, content}, metadata as JSON text (its keys vary)."""
    return {
        "messages": [{"role": m["role"], "content": m["content"]} for m in row["messages"]],
        "metadata": json.dumps(row.get("metadata") or {}, ensure_ascii=False, sort_keys=True),
    }


def _write_parquet(rows: list[dict], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(
        [
            ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("metadata", pa.string()),
        ]
    )
    pq.write_table(pa.Table.from_pylist([_flat(r) for r in rows], schema=schema), path)
    return path


def export_version(
    run, version: str | None, fmt: str, out: str | Path | None = None, *, hub_layout: bool = False
) -> Path:
    """Write one data version's splits in `fmt` (atomic: a temp folder renamed into place).

    jsonl: canonical chat rows; alpaca / sharegpt: JSONL in those shapes; parquet: one file per split
    (`messages` + `metadata`); hf: a `DatasetDict.save_to_disk` folder. `hub_layout` names parquet files
    the way the Hub's dataset viewer reads them (data/<split>-00000-of-00001.parquet)."""

    from tools.data.convert import export_rows
    from tools.data.versions import load_manifest, read_split
    from tools.workspace import Workspace, atomic_write_json

    if fmt not in EXPORT_FORMATS:
        raise UserError(
            f"unknown export format {fmt!r}", where="--format", fix=f"use one of {', '.join(EXPORT_FORMATS)}"
        )
    run = run if hasattr(run, "path") else Workspace().get_run(run)
    manifest = load_manifest(run, version)
    version = manifest["version"]
    splits = {s: read_split(run, version, s) for s in EXPORT_SPLITS}
    splits = {s: rows for s, rows in splits.items() if rows}
    final = Path(out) if out else run.path / "export-data" / version / ("hub" if hub_layout else fmt)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = {}
    for split, rows in splits.items():
        if fmt == "parquet":
            name = f"data/{split}-00000-of-00001.parquet" if hub_layout else f"{split}.parquet"
            _write_parquet(rows, tmp / name)
        elif fmt in ("jsonl", "alpaca", "sharegpt"):
            name = f"{split}.jsonl"
            export_rows(rows, tmp / name, fmt)
        else:
            continue
        files[split] = name
    if fmt == "hf":
        import datasets

        datasets.disable_progress_bars()
        dd = datasets.DatasetDict(
            {s: datasets.Dataset.from_list([_flat(r) for r in rows]) for s, rows in splits.items()}
        )
        dd.save_to_disk(str(tmp))
        files = {s: s for s in splits}
    if hub_layout:  # only the data files go up (a JSON beside them would read as another data file)
        files = {}
    else:
        atomic_write_json(
            tmp / "tunewise_export.json",
            {
                "run_id": run.id,
                "data_version": version,
                "format": fmt,
                "files": files,
                "counts": {s: len(r) for s, r in splits.items()},
                "reimport": f"tunewise data import {final / (files.get('train') or '')}"
                if fmt != "hf"
                else f"tunewise data import {final} --split train",
            },
        )
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final
