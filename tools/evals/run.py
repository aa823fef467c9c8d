"""`evaluate`: every system on the same held-out rows, scored, judged, compared, with a verdict.

Writes `runs/<id>/eval/vN/`: outputs.jsonl (per example, every system side by side with judge
reasons), report.json (the shape the agent and TUI read), report.md, PNG plots, and the retrieval
config of any RAG system. Generation and judging go through the providers' cache, so rerunning an
identical eval makes no provider calls.

`evaluate` resolves its arguments into one `EvalRequest` (`prepare`), then runs six named phases, each a
function of the request and the phases before it: generate → judge → aggregate → compare → verdict → write.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tools.data.schema import check_chat_row, row_id, user_text
from tools.errors import UserError
from tools.evals._classification import macro_f1
from tools.evals._length import length_stats, prompt_tokens_per_request
from tools.evals._metrics import mean_with_ci, paired_bootstrap_diff, win_rate
from tools.evals._primary import primary_metric_for, score_output
from tools.evals.correct import CORRECT_AT
from tools.evals.systems import (
    BASELINE_KINDS,
    TRIVIAL_NAME,
    SystemSpec,
    build_systems,
    generate_outputs,
    split_row,
    template_default_system_prompt,
)

FORGETTING_SET = Path(__file__).with_name("forgetting.jsonl")
REGRESSED_BY = 1e-9  # any drop in the per-example primary score flags the example


# ---------------------------------------------------------------- inputs
def load_rows(path: Path) -> list[dict]:
    """Canonical chat rows; one clear error naming the file and line for anything else."""
    from tools.workspace import read_jsonl

    if not Path(path).exists():
        raise UserError(
            "file not found", where=str(path), fix="check the path (chat JSONL, last turn = reference)"
        )
    rows = []
    for i, r in enumerate(read_jsonl(path), 1):
        problems, _ = check_chat_row(r)
        # an empty reference is scored as such; every other structural problem stops the eval
        bad = next((p for p in problems if p.kind != "empty_content"), None)
        if bad is not None:
            raise UserError(
                "each row needs `messages` with a user turn and a final assistant turn (the reference): "
                + bad.message,
                where=f"{path}:{i}",
                fix=bad.fix,
            )
        rows.append(r)
    return rows


def load_forgetting_set(limit: int | None = None) -> list[dict]:
    from tools.workspace import read_jsonl

    rows = list(read_jsonl(FORGETTING_SET))
    return rows[:limit] if limit else rows


# ---------------------------------------------------------------- aggregation
def _metric_names(per_example: list[dict]) -> list[str]:
    names: list[str] = []
    for s in per_example:
        for k, v in s.items():
            if k not in names and isinstance(v, (int, float)) and not isinstance(v, bool):
                names.append(k)
    return names


def _primary_value(entry: dict, metric: str) -> float | None:
    if metric == "judge":
        return (entry.get("judge") or {}).get("normalized")
    return (entry.get("metrics") or {}).get(metric)


def aggregate_system(
    system: SystemSpec, entries: list[dict], labels_refs: list[str] | None, seed: int
) -> dict:
    """{"kind", "metrics": {name: {"mean", "ci", "n"}}, "prompt_tokens_mean", "format_rate", ...}."""
    per = [e["metrics"] for e in entries]
    metrics = {name: mean_with_ci([p.get(name) for p in per], seed=seed) for name in _metric_names(per)}
    judged = [e.get("judge") for e in entries if e.get("judge")]
    if judged:
        metrics["judge"] = mean_with_ci([j.get("normalized") for j in judged], seed=seed)
        for dim in ("correctness", "format", "completeness"):
            metrics[f"judge_{dim}"] = mean_with_ci([j.get(dim) for j in judged], seed=seed)
    if labels_refs is not None:
        metrics["macro_f1"] = {
            "mean": macro_f1([p.get("label_pred") for p in per], labels_refs),
            "ci": [None, None],
            "n": len(per),
        }
    fmt = metrics.get("format_ok", {}).get("mean")
    return {
        "kind": system.kind,
        "metrics": metrics,
        "prompt_tokens_mean": prompt_tokens_per_request([e["prompt_tokens"] for e in entries]),
        "completion_tokens_mean": prompt_tokens_per_request([e["completion_tokens"] for e in entries]),
        "format_rate": fmt,
        "length": length_stats([e["text"] for e in entries]),
        "cost_usd": round(sum(e.get("cost_usd") or 0.0 for e in entries), 6),
        "cached": sum(1 for e in entries if e.get("cached")),
        "adapter": system.adapter,
        "notes": system.notes,
        "config": system.to_dict(),
    }


def pick_baseline_and_candidate(
    systems: dict, specs: Sequence[SystemSpec], metric: str, candidate: str | None = None
) -> tuple[str | None, str | None]:
    """Candidate: the one asked for, else the newest tuned system, else the last system listed.
    Baseline: the best-scoring baseline-kind system other than the candidate (any other system if none)."""
    names = [s.name for s in specs if s.kind != "trivial"]
    if candidate is None:
        tuned = [s.name for s in specs if s.kind == "tuned"]
        candidate = tuned[-1] if tuned else (names[-1] if len(names) > 1 else None)
    elif candidate not in systems:
        raise UserError(
            f"candidate {candidate!r} is not among the evaluated systems", fix=f"use one of {names}"
        )
    pool = [s.name for s in specs if s.kind in BASELINE_KINDS and s.name != candidate] or [
        n for n in names if n != candidate
    ]

    def score(n):
        m = systems[n]["metrics"].get(metric, {}).get("mean")
        return -1.0 if m is None else m

    baseline = max(pool, key=lambda n: (score(n), -pool.index(n))) if pool else None
    return baseline, candidate


def trivial_system(spec, train_rows: Sequence[dict], systems: Sequence[SystemSpec]):
    """(SystemSpec, output entry) of the majority-answer baseline, from the training answers and the
    spec's examples (never the test's references); None when there is nothing to count or one exists."""
    from tools.evals.distribution import CONSTANT_NOTE, majority_answer

    if any(s.kind == "trivial" for s in systems):
        return None
    answers = [split_row(r)[2] for r in train_rows] + [e.output for e in getattr(spec, "examples", [])]
    answer = majority_answer(answers, spec)
    if answer is None:
        return None
    system = SystemSpec(
        name=TRIVIAL_NAME,
        kind="trivial",
        notes=[f"{CONSTANT_NOTE}{answer[:120]}"],
    )
    entry = {
        "text": answer,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cached": False,
        "latency_s": 0.0,
        "cost_usd": 0.0,
        "finish_reason": "stop",
    }
    return system, entry


def answer_distributions(spec, outputs: dict, references: Sequence[str], n_test: int) -> dict:
    """How the test's references, the user's examples and each system's answers spread over the
    task's categorical fields (labels, enum values), with the fields where a system collapsed."""
    from tools.evals.distribution import answer_field, categorical_fields, collapsed_fields, distribution
    from tools.evals.verdict import test_shift

    fields = categorical_fields(spec, references)
    if not fields:
        # text answers chosen from a few words: only whether a system gives one of them for everything
        whole = answer_field(spec, references)
        ref = distribution(references, spec, whole)
        collapsed = {
            n: c
            for n, outs in outputs.items()
            if whole
            and (c := collapsed_fields(distribution([o["text"] for o in outs[:n_test]], spec, whole), ref))
        }
        return {"fields": [], "collapsed": collapsed} if collapsed else {"fields": []}
    ref = distribution(references, spec, fields)
    seeds = distribution([e.output for e in getattr(spec, "examples", [])], spec, fields)
    systems = {
        n: distribution([o["text"] for o in outs[:n_test]], spec, fields) for n, outs in outputs.items()
    }
    out = {"fields": fields, "reference": ref, "seeds": seeds, "systems": systems}
    # a test whose expected answers are far from the person's examples (a teacher that answered "plumbing" to
    # most requests) hides a model that answers one value for everything: the repairs bench's tuned model
    # said plumbing to 26 of 26 and "varied like the references" (21 of 26 plumbing); the examples vary
    mine = seeds if test_shift(out) else {}
    out["collapsed"] = {
        n: c
        for n, d in systems.items()
        if (c := collapsed_fields(d, ref) or [x | {"of": "your examples"} for x in collapsed_fields(d, mine)])
    }
    return out


# ---------------------------------------------------------------- the driver
@dataclass
class EvalRequest:
    """One evaluation, resolved from `evaluate`'s arguments by `prepare`: which systems answer which rows,
    judged by what, written where. Every phase reads it; only `generate` adds to it (the trivial system)."""

    run: Any  # tools.workspace.Run
    spec: Any  # tools.spec.TaskSpec
    systems: list[SystemSpec]
    test_rows: list[dict]  # the held-out test split (or the file given), scored first
    reg_rows: list[dict]  # the fixed regression set, answered after the test rows
    train_rows: list[dict]  # for the few-shot pool and the majority answer, never scored
    test_path: Path
    own_test: bool  # the data version's own test split (not a file brought to the eval)
    data_dir: Path | None
    data_version: str | None
    out_dir: Path
    judge: Any  # a Judge, or None: metrics only
    judge_note: str  # why there is no judge, when there is none
    metric: str  # the primary metric the verdict uses
    candidate: str | None  # the system asked for as the candidate (None: the newest tuned one)
    providers: dict  # system name (and "judge") → ready provider; filled as systems are generated
    progress: Callable[[dict], None]
    workspace: Any
    budget: Any = None
    seed: int = 0
    forgetting_limit: int | None = None
    agreement_limit: int = 40

    @cached_property
    def all_rows(self) -> list[dict]:
        """The test rows, then the regression rows: every system answers all of them."""
        return self.test_rows + self.reg_rows

    @property
    def n_test(self) -> int:
        return len(self.test_rows)

    @cached_property
    def references(self) -> list[str]:
        return [split_row(r)[2] for r in self.all_rows]

    @cached_property
    def inputs(self) -> list[str]:
        return [user_text(r) for r in self.all_rows]


@dataclass
class Aggregates:
    """Phase 3: per-system metrics on the test split, who is compared with whom, and by how much."""

    systems: dict  # report.json's "systems"
    baseline: str | None
    candidate: str | None
    distributions: dict
    paired: dict | None  # paired bootstrap difference, candidate − baseline, per test row
    by_category: dict


@dataclass
class Comparison:
    """Phase 4: the candidate against the baseline, pairwise and on the golden, regression and forgetting
    suites."""

    pairwise: dict | None
    pair_verdicts: list
    golden: dict | None
    regression: dict
    forgetting: dict
    forgetting_rows: list[dict]
    position_bias: float | None


def evaluate(run, **options) -> dict:
    """Evaluate `systems` (default: base, prompted, rag when documents exist, every tuned adapter) on the
    run's test split (or `test_file`) and regression set; judge, compare, decide; write the eval version.

    The options are `prepare`'s keywords (data_version, systems, spec, judge, test_file, out_dir,
    use_judge, on_progress, candidate, providers, forgetting_limit, agreement_limit, max_tokens,
    workspace, budget, seed), checked there once. `providers` maps system names (and "judge") to ready
    providers, e.g. to share one loaded model. Returns report.json's dict (plus "paths").
    """
    req = prepare(run, **options)
    outputs, template_notes = generate_phase(req)
    judge_info = judge_phase(req, outputs)
    agg = aggregate_phase(req, outputs)
    cmp = compare_phase(req, outputs, agg)
    verdict, agreement = verdict_phase(req, agg, cmp)
    return write_phase(req, outputs, agg, cmp, verdict, agreement, judge_info, template_notes)


def _data_versions(run_path: Path) -> list[str]:
    if not (run_path / "data").is_dir():
        return []
    found = (p.name for p in (run_path / "data").glob("v*") if p.is_dir() and p.name[1:].isdigit())
    return sorted(found, key=lambda v: int(v[1:]))


def _next_eval_dir(run_path: Path) -> Path:
    eval_base = run_path / "eval"
    existing = (
        [int(p.name[1:]) for p in eval_base.glob("v*") if p.is_dir() and p.name[1:].isdigit()]
        if eval_base.is_dir()
        else []
    )
    return eval_base / f"v{max(existing, default=0) + 1}"


def _pick_judge(judge, use_judge: bool, spec, providers: dict, ws, budget) -> tuple[Any, str]:
    """(the judge or None, why there is none)."""
    if use_judge and judge is None:
        from tools.evals.judge import Judge, default_judge

        judge = (
            Judge(providers["judge"], spec=spec)
            if "judge" in providers
            else default_judge(spec, workspace=ws, budget=budget)
        )
    judge_note = "judge not used (--no-judge)"
    if not use_judge:
        judge = None
    elif judge is not None and not _judge_can_grade(judge):
        # an auto-picked embedded judge never gives a readable score: metrics only, and say so
        judge_note = f"no judge: {judge.provider.describe()} cannot grade (set a judge model to use one)"
        judge = None
    return judge, judge_note


def prepare(
    run,
    *,
    data_version: str | None = None,
    systems: Sequence[SystemSpec] | None = None,
    spec=None,
    judge=None,
    test_file: str | Path | None = None,
    out_dir: str | Path | None = None,
    use_judge: bool = True,
    on_progress: Callable[[dict], None] | None = None,
    candidate: str | None = None,
    providers: dict | None = None,
    forgetting_limit: int | None = None,
    agreement_limit: int = 40,
    max_tokens: int | None = None,
    workspace=None,
    budget=None,
    seed: int = 0,
) -> EvalRequest:
    """`evaluate`'s arguments resolved and checked (the spec, the data version, the rows, the systems, the
    eval directory, the judge) before any model is called; a bad argument is one clear error."""
    from tools.workspace import as_run

    run = as_run(run, workspace)
    run_path = run.path
    ws = workspace or run.workspace
    providers = dict(providers or {})
    spec = spec if spec is not None else _run_spec(run_path)
    data_version, data_dir = _data_dir(run_path, data_version, test_file)
    test_path = Path(test_file) if test_file else data_dir / "test.jsonl"
    test_rows = load_rows(test_path)
    reg_rows = _optional_rows(data_dir, "regression.jsonl")
    train_rows = _optional_rows(data_dir, "train.jsonl")
    if not test_rows:
        raise UserError("no test rows", where=str(test_path), fix="the test file needs at least one example")
    systems = _systems(systems, spec, run_path, train_rows, max_tokens)
    out_dir = Path(out_dir) if out_dir is not None else _next_eval_dir(run_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    judge, judge_note = _pick_judge(judge, use_judge, spec, providers, ws, budget)
    return EvalRequest(
        run=run,
        spec=spec,
        systems=systems,
        test_rows=test_rows,
        reg_rows=reg_rows,
        train_rows=train_rows,
        test_path=test_path,
        own_test=test_file is None,
        data_dir=data_dir,
        data_version=data_version,
        out_dir=out_dir,
        judge=judge,
        judge_note=judge_note,
        metric=primary_metric_for(spec, judge_available=judge is not None),
        candidate=candidate,
        providers=providers,
        progress=on_progress or (lambda event: None),
        workspace=ws,
        budget=budget,
        seed=seed,
        forgetting_limit=forgetting_limit,
        agreement_limit=agreement_limit,
    )


def _run_spec(run_path: Path):
    """The run's own spec.yaml, when no spec is given."""
    from tools.spec import load_spec

    if not (run_path / "spec.yaml").exists():
        raise UserError("run has no spec.yaml", where=str(run_path), fix="create the run with a task spec")
    return load_spec(run_path / "spec.yaml")


def _data_dir(
    run_path: Path, data_version: str | None, test_file: str | Path | None
) -> tuple[str | None, Path | None]:
    """The data version to evaluate on (the one asked for, else the latest) and its folder; none is fine
    only with a test file of one's own."""
    data_dir = None
    versions = _data_versions(run_path)
    if data_version or versions:
        data_version = data_version or versions[-1]
        data_dir = run_path / "data" / data_version
        if not data_dir.is_dir():
            raise UserError(
                f"data version {data_version} not found",
                where=str(run_path / "data"),
                fix=f"use one of: {', '.join(versions) or 'none yet'}",
            )
    if test_file is None and data_dir is None:
        raise UserError(
            f"run {run_path.name} has no data version", fix="build data first, or pass --test FILE"
        )
    return data_version, data_dir


def _optional_rows(data_dir: Path | None, name: str) -> list[dict]:
    """A split of the data version that may be absent (regression, train): no rows when it is."""
    return load_rows(data_dir / name) if data_dir and (data_dir / name).exists() else []


def _systems(
    systems: Sequence[SystemSpec] | None, spec, run_path: Path, train_rows: list[dict], max_tokens: int | None
) -> list[SystemSpec]:
    """The systems asked for, else the spec's default ones; `max_tokens` caps every one of them."""
    if systems is None:
        systems = build_systems(spec, run_path, train_rows, max_tokens=max_tokens or 256)
    systems = list(systems)
    if max_tokens:
        for s in systems:
            s.max_tokens = max_tokens
    if not systems:
        raise UserError("no systems to evaluate", fix="pass --systems base,prompted,…")
    return systems


# ---------------------------------------------------------------- 1. generate
def _provider_of(req: EvalRequest, s: SystemSpec, template_notes: dict[str, str]):
    """The system's provider (a ready one from `req.providers`, else made and kept there); a base system
    notes the default system prompt its chat template injects."""
    provider = req.providers.get(s.name)
    if provider is None:
        from tools.evals.systems import provider_for

        provider = provider_for(s, workspace=req.workspace, budget=req.budget)
        req.providers[s.name] = provider
    if s.kind == "base":
        default = template_default_system_prompt(provider)
        if default:
            note = f"the chat template injects its own default system prompt: {default!r}"
            template_notes[s.name] = default
            if note not in s.notes:
                s.notes.append(note)
    return provider


def _retriever_of(req: EvalRequest, s: SystemSpec):
    """A RAG system's retriever, its config written beside the report; None for the others."""
    if s.kind != "rag" or not s.retrieval:
        return None
    from tools.rag import RetrievalConfig, Retriever

    cfg = RetrievalConfig.from_dict(s.retrieval)
    retriever = Retriever.build(cfg)
    s.retrieval = cfg.to_dict()
    cfg.save(req.out_dir / f"retrieval_{s.name}.json")
    return retriever


def generate_phase(req: EvalRequest) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Every system answers every test and regression row, each answer scored against its reference:
    ({system: [output per row]}, {base system: its template's default system prompt})."""
    outputs: dict[str, list[dict]] = {}
    template_notes: dict[str, str] = {}
    all_rows = req.all_rows
    # every system's total counts the must-keep rows too: the screen says so (walk 8 read "0/19", results of 14)
    must_keep = len(req.reg_rows)
    trivial = trivial_system(req.spec, req.train_rows, req.systems)
    if trivial is not None:
        req.systems.insert(0, trivial[0])
        outputs[trivial[0].name] = [dict(trivial[1]) for _ in all_rows]
    for s in req.systems:
        if s.kind == "trivial":
            continue
        provider = _provider_of(req, s, template_notes)
        retriever = _retriever_of(req, s)
        total = len(all_rows)
        req.progress(
            {"stage": "generate", "system": s.name, "done": 0, "total": total, "must_keep": must_keep}
        )

        def _tick(i, _c, _name=s.name, _total=total, _count=[0]):  # noqa: B006 - per-system counter
            _count[0] += 1
            req.progress(
                {
                    "stage": "generate",
                    "system": _name,
                    "done": _count[0],
                    "total": _total,
                    "must_keep": must_keep,
                }
            )

        outputs[s.name] = generate_outputs(
            s,
            all_rows,
            provider=provider,
            retriever=retriever,
            workspace=req.workspace,
            budget=req.budget,
            seed=req.seed,
            on_result=_tick,
        )
    refs = req.references
    for outs in outputs.values():
        for o, ref in zip(outs, refs, strict=True):
            o["metrics"] = score_output(o["text"], ref, req.spec)
            o["format_errors"] = o["metrics"].pop("format_errors")
    return outputs, template_notes


# ---------------------------------------------------------------- 2. judge
def judge_phase(req: EvalRequest, outputs: dict[str, list[dict]]) -> dict | None:
    """The judge scores every system's test answers pointwise (into each output's "judge"); its info."""
    if req.judge is None:
        return None
    refs, inputs = req.references, req.inputs
    items, index = [], []
    for name, outs in outputs.items():
        if name == TRIVIAL_NAME:
            continue  # a constant answer needs no judge to be told apart
        for i in range(req.n_test):
            items.append({"input": inputs[i], "output": outs[i]["text"], "reference": refs[i]})
            index.append((name, i))
    req.progress({"stage": "judge", "done": 0, "total": len(items)})
    for (name, i), v in zip(index, req.judge.score(items), strict=True):
        outputs[name][i]["judge"] = v.to_dict()
    return req.judge.info()


# ---------------------------------------------------------------- 3. aggregate
def aggregate_phase(req: EvalRequest, outputs: dict[str, list[dict]]) -> Aggregates:
    """Metrics with confidence intervals per system, baseline and candidate, the paired difference, answer
    distributions and the primary metric by category, all on the test split."""
    n_test, metric, seed = req.n_test, req.metric, req.seed
    refs = req.references
    labels_refs = [refs[i] for i in range(n_test)] if req.spec.output.format == "label" else None
    report_systems = {
        s.name: aggregate_system(s, outputs[s.name][:n_test], labels_refs, seed) for s in req.systems
    }
    at = CORRECT_AT.get(metric, 1.0) - 1e-9
    for name in report_systems:
        # the share counted right, as the person's own held-out examples are counted (the verdict sets one
        # against the other: `tools.evals.verdict.own_examples_check`)
        got = [_primary_value(o, metric) for o in outputs[name][:n_test]]
        vals = [float(v) for v in got if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if vals:
            report_systems[name]["right_share"] = sum(v >= at for v in vals) / len(vals)
    baseline, candidate = pick_baseline_and_candidate(report_systems, req.systems, metric, req.candidate)
    distributions = answer_distributions(req.spec, outputs, refs[:n_test], n_test)
    paired = None
    if candidate and baseline:
        paired = paired_bootstrap_diff(
            [_primary_value(o, metric) for o in outputs[candidate][:n_test]],
            [_primary_value(o, metric) for o in outputs[baseline][:n_test]],
            seed=seed,
        )
    cats = [str((r.get("metadata") or {}).get("category") or "uncategorized") for r in req.test_rows]
    by_category: dict[str, dict] = {}
    if len(set(cats)) > 1 or cats[0] != "uncategorized":
        for c in sorted(set(cats)):
            idx = [i for i, x in enumerate(cats) if x == c]
            by_category[c] = {
                name: mean_with_ci([_primary_value(outputs[name][i], metric) for i in idx], seed=seed)
                for name in outputs
            }
    return Aggregates(report_systems, baseline, candidate, distributions, paired, by_category)


# ---------------------------------------------------------------- 4. compare
def _pairwise(req: EvalRequest, outputs: dict, agg: Aggregates) -> tuple[dict | None, list]:
    """Candidate vs baseline on the test split, judged blind in both orders: (win rates, verdicts)."""
    candidate, baseline, n_test = agg.candidate, agg.baseline, req.n_test
    if req.judge is None or not candidate or not baseline:
        return None, []
    refs, inputs = req.references, req.inputs
    req.progress({"stage": "pairwise", "done": 0, "total": n_test})
    verdicts = req.judge.compare(
        [
            {
                "input": inputs[i],
                "candidate": outputs[candidate][i]["text"],
                "baseline": outputs[baseline][i]["text"],
                "reference": refs[i],
            }
            for i in range(n_test)
        ]
    )
    pairwise = {
        "candidate": candidate,
        "baseline": baseline,
        **win_rate([v.outcome for v in verdicts], seed=req.seed),
    }
    agg.systems[candidate]["win_rate_vs_baseline"] = pairwise
    return pairwise, verdicts


def _forgetting(req: EvalRequest, candidate: str | None) -> dict:
    cand_spec = next((s for s in req.systems if s.name == candidate), None)
    if cand_spec is None or cand_spec.kind != "tuned":
        return {"skipped": "no tuned candidate"}
    if req.judge is None:
        return {"skipped": "needs a judge (run without --no-judge)"}
    req.progress({"stage": "forgetting"})
    return forgetting_suite(
        cand_spec,
        req.providers.get(candidate),
        req.judge,
        req.spec,
        req.workspace,
        req.budget,
        req.seed,
        req.forgetting_limit,
        base_provider=_base_provider(req.systems, req.providers),
    )


def compare_phase(req: EvalRequest, outputs: dict, agg: Aggregates) -> Comparison:
    """The candidate against the baseline: pairwise on the test split, then every system on the person's
    own held-out examples (golden), the regression set and the general forgetting set."""
    pairwise, pair_verdicts = _pairwise(req, outputs, agg)
    golden = golden_suite(
        req.data_dir if req.own_test else None,
        req.systems,
        req.providers,
        outputs,
        req.spec,
        req.workspace,
        req.budget,
        req.seed,
        progress=req.progress,
    )
    regression = regression_suite(
        outputs,
        req.all_rows,
        req.n_test,
        agg.baseline,
        agg.candidate,
        req.metric,
        req.judge,
        req.inputs,
        req.references,
        req.seed,
    )
    forgetting = _forgetting(req, agg.candidate)
    pos_bias = None
    if pair_verdicts or forgetting.get("_verdicts"):
        from tools.evals.judge import position_bias_rate

        pos_bias = position_bias_rate(pair_verdicts + forgetting.get("_verdicts", []))
    forgetting_rows = forgetting.pop("_rows", [])
    forgetting.pop("_verdicts", None)
    return Comparison(pairwise, pair_verdicts, golden, regression, forgetting, forgetting_rows, pos_bias)


# ---------------------------------------------------------------- 5. verdict
def verdict_phase(req: EvalRequest, agg: Aggregates, cmp: Comparison) -> tuple[dict, dict | None]:
    """The verdict against the success criteria (the golden result quoted first), and how well the judge
    agrees with the person's review decisions: (verdict, agreement)."""
    from tools.evals.verdict import decide_verdict

    candidate, baseline, golden = agg.candidate, agg.baseline, cmp.golden
    verdict = decide_verdict(
        primary_metric=req.metric,
        baseline=baseline,
        candidate=candidate,
        systems=agg.systems,
        success=req.spec.success,
        regression=cmp.regression,
        forgetting=cmp.forgetting,
        paired=agg.paired,
        distributions=agg.distributions,
        n_test=req.n_test,
        golden=golden,
    )
    if golden and candidate in golden["systems"] and "own_examples" not in verdict["checks"]:
        g = golden["systems"]
        line = f"· on your own {golden['n']} held-out examples: {candidate} {g[candidate]['correct']} right"
        if baseline in g:
            line += f", {baseline} {g[baseline]['correct']} right"
        verdict["reasons"].insert(0, line + f" ({golden['metric']} {g[candidate]['mean']:.3f})")
    agreement = None
    if req.judge is not None and req.data_dir is not None:
        from tools.evals.agreement import judge_agreement

        agreement = judge_agreement(req.data_dir, req.judge, limit=req.agreement_limit)
        if agreement and agreement.get("warning"):
            verdict["reasons"].append(f"! {agreement['warning']}")
    return verdict, agreement


# ---------------------------------------------------------------- 6. write
def _plots(req: EvalRequest, agg: Aggregates) -> dict[str, str]:
    from tools.evals.plots import plot_categories, plot_loss_curves, plot_scores, read_loss_curves

    plots = {}
    p = plot_scores(agg.systems, req.metric, req.out_dir / "scores.png")
    if p:
        plots["scores"] = p.name
    if agg.by_category:
        p = plot_categories(agg.by_category, req.metric, req.out_dir / "categories.png")
        if p:
            plots["categories"] = p.name
    tuned_versions = [Path(s.adapter).parent.name for s in req.systems if s.kind == "tuned" and s.adapter]
    if tuned_versions:
        p = plot_loss_curves(read_loss_curves(req.run.path, tuned_versions), req.out_dir / "loss.png")
        if p:
            plots["loss"] = p.name
    return plots


# long: report.json's ~40 fields are one literal, so its shape reads in one place; the rest is four writes
def write_phase(
    req: EvalRequest,
    outputs: dict,
    agg: Aggregates,
    cmp: Comparison,
    verdict: dict,
    agreement: dict | None,
    judge_info: dict | None,
    template_notes: dict[str, str],
) -> dict:
    """The grouped failures, report.json, outputs.jsonl, report.md and plots in the eval directory, and
    the trackers; returns the report (plus "paths")."""
    from tools.evals.analysis import analyze_failures
    from tools.evals.report import render_markdown
    from tools.evals.tracking import log_eval_to_trackers
    from tools.workspace import atomic_write_json, atomic_write_jsonl, atomic_write_text

    out_dir, candidate = req.out_dir, agg.candidate
    rows_out = _outputs_rows(
        req.all_rows,
        req.n_test,
        outputs,
        req.references,
        req.inputs,
        cmp.pair_verdicts,
        cmp.regression,
        cmp.forgetting_rows,
    )
    failures = (
        analyze_failures(rows_out, req.spec, system=candidate, primary_metric=req.metric) if candidate else []
    )
    report = {
        "run_id": req.run.path.name,
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "eval_version": out_dir.name,
        "data_version": req.data_version,
        "test_source": str(req.test_path),
        "n_test": req.n_test,
        "n_regression": len(req.reg_rows),
        "task": {
            "name": req.spec.name,
            "spec": req.spec.spec,
            "format": req.spec.output.format,
            "private": req.spec.private,  # advice never sends the data to a hosted model
        },
        "systems": agg.systems,
        "primary_metric": req.metric,
        "baseline": agg.baseline,
        "candidate": candidate,
        "verdict": verdict,
        "pairwise": cmp.pairwise,
        "paired_difference": agg.paired,
        "golden": cmp.golden,
        "distributions": agg.distributions,
        "by_category": agg.by_category,
        "regression": cmp.regression,
        "forgetting": cmp.forgetting,
        "judge": (
            {**judge_info, "position_bias_rate": cmp.position_bias}
            if judge_info
            else {
                "model": None,
                "prompt_version": None,
                "temperature": None,
                "position_bias_rate": None,
                "note": req.judge_note,
            }
        ),
        "judge_agreement": agreement,
        "template_default_system_prompt": template_notes or None,
        "failures": failures,
    }
    report["plots"] = _plots(req, agg)
    report["paths"] = {
        "dir": str(out_dir),
        "outputs": str(out_dir / "outputs.jsonl"),
        "report_json": str(out_dir / "report.json"),
        "report_md": str(out_dir / "report.md"),
    }
    report["trackers"] = log_eval_to_trackers(report)  # the same TensorBoard (W&B, MLflow) run as training
    atomic_write_jsonl(out_dir / "outputs.jsonl", rows_out)
    atomic_write_json(out_dir / "report.json", report)
    atomic_write_text(out_dir / "report.md", render_markdown(report, rows_out))
    req.progress({"stage": "done", "dir": str(out_dir)})
    return report


def _judge_can_grade(judge) -> bool:
    from tools.llm.registry import can_grade

    provider = getattr(judge, "provider", None)
    return provider is None or can_grade(provider)


def golden_suite(data_dir, systems, providers, outputs, spec, ws, budget, seed, progress=None) -> dict | None:
    """Every system on the data version's golden.jsonl (the person's own examples no prompt shows):
    {"n", "metric", "systems": {name: {"mean", "ci", "n", "correct"}}, "rows": [...]}; None without one.
    `progress` gets {"stage": "golden", "done", "total"} per answer (walk 19 watched "finishing…" for ~90 s
    while these were answered uncounted)."""
    from tools.evals.correct import answer_metric, score

    path = Path(data_dir) / "golden.jsonl" if data_dir else None
    if path is None or not path.exists():
        return None
    rows = load_rows(path)
    if not rows:
        return None
    refs = [split_row(r)[2] for r in rows]
    texts: dict[str, list[str]] = {}
    per_system = {}
    total = len(rows) * sum(s.kind != "trivial" for s in systems)
    done = [0]

    def tick(_i, _c) -> None:
        done[0] += 1
        if progress is not None:
            progress({"stage": "golden", "done": done[0], "total": total})

    if progress is not None:
        progress({"stage": "golden", "done": 0, "total": total})
    for s in systems:
        if s.kind == "trivial":
            texts[s.name] = [outputs[s.name][0]["text"]] * len(rows)
        else:
            gen = generate_outputs(
                s,
                rows,
                provider=providers.get(s.name),
                workspace=ws,
                budget=budget,
                seed=seed,
                on_result=tick,
            )
            texts[s.name] = [g["text"] for g in gen]
        scores = [score(spec, t, ref) for t, ref in zip(texts[s.name], refs, strict=True)]
        per_system[s.name] = {
            **mean_with_ci([x.value for x in scores], seed=seed),
            "correct": sum(x.correct for x in scores),
        }
    return {
        "n": len(rows),
        "metric": answer_metric(spec),
        "note": "your own examples that no prompt showed; the references are yours",
        "systems": per_system,
        "rows": [
            {"input": user_text(r), "reference": ref, "outputs": {n: t[i] for n, t in texts.items()}}
            for i, (r, ref) in enumerate(zip(rows, refs, strict=True))
        ],
    }


def _base_provider(systems, providers):
    for s in systems:
        if s.kind == "base" and s.name in providers:
            return providers[s.name]
    return None


def regression_suite(
    outputs, all_rows, n_test, baseline, candidate, metric, judge, inputs, refs, seed
) -> dict:
    """Per-example primary scores of candidate vs baseline on regression.jsonl; drops are flagged."""
    n_reg = len(all_rows) - n_test
    if not n_reg or not candidate or not baseline:
        return {"n": 0, "per_example": [], "regressed_ids": []}
    idx = list(range(n_test, len(all_rows)))
    if metric == "judge" and judge is not None:
        items = [
            {"input": inputs[i], "output": outputs[name][i]["text"], "reference": refs[i]}
            for name in (baseline, candidate)
            for i in idx
        ]
        verdicts = judge.score(items)
        for k, v in enumerate(verdicts):
            name = baseline if k < n_reg else candidate
            outputs[name][idx[k % n_reg]]["judge"] = v.to_dict()
    per, regressed = [], []
    for i in idx:
        b, c = _primary_value(outputs[baseline][i], metric), _primary_value(outputs[candidate][i], metric)
        rid = row_id(all_rows[i])
        flag = b is not None and c is not None and c < b - REGRESSED_BY
        per.append(
            {
                "id": rid,
                "baseline": b,
                "candidate": c,
                "delta": None if b is None or c is None else c - b,
                "regressed": flag,
            }
        )
        if flag:
            regressed.append(rid)
    diff = paired_bootstrap_diff([p["candidate"] for p in per], [p["baseline"] for p in per], seed=seed)
    return {
        "n": n_reg,
        "baseline": baseline,
        "candidate": candidate,
        "metric": metric,
        "delta": diff["mean"],
        "delta_ci": diff["ci"],
        "per_example": per,
        "regressed_ids": regressed,
    }


def forgetting_suite(
    cand: SystemSpec, cand_provider, judge, spec, ws, budget, seed, limit=None, base_provider=None
) -> dict:
    """General prompts (no system prompt, as a general assistant): the tuned model vs the base model,
    pairwise (both orders) and pointwise; a loss on a prompt is flagged, a mean drop decides significance."""
    from tools.evals.systems import provider_for

    rows = load_forgetting_set(limit)
    if not rows:
        return {"skipped": "empty forgetting set"}
    tuned_general, base_general = _general_systems(cand)
    cand_provider = cand_provider or provider_for(tuned_general, workspace=ws, budget=budget)
    base_provider = base_provider or provider_for(base_general, workspace=ws, budget=budget)
    chat_rows = [
        {
            "messages": [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": ""}],
            "metadata": {"id": r.get("id"), "category": r.get("category")},
        }
        for r in rows
    ]
    tuned_out = generate_outputs(tuned_general, chat_rows, provider=cand_provider, seed=seed)
    base_out = generate_outputs(base_general, chat_rows, provider=base_provider, seed=seed)
    verdicts = judge.compare(
        [
            {"input": r["prompt"], "candidate": t["text"], "baseline": b["text"]}
            for r, t, b in zip(rows, tuned_out, base_out, strict=True)
        ]
    )
    points = judge.score(
        [
            {"input": r["prompt"], "output": o["text"]}
            for o_list in (tuned_out, base_out)
            for r, o in zip(rows, o_list, strict=True)
        ]
    )
    tuned_pts, base_pts = points[: len(rows)], points[len(rows) :]
    diff = paired_bootstrap_diff([p.score for p in tuned_pts], [p.score for p in base_pts], seed=seed)
    drop = -diff["mean"] if diff["mean"] is not None else None
    wr = win_rate([v.outcome for v in verdicts], seed=seed)
    max_drop = spec.success.max_forgetting_drop
    significant = bool(
        drop is not None and drop > max_drop and diff["ci"][1] is not None and diff["ci"][1] < 0
    )
    per_rows = [
        _forgetting_row(cand.name, r, t, b, v, tp, bp)
        for r, t, b, v, tp, bp in zip(rows, tuned_out, base_out, verdicts, tuned_pts, base_pts, strict=True)
    ]
    return {
        "n": len(rows),
        "wins": wr["wins"],
        "losses": wr["losses"],
        "ties": wr["ties"],
        "win_rate": wr["win_rate"],
        "score_drop": drop,
        "score_drop_ci": [None if x is None else -x for x in reversed(diff["ci"])],
        "significant": significant,
        "max_drop": max_drop,
        "forgotten_ids": [p["id"] for p in per_rows if p["forgotten"]],
        "_rows": per_rows,
        "_verdicts": verdicts,
    }


def _general_systems(cand: SystemSpec) -> tuple[SystemSpec, SystemSpec]:
    """The tuned model and its base model as general assistants (no system prompt, no examples)."""
    tuned_general = SystemSpec(
        cand.name,
        "base",
        provider=cand.provider,
        model=cand.model,
        adapter=cand.adapter,
        max_tokens=cand.max_tokens,
    )
    base_general = SystemSpec(
        "base", "base", provider=cand.provider, model=cand.model, max_tokens=cand.max_tokens
    )
    return tuned_general, base_general


def _forgetting_row(cand_name: str, r: dict, tuned: dict, base: dict, verdict, tuned_pt, base_pt) -> dict:
    """One general prompt's row in outputs.jsonl: both answers, their scores and the pairwise verdict."""
    return {
        "id": r.get("id"),
        "split": "forgetting",
        "category": r.get("category"),
        "input": r["prompt"],
        "reference": None,
        "outputs": {
            cand_name: {"text": tuned["text"], "judge": tuned_pt.to_dict()},
            "base": {"text": base["text"], "judge": base_pt.to_dict()},
        },
        "pairwise": verdict.to_dict(),
        "forgotten": verdict.outcome == "loss",
    }


def _outputs_rows(
    all_rows, n_test, outputs, refs, inputs, pair_verdicts, regression, forgetting_rows
) -> list[dict]:
    reg_by_id = {p["id"]: p for p in regression.get("per_example", [])}
    rows = []
    for i, r in enumerate(all_rows):
        meta = r.get("metadata") or {}
        rid = row_id(r)
        row = {
            "id": rid,
            "split": "test" if i < n_test else "regression",
            "category": meta.get("category"),
            "input": inputs[i],
            "reference": refs[i],
            "outputs": {name: {k: v for k, v in outs[i].items()} for name, outs in outputs.items()},
        }
        if i < n_test and pair_verdicts:
            row["pairwise"] = pair_verdicts[i].to_dict()
        if i >= n_test and rid in reg_by_id:
            row["regressed"] = reg_by_id[rid]["regressed"]
            row["delta"] = reg_by_id[rid]["delta"]
        rows.append(row)
    return rows + list(forgetting_rows)


def load_report(eval_dir: Path) -> dict:
    from tools.workspace import read_json

    p = Path(eval_dir) / "report.json"
    if not p.exists():
        raise UserError("no report.json", where=str(eval_dir), fix="run `tunewise eval RUN` first")
    return read_json(p)


def dumps_compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
