"""critique: validators (and a capable judge) score every generated example; low scores are repaired or
dropped, examples the student already gets right are set aside, short labels topped up, general examples
mixed in."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.artifacts import work_dir
from agent.context import AgentContext
from agent.nodes.common import budget_stop, idempotent_step, iteration, spec_of
from agent.state import AgentState
from tools.data.schema import user_text
from tools.workspace import atomic_write_jsonl, read_jsonl


@idempotent_step("critique")
def _critiqued(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from collections import Counter

    from tools.data.coverage import coverage_table
    from tools.data.critique import collapsed_fields, collapsed_summary, critique_examples
    from tools.data.filters import hardness_filter, mix_general
    from tools.llm.registry import can_grade

    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), iteration(state)
    wd = work_dir(run, it)
    rows = list(read_jsonl(wd / "generated.jsonl"))
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
    collapsed = collapsed_fields(rows, spec)  # counted over the inputs whose own words leave the field open
    ctx.emit("progress", step="critique", stage="last checks")  # the screen says what it does
    kept, hard = hardness_filter(
        kept,
        spec,
        student=ctx.provider("student", spec, run.id),
        on_progress=lambda ev: ctx.emit("progress", step="critique", **ev),
    )
    kept += top_up_coverage(spec, kept, planned_total=len(rows))
    share = float((state.get("mix") or {}).get("general_share", spec.general_share))
    if not ctx.quick:
        kept = mix_general(kept, share, teacher=ctx.provider("teacher", spec, run.id), spec=spec)
    atomic_write_jsonl(wd / "critiqued.jsonl", kept)
    atomic_write_jsonl(wd / "critique_decisions.jsonl", decisions)
    return {
        "kept": len(kept),
        "generated": len(rows),
        "hardness": hard,
        "general_share": share,
        "judged": judge is not None,
        "consistency": {
            "dropped": sum(1 for d in decisions if d.get("stage") == "consistency"),
            "replaced": sum(1 for r in kept if "consistency_replaced" in r["metadata"]["flags"]),
        },
        "relabelled": sum(1 for r in kept if "label_from_examples" in r["metadata"]["flags"]),
        "fixed_by_rules": sum(1 for r in kept if "fixed_by_rules" in r["metadata"]["flags"]),
        # a field the teacher answered one way for every input: its value taken from the person's examples
        "collapsed": collapsed_summary(collapsed, kept, decisions),
        "dropped_by": dict(Counter(d.get("category") or "?" for d in decisions if d["action"] == "dropped")),
        "coverage": coverage_table(kept, spec, planned_total=len(rows)),
    }


@budget_stop
def critique(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.data.critique import collapsed_words

    done = _critiqued(state, runtime)
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
            + (
                f"{done['relabelled']} labels taken from your most similar examples; "
                if done.get("relabelled")
                else ""
            )
            + (
                f"{done['fixed_by_rules']} answers with a value the input settles set by rule; "
                if done.get("fixed_by_rules")
                else ""
            )
            + "".join(collapsed_words(field, c) + "; " for field, c in (done.get("collapsed") or {}).items())
            + f"{done['general_share']:.0%} general examples mixed in)"
        ]
        + ([f"coverage: few examples of {', '.join(short)}"] if short else [])
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
