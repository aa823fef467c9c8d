"""Helpers shared by the distill nodes: the spec, the iteration, and the two decorators every paid or long
step wears (`idempotent_step`: done once per iteration; `budget_stop`: a budget stop ends the loop cleanly)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from agent.artifacts import load_step, save_step
from tools.errors import BudgetExceeded
from tools.spec import TaskSpec, parse_spec_dict


def spec_of(state) -> TaskSpec:
    return parse_spec_dict(state["task"])


def iteration(state) -> int:
    """The distill loop's round (1 for the first)."""
    return int(state.get("iteration") or 1)


_clock = time.monotonic  # a step's duration (tests pin it)


def idempotent_step(step: str) -> Callable:
    """Do a node's work once per iteration. The decorated function `(state, runtime) -> result` does the work;
    its result is saved as `work/iter<k>/<step>.json`, and a later call that finds that file (a resume after a
    crash, a node re-run after an interrupt) returns it without doing the work again."""

    def decorate(work: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(work)
        def once(state, runtime) -> dict:
            run, it = runtime.context.run(state["run_id"]), iteration(state)
            done = load_step(run, it, step)
            if done is None:
                started = _clock()
                done = save_step(run, it, step, work(state, runtime))
                _record_time(runtime.context, state, step, _clock() - started)
            return done

        return once

    return decorate


def _record_time(ctx, state, step: str, seconds: float) -> None:
    """How long a step took per practice example here, for the next estimate (agent.rates). Never fails."""
    try:
        from agent.rates import TIMED_STEPS, record_step_time
        from tools.llm.registry import choose

        if step not in TIMED_STEPS:
            return
        from agent.nodes.generate import own_examples_only

        if step in ("generate", "critique") and own_examples_only(state):
            # nothing was written or checked against a writer: walk 20's own-examples run recorded writing at
            # 0.0001 s an example, and the next estimate on that computer would have said writing is free
            return
        spec = spec_of(state)
        teacher = spec.teacher.provider or choose("teacher").provider
        record_step_time(ctx.workspace, step, seconds, int(spec.n_examples or 0), teacher)
    except Exception:  # noqa: BLE001 - a rate is a nicety, never a failure
        pass


def budget_stop(node: Callable) -> Callable:
    """A budget stop inside a paid step ends the loop cleanly: finished work stays, the report says why."""

    @functools.wraps(node)
    def wrapper(state, runtime):
        try:
            return node(state, runtime)
        except BudgetExceeded as e:
            return {"stop_reason": "budget", "log": [f"{node.__name__}: {e.message}"]}

    return wrapper
