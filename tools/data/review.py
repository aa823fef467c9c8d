"""The review queue and systematic repair.

`review_queue` lists examples a person should look at (flagged, low score, plus a random sample of at
least `sample_share`); `apply_review` writes the person's accept/edit/reject decisions into a new data
version, and with `propagate=True` applies the same correction to similar examples (same failure flag
or critique category): a rejection rejects them too, an edit's text replacements are applied to them.
"""

from __future__ import annotations

import difflib
import math
import random
from typing import Any

from tools.data.schema import answer_text, row_id, with_metadata
from tools.data.versions import SPLITS, _as_run, load_manifest, read_split, write_data_version
from tools.errors import UserError

LOW_SCORE = 3
ACTIONS = ("accept", "edit", "reject")
# flags that say something about the example's quality (propagation groups by these, not by provenance)
QUALITY_FLAGS_IGNORED = {"repaired", "student_correct"}


def review_queue(run, version: str | None = None, sample_share: float = 0.1, *, seed: int = 0) -> list[dict]:
    """Items to review: {id, split, row, score, category, flags, why}. Flagged and low-score rows first."""
    run = _as_run(run)
    items: list[dict] = []
    rest: list[dict] = []
    for split in ("train", "val", "test"):
        for row in read_split(run, version, split):
            meta = row.get("metadata") or {}
            if meta.get("review"):
                continue  # already reviewed in an earlier version
            why = []
            flags = [f for f in meta.get("flags") or [] if f not in QUALITY_FLAGS_IGNORED]
            if flags:
                why.append("flagged: " + ", ".join(flags))
            if isinstance(meta.get("score"), (int, float)) and meta["score"] < LOW_SCORE + 1:
                why.append(f"score {meta['score']}")
            item = {
                "id": row_id(row),
                "split": split,
                "row": row,
                "score": meta.get("score"),
                "category": meta.get("category"),
                "flags": meta.get("flags") or [],
                "why": why,
            }
            (items if why else rest).append(item)
    total = len(items) + len(rest)
    want = math.ceil(sample_share * total) if total else 0  # at least this share, sampled from the rest
    rng = random.Random(seed)
    rng.shuffle(rest)
    for item in rest[:want]:
        item["why"] = ["random sample"]
        items.append(item)
    items.sort(key=lambda it: (it["score"] if isinstance(it["score"], (int, float)) else 99, it["id"]))
    return items


def edit_replacements(before: str, after: str) -> list[tuple[str, str]]:
    """The (old, new) substring replacements that turn `before` into `after` (word level). Pure."""
    a, b = before.split(" "), after.split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old, new = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        if old:  # pure insertions have no anchor to apply elsewhere
            out.append((old, new))
    return out


def _similar_keys(row: dict) -> set[str]:
    meta = row.get("metadata") or {}
    keys = {f"flag:{f}" for f in meta.get("flags") or [] if f not in QUALITY_FLAGS_IGNORED}
    cat = meta.get("category")
    if cat and cat not in ("ok", "unjudged", "lenient_parse"):
        keys.add(f"category:{cat}")
    return keys


def apply_review(run, version: str | None, decisions: list[dict[str, Any]], propagate: bool = False) -> str:
    """Write a new data version with the decisions applied; returns the new version ("vN").

    A decision is {id, action: accept|edit|reject, content?, reason?}; `content` is the new answer for edit.
    """
    run = _as_run(run)
    version = version or run.latest_version("data")
    splits = {s: read_split(run, version, s) for s in SPLITS}
    where: dict[str, tuple[str, int]] = {}
    for s in ("train", "val", "test"):
        for i, r in enumerate(splits[s]):
            where[row_id(r)] = (s, i)
    records = []
    rejected: set[str] = set()
    for d in decisions:
        rid, action = d.get("id"), d.get("action")
        if action not in ACTIONS:
            raise UserError(f"review action {action!r} for {rid}", fix=f"use one of {', '.join(ACTIONS)}")
        if rid not in where:
            raise UserError(f"example {rid} is not in data {version}", fix="take ids from review_queue()")
        s, i = where[rid]
        row = splits[s][i]
        reason = d.get("reason")
        if action == "accept":
            splits[s][i] = with_metadata(row, review="accepted")
            records.append({"id": rid, "action": "accept", "reason": reason})
            continue
        if action == "reject":
            rejected.add(rid)
            records.append({"id": rid, "action": "reject", "reason": reason})
            similar = _similar_keys(row)
            if propagate and similar:
                for other_id, (os_, oi) in where.items():
                    other = splits[os_][oi]
                    if other_id != rid and other_id not in rejected and _similar_keys(other) & similar:
                        rejected.add(other_id)
                        records.append(
                            {
                                "id": other_id,
                                "action": "reject",
                                "reason": reason,
                                "propagated_from": rid,
                                "via": sorted(_similar_keys(other) & similar),
                            }
                        )
            continue
        content = d.get("content")
        if not isinstance(content, str) or not content.strip():
            raise UserError(f"edit for {rid} has no content", fix="pass the corrected answer as `content`")
        before = answer_text(row)
        msgs = [dict(m) for m in row["messages"]]
        msgs[-1]["content"] = content
        splits[s][i] = with_metadata(
            {"messages": msgs, "metadata": row.get("metadata")}, review="edited", edit_reason=reason
        )
        records.append({"id": rid, "action": "edit", "reason": reason})
        similar = _similar_keys(row)
        if propagate and similar:
            repl = edit_replacements(before, content)
            for other_id, (os_, oi) in where.items():
                other = splits[os_][oi]
                if other_id == rid or other_id in rejected or not (_similar_keys(other) & similar):
                    continue
                text = answer_text(other)
                new_text = text
                for old, new in repl:
                    new_text = new_text.replace(old, new)
                if new_text != text:
                    omsgs = [dict(m) for m in other["messages"]]
                    omsgs[-1]["content"] = new_text
                    splits[os_][oi] = with_metadata(
                        {"messages": omsgs, "metadata": other.get("metadata")},
                        review="edited",
                        edit_reason=reason,
                    )
                    records.append(
                        {
                            "id": other_id,
                            "action": "edit",
                            "reason": reason,
                            "propagated_from": rid,
                            "replacements": repl,
                        }
                    )
    for s in ("train", "val", "test", "regression"):
        splits[s] = [r for r in splits[s] if row_id(r) not in rejected]
    n_prop = sum(1 for r in records if r.get("propagated_from"))
    parent_manifest = load_manifest(run, version)
    return write_data_version(
        run,
        splits,
        {
            "parent": version,
            "reason": f"review: {len(decisions)} decision(s)"
            + (f", {n_prop} propagated to similar examples" if n_prop else ""),
            "sources": parent_manifest.get("sources", []),
            "decisions": records,
            "review": {"decisions": len(decisions), "propagated": n_prop, "rejected": len(rejected)},
        },
    )
