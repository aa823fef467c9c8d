"""Versions, manifests, splits (leakage, stratification, regression set), diff, review and propagation."""

from __future__ import annotations

import hashlib
import json

import pytest

from tools.data.review import apply_review, edit_replacements, review_queue
from tools.data.schema import make_row, row_id
from tools.data.versions import (
    diff_versions,
    leakage,
    load_manifest,
    read_split,
    split_rows,
    version_stats,
    write_data_version,
)

TOPICS = [
    "apples",
    "bridges",
    "clouds",
    "dolphins",
    "engines",
    "forests",
    "glaciers",
    "harbors",
    "islands",
    "jungles",
    "kites",
    "lanterns",
    "mountains",
    "nebulae",
    "oceans",
    "pianos",
    "quarries",
    "rivers",
    "satellites",
    "tunnels",
    "volcanoes",
    "windmills",
    "yachts",
    "zebras",
    "bakeries",
    "castles",
    "deserts",
    "eclipses",
    "fossils",
    "geysers",
]


def _rows(n=60, labels=("yes", "no")):
    rows = []
    for i in range(n):
        t = TOPICS[i % len(TOPICS)]
        rows.append(
            make_row(
                f"Tell me something true about {t} (case {i * 37 % 101})",
                labels[i % len(labels)],
                source="teacher",
                score=3 + i % 3,
                category="ok" if i % 4 else "verbose",
            )
        )
    return rows


@pytest.mark.parametrize("n, held_out", [(2, (0, 0)), (3, (1, 0)), (5, (1, 1)), (9, (1, 1))])
def test_tiny_sets_still_hold_out_a_test_row(n, held_out):
    """A handful of surviving examples still gives the evaluation something to measure (3+ rows) and the
    trainer a validation row (5+), never at the cost of an empty training split."""
    rows = [
        make_row(f"Where does person {i} live? {TOPICS[i]} street {i * 7}", f"city {i}", source="teacher")
        for i in range(n)
    ]
    splits = split_rows(rows, seed=0)
    assert (len(splits["test"]), len(splits["val"])) == held_out
    assert len(splits["train"]) == n - sum(held_out) >= 2
    assert not leakage(splits)


def test_split_has_no_leakage_even_with_near_duplicates():
    rows = _rows()
    # near-duplicates of some inputs: they must land in the same split as their original
    dups = [make_row(r["messages"][0]["content"] + "!", "yes", source="teacher") for r in rows[:15]]
    splits = split_rows(rows + dups, seed=1)
    assert leakage(splits) == []
    sizes = {k: len(v) for k, v in splits.items()}
    assert sizes["train"] > sizes["val"] > 0 and sizes["test"] > 0
    assert sum(sizes[s] for s in ("train", "val", "test")) == 75
    held = {row_id(r) for s in ("val", "test") for r in splits[s]}
    assert {row_id(r) for r in splits["regression"]} <= held  # regression rows are never trained on


def test_stratified_split_keeps_label_shares():
    rows = _rows(100, labels=("a", "a", "a", "b"))
    splits = split_rows(rows, label_key="assistant", seed=0)
    for s in ("val", "test"):
        labels = [r["messages"][-1]["content"] for r in splits[s]]
        assert labels.count("b") >= 1 and labels.count("a") >= 2 * labels.count("b")


def test_regression_set_is_kept_across_versions():
    first = split_rows(_rows(), seed=0)
    assert 1 <= len(first["regression"]) <= 50
    more = _rows(60) + [make_row(f"Completely new question {i} on {t}", "yes") for i, t in enumerate(TOPICS)]
    second = split_rows(more, seed=5, previous_regression=first["regression"])
    assert [row_id(r) for r in second["regression"]] == [row_id(r) for r in first["regression"]]
    reg = {row_id(r) for r in first["regression"]}
    assert not reg & {row_id(r) for r in second["train"]}


def test_manifest_contents_hashes_and_diff(workspace):
    run = workspace.create_run("t", run_id="r1")
    splits = split_rows(_rows(), seed=0)
    v1 = write_data_version(
        run,
        splits,
        {
            "reason": "first",
            "sources": [{"kind": "teacher"}],
            "decisions": [{"id": "x", "action": "dropped"}],
        },
    )
    assert v1 == "v1"
    m = load_manifest(run, "v1")
    assert m["parent"] is None and m["reason"] == "first" and m["sources"] == [{"kind": "teacher"}]
    for name in ("train", "val", "test", "regression"):
        path = run.path / "data" / "v1" / f"{name}.jsonl"
        assert m["hashes"][f"{name}.jsonl"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert m["counts"][name] == len(read_split(run, "v1", name))
    assert m["critique"]["mean_score"] is not None and m["critique"]["categories"]["verbose"] > 0
    assert m["decisions"] == [{"id": "x", "action": "dropped"}]
    # a second version: one row dropped, one changed
    train = read_split(run, "v1", "train")
    changed = dict(train[1], messages=[dict(m) for m in train[1]["messages"]])
    changed["messages"][-1]["content"] = "maybe"
    v2 = write_data_version(
        run,
        {
            "train": [changed] + train[2:],
            "val": read_split(run, "v1", "val"),
            "test": read_split(run, "v1", "test"),
        },
        {"reason": "edit"},
    )
    assert v2 == "v2" and load_manifest(run, "v2")["parent"] == "v1"
    d = diff_versions(run, "v1", "v2")
    assert d["splits"]["train"]["removed"] == [row_id(train[0])]
    assert d["splits"]["train"]["changed"] == [row_id(train[1])]
    assert version_stats(run)["version"] == "v2"
    assert not list((run.path / "data").glob(".*tmp*"))  # no temp dirs left behind


def test_review_queue_and_propagated_rejection_and_edit(workspace):
    run = workspace.create_run("t", run_id="r2")
    rows = _rows(40, labels=("The answer is colour.", "A short colour note."))
    for r in rows[:4]:
        r["metadata"]["flags"] = ["british_spelling"]
    write_data_version(run, {"train": rows[4:], "test": rows[:4]}, {"reason": "seed"})
    queue = review_queue(run, "v1", 0.1)
    flagged = [q for q in queue if q["why"] and q["why"][0].startswith("flagged")]
    assert len(flagged) == 4
    sampled = [q for q in queue if q["why"] == ["random sample"]]
    assert len(sampled) >= 4  # ≥ 10% of 40 on top of the flagged/low-score ones
    # an edit on one flagged example, propagated to the other flagged ones
    target = flagged[0]
    before = target["row"]["messages"][-1]["content"]
    after = before.replace("colour", "color")
    assert edit_replacements("The answer is colour.", "The answer is color.") == [("colour.", "color.")]
    v2 = apply_review(
        run,
        "v1",
        [{"id": target["id"], "action": "edit", "content": after, "reason": "US spelling"}],
        propagate=True,
    )
    m = load_manifest(run, v2)
    prop = [d for d in m["decisions"] if d.get("propagated_from") == target["id"]]
    assert prop and m["review"]["propagated"] == len(prop)
    rows_v2 = {row_id(r): r for r in read_split(run, v2, "all")}
    for d in prop:
        assert "colour" not in rows_v2[d["id"]]["messages"][-1]["content"]
        assert rows_v2[d["id"]]["metadata"]["review"] == "edited"
    # a rejection by critique category, propagated to every example of that category
    verbose = [r for r in read_split(run, v2, "all") if r["metadata"]["category"] == "verbose"]
    v3 = apply_review(
        run, v2, [{"id": row_id(verbose[0]), "action": "reject", "reason": "too long"}], propagate=True
    )
    left = read_split(run, v3, "all")
    assert not [r for r in left if r["metadata"]["category"] == "verbose"]
    assert len(left) == 40 - len(verbose)
    m3 = load_manifest(run, v3)
    assert m3["parent"] == v2 and "propagated" in m3["reason"]
    assert json.dumps(m3)  # serialisable


def test_the_persons_own_test_set_is_the_test_split_and_nothing_leaks_into_training():
    from tools.data.schema import row_id, user_text
    from tools.data.versions import leakage, with_own_test

    rows = _rows(40)
    own = [make_row("Is the weather nice in Oslo today?", "yes"), make_row(user_text(rows[3]), "no")]
    splits = with_own_test(rows, own, label_key="assistant", regression_n=4)
    assert [user_text(r) for r in splits["test"]] == [user_text(r) for r in own]  # as given
    used = {user_text(r) for name in ("train", "val") for r in splits[name]}
    assert user_text(rows[3]) not in used  # the made row that repeats a test input is left out
    # the must-keep rows come from the test and validation
    assert {row_id(r) for r in splits["regression"]} <= {
        row_id(r) for s in ("test", "val") for r in splits[s]
    }
    assert (
        30 <= len(splits["train"]) + len(splits["val"]) <= 39 and splits["regression"]
    )  # near-dups of it too
    assert not leakage(splits)
