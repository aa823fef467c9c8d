"""Exact pairs made from the seeds by swapping values, and the test split's size."""

from __future__ import annotations

import json

from tools.data.augment import augment_examples, candidates
from tools.data.checks import check_answer
from tools.data.infer import infer_output
from tools.spec import parse_spec_dict

SIZES = {"type": "string", "enum": ["small", "medium", "large"]}
TASK = {
    "spec": "Turn a cafe order into JSON.",
    "examples": [
        {"input": "Can I get two large oat milk lattes, please?", "output": '{"item": "latte", "size": "large", "quantity": 2, "milk": "oat"}'},
        {"input": "One small americano, black.", "output": '{"item": "americano", "size": "small", "quantity": 1, "milk": "none"}'},
        {"input": "I'd like 3 small cappuccinos with soy milk.", "output": '{"item": "cappuccino", "size": "small", "quantity": 3, "milk": "soy"}'},
        {"input": "Large mocha, skim milk please.", "output": '{"item": "mocha", "size": "large", "quantity": 1, "milk": "skim"}'},
    ],
    "output": {"format": "json", "schema": {"type": "object", "properties": {"size": SIZES}}},
}  # fmt: skip


def _spec():
    spec = parse_spec_dict(TASK)
    infer_output(spec)  # grounded: item, quantity, size (milk "none" is not written in the input)
    return spec


def test_swapped_pairs_are_right_by_construction():
    spec = _spec()
    rows = augment_examples(spec, 40, avoid=["Can I get two large oat milk mochas, please?"])
    assert 10 <= len(rows) <= 40
    seeds = {e.input for e in spec.examples}
    inputs = [r["messages"][1]["content"] for r in rows]
    assert len(set(inputs)) == len(inputs) and not seeds & set(inputs)
    assert "Can I get two large oat milk mochas, please?" not in inputs
    for r in rows:
        user, answer = r["messages"][1]["content"], r["messages"][2]["content"]
        assert (
            r["metadata"]["source"] == "augment"
            and r["messages"][0]["content"] == spec.effective_system_prompt
        )
        assert check_answer(answer, spec, user) == [], (user, answer)  # grounded and consistent
    # the enum value no seed uses gets examples; milk (not grounded) is never swapped
    assert any(json.loads(r["messages"][2]["content"])["size"] == "medium" for r in rows)
    assert all(r["metadata"]["swapped"] != ["milk"] for r in rows)


def test_numbers_keep_their_form_and_plurals_stay_plural():
    spec = _spec()
    got = {(t, json.dumps(o, sort_keys=True)) for t, o, _ in candidates(spec)}
    three = {"item": "cappuccino", "size": "small", "quantity": 7, "milk": "soy"}
    assert ("I'd like 7 small cappuccinos with soy milk.", json.dumps(three, sort_keys=True)) in got
    two = {"item": "latte", "size": "large", "quantity": 5, "milk": "oat"}
    assert ("Can I get five large oat milk lattes, please?", json.dumps(two, sort_keys=True)) in got
    # "One small americano" is never made plural: quantity 1 is not swapped
    assert not any(t.startswith(("Two small americano", "2 small americano")) for t, _ in got)


def test_no_augmentation_without_grounded_fields():
    spec = parse_spec_dict(TASK | {"output": TASK["output"] | {"grounded": False}})
    assert augment_examples(spec, 10) == []


def test_the_test_split_is_sized_to_tell_a_difference():
    from agent.nodes.distill import test_ratios

    assert test_ratios(600) == (0.8, 0.1, 0.1)  # 60 rows at 10%
    tr, va, te = test_ratios(200)
    assert round(200 * te) == 60 and abs(tr + va + te - 1) < 1e-9
    assert test_ratios(100)[2] == 0.3  # never more than 30%: the rest must train


def test_a_short_coverage_cell_is_topped_up_with_exact_examples():
    from agent.nodes.distill import top_up_coverage
    from tools.data.coverage import coverage_table
    from tools.data.schema import make_row

    spec = _spec()
    kept = [
        make_row(
            f"{i} large teas", json.dumps({"item": "tea", "size": "large", "quantity": i, "milk": "none"})
        )
        for i in range(2, 9)
    ]
    before = {c["value"]: c for c in coverage_table(kept, spec, planned_total=12)}
    assert before["medium"]["short"] and before["small"]["short"]
    extra = top_up_coverage(spec, kept, planned_total=12)
    after = {c["value"]: c for c in coverage_table(kept + extra, spec, planned_total=12)}
    assert not after["medium"]["short"] and not after["small"]["short"]
    assert all(r["metadata"]["source"] == "augment" for r in extra)
    assert all(
        check_answer(r["messages"][2]["content"], spec, r["messages"][1]["content"]) == [] for r in extra
    )


def test_the_persons_examples_beyond_the_prompt_are_held_out_as_golden():
    from agent.nodes.distill import PROMPT_SHOTS, golden_rows
    from tools.data.coverage import balanced_order

    spec = parse_spec_dict(
        {
            "spec": "route",
            "output": {"format": "label", "labels": ["a", "b"]},
            "examples": [{"input": f"m{i}", "output": lab} for i, lab in enumerate("aaaaabbbbb")],
        }
    )
    gold = golden_rows(spec)
    shown = {e.input for e in balanced_order(spec.examples, spec)[:PROMPT_SHOTS]}
    assert len(gold) == 10 - PROMPT_SHOTS and not shown & {r["messages"][1]["content"] for r in gold}
    assert all(r["metadata"]["source"] == "golden" for r in gold)
    assert golden_rows(parse_spec_dict({"spec": "x", "examples": spec.model_dump()["examples"][:8]})) == []


def test_expected_answers_marked_wrong_leave_the_next_data_version(workspace):
    from agent.nodes.distill import drop_flagged_references
    from tools.data.schema import make_row, row_id
    from tools.evals.reference_flags import set_reference_flag

    run = workspace.create_run("flags", run_id="flags")
    rows = [make_row(f"order {i}", '{"size": "large"}') for i in range(4)]
    (run.path / "eval" / "v1").mkdir(parents=True)
    set_reference_flag(
        run.path / "eval" / "v1",
        {"id": row_id(rows[1]), "split": "test", "input": "order 1", "reference": "x"},
        True,
    )
    splits = {"train": rows[:1], "test": rows[1:3], "regression": rows[3:]}
    assert drop_flagged_references(run, splits) == 1
    assert [row_id(r) for r in splits["test"]] == [row_id(rows[2])] and len(splits["train"]) == 1


def test_a_task_with_its_own_test_file_is_tested_on_it(tmp_path):
    import pytest
    import yaml

    from agent.nodes.split import _first_splits
    from tools.data.schema import make_row, user_text
    from tools.errors import ConfigError, UserError
    from tools.spec import load_spec

    own = [
        make_row(f"{n} small teas", json.dumps({"item": "tea", "size": "small", "quantity": n}))
        for n in (2, 3)
    ]
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in own))
    task = tmp_path / "task.yaml"
    task.write_text(yaml.safe_dump({"spec": "Turn a cafe order into JSON.", "test": "mine.jsonl"}))
    spec = load_spec(task)
    assert spec.test == str(tmp_path / "mine.jsonl")  # relative to the task file
    made = [make_row(f"{n} large lattes please", '{"item": "latte"}') for n in range(2, 30)]
    splits, reason = _first_splits(made, spec, None)
    assert [user_text(r) for r in splits["test"]] == ["2 small teas", "3 small teas"]
    assert "your own" in reason and len(splits["train"]) + len(splits["val"]) == len(made)
    task.write_text(yaml.safe_dump({"spec": "x", "test": "nope.jsonl"}))
    with pytest.raises(ConfigError, match="field `test`: file .*nope.jsonl not found"):
        load_spec(task)
    (tmp_path / "mine.jsonl").write_text('{"messages": []}\n')
    task.write_text(yaml.safe_dump({"spec": "x", "test": "mine.jsonl"}))
    with pytest.raises(UserError, match="mine.jsonl:1"):
        _first_splits(made, load_spec(task), None)


def test_the_persons_shown_examples_are_trained_on_and_never_tested_on():
    """The few-shot prompt's examples go into train (the routing bench trained on 3 teacher rows while the
    person's 6 shown examples sat unused); a held-out row repeating one of them moves to train with it;
    the golden ones stay out of training."""
    from agent.nodes.split import _first_splits, golden_rows, seed_train_rows
    from tools.data.schema import make_row, user_text

    labels = ["billing", "shipping"]
    seeds = [f"refund my double charge number {i}" for i in range(5)] + [
        f"my parcel {i} never arrived at the door" for i in range(5)
    ]
    spec = parse_spec_dict(
        {
            "spec": "route",
            "output": {"format": "label", "labels": labels},
            "examples": [{"input": t, "output": labels[i // 5]} for i, t in enumerate(seeds)],
        }
    )
    shown = [user_text(r) for r in seed_train_rows(spec)]
    gold = [user_text(r) for r in golden_rows(spec)]
    assert len(shown) == 6 and len(gold) == 4 and not set(shown) & set(gold)
    made = [
        make_row(f"teacher message about topic {i} and more words {i * 7}", labels[i % 2]) for i in range(40)
    ]
    made.append(make_row(shown[0] + "!", "billing"))  # nearly repeats a shown example
    splits, reason = _first_splits(made, spec, "label")
    train = [user_text(r) for r in splits["train"]]
    assert set(shown) <= set(train) and not set(gold) & set(train)
    held = [user_text(r) for s in ("val", "test", "regression") for r in splits[s]]
    assert shown[0] + "!" in train and shown[0] + "!" not in held
    assert not set(shown) & set(held)
    assert "your examples shown in the prompt are in train" in reason
    assert sum(len(splits[s]) for s in ("train", "val", "test")) == len(made) + len(shown)


def _sizes_spec(n: int):
    """A spec with `n` of the person's examples (listing titles and their sizes)."""
    return parse_spec_dict(
        {
            "spec": "the size in a listing title",
            "examples": [{"input": f"Wool jumper number {i} size {i}", "output": str(i)} for i in range(n)],
        }
    )


def test_with_20_or_more_held_out_examples_of_the_persons_they_are_the_test():
    """Walk 19: 61 of the person's examples, 200 written by the small model — the verdict was measured on the
    writer's answers ("expected 11.7g" as a cap's size) while 55 of the person's own sat in the golden set.
    From MIN_OWN_TEST held out, the person's examples are the test and the written rows train."""
    from agent.nodes.split import MIN_OWN_TEST, _first_splits, golden_rows
    from tools.data.schema import make_row, user_text

    made = [make_row(f"made up listing {i} of something else {i * 3}", f"{i}") for i in range(80)]
    spec = _sizes_spec(6 + MIN_OWN_TEST)
    gold = {user_text(r) for r in golden_rows(spec)}
    splits, reason = _first_splits(made, spec, None)
    assert {user_text(r) for r in splits["test"]} == gold and len(gold) == MIN_OWN_TEST
    assert not splits["golden"] and "the test split is 20 of your own examples" in reason
    written = {user_text(r) for r in made}
    assert written <= {user_text(r) for s in ("train", "val", "regression") for r in splits[s]}
    # fewer held out: a golden set beside the written test, as before
    small, _ = _first_splits(made, _sizes_spec(6 + MIN_OWN_TEST - 1), None)
    assert len(small["golden"]) == MIN_OWN_TEST - 1 and small["test"]
    assert {user_text(r) for r in small["test"]} <= written
    # walk 21: 41 held out were all the test, the writer's answers failed, nothing was trained — from more than
    # MIN_OWN_TEST, half of them train (their answers teach best) and the test keeps the rest
    big = _sizes_spec(6 + 41)
    gold = {user_text(r) for r in golden_rows(big)}
    splits, reason = _first_splits(made, big, None)
    test = {user_text(r) for r in splits["test"]}
    taught = gold - test
    assert test <= gold and len(test) == 21 and len(taught) == 20
    assert taught <= {user_text(r) for s in ("train", "val", "regression") for r in splits[s]}
    assert "the test split is 21 of your own examples" in reason and "20 more of them train" in reason


def test_the_teacher_never_sees_an_example_a_test_holds():
    """Walk 21: shown every example, the teacher wrote "Ref: xc 3006 … (sent to 12 Park Lane)" as practice
    beside the test's "Ref. xc 3006 … (sending to 11 Park Lane)". The teacher's spec leaves out the golden set
    and the own test, and keeps every example that trains."""
    from agent.nodes.split import MIN_OWN_TEST, _first_splits, teacher_spec
    from tools.data.schema import make_row, user_text

    made = [make_row(f"made up listing {i} of something else {i * 3}", f"{i}") for i in range(80)]
    for n in (5, 14, 6 + MIN_OWN_TEST, 47):
        spec = _sizes_spec(n)
        splits, _ = _first_splits(made, spec, None)
        tested = {user_text(r) for s in ("test", "golden") for r in splits[s]}
        # must-keep rows come from the test and validation: they are in one of those
        trained = {user_text(r) for s in ("train", "val") for r in splits[s]}
        assert {user_text(r) for r in splits["regression"]} <= tested | trained, n
        shown = {e.input for e in teacher_spec(spec).examples}
        own = {e.input for e in spec.examples}
        assert not shown & tested, n
        assert shown == own & trained, n
        assert len(shown) == {5: 5, 14: 6, 6 + MIN_OWN_TEST: 6, 47: 26}[n]


def test_a_run_with_more_rounds_keeps_practice_rows_aside():
    """Session 20: between rounds the tuned model practises on validation rows that are not must-keep rows, and
    the next round is aimed at those it gets wrong; at 10% the routing bench's 120 rows left 4–5, and a test of
    the person's own (must-keep rows from validation) left none."""
    from agent.nodes.split import PRACTICE_ROWS, _first_splits, test_ratios, val_share
    from tools.data.schema import make_row, row_id

    assert test_ratios(600, rounds=1) == test_ratios(600) == (0.8, 0.1, 0.1)
    assert val_share(120, 1) == 0.1 and val_share(120, 3) == round(PRACTICE_ROWS / 120, 4)
    assert val_share(1000, 3) == 0.1 and val_share(40, 3) == 0.2
    made = [make_row(f"written message {i} about topic {i * 7} and more", f"{i}") for i in range(120)]
    for n_own in (5, 47):  # a golden set beside a written test; the person's own test
        spec = _sizes_spec(n_own)

        def practice(rounds: int, spec=spec) -> int:
            splits, _ = _first_splits(made, spec, None, rounds=rounds)
            keep = {row_id(r) for r in splits["regression"]}
            return sum(row_id(r) not in keep for r in splits["val"])

        one, three = practice(1), practice(3)
        assert three >= 10 and three > one, (n_own, one, three)
