"""The agent's typed state. Small on purpose: rows and reports live in the run directory, the state
holds ids, versions and decisions (it is written to SQLite at every step). Keys never go here."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

# why a run stopped: the report's words (agent/nodes/report.STOP_REASONS) and Home's (tui/screens/home.STOP_SHORT)
# are keyed by these
StopReason = Literal[
    "success",
    "iteration_limit",
    "budget",
    "no_failures_to_target",
    "no_practice_rows",
    "stopped_by_you",
    "too_few_examples",
    "no_writer",
    "own_examples_used",
    "approach:few-shot",
    "approach:prompt",
    "approach:rag",
]


class IterationRecord(TypedDict, total=False):
    iteration: int
    data_version: str
    train_version: str
    eval_version: str
    passed: bool
    primary: float | None
    baseline: float | None
    regressed: bool
    rolled_back: bool
    note: str


class AgentState(TypedDict, total=False):
    run_id: str
    headless: bool  # no person: interview answers come from the task, review by thresholds
    task: dict  # TaskSpec as a dict (spec.yaml)
    answers: dict  # interview answers (rubric keys)
    rewind: dict | None  # "change answers": the earlier answers, offered as defaults by the interview
    decision: dict  # rubric Decision.to_dict()
    approach: str
    iteration: int
    max_iterations: int
    data_version: str | None  # the data version being trained/evaluated
    good_data_version: str | None  # last version that did not regress (rollback target)
    train_version: str | None
    best_train_version: str | None
    eval_version: str | None
    targeted: list[dict]  # requests from failure analysis for the next generation
    mix: dict  # general_share, epochs, lr adjustments after a rollback
    history: Annotated[list[IterationRecord], operator.add]
    log: Annotated[list[str], operator.add]  # human-readable progress lines (also shown by the TUI)
    status: str  # running | done | failed
    stop_reason: StopReason | None  # set by the step that ends the run; None while it runs
    artifacts: dict[str, Any]  # paths of the final report, export, prompt, retrieval config
    options: dict[str, Any]  # run options that a resume must reuse: smoke (small sizes), train_max_steps
