"""review: headless, the critique thresholds already decided; interactive, a person reviews ≥10% in the
TUI and the decisions come back through the interrupt. Applying them is tools.data.review's, the one review
implementation (the TUI's "apply to similar" shows what it would reach)."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.artifacts import work_dir
from agent.context import AgentContext
from agent.interrupts import ReviewAsk
from agent.nodes.common import idempotent_step, iteration
from agent.nodes.generate import own_examples_only
from agent.state import AgentState
from tools.data.review import apply_decisions
from tools.workspace import atomic_write_jsonl, read_jsonl


@idempotent_step("review")
def _reviewed(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    run, it = runtime.context.run(state["run_id"]), iteration(state)
    wd = work_dir(run, it)
    rows = list(read_jsonl(wd / "critiqued.jsonl"))
    if state.get("headless"):
        decisions, mode = [], "thresholds"
    elif own_examples_only(state):
        decisions, mode = [], "yours"  # the person's own examples, nothing written to look over
    else:
        # re-run from here on resume: everything above is a read, so it is safe to repeat
        payload = ReviewAsk(
            kind="review", run_id=run.id, iteration=it, file=str(wd / "critiqued.jsonl"), n=len(rows)
        )
        decisions, mode = interrupt(payload) or [], "person"
    if not isinstance(decisions, list):
        decisions = []  # an answer that is no list of decisions (an old CLI's Enter) decides nothing
    rows, applied = apply_decisions(rows, decisions)
    atomic_write_jsonl(wd / "reviewed.jsonl", rows)
    return {"mode": mode, "decisions": applied, "kept": len(rows)}


def review(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    done = _reviewed(state, runtime)
    own = [d for d in done["decisions"] if not d.get("propagated_from") and not d.get("skipped")]
    spread = len(done["decisions"]) - len(own) - sum(1 for d in done["decisions"] if d.get("skipped"))
    return {
        "log": [
            f"review: {done['mode']} — {len(own)} decisions"
            + (f" (+{spread} applied to similar examples)" if spread else "")
            + f", {done['kept']} examples kept"
        ]
    }
