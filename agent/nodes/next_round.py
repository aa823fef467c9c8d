"""next_round: before another train/evaluate round is spent, a person watching says whether to spend it.

Runs after `analyze`. When analyze planned another iteration and a person is there (not headless), it asks
with `interrupt()`: "The tuned model is not good enough yet: <reason>. Try another round (about N minutes)?
/ Stop here and see the report". Headless runs (`--yes`) and stopped runs pass straight through. Everything
before the interrupt only reads files, so the node is safe to re-run on resume.
"""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.artifacts import load_step
from agent.context import AgentContext
from agent.interrupts import question as ask
from agent.state import AgentState
from tools.evals.summary import plain_reason

ANOTHER, STOP = "Try another round", "Stop here and see the report"
STOPPED_BY_YOU = "stopped_by_you"


def round_reason(run, last: dict) -> str:
    """Why the round just measured is not good enough, in one clause."""
    if last.get("rolled_back"):
        return str(last.get("note") or "it got worse than the round before")
    verdict = (load_step(run, int(last.get("iteration") or 1), "evaluate") or {}).get("verdict") or {}
    for r in verdict.get("reasons") or []:
        text = str(r)
        if text.startswith("✗"):
            return text.lstrip("✗ ").strip()
    for r in verdict.get("reasons") or []:
        if str(r).startswith("?"):
            return str(r).lstrip("? ").strip()
    return "it did not meet the success criteria"


def round_sentence(run, state: dict, last: dict) -> str | None:
    """The evaluation's own plain sentence ("The tuned model got 3 of 13 orders fully right; your prompt with
    5 examples got 7. It is not better yet: …"), the one the evaluation screen leads with; None without it."""
    if last.get("rolled_back") or not state.get("eval_version"):
        return None
    from tools.evals.summary import load_plain_summary

    try:
        s = load_plain_summary(run.path / "eval" / str(state["eval_version"]), run.path)
    except Exception:  # noqa: BLE001 - the question falls back to the verdict's reason
        return None
    if not s or s.get("status") == "none" or not s.get("sentence"):
        return None
    return str(s["sentence"])


def round_minutes(run, iteration: int) -> int | None:
    """About how long a round takes: what the last one took, from its files' times (None when unknown)."""
    d = run.path / "work" / f"iter{iteration}"
    done = d / "evaluate.json"
    if not done.exists():
        return None
    times = [p.stat().st_mtime for p in d.rglob("*") if p.is_file()]
    if not times:
        return None
    return max(1, round((done.stat().st_mtime - min(times)) / 60))


def read_round_answer(raw) -> bool | None:
    """True: another round; False: stop; None: not understood (asked again)."""
    s = str(raw or "").strip().lower()
    if s in (
        ANOTHER.lower(),
        "another",
        "another round",
        "try",
        "try again",
        "yes",
        "y",
        "continue",
        "go",
        "ok",
    ):
        return True
    if s in (STOP.lower(), "stop", "stop here", "no", "n", "report", "done", "enough", "quit"):
        return False
    if s.startswith(("try", "yes", "another", "continue")):
        return True
    if s.startswith(("stop", "no", "see the report")):
        return False
    return None


def next_round(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    if state.get("headless") or state.get("stop_reason"):
        return {}
    run = runtime.context.run(state["run_id"])
    last = (state.get("history") or [{}])[-1]
    done_it = int(last.get("iteration") or max(1, int(state.get("iteration") or 2) - 1))
    minutes = round_minutes(run, done_it)
    said = round_sentence(run, state, last)
    question = (
        (
            f"{said} Try another round"
            if said
            else f"The tuned model is not good enough yet: "
            f"{plain_reason(round_reason(run, last))}. Try another round"
        )
        + (f" (about {minutes} minute{'s' if minutes != 1 else ''})" if minutes else "")
        + "?"
    )
    error = None
    while True:
        answer = interrupt(
            ask(
                "next_round",
                question,
                kind="round",
                input="choice",
                choices=[ANOTHER, STOP],
                help=f"Round {state.get('iteration')} of at most {state.get('max_iterations')}: "
                "new practice examples aimed at what it got wrong, another training and another test.",
                error=error,
                default=ANOTHER,
            )
        )
        go = read_round_answer(answer)
        if go is not None:
            break
        error = f"I did not understand {str(answer)!r} — answer '{ANOTHER}' or '{STOP}'"
    if not go:
        return {
            "stop_reason": STOPPED_BY_YOU,
            "log": [f"next round: you stopped after round {done_it}; the report shows where it stands"],
        }
    return {"log": [f"next round: you chose to try round {state.get('iteration')}"]}
