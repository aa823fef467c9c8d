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
    from tools.data.critique import critique_examples, programmatic_issues
    from tools.data.filters import hardness_filter, mix_general
    from tools.data.generate import generate_examples, generation_summary, seed_rows
    from tools.data.schema import stable_hash
    from tools.data.versions import load_manifest, read_split, split_rows, write_data_version
    from tools.llm.budget import Budget

    emit = on_progress or (lambda e: None)
    limit = budget if budget is not None else spec.budget
    bud = Budget(limit, run.budget_path)
    teacher = teacher or _provider("teacher", spec, run, bud)
    parent = run.latest_version("data")
    previous = read_split(run, parent, "all") if parent else []
    prev_reg = read_split(run, parent, "regression") if parent else None
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
        budget=bud,
        targeted=targeted,
        existing_inputs=[user_text(r) for r in previous],
        on_progress=emit,
        concurrency=concurrency,
        answer_max_tokens=answer_max_tokens,
        input_max_tokens=input_max_tokens,
        batch=batch,
    )
    rows = list(gen)
    if not parent and not targeted:
        rows = seed_rows(spec) + rows
    decisions: list[dict] = []
    if critique and rows and gen.stopped is None:
        judge = judge or _provider("judge", spec, run, bud)
        emit({"event": "stage", "message": f"critiquing {len(rows)} examples with {judge.describe()}"})
        rows, decisions = critique_examples(
            rows, spec, judge=judge, teacher=teacher, threshold=threshold, repair_max_tokens=answer_max_tokens
        )
    else:
        # validators still run when the judge is skipped (or the budget ran out)
        kept = []
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
        rows = kept
    hard_report = None
    if hardness and rows:
        student = student or _provider("student", spec, run, bud)
        emit({"event": "stage", "message": "hardness filter: running the student on the inputs"})
        rows, hard_report = hardness_filter(rows, spec, student=student)
    general_before = len(rows)
    if spec.general_share > 0 and rows and (general_file or gen.stopped is None):
        emit({"event": "stage", "message": f"mixing {spec.general_share:.0%} general examples"})
        rows = mix_general(
            rows,
            spec.general_share,
            general_file=general_file,
            teacher=teacher,
            spec=spec,
            max_tokens=answer_max_tokens,
        )
    label_key = "assistant" if spec.output.format == "label" else None
    splits = split_rows(previous + rows, label_key=label_key, previous_regression=prev_reg or None)
    counts = Counter(d["action"] for d in decisions)
    manifest = {
        "reason": reason
        or (
            ("targeted generation" if targeted else f"generated {n} examples")
            + (" (stopped early: budget)" if gen.stopped else "")
        ),
        "sources": ([{"kind": "parent", "version": parent}] if parent else [])
        + [{"kind": "teacher", "provider": teacher.describe(), "n_requested": n, "journal": str(workdir)}],
        "decisions": decisions,
        "generation": generation_summary(gen),
        "critique_summary": {
            "kept": counts.get("kept", 0),
            "repaired": counts.get("repaired", 0),
            "dropped": counts.get("dropped", 0),
            "threshold": threshold,
        },
        "general": {"share": spec.general_share, "added": len(rows) - general_before},
        "spec": spec.name,
        "partial": gen.stopped is not None,
    }
    if hard_report:
        manifest["hardness"] = hard_report
    if targeted:
        manifest["targeted"] = targeted
    version = write_data_version(run, splits, manifest)
    return {"version": version, "manifest": load_manifest(run, version), "generation": gen}
