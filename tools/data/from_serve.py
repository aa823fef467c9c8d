"""Production back to data: `tunewise data import --from-serve-log DIR [--since DATE] [--max-rating 2]`.

From a `tunewise serve --log DIR` log (tools/llm/servelog.py), the answers people corrected or rated low:
- a **corrected** answer becomes a training row: the messages the model saw, then the correction as the
  assistant's answer (the target). Rows are added to the run like `data import` adds rows: a new data version
  from the previous one plus these, split again with no near-duplicate across splits, the regression set kept;
- a **low-rated** answer without a correction has no target yet: it goes to the run's review queue
  `serve-queue.jsonl` (one JSON object a line with `input`, so it also works as a task's `inputs:` file for the
  teacher to answer), with the rating and the rejected answer. A correction posted later moves it into the
  data at the next import.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tools.errors import UserError

QUEUE_FILE = "serve-queue.jsonl"


def parse_since(value: str | None) -> float | None:
    """A YYYY-MM-DD (UTC day start) or ISO date-time, as an epoch; None when not given."""
    if value is None:
        return None
    try:
        d = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"--since {value!r} is not a date",
            where="--since",
            fix="write YYYY-MM-DD, e.g. --since 2026-11-01",
        ) from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.timestamp()


def select(directory: str | Path, *, since: str | None = None, max_rating: int = 2) -> dict[str, Any]:
    """{"rows": corrected rows, "queue": low-rated uncorrected items, "counts": {...}} from a serve log."""
    from tools.data.schema import user_text, with_metadata
    from tools.llm.servelog import read_log

    if not 1 <= int(max_rating) <= 5:
        raise UserError(f"--max-rating {max_rating} is out of range", where="--max-rating", fix="use 1 to 5")
    start = parse_since(since)
    data = read_log(directory)
    rows, queue = [], []
    counts = {"requests": 0, "rated": 0, "corrected": 0, "low_rated": 0, "skipped": 0}
    for rid, req in data.requests.items():
        if start is not None and (req.get("ts") or 0) < start:
            continue
        if not (200 <= (req.get("status") or 0) < 300):
            continue
        counts["requests"] += 1
        fb = data.feedback.get(rid)
        if not fb:
            continue
        rating, correction = fb.get("rating"), fb.get("correction")
        counts["rated"] += rating is not None
        messages = [m for m in req.get("messages") or [] if m.get("role") in ("system", "user", "assistant")]
        if not messages or messages[-1].get("role") != "user":
            counts["skipped"] += 1  # nothing to answer (a log from an unusual client)
            continue
        meta = {
            "source": "serve-log",
            "request_id": rid,
            "rating": rating,
            "served_answer": req.get("response"),
            "served_model": req.get("model"),
            "served_version": req.get("version"),
            "served_at": req.get("time"),
        }
        if correction is not None:
            counts["corrected"] += 1
            row = {"messages": messages + [{"role": "assistant", "content": correction}], "metadata": meta}
            rows.append(with_metadata(row))
        elif rating is not None and rating <= max_rating:
            counts["low_rated"] += 1
            queue.append(
                {
                    "input": user_text({"messages": messages}),
                    "messages": messages,
                    "answer": req.get("response"),
                    "rating": rating,
                    "request_id": rid,
                    "served_at": req.get("time"),
                    "why": f"rated {rating}/5 with no correction: needs a target (a person's or the teacher's)",
                }
            )
    return {"rows": rows, "queue": queue, "counts": counts}


def import_serve_log(
    run,
    directory: str | Path,
    *,
    since: str | None = None,
    max_rating: int = 2,
    seed: int = 0,
    picked: dict | None = None,
) -> dict[str, Any]:
    """Write the corrected rows as a new data version of `run` and the low-rated rest as its review queue.
    `picked`: what `select` returned for the same arguments (so a caller can look before creating a run)."""
    from tools.data.versions import read_split, split_rows, write_data_version
    from tools.workspace import atomic_write_jsonl

    picked = picked or select(directory, since=since, max_rating=max_rating)
    rows, queue = picked["rows"], picked["queue"]
    source = {
        "kind": "serve-log",
        "path": str(Path(directory).resolve()),
        "since": since,
        "max_rating": max_rating,
        **picked["counts"],
    }
    version = None
    with run.lock():
        if rows:
            parent = run.latest_version("data")
            previous = read_split(run, parent, "all") if parent else []
            prev_reg = read_split(run, parent, "regression") if parent else None
            splits = split_rows(previous + rows, seed=seed, previous_regression=prev_reg or None)
            version = write_data_version(
                run,
                splits,
                {
                    "reason": f"{len(rows)} corrected answer(s) from the serve log {Path(directory).name}",
                    "sources": [source],
                },
            )
        queue_path = run.path / QUEUE_FILE
        if queue or queue_path.exists():
            atomic_write_jsonl(queue_path, queue)
    return {
        "run_id": run.id,
        "version": version,
        "rows": len(rows),
        "queued": len(queue),
        "queue": str(queue_path) if queue else None,
        "counts": picked["counts"],
    }
