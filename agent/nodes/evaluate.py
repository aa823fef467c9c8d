"""evaluate: the new tuned version against the base model zero-shot, the base model with the task's prompt
and examples (few-shot), and the best earlier version, on the held-out test split, with a verdict."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.context import AgentContext
from agent.nodes.common import budget_stop, idempotent_step, spec_of
from agent.state import AgentState
from tools.data.schema import user_text

PROMPT_SHOTS = 6  # the few-shot baseline's demonstrations: the first of the balanced examples


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


def practice_rows(run, data_version: str) -> list[dict]:
    """The data version's validation rows less the must-keep (regression) rows, some drawn from validation: those
    check the next round, so it is not aimed at them."""
    from tools.data.schema import row_id
    from tools.data.versions import read_split

    kept = {row_id(r) for r in read_split(run, data_version, "regression")}
    return [r for r in read_split(run, data_version, "val") if row_id(r) not in kept]


def practice_failures(
    run, data_version: str, system, spec, *, workspace=None, emit=None, provider=None
) -> list[dict]:
    """What the tuned model still gets wrong on the data version's validation rows (practice examples it did not
    train on), grouped as requests for the next round's examples (`analyze_failures`). The test's failures
    are never asked for: their inputs and expected answers, shown to the teacher, came back as practice
    examples, and the next round was then tested on what it had practised."""
    from tools.data.schema import answer_text, row_id
    from tools.evals._primary import score_output
    from tools.evals.analysis import analyze_failures
    from tools.evals.correct import answer_metric
    from tools.evals.systems import generate_outputs

    rows = practice_rows(run, data_version)
    if not rows:
        return []
    total, done = len(rows), [0]

    def tick(_i, _c) -> None:
        done[0] += 1
        if emit is not None:
            emit("progress", step="evaluate", stage="practice", done=done[0], total=total)

    if emit is not None:
        emit("progress", step="evaluate", stage="practice", done=0, total=total)
    answers = generate_outputs(system, rows, provider=provider, workspace=workspace, on_result=tick)
    out = []
    for r, a in zip(rows, answers, strict=True):
        ref = answer_text(r)
        metrics = score_output(a["text"], ref, spec)
        errors = metrics.pop("format_errors")
        out.append(
            {
                "id": row_id(r),
                "split": "val",
                "input": user_text(r),
                "reference": ref,
                "category": (r.get("metadata") or {}).get("category"),
                "outputs": {system.name: {"text": a["text"], "metrics": metrics, "format_errors": errors}},
            }
        )
    return analyze_failures(
        out, spec, system=system.name, primary_metric=answer_metric(spec), splits=("val",)
    )


def _may_go_on(state, spec, passed: bool) -> bool:
    """Could the analyze step ask for another round (`agent.nodes.analyze`)?"""
    from agent.nodes.generate import own_examples_only

    rounds = int(state.get("max_iterations") or spec.max_iterations)
    return not passed and int(state.get("iteration") or 1) < rounds and not own_examples_only(state)


@idempotent_step("evaluate")
def _evaluated(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.data.critique import answer_token_cap
    from tools.data.schema import answer_text
    from tools.data.versions import read_split
    from tools.evals import evaluate as run_eval
    from tools.llm.registry import can_grade

    ctx = runtime.context
    run, spec = ctx.run(state["run_id"]), spec_of(state)
    systems = eval_systems(run, spec, state["train_version"], state.get("best_train_version"))
    ctx.emit("status", message=f"evaluate: {len(systems)} systems on the held-out test split")
    judge = ctx.provider("judge", spec, run.id)
    refs = [answer_text(r) for r in read_split(run, state["data_version"], "test")]
    report = run_eval(
        run,
        # answers far longer than any reference are wrong anyway: a rambling baseline stops near their length
        max_tokens=answer_token_cap(refs, 256) if refs else 256,
        data_version=state["data_version"],
        systems=systems,
        spec=spec,
        judge=judge,
        use_judge=can_grade(judge) and not ctx.quick,
        candidate=systems[-1].name,
        workspace=ctx.workspace,
        on_progress=lambda ev: ctx.emit("progress", step="evaluate", **ev),
    )
    pm = report.get("primary_metric")
    passed = bool((report.get("verdict") or {}).get("passed"))
    go_on = _may_go_on(state, spec, passed)
    targets = (
        practice_failures(
            run, state["data_version"], systems[-1], spec, workspace=ctx.workspace, emit=ctx.emit
        )
        if go_on
        else []
    )
    return {
        "targets": targets,
        # how many practice rows it answered: none kept aside is not "it got them all right" (walk 24 read that
        # beside 5 of 20)
        "practised": len(practice_rows(run, state["data_version"])) if go_on else None,
        "eval_version": report["eval_version"],
        "verdict": report.get("verdict", {}),
        "candidate": report.get("candidate"),
        "baseline": report.get("baseline"),
        "primary_metric": pm,
        "systems": {k: v.get("metrics", {}).get(pm, {}) for k, v in report.get("systems", {}).items()},
        "regressed_ids": report.get("regression", {}).get("regressed_ids", []),
        "forgetting": report.get("forgetting", {}),
    }


@budget_stop
def evaluate(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    done = _evaluated(state, runtime)
    v = done["verdict"]
    return {
        "eval_version": done["eval_version"],
        "log": [
            f"evaluate: {done['eval_version']} — {'PASS' if v.get('passed') else 'not yet'}: "
            + "; ".join(v.get("reasons", [])[:3])
        ],
    }
