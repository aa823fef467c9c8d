"""Helpers shared by the distill nodes."""

from __future__ import annotations

import functools
from collections.abc import Callable

from tools.errors import BudgetExceeded
from tools.spec import TaskSpec, parse_spec_dict


def spec_of(state) -> TaskSpec:
    return parse_spec_dict(state["task"])


def budget_stop(node: Callable) -> Callable:
    """A budget stop inside a paid step ends the loop cleanly: finished work stays, the report says why."""

    @functools.wraps(node)
    def wrapper(state, runtime):
        try:
            return node(state, runtime)
        except BudgetExceeded as e:
            return {"stop_reason": "budget", "log": [f"{node.__name__}: {e.message}"]}

    return wrapper
