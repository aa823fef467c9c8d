"""decide: the rubric over the answers, with an empirical probe when examples exist and the prompted
success rate is unknown. Interactive sessions confirm or override the recommendation."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.artifacts import load_step, save_step
from agent.context import AgentContext
from agent.interrupts import DecisionAsk
from agent.probe import apply_probe, measure_anyway, probe_needed, probe_signature, run_probe
from agent.rubric import APPROACHES, MIN_EXAMPLES_TO_TRAIN, Answers, guess_words, practice_data
from agent.rubric import decide as apply_rubric
from agent.state import AgentState
from tools.data.coverage import unseen_values, unseen_words
from tools.spec import parse_spec_dict
from tools.workspace import atomic_write_json

CHANGE = "change answers"
FINE_TUNES = ("fine-tune", "rag+fine-tune")
# practice examples in a quick first try, offered beside the full run when a model is trained: enough to clear
# the 20-example training floor when about half pass the checks (the walk's quick try of 50 with the built-in
# model kept 25, 18 of them to train on: nothing was trained)
QUICK_TRY = 80
NO_WRITER = "no_writer"  # the stop reason when nobody here can write practice answers worth training on


def _probe(ctx, state: AgentState, spec, run, answers: Answers) -> dict | None:
    """The probe's measurement (saved, reused while the task is unchanged), applied to `answers` in place."""
    probe = load_step(run, 0, "probe")
    if probe is not None and probe.get("signature") != probe_signature(spec):
        probe = None  # the examples or the prompt changed since ("change answers"): measure again
    anyway = measure_anyway(answers, len(spec.examples), bool(state.get("headless")))
    if probe is None and (probe_needed(answers, len(spec.examples)) or anyway):
        ctx.emit("status", message="probe: trying the model on your examples")
        result = run_probe(spec, ctx.provider("student", spec, run.id), on_stream=ctx.stream_callback())
        probe = save_step(run, 0, "probe", result)
    return apply_probe(answers, probe, prefer_measured=anyway)


def decide(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run = ctx.run(state["run_id"])
    spec = parse_spec_dict(state["task"])
    answers = Answers.from_dict({k: v for k, v in (state.get("answers") or {}).items() if k != "budget"})
    probe = _probe(ctx, state, spec, run, answers)
    teacher = ctx.provider("teacher", spec, run.id).describe() if spec.teacher.provider else _auto_teacher()
    decision = apply_rubric(
        answers,
        n_examples=spec.n_examples,
        teacher=teacher,
        probe={k: v for k, v in (probe or {}).items() if k != "rows"} or None,
        output_format=spec.output.format,
    )
    if decision.approach in FINE_TUNES or not state.get("headless"):
        # a person may pick a path that trains a model whatever the advice: its estimate needs this
        # machine's measured speed (the walk's override was estimated from a benchmark: 10 minutes, took 33)
        decision.estimate = _estimate_here(
            ctx, state, spec, run, decision.approach, teacher, own=decision.practice == "own"
        )
    estimates = _estimates(ctx, spec, teacher, decision)
    # values a writer imitating the examples will not write: said before anything is generated
    unseen = unseen_values(spec)
    # (trained on the person's own examples only, there is nothing to write fewer of)
    quick = QUICK_TRY if spec.n_examples > QUICK_TRY and decision.practice != "own" else None
    approach = decision.approach
    note = None
    if spec.approach != "auto" and spec.approach != approach:
        note = f"the task file sets approach={spec.approach}; the rubric recommended {approach}"
        approach = spec.approach
    if not state.get("headless"):
        choice = interrupt(
            DecisionAsk(
                kind="decision",
                decision=decision.to_dict() | {"unseen": [list(u) for u in unseen]},
                choices=["accept", CHANGE, *APPROACHES],
                estimates=estimates,  # every path's estimate: an override shows its own before it starts
                # a quick first try (fewer practice examples) for a path that trains a model, with its estimate
                quick={
                    "n_examples": quick,
                    "full_n_examples": spec.n_examples,
                    "estimates": _estimates(ctx, spec, teacher, None, quick),
                }
                if quick
                else None,
            )
        )
        size = None
        if isinstance(choice, dict):  # {"choice": "accept" | an approach, "n_examples": N}
            size = choice.get("n_examples")
            choice = choice.get("choice")
        if choice == CHANGE:
            # back to the interview in the same session, every earlier answer offered as the default
            return {
                "rewind": dict(state.get("answers") or {}),
                "answers": {},
                "decision": {},
                "log": ["decide: back to the interview to change your answers"],
            }
        if isinstance(choice, str) and choice in APPROACHES and choice != approach:
            note = f"overridden by you: {choice} (the rubric recommended {decision.approach})"
            approach = choice
    update: dict = {}
    lines = [f"decide: {decision.approach} — {decision.reasons[0]}"]
    if note:
        lines.append(f"decide: {note}")
    if not state.get("headless") and size and approach in FINE_TUNES and int(size) != spec.n_examples:
        # the person chose a quick first try: fewer practice examples, the task says so from here on
        from tools.workspace import atomic_write_yaml

        spec = parse_spec_dict({**state["task"], "n_examples": int(size)})
        atomic_write_yaml(run.spec_path, spec.to_yaml_dict())
        update["task"] = spec.to_yaml_dict()
        lines.append(f"decide: a quick first try with {spec.n_examples} practice examples")
    if (
        state.get("headless")
        and approach in FINE_TUNES
        and spec.approach == "auto"
        and decision.practice == "blocked"
    ):
        # nobody watching: do not spend the machine for most of an hour writing wrong answers and training a
        # model on them (the thermostat bench); a person at the decision reads the same warning and chooses
        update["stop_reason"] = NO_WRITER
        lines.append(
            "decide: stopped before writing practice examples: the model that would write them got "
            f"{round(100 * (answers.prompted_success or 0))}% of your examples right{guess_words(probe)}"
        )
    if unseen and approach in FINE_TUNES:
        lines.append(
            f"decide: none of your examples has {unseen_words(unseen)}: add an example or two of each"
        )
    # who writes the practice answers on the path taken (an override to a fine-tune included)
    practice = (
        decision.practice
        if approach == decision.approach
        else practice_data(answers, probe, teacher, spec.output.format)
        if approach == "fine-tune"
        else "written"
    )
    if practice == "own" and len(spec.examples) < MIN_EXAMPLES_TO_TRAIN:
        practice = "written"  # (a count the person said, not examples in the task: nothing to train on)
    if practice == "own":
        lines.append(
            f"decide: your {len(spec.examples)} examples are the practice examples: the model here got "
            f"{round(100 * (answers.prompted_success or 0))}% of them right, so it writes none"
        )
    out = decision.to_dict() | {
        "practice": practice,
        "chosen": approach,
        "override_note": note,
        "n_examples": spec.n_examples,
        "unseen": [list(u) for u in unseen],
    }
    atomic_write_json(run.decision_path, out)
    return {"decision": out, "approach": approach, "rewind": None, "log": lines} | update


def _estimate_here(
    ctx: AgentContext, state: AgentState, spec, run, approach: str, teacher: str, own: bool = False
) -> dict:
    """The estimate from this machine's rates; a person deciding gets the student's speed measured here
    (once per machine, cached in the workspace; a re-run after the interrupt reads the cache). `own`: trained
    on the person's own examples, nothing written."""
    from agent.rates import example_tokens, load_rates, machine_rates
    from agent.rubric import estimate

    measure = (
        not state.get("headless")
        and not ctx.quick
        and "generate_tokens_per_s" not in load_rates(ctx.workspace)
    )
    student = None
    if measure:
        student = ctx.provider("student", spec, run.id)
        if getattr(student, "name", None) == "local":
            ctx.emit("status", message="estimate: timing this computer (once)")
    rates = machine_rates(ctx.workspace, student=student)
    return estimate(
        approach,
        n_examples=len(spec.examples) if own else spec.n_examples,
        teacher=teacher,
        rates=rates,
        tokens_per_example=example_tokens([e.model_dump() for e in spec.examples]),
        n_checked=len(spec.examples),
        written=not own,
    )


def _estimates(ctx: AgentContext, spec, teacher: str, decision, n_examples: int | None = None) -> dict:
    """The estimate of every path on this machine's rates (those measured here, else benchmark figures), so a
    person who overrides the recommendation sees what their choice costs before any work starts; with
    `n_examples`, the paths that train a model at that size (a quick first try)."""
    from agent.rates import example_tokens, machine_rates
    from agent.rubric import estimate

    rates = machine_rates(ctx.workspace, measure=False)
    per_example = example_tokens([e.model_dump() for e in spec.examples])
    out = {}
    for approach in FINE_TUNES if n_examples else APPROACHES:
        if decision is not None and approach == decision.approach:
            out[approach] = decision.estimate
            continue
        try:
            n = n_examples or spec.n_examples
            out[approach] = estimate(
                approach,
                n_examples=n,
                teacher=teacher,
                rates=rates,
                tokens_per_example=per_example,
                n_checked=len(spec.examples),
            )
        except Exception:  # noqa: BLE001 - an estimate never fails a decision
            continue
    return out


def _auto_teacher() -> str:
    from tools.llm.registry import choose

    return str(choose("teacher"))
