"""Expected answers a person marked wrong while reading an evaluation.

`eval/vN/reference_flags.jsonl` holds the current set, one JSON object per line (the file is rewritten
atomically on every change; unmarking removes the line):

    {"id": "t-3", "split": "test", "input": "…", "reference": "…", "problem": "wrong_reference",
     "eval_version": "v2", "data_version": "v3", "test_source": ".../data/v3/test.jsonl",
     "flagged_at": "2026-05-01T10:02:03"}

`id` is outputs.jsonl's row id (the row's `metadata.id`, else `row-<index>`), `split` is "test" or
"regression". The next data version reads every eval's flags and fixes or drops those rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

FILE_NAME = "reference_flags.jsonl"
PROBLEM = "wrong_reference"


def flags_path(eval_dir: str | Path) -> Path:
    return Path(eval_dir) / FILE_NAME


def read_reference_flags(eval_dir: str | Path) -> dict[tuple[str, str], dict]:
    """{(split, id): flag} for one eval version; empty when nothing was marked."""
    from tools.workspace import read_jsonl

    p = flags_path(eval_dir)
    if not p.exists():
        return {}
    out = {}
    for row in read_jsonl(p):
        if isinstance(row, dict) and row.get("id") is not None:
            out[(str(row.get("split") or "test"), str(row["id"]))] = row
    return out


def set_reference_flag(
    eval_dir: str | Path,
    example: dict,
    wrong: bool,
    *,
    report: dict | None = None,
) -> dict[tuple[str, str], dict]:
    """Mark (wrong=True) or unmark the expected answer of `example` ({"id", "split", "input",
    "reference"}); returns the flags now on disk."""
    from tools.workspace import atomic_write_jsonl

    flags = read_reference_flags(eval_dir)
    key = (str(example.get("split") or "test"), str(example["id"]))
    if wrong:
        rep = report or {}
        flags[key] = {
            "id": key[1],
            "split": key[0],
            "input": example.get("input"),
            "reference": example.get("reference"),
            "problem": PROBLEM,
            "eval_version": rep.get("eval_version") or Path(eval_dir).name,
            "data_version": rep.get("data_version"),
            "test_source": rep.get("test_source"),
            "flagged_at": dt.datetime.now().isoformat(timespec="seconds"),
        }
    else:
        flags.pop(key, None)
    atomic_write_jsonl(flags_path(eval_dir), list(flags.values()))
    return flags
