"""The distill loop: generate → critique → review → split → train → evaluate → analyze → (report | again).

Every node is idempotent: it first looks for its own result for this iteration in the run directory
(`work/iter<k>/<step>.json`) and returns it when present, so a resume after a crash never pays twice.
"""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.artifacts import load_step, save_step, work_dir
from agent.context import AgentContext
from agent.nodes.common import budget_stop, spec_of
from agent.state import AgentState
from tools.data.schema import user_text
from tools.workspace import atomic_write_jsonl, read_jsonl


def _it(state: AgentState) -> int:
    return int(state.get("iteration") or 1)


MIN_TEST_ROWS = 60  # below this a 95% CI is too wide to tell a 10% gain from noise
MAX_TEST_SHARE = 0.3


def test_ratios(n: int) -> tuple[float, float, float]:
    """(train, val, test): the test gets MIN_TEST_ROWS when that is at most MAX_TEST_SHARE of the rows,
    else that share (the verdict then says what difference the smaller test can detect). Pure."""
    test = min(MAX_TEST_SHARE, max(0.1, MIN_TEST_ROWS / n)) if n else 0.1
    return (round(0.9 - test, 4), 0.1, round(test, 4))


@budget_stop
def generate(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    done = load_step(run, it, "generate")
    if done is None:
        from tools.data.generate import generate_examples

        targeted = state.get("targeted") or None
        n = sum(int(t.get("n", 0)) for t in targeted) if targeted else spec.n_examples
        if ctx.quick:
            n = min(n, 12)
        wd = work_dir(run, it)
        existing = []
        if state.get("data_version"):
            from tools.data.versions import read_split

            for split in ("train", "val", "test"):
                existing += [user_text(r) for r in read_split(run, state["data_version"], split)]
        ctx.emit("status", message=f"generate: {n} examples with the teacher (iteration {it})")
        from tools.llm.registry import can_grade

        judge = ctx.provider("judge", spec, run.id)
        rows = generate_examples(
            spec,
            n,
            teacher=ctx.provider("teacher", spec, run.id),
            grader=judge if can_grade(judge) else None,
            on_task_strictness=float((state.get("mix") or {}).get("on_task_strictness", 0.0)),
            workdir=wd / "gen",
            budget=None,
            targeted=targeted,
            existing_inputs=existing,
            on_progress=lambda ev: ctx.emit("progress", step="generate", **ev),
            answer_max_tokens=64 if ctx.quick else 256,
        )
        if rows.stopped == "budget":
            from tools.errors import BudgetExceeded

            raise BudgetExceeded(
                f"budget stop during generation after {len(rows)} examples (kept in {wd / 'gen'})"
            )
        from tools.data.generate import generation_summary

        augmented = augment_for(spec, list(rows), n, quick=ctx.quick, existing=existing)
        atomic_write_jsonl(wd / "generated.jsonl", list(rows) + augmented)
        summary = generation_summary(rows)
        done = save_step(
            run,
            it,
            "generate",
            {
                "n": len(rows) + len(augmented),
                "teacher": len(rows),
                "augmented": len(augmented),
                "targeted": bool(targeted),
                "provider_calls": rows.provider_calls,
                "cost_usd": rows.cost_usd,
                "rejected_inputs": summary["rejected_inputs"],
                "shortfall": summary["shortfall"],
            },
        )
    rejected = done.get("rejected_inputs") or {}
    off = sum(v for k, v in rejected.items() if k.startswith("off task"))
    return {
        "log": [
            f"generate: {done['n']} examples (iteration {it}{', targeted' if done['targeted'] else ''}"
            + (
                f"; {done['augmented']} made from your examples by swapping values"
                if done.get("augmented")
                else ""
            )
            + (f"; {off} off-task inputs rejected" if off else "")
            + ")"
        ]
    }


def top_up_coverage(spec, kept: list[dict], planned_total: int) -> list[dict]:
    """Exact examples for the labels/enum values that fell short of half their planned share, made from
    the seeds by swapping values (grounded JSON tasks; others are reported short in the log)."""
    from tools.data.augment import augment_examples
    from tools.data.coverage import coverage_table

    if not spec.output.grounded or spec.output.format != "json":
        return []
    extra: list[dict] = []
    seen = [user_text(r) for r in kept]
    for cell in coverage_table(kept, spec, planned_total):
        if cell["short"]:
            want = (cell["planned"] + 1) // 2 - cell["kept"]
            new = augment_examples(spec, want, avoid=seen, where=(cell["field"], cell["value"]))
            seen += [user_text(r) for r in new]
            extra += new
    return extra


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


PROMPT_SHOTS = 6  # the few-shot baseline's demonstrations: the first of the balanced examples
MIN_GOLDEN = 3


def golden_rows(spec) -> list[dict]:
    """The person's own examples that no prompt shows (beyond the few-shot baseline's PROMPT_SHOTS), as a
    golden test: references a person wrote, scored for every system and quoted first. Pure."""
    from tools.data.coverage import balanced_order
    from tools.data.schema import make_row

    held = balanced_order(spec.examples, spec)[PROMPT_SHOTS:]
    if len(held) < MIN_GOLDEN:
        return []
    return [make_row(e.input, e.output, system=spec.effective_system_prompt, source="golden") for e in held]


def augment_for(spec, rows, n: int, *, quick: bool = False, existing=()) -> list[dict]:
    """Exact pairs made from the seeds by value substitution (grounded extraction tasks only), up to
    AUGMENT_SHARE of the requested examples, none repeating an input of this or an earlier version."""
    from tools.data.augment import AUGMENT_SHARE, augment_examples

    if not spec.output.grounded or spec.output.format != "json":
        return []
    k = min(4, n) if quick else round(AUGMENT_SHARE * n)
    seen = [user_text(r) for r in rows] + list(existing)
    return augment_examples(spec, k, avoid=seen, seed=len(existing))


@budget_stop
def critique(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    done = load_step(run, it, "critique")
    if done is None:
        from collections import Counter

        from tools.data.coverage import coverage_table
        from tools.data.critique import critique_examples
        from tools.data.filters import hardness_filter, mix_general

        wd = work_dir(run, it)
        rows = list(read_jsonl(wd / "generated.jsonl"))
        from tools.llm.registry import can_grade

        judge = ctx.provider("judge", spec, run.id)
        judge = judge if can_grade(judge) else None
        ctx.emit(
            "status",
            message=f"critique: {len(rows)} examples — validators"
            + (f" + judge {judge.describe()}" if judge else " only (the embedded model cannot grade)"),
        )
        kept, decisions = critique_examples(
            rows,
            spec,
            judge=judge,
            teacher=ctx.provider("teacher", spec, run.id),
            repair_max_tokens=64 if ctx.quick else 256,
            on_progress=lambda ev: ctx.emit("progress", step="critique", **ev),
        )
        kept, hard = hardness_filter(kept, spec, student=ctx.provider("student", spec, run.id))
        kept += top_up_coverage(spec, kept, planned_total=len(rows))
        share = float((state.get("mix") or {}).get("general_share", spec.general_share))
        if not ctx.quick:
            kept = mix_general(kept, share, teacher=ctx.provider("teacher", spec, run.id), spec=spec)
        atomic_write_jsonl(wd / "critiqued.jsonl", kept)
        atomic_write_jsonl(wd / "critique_decisions.jsonl", decisions)
        done = save_step(
            run,
            it,
            "critique",
            {
                "kept": len(kept),
                "generated": len(rows),
                "hardness": hard,
                "general_share": share,
                "judged": judge is not None,
                "consistency": {
                    "dropped": sum(1 for d in decisions if d.get("stage") == "consistency"),
                    "replaced": sum(1 for r in kept if "consistency_replaced" in r["metadata"]["flags"]),
                },
                "dropped_by": dict(
                    Counter(d.get("category") or "?" for d in decisions if d["action"] == "dropped")
                ),
                "coverage": coverage_table(kept, spec, planned_total=len(rows)),
            },
        )
    how = "validators + judge" if done.get("judged") else "validators only: no capable judge"
    cons = done.get("consistency") or {}
    short = [
        f"{c['field']}={c['value']} ({c['kept']}/{c['planned']})"
        for c in done.get("coverage") or []
        if c["short"]
    ]
    return {
        "log": [
            f"critique: kept {done['kept']} of {done['generated']} ({how}; "
            f"{cons.get('dropped', 0)} dropped and {cons.get('replaced', 0)} corrected by a second/third teacher answer; "
            f"{done['general_share']:.0%} general examples mixed in)"
        ]
        + ([f"coverage: few examples of {', '.join(short)}"] if short else [])
    }


def review(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Headless: the critique thresholds already decided. Interactive: a person reviews ≥10% (TUI)."""
    ctx = runtime.context
    run, it = ctx.run(state["run_id"]), _it(state)
    done = load_step(run, it, "review")
    if done is None:
        wd = work_dir(run, it)
        rows = list(read_jsonl(wd / "critiqued.jsonl"))
        if state.get("headless"):
            decisions = []
            mode = "thresholds"
        else:
            decisions = (
                interrupt(
                    {
                        "kind": "review",
                        "run_id": run.id,
                        "iteration": it,
                        "file": str(wd / "critiqued.jsonl"),
                        "n": len(rows),
                    }
                )
                or []
            )
            mode = "person"
        if not isinstance(decisions, list):
            decisions = []  # an answer that is no list of decisions (an old CLI's Enter) decides nothing
        rows, applied = apply_decisions(rows, decisions)
        atomic_write_jsonl(wd / "reviewed.jsonl", rows)
        done = save_step(run, it, "review", {"mode": mode, "decisions": applied, "kept": len(rows)})
    own = [d for d in done["decisions"] if not d.get("propagated_from") and not d.get("skipped")]
    spread = len(done["decisions"]) - len(own) - sum(1 for d in done["decisions"] if d.get("skipped"))
    return {
        "log": [
            f"review: {done['mode']} — {len(own)} decisions"
            + (f" (+{spread} applied to similar examples)" if spread else "")
            + f", {done['kept']} examples kept"
        ]
    }


def apply_decisions(rows: list[dict], decisions: list[dict]) -> tuple[list[dict], list[dict]]:
    """accept / edit / reject by example id, a `propagate` decision spreading to similar examples: the one
    review implementation (tools.data.review.apply_decisions), which never spreads over a catch-all
    category or a flag every example shares."""
    from tools.data.review import apply_decisions as apply_review_decisions

    return apply_review_decisions(rows, decisions or [])


def split(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    done = load_step(run, it, "split")
    if done is None:
        from tools.data.versions import read_split, split_rows, write_data_version

        rows = list(read_jsonl(work_dir(run, it) / "reviewed.jsonl"))
        base = state.get("data_version")
        if not base and len(rows) < 3:
            from tools.errors import UserError

            raise UserError(
                f"only {len(rows)} example(s) left after critique and review: too few to train and test on",
                where=str(work_dir(run, it) / "reviewed.jsonl"),
                fix="generate more (n_examples in the task), accept more in the review, or use a stronger teacher",
            )
        label_key = "label" if spec.output.format == "label" else None
        if base:
            # Later iterations keep the test and regression sets fixed (fair comparison) and add the
            # new examples to train/val only.
            new = split_rows(rows, ratios=(0.9, 0.1, 0.0), seed=it, label_key=label_key, regression_n=0)
            splits = {s: read_split(run, base, s) + new.get(s, []) for s in ("train", "val")}
            splits["test"] = read_split(run, base, "test")
            splits["regression"] = read_split(run, base, "regression")
            splits["golden"] = read_split(run, base, "golden")
            flagged = drop_flagged_references(run, splits)
            reason = f"iteration {it}: +{len(rows)} targeted examples on top of {base}" + (
                f"; {flagged} examples whose expected answer you marked wrong removed" if flagged else ""
            )
        else:
            splits = split_rows(
                rows,
                ratios=test_ratios(len(rows)),
                seed=0,
                label_key=label_key,
                regression_n=min(30, max(4, len(rows) // 8)),
            )
            splits["golden"] = golden_rows(spec)
            reason = "iteration 1: teacher-generated, critiqued and reviewed examples"
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
        done = save_step(
            run, it, "split", {"data_version": version, "counts": {k: len(v) for k, v in splits.items()}}
        )
    return {
        "data_version": done["data_version"],
        "log": [
            f"split: data {done['data_version']} — "
            + ", ".join(f"{k} {v}" for k, v in done["counts"].items())
        ],
    }


@budget_stop
def train(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    done = load_step(run, it, "train")
    if done is None:
        from tools.train.runner import prepare_training, train_blocking

        overrides = dict(spec.training)
        overrides.update((state.get("mix") or {}).get("training", {}))
        if ctx.train_max_steps:
            overrides["max_steps"] = ctx.train_max_steps
        ctx.emit("status", message=f"train: LoRA on data {state['data_version']}")
        # Record the training directory before launching: a node restarted after a crash resumes that
        # run from its last checkpoint instead of starting a new one.
        started = load_step(run, it, "train_started")
        if started is None or started.get("data_version") != state["data_version"]:
            out = prepare_training(
                run,
                data_version=state["data_version"],
                model=spec.student.model or "embedded",
                overrides=overrides,
            )
            started = save_step(
                run, it, "train_started", {"out_dir": str(out), "data_version": state["data_version"]}
            )
        result = train_blocking(run, out_dir=started["out_dir"], on_event=lambda ev: ctx.emit("train", **ev))
        if result.get("status") not in ("completed", "early_stopped"):
            from tools.errors import UserError

            raise UserError(
                f"training failed: {result.get('error') or result.get('status')}",
                where=started["out_dir"],
                fix=result.get("advice") or "see train.log there",
            )
        result["version"] = Path(result["out_dir"]).name
        done = save_step(run, it, "train", result)
    return {
        "train_version": done["version"],
        "log": [
            f"train: {done['version']} — {done.get('status')} at step {done.get('final_step')}, "
            f"best eval loss {done.get('best_eval_loss')}"
        ],
    }


def tuned_name(version: str) -> str:
    """The name a tuned version has in the agent's evaluations (the analyze step and the TUI read it)."""
    return f"tuned {version}"


def eval_systems(run, spec, train_version: str, best_version: str | None = None) -> list:
    """What the evaluate step compares, built by tools.evals.systems: the base model zero-shot, the base
    model with the task's prompt and its first PROMPT_SHOTS balanced examples, the best earlier tuned
    version (when it is another) and the new one, each sent the system prompt it was trained with."""
    from tools.evals.systems import base_system, prompted_system, tuned_system

    student = spec.student.model or "embedded"
    systems = [
        base_system(name="base zero-shot", model=student),
        prompted_system(spec, k=PROMPT_SHOTS, name="base few-shot", model=student),
    ]
    for v in dict.fromkeys(x for x in (best_version, train_version) if x):
        adapter = run.path / "train" / v / "adapter"
        systems.append(tuned_system(v, adapter, spec, model=student, name=tuned_name(v)))
    return systems


@budget_stop
def evaluate(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    done = load_step(run, it, "evaluate")
    if done is None:
        from tools.evals import evaluate as run_eval

        systems = eval_systems(run, spec, state["train_version"], state.get("best_train_version"))
        ctx.emit("status", message=f"evaluate: {len(systems)} systems on the held-out test split")
        from tools.llm.registry import can_grade

        judge = ctx.provider("judge", spec, run.id)
        from tools.data.versions import read_split

        # Answers far longer than any reference are wrong anyway: cap generation at twice the longest
        # reference (≈3 characters a token) plus slack, so a rambling baseline does not cost 256 tokens a row.
        refs = [r["messages"][-1]["content"] for r in read_split(run, state["data_version"], "test")]
        max_tokens = min(256, 32 + 2 * max((len(t) // 3 for t in refs), default=112))
        report = run_eval(
            run,
            max_tokens=max_tokens,
            data_version=state["data_version"],
            systems=systems,
            spec=spec,
            judge=judge,
            use_judge=can_grade(judge) and not ctx.quick,
            candidate=systems[-1].name,
            workspace=ctx.workspace,
            on_progress=lambda ev: ctx.emit("progress", step="evaluate", **ev),
        )
        done = save_step(
            run,
            it,
            "evaluate",
            {
                "eval_version": report["eval_version"],
                "verdict": report.get("verdict", {}),
                "candidate": report.get("candidate"),
                "baseline": report.get("baseline"),
                "primary_metric": report.get("primary_metric"),
                "systems": {
                    k: v.get("metrics", {}).get(report.get("primary_metric"), {})
                    for k, v in report.get("systems", {}).items()
                },
                "regressed_ids": report.get("regression", {}).get("regressed_ids", []),
                "forgetting": report.get("forgetting", {}),
            },
        )
    v = done["verdict"]
    return {
        "eval_version": done["eval_version"],
        "log": [
            f"evaluate: {done['eval_version']} — {'PASS' if v.get('passed') else 'not yet'}: "
            + "; ".join(v.get("reasons", [])[:3])
        ],
    }


def analyze(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Decide what the next iteration changes: targeted data, or a rollback with a gentler mix."""
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), _it(state)
    ev = load_step(run, it, "evaluate") or {}
    verdict = ev.get("verdict", {})
    cand = state.get("train_version")
    primary = (ev.get("systems", {}).get(ev.get("candidate") or tuned_name(cand)) or {}).get("mean")
    history = list(state.get("history") or [])
    prev_best = max((h.get("primary") or 0 for h in history if not h.get("rolled_back")), default=None)
    regressed = bool(ev.get("regressed_ids")) or bool((ev.get("forgetting") or {}).get("significant"))
    worse = prev_best is not None and primary is not None and primary < prev_best
    record = {
        "iteration": it,
        "data_version": state.get("data_version"),
        "train_version": cand,
        "eval_version": state.get("eval_version"),
        "passed": bool(verdict.get("passed")),
        "primary": primary,
        "regressed": regressed,
        "rolled_back": False,
    }
    update: dict = {}
    if verdict.get("passed"):
        update |= {
            "stop_reason": "success",
            "best_train_version": cand,
            "good_data_version": state.get("data_version"),
        }
        record["note"] = "success criteria met"
    elif (regressed or worse) and state.get("good_data_version") and it > 1:
        mix = dict(state.get("mix") or {})
        mix["general_share"] = min(0.2, float(mix.get("general_share", spec.general_share)) + 0.05)
        tr = dict(mix.get("training", {}))
        tr["learning_rate"] = float(tr.get("learning_rate", spec.training.get("learning_rate", 2e-4))) / 2
        mix["training"] = tr
        # the next round must change the data, not only the mix: a stricter on-task filter for new inputs
        mix["on_task_strictness"] = round(float(mix.get("on_task_strictness", 0.0)) + 0.1, 2)
        record |= {
            "rolled_back": True,
            "note": f"{'regression/forgetting' if regressed else 'worse than before'}: rolled back to data "
            f"{state['good_data_version']}, general share → {mix['general_share']:.0%}, "
            f"lr → {tr['learning_rate']:.1e}, stricter on-task filter for new inputs",
        }
        update |= {"data_version": state["good_data_version"], "mix": mix}
    else:
        update |= {"good_data_version": state.get("data_version")}
        if prev_best is None or (primary or 0) >= prev_best:
            update["best_train_version"] = cand
    if "stop_reason" not in update:
        if it >= int(state.get("max_iterations") or spec.max_iterations):
            update["stop_reason"] = "iteration_limit"
        else:
            report = _load_report(run, state.get("eval_version")) or {}
            requests = list(report.get("failures") or [])
            if ctx.quick:
                requests = [dict(r, n=min(int(r.get("n", 4)), 4)) for r in requests][:2]
            if not requests:
                # retraining the same data with other settings made things worse before (bench): stop
                update["stop_reason"] = "no_failures_to_target"
            update |= {"targeted": requests, "iteration": it + 1}
            record.setdefault("note", f"{len(requests)} targeted data requests for iteration {it + 1}")
    update["history"] = [record]
    update["log"] = [f"analyze: iteration {it}: {record.get('note', '')}"]
    return update


def _load_report(run, eval_version: str | None) -> dict | None:
    from tools.workspace import read_json

    if not eval_version:
        return None
    p = run.path / "eval" / eval_version / "report.json"
    return read_json(p) if p.exists() else None
