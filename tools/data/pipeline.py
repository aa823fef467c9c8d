"""The whole data step in one call: generate → critique → (hardness) → mix → split → write a version.

Used by `tunewise data generate` and the agent. Restarting after a crash reuses the generation journal,
so finished items are never paid for twice; a budget stop still writes a valid (partial) version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.data.schema import row_id, user_text
from tools.spec import TaskSpec


def _provider(role: str, spec: TaskSpec, run, budget):
    from tools.llm import get_provider

    rs = getattr(spec, role)
    return get_provider(
        role,
        provider=rs.provider,
        model=rs.model,
        base_url=rs.base_url,
        workspace=run.workspace,
        budget=budget,
    )


# long: 16 keyword options (the CLI's and the agent's knobs) take the signature; the body is its phases in order
def build_dataset(
    run,
    spec: TaskSpec,
    *,
    n: int,
    teacher=None,
    judge=None,
    student=None,
    batch: bool = False,
    concurrency: int | None = None,
    max_concurrency: int | None = None,
    answer_max_tokens: int = 256,
    input_max_tokens: int = 64,
    threshold: int = 3,
    critique: bool = True,
    hardness: bool = False,
    general_file: str | Path | None = None,
    budget: float | None = None,
    targeted: list[dict] | None = None,
    reason: str | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> dict[str, Any]:
    """Generate, check (critique or validators, hardness), mix general examples, split and write a new data
    version; returns the version, its manifest and the generation (with its stop reason)."""
    from tools.data.versions import load_manifest, read_split, split_rows, write_data_version
    from tools.llm.budget import Budget

    emit = on_progress or (lambda e: None)
    limit = budget if budget is not None else spec.budget
    bud = Budget(limit, run.budget_path)
    teacher = teacher or _provider("teacher", spec, run, bud)
    if max_concurrency:  # adaptive: from `concurrency` up to this cap, halving on 429s
        teacher.max_concurrency = max_concurrency
    parent = run.latest_version("data")
    previous = read_split(run, parent, "all") if parent else []
    prev_reg = read_split(run, parent, "regression") if parent else None
    gen, workdir = _generate(
        run,
        spec,
        n,
        teacher=teacher,
        budget=bud,
        targeted=targeted,
        previous=previous,
        emit=emit,
        concurrency=concurrency,
        answer_max_tokens=answer_max_tokens,
        input_max_tokens=input_max_tokens,
        batch=batch,
    )
    rows = list(gen)
    if not parent and not targeted:
        from tools.data.generate import seed_rows

        rows = seed_rows(spec) + rows
    if critique and rows and gen.stopped is None:
        from tools.data.critique import critique_examples

        judge = judge or _provider("judge", spec, run, bud)
        emit({"event": "stage", "message": f"critiquing {len(rows)} examples with {judge.describe()}"})
        rows, decisions = critique_examples(
            rows, spec, judge=judge, teacher=teacher, threshold=threshold, repair_max_tokens=answer_max_tokens
        )
    else:
        rows, decisions = _validated(rows, spec)
    hard_report = None
    if hardness and rows:
        from tools.data.filters import hardness_filter

        student = student or _provider("student", spec, run, bud)
        emit({"event": "stage", "message": "hardness filter: running the student on the inputs"})
        rows, hard_report = hardness_filter(rows, spec, student=student)
    general_before = len(rows)
    if spec.general_share > 0 and rows and (general_file or gen.stopped is None):
        rows = _mix_general(
            rows, spec, general_file, teacher=teacher, max_tokens=answer_max_tokens, emit=emit
        )
    label_key = "assistant" if spec.output.format == "label" else None
    splits = split_rows(previous + rows, label_key=label_key, previous_regression=prev_reg or None)
    sources = ([{"kind": "parent", "version": parent}] if parent else []) + [
        {"kind": "teacher", "provider": teacher.describe(), "n_requested": n, "journal": str(workdir)}
    ]
    manifest = _manifest(
        spec,
        gen,
        n=n,
        reason=reason,
        targeted=targeted,
        sources=sources,
        decisions=decisions,
        threshold=threshold,
        general_added=len(rows) - general_before,
        hard_report=hard_report,
    )
    version = write_data_version(run, splits, manifest)
    return {"version": version, "manifest": load_manifest(run, version), "generation": gen}


def _generate(
    run,
    spec: TaskSpec,
    n: int,
    *,
    teacher,
    budget,
    targeted: list[dict] | None,
    previous: list[dict],
    emit: Callable[[dict], None],
    **options: Any,
):
    """Generate `n` examples into a journal keyed by the spec, `n` and the targets (so a rerun resumes it),
    avoiding the inputs the run already has; returns the generation and its journal folder."""
    from tools.data.generate import generate_examples
    from tools.data.schema import stable_hash

    key = stable_hash(spec.model_dump_json(), str(n), repr(targeted), size=6)
    workdir = run.path / "generation" / key
    emit(
        {
            "event": "stage",
            "message": f"generating {n} examples with {teacher.describe()} (journal {workdir})",
        }
    )
    gen = generate_examples(
        spec,
        n,
        teacher=teacher,
        workdir=workdir,
        budget=budget,
        targeted=targeted,
        existing_inputs=[user_text(r) for r in previous],
        on_progress=emit,
        **options,
    )
    return gen, workdir


def _mix_general(
    rows: list[dict], spec: TaskSpec, general_file, *, teacher, max_tokens: int, emit: Callable[[dict], None]
) -> list[dict]:
    """Add the spec's share of general examples, so the tuned model keeps its general abilities."""
    from tools.data.filters import mix_general

    emit({"event": "stage", "message": f"mixing {spec.general_share:.0%} general examples"})
    return mix_general(
        rows, spec.general_share, general_file=general_file, teacher=teacher, spec=spec, max_tokens=max_tokens
    )


def _validated(rows: list[dict], spec: TaskSpec) -> tuple[list[dict], list[dict]]:
    """The rows the validators pass and one decision per row: validators still run when the judge is
    skipped (or the budget ran out)."""
    from tools.data.critique import programmatic_issues

    kept, decisions = [], []
    for r in rows:
        issues = programmatic_issues(r, spec)
        decisions.append(
            {
                "id": row_id(r),
                "action": "dropped" if issues else "kept",
                "stage": "validator",
                "score": None,
                "category": issues[0][0] if issues else None,
                "reason": "; ".join(x for _, x in issues) or "validators passed",
            }
        )
        if not issues:
            kept.append(r)
    return kept, decisions


def _manifest(
    spec: TaskSpec,
    gen,
    *,
    n: int,
    reason: str | None,
    targeted: list[dict] | None,
    sources: list[dict],
    decisions: list[dict],
    threshold: int,
    general_added: int,
    hard_report: dict | None,
) -> dict[str, Any]:
    """The new data version's manifest: why it was made, from what, and every keep/repair/drop decision."""
    from tools.data.generate import generation_summary

    counts = Counter(d["action"] for d in decisions)
    manifest: dict[str, Any] = {
        "reason": reason
        or (
            ("targeted generation" if targeted else f"generated {n} examples")
            + (" (stopped early: budget)" if gen.stopped else "")
        ),
        "sources": sources,
        "decisions": decisions,
        "generation": generation_summary(gen),
        "critique_summary": {
            "kept": counts.get("kept", 0),
            "repaired": counts.get("repaired", 0),
            "dropped": counts.get("dropped", 0),
            "threshold": threshold,
        },
        "general": {"share": spec.general_share, "added": general_added},
        "spec": spec.name,
        "partial": gen.stopped is not None,
    }
    if hard_report:
        manifest["hardness"] = hard_report
    if targeted:
        manifest["targeted"] = targeted
    return manifest
