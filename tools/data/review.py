"""The review queue and systematic repair: the one implementation the TUI, the agent and the CLI share.

`review_queue` lists examples a person should look at (flagged, low score, plus a random sample of at
least `sample_share`); `apply_decisions` applies the person's accept/edit/reject decisions to a list of
rows (the agent's review step), `apply_review` writes them into a new data version. A propagated decision
applies the same correction to similar examples (same failure flag or critique category): a rejection
rejects them too, an edit's text replacements are applied to them. Propagation never spreads over a
catch-all category ("ok", "unjudged", none…) or a flag or category every row shares: `similar_ids` says
beforehand which rows a propagation would touch. `is_low_score` is the one low-score rule and
`quality_flags` the one rule for which flags mark a problem.
"""

from __future__ import annotations

import difflib
import math
import random
from typing import Any

from tools.data.schema import answer_text, row_id, with_metadata
from tools.data.versions import SPLITS, load_manifest, read_split, write_data_version
from tools.errors import UserError
from tools.workspace import as_run

LOW_SCORE = 3  # critique scores are 1–5; below 3 the critic found a real problem (its repair threshold)
ACTIONS = ("accept", "edit", "reject")
# flags that say where an example came from or how it was judged, not what is wrong with it
QUALITY_FLAGS_IGNORED = {"repaired", "student_correct", "unjudged"}
# categories that name no problem: grouping by them would sweep up most or all of the data
CATCH_ALL_CATEGORIES = {
    "",
    "none",
    "null",
    "ok",
    "good",
    "fine",
    "pass",
    "unjudged",
    "uncategorized",
    "uncategorised",
    "unknown",
    "other",
    "lenient_parse",
}
UNREAD_REASON = (
    "not reviewed; most of what was reviewed was wrong"  # "don't train" on poor data drops the unread
)
POOR_DATA_MIN_REVIEWED = 5  # reject this many or more of what you reviewed, and …
POOR_DATA_SHARE = 0.5  # … more than this share of it: the data looks poor


def quality_flags(flags) -> list[str]:
    """The flags that say something is wrong with an example (the one flag rule: review queue, TUI filter,
    propagation)."""
    return [str(f) for f in flags or [] if f not in QUALITY_FLAGS_IGNORED]


def is_low_score(score) -> bool:
    """The low-score rule (review queue, TUI filter): a critique score under LOW_SCORE."""
    return isinstance(score, (int, float)) and not isinstance(score, bool) and score < LOW_SCORE


def review_queue(run, version: str | None = None, sample_share: float = 0.1, *, seed: int = 0) -> list[dict]:
    """Items to review: {id, split, row, score, category, flags, why}. Flagged and low-score rows first."""
    run = as_run(run)
    items: list[dict] = []
    rest: list[dict] = []
    for split in ("train", "val", "test"):
        for row in read_split(run, version, split):
            meta = row.get("metadata") or {}
            if meta.get("review"):
                continue  # already reviewed in an earlier version
            why = []
            flags = quality_flags(meta.get("flags"))
            if flags:
                why.append("flagged: " + ", ".join(flags))
            if is_low_score(meta.get("score")):
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


def _meta(row_or_meta: dict) -> dict:
    return row_or_meta.get("metadata") or {} if "messages" in row_or_meta else row_or_meta


def _raw_keys(meta: dict) -> set[str]:
    keys = {f"flag:{f}" for f in quality_flags(meta.get("flags"))}
    cat = str(meta.get("category") or "").strip().lower()
    if cat not in CATCH_ALL_CATEGORIES:
        keys.add(f"category:{cat}")
    return keys


def similarity_keys(rows: list[dict]) -> dict[str, set[str]]:
    """id → the flags and category a propagation may group that row by: quality flags and specific
    categories only, and none that every row shares (that would be the whole data set, not "similar").
    `rows` are chat rows or their metadata dicts ({id, category, flags})."""
    metas = [_meta(r) for r in rows]
    keys = {
        str(m.get("id") or (row_id(r) if "messages" in r else "")): _raw_keys(m)
        for r, m in zip(rows, metas, strict=True)
    }
    if len(keys) > 1:
        shared = set.intersection(*keys.values()) if keys else set()
        if shared:
            keys = {k: v - shared for k, v in keys.items()}
    return keys


def similar_ids(rows: list[dict], target_id: str, keys: dict[str, set[str]] | None = None) -> list[str]:
    """The other rows a propagated decision on `target_id` would touch (in row order); [] when none may."""
    keys = keys if keys is not None else similarity_keys(rows)
    mine = keys.get(target_id) or set()
    if not mine:
        return []
    return [rid for rid, k in keys.items() if rid != target_id and k & mine]


def wrong_words(rejected: int, edited: int) -> str:
    """ "You rejected 7 and corrected 5" — what a person found wrong as written, in their own actions."""
    if not edited:
        return f"You rejected {rejected}"
    return f"You rejected {rejected} and corrected {edited}" if rejected else f"You corrected {edited}"


def poor_data_advice(reviewed: int, rejected: int, *, edited: int = 0, private: bool = False) -> str | None:
    """When most of what a person reviews is wrong as written (rejected, or corrected: walk 19 rejected 7,
    corrected 5 and accepted 2 of 14, and nothing was said), the generated data is poor: say so and what
    helps (never a hosted model for data that must stay with the person)."""
    if reviewed < POOR_DATA_MIN_REVIEWED or (rejected + edited) / reviewed <= POOR_DATA_SHARE:
        return None
    return (
        f"{wrong_words(rejected, edited)} of the {reviewed} examples you reviewed: the generated data looks poor. "
        + (
            "What helps: more examples of your own with good answers."
            if private
            else "What helps: more examples of your own with good answers, or a bigger model to write them (start "
            "tunewise with an OpenAI or Anthropic API key set: OPENAI_API_KEY=… or ANTHROPIC_API_KEY=…)."
        )
    )


def apply_decisions(
    rows: list[dict], decisions: list[dict[str, Any]], *, propagate: bool = False
) -> tuple[list[dict], list[dict]]:
    """Apply accept/edit/reject decisions to `rows`: (kept rows, one record per change made).

    A decision is {id, action: accept|edit|reject, content?, reason?, propagate?}; `content` is the new answer
    for an edit. With `propagate` (for all decisions, or per decision) a rejection or an edit also applies to
    the rows `similar_ids` names. Ids not in `rows` are recorded as skipped, not raised: decisions written for
    one file must not stop a session resumed on another. Pure: the input rows are not modified.
    """
    rows = [
        {"messages": [dict(m) for m in r["messages"]], "metadata": dict(r.get("metadata") or {})}
        for r in rows
    ]
    index = {row_id(r): i for i, r in enumerate(rows)}
    keys = similarity_keys(rows)
    records: list[dict] = []
    rejected: set[str] = set()
    for d in decisions or []:
        rid, action = d.get("id"), d.get("action")
        if action not in ACTIONS:
            raise UserError(f"review action {action!r} for {rid}", fix=f"use one of {', '.join(ACTIONS)}")
        if rid not in index:
            records.append({"id": rid, "action": action, "skipped": "not in this data"})
            continue
        i = index[rid]
        reason = d.get("reason")
        spread = similar_ids(rows, rid, keys) if (propagate or d.get("propagate")) else []
        if action == "accept":
            _mark(rows[i], review="accepted")
            records.append({"id": rid, "action": "accept", "reason": reason})
        elif action == "reject":
            records += _reject(rows, index, keys, rejected, rid, reason, spread)
        else:
            records += _edit(rows, index, rejected, rid, d.get("content"), reason, spread)
    return [r for r in rows if row_id(r) not in rejected], records


def _mark(row: dict, **updates) -> None:
    """Record the review on the row's metadata (with its id, so the id survives an edit)."""
    meta = dict(row.get("metadata") or {})
    meta.update(updates)
    meta.setdefault("id", row_id(row))
    row["metadata"] = meta


def _reject(
    rows: list[dict],
    index: dict[str, int],
    keys: dict[str, set[str]],
    rejected: set[str],
    rid: str,
    reason: str | None,
    spread: list[str],
) -> list[dict]:
    """Reject the row and the similar rows `spread` names (each once); adds them to `rejected`."""
    rejected.add(rid)
    _mark(rows[index[rid]], review="rejected")
    records: list[dict] = [{"id": rid, "action": "reject", "reason": reason, "affected": len(spread)}]
    for other in spread:
        if other in rejected:
            continue
        rejected.add(other)
        _mark(rows[index[other]], review="rejected")
        records.append(
            {
                "id": other,
                "action": "reject",
                "reason": reason,
                "propagated_from": rid,
                "via": sorted(keys[other] & keys[rid]),
            }
        )
    return records


def _edit(
    rows: list[dict],
    index: dict[str, int],
    rejected: set[str],
    rid: str,
    content: Any,
    reason: str | None,
    spread: list[str],
) -> list[dict]:
    """Replace the row's answer with `content`, and make the same replacements in the answers of the similar
    rows `spread` names that are not rejected."""
    if not isinstance(content, str) or not content.strip():
        raise UserError(f"edit for {rid} has no content", fix="pass the corrected answer as `content`")
    i = index[rid]
    before = answer_text(rows[i])
    rows[i]["messages"][-1]["content"] = content
    _mark(rows[i], review="edited", edit_reason=reason)
    records: list[dict] = [{"id": rid, "action": "edit", "reason": reason, "affected": len(spread)}]
    repl = edit_replacements(before, content) if spread else []
    for other in spread:
        j = index[other]
        if other in rejected:
            continue
        text = answer_text(rows[j])
        new_text = text
        for old, new in repl:
            new_text = new_text.replace(old, new)
        if new_text != text:
            rows[j]["messages"][-1]["content"] = new_text
            _mark(rows[j], review="edited", edit_reason=reason)
            records.append(
                {
                    "id": other,
                    "action": "edit",
                    "reason": reason,
                    "propagated_from": rid,
                    "replacements": repl,
                }
            )
    return records


def apply_review(run, version: str | None, decisions: list[dict[str, Any]], propagate: bool = False) -> str:
    """Write a new data version with the decisions applied (`apply_decisions` over every split); returns
    the new version ("vN"). Every decision must name an example of that version."""
    run = as_run(run)
    version = version or run.latest_version("data")
    splits = {s: read_split(run, version, s) for s in SPLITS}
    where: dict[str, str] = {}
    for s in ("train", "val", "test"):
        for r in splits[s]:
            where[row_id(r)] = s
    for d in decisions:
        if d.get("action") not in ACTIONS:
            raise UserError(
                f"review action {d.get('action')!r} for {d.get('id')}", fix=f"use one of {', '.join(ACTIONS)}"
            )
        if d.get("id") not in where:
            raise UserError(
                f"example {d.get('id')} is not in data {version}", fix="take ids from review_queue()"
            )
    every = [r for s in ("train", "val", "test") for r in splits[s]]
    kept, records = apply_decisions(every, decisions, propagate=propagate)
    by_id = {row_id(r): r for r in kept}
    for s in ("train", "val", "test"):
        splits[s] = [with_metadata(by_id[row_id(r)]) for r in splits[s] if row_id(r) in by_id]
    rejected = {r["id"] for r in records if r["action"] == "reject" and not r.get("skipped")}
    splits["regression"] = [r for r in splits["regression"] if row_id(r) not in rejected]
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
