"""split: the reviewed examples become a data version — train/val/test/regression the first time (plus the
person's own examples as a golden test); later rounds add to train/val and keep the test sets fixed."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.artifacts import load_step, work_dir
from agent.context import AgentContext
from agent.nodes.common import idempotent_step, iteration, spec_of
from agent.nodes.evaluate import PROMPT_SHOTS
from agent.nodes.generate import own_examples_only
from agent.state import AgentState
from tools.data.schema import user_text
from tools.workspace import read_jsonl

MIN_TEST_ROWS = 60  # below this a 95% CI is too wide to tell a 10% gain from noise
MAX_TEST_SHARE = 0.3
MIN_GOLDEN = 3
# the person's held-out examples are the whole test from this many (their answers, not a writer's)
MIN_OWN_TEST = 20
# fewer examples than this teach a LoRA run noise (the routing bench once trained on 3 rows and was then
# compared with the prompt it was meant to beat): stop before training and say why in plain words
MIN_TRAIN_ROWS = 20


# validation rows a run with another round planned keeps aside for the tuned model to practise on (the next round
# is aimed at those it gets wrong; must-keep rows are not practised on): at 10% the routing bench's 120 rows
# left 4–5 of them, and a test of the person's own left none (its must-keep rows come from validation)
PRACTICE_ROWS = 20
MAX_VAL_SHARE = 0.2


def val_share(n: int, rounds: int) -> float:
    """The validation share: 10%, or with more than one round up to MAX_VAL_SHARE for PRACTICE_ROWS. Pure."""
    if rounds <= 1 or not n:
        return 0.1
    return round(min(MAX_VAL_SHARE, max(0.1, PRACTICE_ROWS / n)), 4)


def test_ratios(n: int, rounds: int = 1) -> tuple[float, float, float]:
    """(train, val, test): the test gets MIN_TEST_ROWS when that is at most MAX_TEST_SHARE of the rows,
    else that share (the verdict then says what difference the smaller test can detect); validation as
    `val_share`. Pure."""
    test = min(MAX_TEST_SHARE, max(0.1, MIN_TEST_ROWS / n)) if n else 0.1
    val = val_share(n, rounds)
    return (round(1.0 - test - val, 4), val, round(test, 4))


def golden_rows(spec) -> list[dict]:
    """The person's own examples that no prompt shows (beyond the few-shot baseline's PROMPT_SHOTS), as a
    golden test: references a person wrote, scored for every system and quoted first. Pure."""
    from tools.data.schema import make_row

    held = _person_examples(spec)[1]
    return [make_row(e.input, e.output, system=spec.effective_system_prompt, source="golden") for e in held]


def seed_train_rows(spec) -> list[dict]:
    """The person's examples that are not held out as the golden test: the few-shot prompt shows them, and
    the tuned model learns from them too (the most trusted answers there are). Pure."""
    from tools.data.schema import make_row

    shown = _person_examples(spec)[0]
    return [make_row(e.input, e.output, system=spec.effective_system_prompt, source="seed") for e in shown]


def _person_examples(spec) -> tuple[list, list]:
    """(shown and trained on, held out as the golden test): the golden test needs MIN_GOLDEN examples
    beyond the PROMPT_SHOTS a prompt shows, else every example is shown."""
    from tools.data.coverage import balanced_order

    ordered = balanced_order(spec.examples, spec)
    held = ordered[PROMPT_SHOTS:]
    return (ordered, []) if len(held) < MIN_GOLDEN else (ordered[:PROMPT_SHOTS], held)


def tested_examples(spec) -> list:
    """The person's examples a test holds: the golden set, or from MIN_OWN_TEST of them the own test
    (`own_test_and_train`, as `_first_splits` makes them). Pure."""
    held = _person_examples(spec)[1]
    if not spec.test and len(held) >= MIN_OWN_TEST:
        return own_test_and_train(held)[0]
    return held


def teacher_spec(spec):
    """The spec the teacher writes and checks practice examples from: the person's examples without those a
    test holds. Shown to the teacher, a test example came back as a practice input that nearly repeats it
    (walk 21: "Ref: xc 3006 … (sent to 12 Park Lane)" beside the test's "Ref. xc 3006 … (sending to 11 Park
    Lane)"), and the tuned model was then tested on what it had practised. Pure."""
    hidden = {(e.input, str(e.output)) for e in tested_examples(spec)}
    if not hidden:
        return spec
    return spec.model_copy(
        update={"examples": [e for e in spec.examples if (e.input, str(e.output)) not in hidden]}
    )


def with_seeds_in_train(splits: dict, seeds: list[dict]) -> int:
    """Add the person's shown examples to train; a held-out row that repeats or nearly repeats one moves to
    train with it (it would test the model on an answer it was shown). Returns how many rows moved."""
    from tools.data.similarity import near_duplicate_groups

    if not seeds:
        return 0
    held = [(name, r) for name in ("val", "test", "regression") for r in splits.get(name, [])]
    texts = [user_text(r) for r in seeds] + [user_text(r) for _, r in held]
    groups = near_duplicate_groups(texts)
    seed_groups = set(groups[: len(seeds)])
    near = {id(r): r for (_, r), g in zip(held, groups[len(seeds) :], strict=True) if g in seed_groups}
    for name in ("val", "test", "regression"):
        splits[name] = [r for r in splits.get(name, []) if id(r) not in near]
    train = splits.get("train", [])
    in_train = {user_text(r).strip().lower() for r in train}
    fresh = [r for r in seeds if user_text(r).strip().lower() not in in_train]
    splits["train"] = fresh + list(near.values()) + train
    return len(near)


def drop_flagged_references(run, splits: dict) -> int:
    """Remove the rows whose expected answer a person marked wrong in any evaluation of this run
    (eval/v*/reference_flags.jsonl) from every split; returns how many were removed."""
    from tools.data.schema import row_id
    from tools.evals.reference_flags import read_reference_flags

    ids = {i for d in sorted((run.path / "eval").glob("v*")) for _, i in read_reference_flags(d)}
    if not ids:
        return 0
    removed = 0
    for name, rows in splits.items():
        keep = [r for r in rows if row_id(r) not in ids]
        removed += len(rows) - len(keep)
        splits[name] = keep
    return removed


def own_test_and_train(own: list[dict]) -> tuple[list[dict], list[dict]]:
    """The person's held-out examples split between the test and training: the test keeps half of them and
    at least MIN_OWN_TEST; the rest train (their answers teach best). Walk 21 held all 41 of 47 out as the test,
    the small writer's answers failed the checks, and "only 10 examples held up to learn from" stopped it
    with no model. Deterministic (a seeded shuffle). Pure."""
    import random

    if len(own) <= MIN_OWN_TEST:
        return own, []
    order = list(range(len(own)))
    random.Random(0).shuffle(order)
    keep = max(MIN_OWN_TEST, (len(own) + 1) // 2)
    return [own[i] for i in sorted(order[:keep])], [own[i] for i in sorted(order[keep:])]


def _first_splits(
    rows: list[dict], spec, label_key: str | None, own_only: bool = False, rounds: int = 1
) -> tuple[dict, str]:
    """`own_only`: the rows are the person's own examples (nothing written): those no prompt shows are the test,
    with no golden set beside them. `rounds`: how many rounds the run may make (validation as `val_share`)."""
    from tools.data.versions import split_rows, with_own_test

    if own_only:
        # the examples a few-shot prompt shows train (below): testing on them would hand that prompt the answer
        shown = {user_text(r).strip().lower() for r in seed_train_rows(spec)}
        rows = [r for r in rows if user_text(r).strip().lower() not in shown]
    regression_n = min(30, max(4, len(rows) // 8))
    reason = (
        "iteration 1: your own examples only (the model here got them wrong, so it wrote none)"
        if own_only
        else "iteration 1: teacher-generated, critiqued and reviewed examples"
    )
    if spec.test:  # the person's own test set replaces the generated one, as given
        from tools.evals.run import load_rows

        own = load_rows(spec.test)
        splits = with_own_test(
            rows, own, label_key=label_key, regression_n=regression_n, val=val_share(len(rows), rounds)
        )
        reason += f"; the test split is your own {spec.test} ({len(own)} rows)"
    else:
        splits = split_rows(
            rows,
            ratios=test_ratios(len(rows), rounds),
            seed=0,
            label_key=label_key,
            regression_n=regression_n,
        )
    splits["golden"] = [] if own_only else golden_rows(spec)
    if not spec.test and len(splits["golden"]) >= MIN_OWN_TEST:
        # the person's answers are the test when there are enough of them: walk 19's verdict was measured on
        # answers the small model wrote ("expected 11.7g" as a cap's size) beside 55 of the person's own
        from tools.data.versions import with_own_test

        own, taught = own_test_and_train(splits["golden"])
        splits = with_own_test(
            rows + taught,
            own,
            label_key=label_key,
            regression_n=regression_n,
            val=val_share(len(rows) + len(taught), rounds),
        )
        splits["golden"] = []
        reason += (
            f"; the test split is {len(own)} of your own examples that no prompt shows (answers you wrote, not "
            "the writer's)" + (f", and {len(taught)} more of them train" if taught else "")
        )
    moved = with_seeds_in_train(splits, seed_train_rows(spec))
    reason += "; your examples shown in the prompt are in train" + (
        f" ({moved} held-out rows that repeated one moved with them)" if moved else ""
    )
    return splits, reason


def _later_splits(run, base: str, rows: list[dict], it: int, label_key: str | None) -> tuple[dict, str]:
    """Later iterations keep the test and regression sets fixed (fair comparison) and add the new examples
    to train/val only."""
    from tools.data.versions import read_split, split_rows

    new = split_rows(rows, ratios=(0.9, 0.1, 0.0), seed=it, label_key=label_key, regression_n=0)
    splits = {s: read_split(run, base, s) + new.get(s, []) for s in ("train", "val")}
    for s in ("test", "regression", "golden"):
        splits[s] = read_split(run, base, s)
    flagged = drop_flagged_references(run, splits)
    reason = f"iteration {it}: +{len(rows)} targeted examples on top of {base}" + (
        f"; {flagged} examples whose expected answer you marked wrong removed" if flagged else ""
    )
    return splits, reason


@idempotent_step("split")
def _split(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.data.coverage import evened_labels, evened_words
    from tools.data.versions import write_data_version

    run, spec, it = runtime.context.run(state["run_id"]), spec_of(state), iteration(state)
    rows = list(read_jsonl(work_dir(run, it) / "reviewed.jsonl"))
    base = state.get("data_version")
    if not base and len(rows) + len(seed_train_rows(spec)) < 3:
        # nothing to split (the walk rejected every example, read or not): the run stops with the too-few
        # advice in words, not on an error
        return {
            "data_version": None,
            "counts": {"train": len(rows)},
            "evened": {},
            "repeats": 0,
            "general": 0,
        }
    label_key = "label" if spec.output.format == "label" else None
    # general examples (mixed in against forgetting) are not the task: they train, they are never tested on
    # (the walk's dental test showed "Recommend a classic novel → The Hunger Games" scored as a label)
    general = [r for r in rows if (r.get("metadata") or {}).get("source") == "general"]
    rows = [r for r in rows if (r.get("metadata") or {}).get("source") != "general"]
    if base:
        splits, reason = _later_splits(run, base, rows, it, label_key)
    else:
        own_only = own_examples_only(state)
        # nothing is written for another round of an own-examples run (evaluate._may_go_on)
        rounds = 1 if own_only else int(state.get("max_iterations") or spec.max_iterations)
        splits, reason = _first_splits(rows, spec, label_key, own_only=own_only, rounds=rounds)
    splits["train"] += general
    splits["train"], evened = evened_labels(splits["train"], spec)
    repeats = sum(b - a for a, b in evened.values())
    if evened:
        reason += "; the rarer labels' examples repeated in train up to half the largest label's count (" + (
            evened_words(evened) + ")"
        )
    version = write_data_version(
        run,
        splits,
        {
            "parent": base,
            "reason": reason,
            "iteration": it,
            "generate": load_step(run, it, "generate"),
            "critique": load_step(run, it, "critique"),
            "review": load_step(run, it, "review"),
        },
    )
    return {
        "data_version": version,
        "counts": {k: len(v) for k, v in splits.items()},
        # the person's examples the test holds (the report says where they went: walk 21 read "6 of your 47")
        "own_test": sum(
            (r.get("metadata") or {}).get("source") == "golden" for r in splits.get("test") or []
        ),
        "evened": evened,
        "repeats": repeats,
        "general": len(general),
    }


def split(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.data.coverage import evened_words

    done = _split(state, runtime)
    out = {
        "data_version": done["data_version"],
        "log": [
            f"split: data {done['data_version']} — "
            + ", ".join(f"{k} {v}" for k, v in done["counts"].items())
            if done["data_version"]
            else f"split: {done['counts'].get('train', 0)} examples left: no data version"
        ],
    }
    if done.get("evened"):
        out["log"].append(
            "split: labels evened out in train by repeating the rarer ones ("
            + evened_words(done["evened"])
            + ")"
        )
    # repeats teach nothing new, general examples not the task
    n_train = done["counts"].get("train", 0) - done.get("repeats", 0) - done.get("general", 0)
    if done["data_version"] is None or (
        not state.get("data_version") and n_train < MIN_TRAIN_ROWS and not runtime.context.quick
    ):
        out["stop_reason"] = TOO_FEW
        out["log"].append(
            f"split: only {n_train} examples to learn from (at least {MIN_TRAIN_ROWS} are needed): "
            "no model is trained"
        )
    return out


TOO_FEW = "too_few_examples"
