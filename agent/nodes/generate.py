"""generate: the teacher writes the iteration's examples (targeted ones after the first round), plus exact
pairs made from the person's examples by swapping values."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.artifacts import work_dir
from agent.context import AgentContext
from agent.nodes.common import budget_stop, idempotent_step, iteration, spec_of
from agent.state import AgentState
from tools.data.schema import user_text
from tools.workspace import atomic_write_jsonl


@idempotent_step("generate")
def _generated(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.data.generate import generate_examples, generation_summary
    from tools.llm.registry import can_grade

    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), iteration(state)
    if own_examples_only(state):
        return _own_examples(spec, work_dir(run, it))
    from agent.nodes.split import teacher_spec
    from agent.precision import teacher_provider

    measured = spec
    spec = teacher_spec(spec)  # the examples a test holds are never shown to the teacher
    teacher, precision = teacher_provider(ctx, spec, run, measured_spec=measured)
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
    judge = ctx.provider("judge", spec, run.id)
    rows = generate_examples(
        spec,
        n,
        teacher=teacher,
        grader=judge if can_grade(judge) else None,
        on_task_strictness=float((state.get("mix") or {}).get("on_task_strictness", 0.0)),
        workdir=wd / "gen",
        budget=None,
        targeted=targeted,
        existing_inputs=existing,
        on_progress=lambda ev: ctx.emit("progress", step="generate", **ev),
        answer_max_tokens=answer_tokens(spec, 64 if ctx.quick else 256),
    )
    if rows.stopped == "budget":
        from tools.errors import BudgetExceeded

        raise BudgetExceeded(
            f"budget stop during generation after {len(rows)} examples (kept in {wd / 'gen'})"
        )
    augmented = augment_for(spec, list(rows), n, quick=ctx.quick, existing=existing)
    atomic_write_jsonl(wd / "generated.jsonl", list(rows) + augmented)
    summary = generation_summary(rows)
    return {
        "n": len(rows) + len(augmented),
        "teacher": len(rows),
        "augmented": len(augmented),
        "targeted": bool(targeted),
        "provider_calls": rows.provider_calls,
        "cost_usd": rows.cost_usd,
        "rejected_inputs": summary["rejected_inputs"],
        "shortfall": summary["shortfall"],
        "precision": precision,
    }


def own_examples_only(state) -> bool:
    """The decision planned training on the person's own examples: the small model here got them wrong, so
    it writes no practice answers (`agent.rubric.practice_data`)."""
    return (state.get("decision") or {}).get("practice") == "own"


def _own_examples(spec, wd) -> dict:
    """The person's examples as the iteration's rows (the critique passes them through, the split makes the
    test from them): nothing is asked of a teacher."""
    from tools.data.schema import make_row

    rows = [
        make_row(e.input, e.output, system=spec.effective_system_prompt, source="own") for e in spec.examples
    ]
    atomic_write_jsonl(wd / "generated.jsonl", rows)
    return {"n": len(rows), "teacher": 0, "augmented": 0, "own": len(rows), "targeted": False}


@budget_stop
def generate(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    done = _generated(state, runtime)
    rejected = done.get("rejected_inputs") or {}
    off = sum(v for k, v in rejected.items() if k.startswith("off task"))
    return {
        "log": [
            f"generate: none written — your {done['own']} examples are the practice examples"
            if done.get("own")
            else f"generate: {done['n']} examples (iteration {iteration(state)}"
            + (", targeted" if done["targeted"] else "")
            + (
                f"; {done['augmented']} made from your examples by swapping values"
                if done.get("augmented")
                else ""
            )
            + (f"; {off} off-task inputs rejected" if off else "")
            + ")"
            + (f"; the writer: {p['reason']}" if (p := done.get("precision")) and p.get("n") else "")
        ]
    }


def answer_tokens(spec, limit: int) -> int:
    """Room for an answer like the person's (twice the longest, some slack), at most `limit`: the embedded
    teacher rambles to whatever limit it is given, and 256 tokens for a 60-character JSON answer made the
    orders bench's answers take minutes per batch."""
    from tools.data.critique import answer_token_cap

    outputs = [e.output for e in spec.examples]
    return answer_token_cap(outputs, limit) if outputs else limit


def augment_for(spec, rows, n: int, *, quick: bool = False, existing=()) -> list[dict]:
    """Exact pairs made from the seeds by value substitution (grounded extraction tasks only), up to
    AUGMENT_SHARE of the requested examples, none repeating an input of this or an earlier version."""
    from tools.data.augment import AUGMENT_SHARE, augment_examples

    if not spec.output.grounded or spec.output.format != "json":
        return []
    k = min(4, n) if quick else round(AUGMENT_SHARE * n)
    seen = [user_text(r) for r in rows] + list(existing)
    return augment_examples(spec, k, avoid=seen, seed=len(existing))
