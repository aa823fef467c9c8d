"""Data versions: `runs/<id>/data/vN/` with train/val/test/regression JSONL and a manifest.

Nothing is changed in place: every change writes a new version whose manifest names its parent,
its sources, counts, file hashes, critique statistics, decisions and the reason for the change.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tools.data.schema import answer_text, normalize_text, row_id, row_label, user_text, with_metadata
from tools.errors import UserError
from tools.workspace import (
    Run,
    as_run,
    atomic_write_json,
    atomic_write_jsonl,
    read_json,
    read_jsonl,
)

# golden: the person's own examples held out as the most trusted test (never trained on, never in a prompt)
SPLITS = ("train", "val", "test", "regression", "golden")
REGRESSION_MIN, REGRESSION_MAX = 20, 50


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def critique_stats(rows: list[dict]) -> dict:
    """Score distribution, mean, categories and flags of a list of rows (from their metadata)."""
    scores = [r.get("metadata", {}).get("score") for r in rows]
    scored = [s for s in scores if isinstance(s, (int, float))]
    cats = Counter(
        r.get("metadata", {}).get("category") for r in rows if r.get("metadata", {}).get("category")
    )
    flags = Counter(f for r in rows for f in (r.get("metadata", {}).get("flags") or []))
    sources = Counter(r.get("metadata", {}).get("source") or "unknown" for r in rows)
    return {
        "scored": len(scored),
        "mean_score": round(sum(scored) / len(scored), 3) if scored else None,
        "score_counts": {str(k): v for k, v in sorted(Counter(scored).items())},
        "categories": dict(cats.most_common()),
        "flags": dict(flags.most_common()),
        "sources": dict(sources),
    }


def write_data_version(run: Run | str, splits: dict[str, list[dict]], manifest: dict) -> str:
    """Write a new version (train/val/test/regression + manifest.json) atomically; returns "vN".

    The version directory is filled under a temporary name and renamed at the end, so a crash never
    leaves a half-written version behind.
    """
    run = as_run(run)
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown splits {sorted(unknown)}; expected {SPLITS}")
    base = run.path / "data"
    base.mkdir(parents=True, exist_ok=True)
    version = run.next_version("data")
    tmp = base / f".{version}.tmp-{random.randrange(1 << 30):x}"
    tmp.mkdir(parents=True)
    counts, hashes = {}, {}
    for name in SPLITS:
        rows = [with_metadata(r) for r in splits.get(name, [])]
        path = tmp / f"{name}.jsonl"
        atomic_write_jsonl(path, rows)
        counts[name] = len(rows)
        hashes[f"{name}.jsonl"] = _sha256(path)
    all_rows = [r for name in ("train", "val", "test") for r in splits.get(name, [])]
    full = {
        "version": version,
        "parent": manifest.get("parent", run.latest_version("data")),
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "reason": manifest.get("reason", ""),
        "sources": manifest.get("sources", []),
        "counts": counts,
        "hashes": hashes,
        "critique": manifest.get("critique") or critique_stats(all_rows),
        "decisions": manifest.get("decisions", []),
    }
    for k, v in manifest.items():
        full.setdefault(k, v)
    atomic_write_json(tmp / "manifest.json", full)
    final = base / version
    if final.exists():
        raise UserError(
            f"data version {version} appeared while writing",
            where=str(final),
            fix="another process is writing this run; retry",
        )
    tmp.rename(final)
    return version


def _version_dir(run: Run, version: str | None) -> Path:
    d = run.version_dir("data", version)
    if not d.is_dir():
        have = ", ".join(run.versions("data")) or "none"
        raise UserError(f"run {run.id} has no data version {version}", fix=f"use one of: {have}")
    return d


def read_split(run: Run | str, version: str | None, split: str) -> list[dict]:
    if split not in SPLITS and split != "all":
        raise UserError(f"unknown split {split!r}", fix=f"use one of {', '.join(SPLITS)}")
    run = as_run(run)
    d = _version_dir(run, version)
    if split == "all":
        return [r for s in ("train", "val", "test") for r in read_split(run, d.name, s)]
    path = d / f"{split}.jsonl"
    return list(read_jsonl(path)) if path.exists() else []


def load_manifest(run: Run | str, version: str | None = None) -> dict:
    run = as_run(run)
    return read_json(_version_dir(run, version) / "manifest.json")


# ---------------------------------------------------------------- split
def _pick_for_coverage(rows: list[dict], n: int, label_key: str | None, rng: random.Random) -> list[dict]:
    """Round-robin over (label or category, length bucket) strata so every kind of example is represented."""
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        meta = r.get("metadata") or {}
        kind = row_label(r, label_key) if label_key else (meta.get("category") or meta.get("source") or "")
        length = len(user_text(r))
        bucket = 0 if length < 80 else 1 if length < 300 else 2
        strata[(str(kind), bucket)].append(r)
    for lst in strata.values():
        rng.shuffle(lst)
    keys = sorted(strata)
    picked: list[dict] = []
    while len(picked) < n and any(strata[k] for k in keys):
        for k in keys:
            if strata[k] and len(picked) < n:
                picked.append(strata[k].pop())
    return picked


def split_rows(  # noqa: C901 - grouping, stratification and the regression carry-over must see the same rows in one pass
    rows: list[dict],
    *,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    label_key: str | None = None,
    regression_n: int = 30,
    previous_regression: list[dict] | None = None,
) -> dict[str, list]:
    """Split into train/val/test (+ regression) with no exact or near-duplicate inputs across splits.

    Near-duplicate inputs are grouped first and a whole group goes to one split (the leakage check).
    With `label_key` ("assistant" or a metadata field) the split is stratified by label. The regression
    set (20–50 rows, picked for coverage from held-out rows) is kept from `previous_regression` when given.
    """
    from tools.data.similarity import near_duplicate_groups

    if abs(sum(ratios) - 1.0) > 1e-6 or any(r < 0 for r in ratios):
        raise UserError(f"split ratios {ratios} must be non-negative and sum to 1", fix="e.g. 0.8,0.1,0.1")
    rng = random.Random(seed)
    rows = [with_metadata(r) for r in rows]
    # drop exact duplicates (same id and same answer) up front
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in rows:
        key = (row_id(r), normalize_text(answer_text(r)))
        if key not in seen:
            seen.add(key)
            unique.append(r)
    rows = unique
    regression = [with_metadata(r) for r in (previous_regression or [])]
    reg_texts = [user_text(r) for r in regression]
    groups = near_duplicate_groups([user_text(r) for r in rows] + reg_texts)
    reg_groups = set(groups[len(rows) :])
    by_group: dict[int, list[dict]] = defaultdict(list)
    leaked_into_regression: list[dict] = []
    for r, g in zip(rows, groups, strict=False):
        if g in reg_groups:
            leaked_into_regression.append(r)  # near-duplicate of a regression prompt: keep out of training
        else:
            by_group[g].append(r)
    # stratify groups by the label of their first row
    strata: dict[str, list[list[dict]]] = defaultdict(list)
    for g in sorted(by_group, key=lambda g: row_id(by_group[g][0])):
        strata[row_label(by_group[g][0], label_key) or ""].append(by_group[g])
    out: dict[str, list] = {"train": [], "val": [], "test": []}
    total = sum(len(v) for v in by_group.values())
    train_groups: list[list[dict]] = []
    for label in sorted(strata):
        grp_list = strata[label]
        rng.shuffle(grp_list)
        n = sum(len(g) for g in grp_list)
        want_test = round(n * ratios[2])
        want_val = round(n * ratios[1])
        if total >= 10:  # small sets still get at least one held-out example per split
            want_test = max(want_test, 1 if ratios[2] > 0 and n >= 3 else 0)
            want_val = max(want_val, 1 if ratios[1] > 0 and n >= 3 else 0)
        for grp in grp_list:
            if len([x for x in out["test"] if (row_label(x, label_key) or "") == label]) < want_test:
                out["test"].extend(grp)
            elif len([x for x in out["val"] if (row_label(x, label_key) or "") == label]) < want_val:
                out["val"].extend(grp)
            else:
                train_groups.append(grp)
    if 3 <= total < 10:
        # too small for the ratios to round to a held-out row: still keep one to test on (and one to
        # validate on from 5 rows), taken from the training side, smallest near-duplicate group first
        for name, ratio, least in (("test", ratios[2], 3), ("val", ratios[1], 5)):
            if ratio > 0 and total >= least and not out[name] and train_groups:
                smallest = min(train_groups, key=lambda g: (len(g), row_id(g[0])))
                train_groups.remove(smallest)
                out[name].extend(smallest)
    out["train"] = [r for grp in train_groups for r in grp]
    out["test"].extend(leaked_into_regression)
    if previous_regression is None:
        pool = out["test"] + out["val"]
        n_reg = min(max(regression_n, 0), REGRESSION_MAX, len(pool))
        regression = _pick_for_coverage(pool, n_reg, label_key, rng)
    for name in out:
        out[name].sort(key=row_id)
    out["regression"] = sorted(regression, key=row_id)
    return out


def with_own_test(
    rows: list[dict],
    own_test: list[dict],
    *,
    seed: int = 0,
    label_key: str | None = None,
    regression_n: int = 30,
    val: float = 0.1,
) -> dict[str, list]:
    """Splits when the person brought their own test set (`test:` in the task): it is the test split, as
    given, never regenerated; made rows that repeat or nearly repeat one of its inputs stay out of every
    split (no leakage); the rest go to train and `val` of them to validation, where the regression set
    comes from."""
    from tools.data.similarity import near_duplicate_groups

    groups = near_duplicate_groups([user_text(r) for r in rows] + [user_text(r) for r in own_test])
    test_groups = set(groups[len(rows) :])
    clean = [r for r, g in zip(rows, groups, strict=False) if g not in test_groups]
    splits = split_rows(
        clean, ratios=(round(1.0 - val, 4), val, 0.0), seed=seed, label_key=label_key, regression_n=0
    )
    splits["test"] = [
        with_metadata(r, source=(r.get("metadata") or {}).get("source") or "own test") for r in own_test
    ]
    # the must-keep rows come from the test and validation, as split_rows picks them: from validation alone
    # they took all of it, and the tuned model had nothing left to practise on between rounds
    pool = splits["test"] + splits["val"]
    n_reg = min(max(regression_n, 0), REGRESSION_MAX, len(pool))
    splits["regression"] = sorted(_pick_for_coverage(pool, n_reg, label_key, random.Random(seed)), key=row_id)
    return splits


def leakage(splits: dict[str, list[dict]], threshold: float = 0.8) -> list[tuple[str, str, str]]:
    """(split_a, split_b, id) for every train input that exactly or nearly repeats a held-out input."""
    from tools.data.similarity import jaccard_estimate, minhash

    held = [(name, r) for name in ("val", "test", "regression") for r in splits.get(name, [])]
    held_sigs = [(name, row_id(r), normalize_text(user_text(r)), minhash(user_text(r))) for name, r in held]
    found = []
    for r in splits.get("train", []):
        t = user_text(r)
        norm, sig = normalize_text(t), minhash(t)
        for name, _rid, hnorm, hsig in held_sigs:
            if norm == hnorm or jaccard_estimate(sig, hsig) >= threshold:
                found.append(("train", name, row_id(r)))
                break
    return found


# ---------------------------------------------------------------- diff and stats
def diff_versions(run: Run | str, a: str, b: str) -> dict[str, Any]:
    """What changed between two versions: added, removed and changed examples per split, by id."""
    run = as_run(run)
    out: dict[str, Any] = {"a": a, "b": b, "splits": {}}
    for split in SPLITS:
        ra = {row_id(r): r for r in read_split(run, a, split)}
        rb = {row_id(r): r for r in read_split(run, b, split)}
        changed = [i for i in ra.keys() & rb.keys() if ra[i]["messages"] != rb[i]["messages"]]
        out["splits"][split] = {
            "added": sorted(rb.keys() - ra.keys()),
            "removed": sorted(ra.keys() - rb.keys()),
            "changed": sorted(changed),
            "count_a": len(ra),
            "count_b": len(rb),
        }
    ma, mb = load_manifest(run, a), load_manifest(run, b)
    out["reason"] = mb.get("reason")
    out["parent"] = mb.get("parent")
    out["mean_score"] = (ma.get("critique", {}).get("mean_score"), mb.get("critique", {}).get("mean_score"))
    return out


def version_stats(run: Run | str, version: str | None = None) -> dict[str, Any]:
    run = as_run(run)
    version = version or run.latest_version("data")
    manifest = load_manifest(run, version)
    rows = read_split(run, version, "all")
    lengths = sorted(len(answer_text(r)) for r in rows)
    return {
        "version": manifest["version"],
        "parent": manifest.get("parent"),
        "reason": manifest.get("reason"),
        "counts": manifest.get("counts", {}),
        "critique": critique_stats(rows),
        "answer_chars": {
            "p50": lengths[len(lengths) // 2] if lengths else None,
            "max": lengths[-1] if lengths else None,
        },
        "decisions": Counter(d.get("action") for d in manifest.get("decisions", [])),
        "sources": manifest.get("sources", []),
    }
