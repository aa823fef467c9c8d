"""analyze: what the next round changes — stop on success or at the limit, roll back to the last good data
with a gentler mix after a regression, else ask for targeted examples of the failures the eval grouped."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.artifacts import load_step
from agent.context import AgentContext
from agent.nodes.common import iteration, spec_of
from agent.nodes.evaluate import tuned_name
from agent.nodes.generate import own_examples_only
from agent.state import AgentState


def rollback_mix(mix: dict | None, spec) -> dict:
    """The gentler mix after a regression: more general examples (≤20%), half the learning rate, and a
    stricter on-task filter for new inputs (the next round must change the data, not only the mix). Pure."""
    mix = dict(mix or {})
    mix["general_share"] = min(0.2, float(mix.get("general_share", spec.general_share)) + 0.05)
    tr = dict(mix.get("training", {}))
    tr["learning_rate"] = float(tr.get("learning_rate", spec.training.get("learning_rate", 2e-4))) / 2
    mix["training"] = tr
    mix["on_task_strictness"] = round(float(mix.get("on_task_strictness", 0.0)) + 0.1, 2)
    return mix


def _targeted_requests(ev: dict, quick: bool) -> list[dict]:
    """What the tuned model got wrong on practice examples it did not train on (the evaluate step's
    "targets", `practice_failures`), as generation requests for the next round — never the test's failures."""
    requests = list(ev.get("targets") or [])
    if quick:
        requests = [dict(r, n=min(int(r.get("n", 4)), 4)) for r in requests][:2]
    return requests


def analyze(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Decide what the next iteration changes: targeted data, or a rollback with a gentler mix."""
    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), iteration(state)
    ev = load_step(run, it, "evaluate") or {}
    verdict = ev.get("verdict", {})
    cand = state.get("train_version")
    scored = ev.get("systems", {}).get(ev.get("candidate") or tuned_name(cand)) or {}
    primary = scored.get("mean")
    history = list(state.get("history") or [])
    prev_best = max((h.get("primary") or 0 for h in history if not h.get("rolled_back")), default=None)
    # a round is rolled back for a loss beyond noise, as the verdict counts one: the languages bench rolled round 2
    # back for 1 must-keep row of 4 and 5 test rows of 9 right against 6 — and round 2 was the better model on the
    # 63-row private test (0.59 against 0.30)
    loss_checked = "regression" in (verdict.get("checks") or {})
    regressed = (
        (verdict["checks"]["regression"] is False) if loss_checked else bool(ev.get("regressed_ids"))
    ) or bool((ev.get("forgetting") or {}).get("significant"))
    upper = (scored.get("ci") or [None, None])[1]
    worse = (
        prev_best is not None
        and primary is not None
        and primary < prev_best
        and (upper is None or upper < prev_best)  # even its 95% CI's top is below the best before
    )
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
        mix = rollback_mix(state.get("mix"), spec)
        record |= {
            "rolled_back": True,
            # in words a person reads on the evaluation screen's rounds table (walk 8 read "regression/
            # forgetting: rolled back to data v1, general share → 12%, lr → 1.0e-04")
            "note": ("worse on examples it must keep right" if regressed else "worse than the round before")
            + f": rolled back to the earlier data ({state['good_data_version']}) with more general examples mixed in ({mix['general_share']:.0%}), "
            f"a gentler learning rate ({mix['training']['learning_rate']:.1e}) and a stricter check on new "
            "inputs",
        }
        update |= {"data_version": state["good_data_version"], "mix": mix}
    else:
        update |= {"good_data_version": state.get("data_version")}
        if not worse:
            # the later round is kept unless measurably worse (it learned from more examples; a lower score on a
            # small test is within its noise)
            update["best_train_version"] = cand
    if "stop_reason" not in update:
        if own_examples_only(state):
            # a round of targeted examples would be written by the model that got the person's wrong
            update["stop_reason"] = "own_examples_used"
            record.setdefault("note", "trained on your own examples only: nothing more to write them from")
        elif it >= (last := int(state.get("max_iterations") or spec.max_iterations)):
            update["stop_reason"] = "iteration_limit"
            record.setdefault(
                "note", f"that was the last round ({it} of {last})"
            )  # the log read "iteration 2: "
        else:
            requests = _targeted_requests(ev, ctx.quick)
            update |= {"targeted": requests, "iteration": it + 1}
            if not requests:
                # retraining the same data with other settings made things worse before (bench): stop
                practised = ev.get("practised")
                update["stop_reason"] = "no_practice_rows" if practised == 0 else "no_failures_to_target"
                record.setdefault(
                    "note",
                    "no practice examples were kept aside to aim another round at"
                    if practised == 0
                    else "it got every practice example it did not train on right: nothing to aim another "
                    "round at",
                )
            # the routing bench read "asked for 1 new example" for 10 asked like the 1 practice example missed
            asked = sum(int(r.get("n") or 0) for r in requests)
            missed = sum(int(r.get("count") or 0) for r in requests)
            record.setdefault(
                "note",
                f"asked for {asked} new examples like the {missed} practice example{'' if missed == 1 else 's'} "
                f"it got wrong, for round {it + 1}",
            )
    update["history"] = [record]
    update["log"] = [f"analyze: iteration {it}: {record.get('note', '')}"]
    return update
