"""What the graph asks a person: one typed payload per interrupt kind, built here and read by the TUI
(tui/app.py routes on `screen_for`, the screens render them) and the CLI (tui/cli/agent_cmd.py).

Payloads are plain dicts (TypedDicts) so the checkpointer stores them as they are; build them with the
functions below so every raise site writes the same keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NotRequired, TypedDict, TypeVar

T = TypeVar("T")
Kind = Literal["question", "round", "decision", "review"]

ASKS: tuple[Kind, ...] = ("question", "round")  # answered in words: interview questions, "another round?"
SCREENS: dict[str, str] = {
    "question": "conversation",
    "round": "evaluation",  # asked under the result it is about (the screen the person reads)
    "decision": "decision",
    "review": "review",
}


class Question(TypedDict):
    """An interview question (`kind` "question") or "another round?" (`kind` "round")."""

    kind: Literal["question", "round"]
    key: str  # the answer's key (agent/questions.py), or "next_round"
    question: str  # the sentence shown
    input: str  # text | number | choice | multi | examples …: how the answer is typed
    choices: list[str]
    help: str
    optional: bool
    error: str | None  # why the last answer was not taken (asked again), else None
    default: NotRequired[Any]  # preselected: a guess (see `note`) or the earlier answer
    note: NotRequired[str | None]  # says that the default is a guess and why
    choice_labels: NotRequired[list[str]]  # plain words shown for `choices`
    spec_so_far: NotRequired[dict]  # the task as answered so far (the spec panel)


class DecisionAsk(TypedDict):
    """The rubric's recommendation, to accept, change answers, or override."""

    kind: Literal["decision"]
    decision: dict  # agent.rubric.Decision.to_dict()
    choices: list[str]  # "accept", "change answers", then every approach
    estimates: dict  # each path's time and cost, measured on this machine
    quick: dict | None  # a quick first try: {"n_examples", "full_n_examples", "estimates"}


class ReviewAsk(TypedDict):
    """The critiqued examples of one round, to keep, fix or reject."""

    kind: Literal["review"]
    run_id: str
    iteration: int
    file: str  # critiqued.jsonl
    n: int


Interrupt = Question | DecisionAsk | ReviewAsk


def kind_of(payload: Any) -> str | None:
    """The payload's kind, or None for anything that is not an interrupt payload."""
    return payload.get("kind") if isinstance(payload, dict) else None


def screen_for(payload: Any) -> str | None:
    """The TUI screen that answers this interrupt."""
    return SCREENS.get(kind_of(payload) or "")


def question(
    key: str,
    text: str,
    *,
    input: str,
    choices: list[str] | tuple[str, ...] = (),
    help: str = "",
    optional: bool = False,
    error: str | None = None,
    kind: Literal["question", "round"] = "question",
    **extra: Any,
) -> Question:
    """A question payload; `extra` takes the optional keys (default, note, choice_labels, spec_so_far)."""
    unknown = set(extra) - set(Question.__annotations__)
    if unknown:
        raise TypeError(f"not a question field: {sorted(unknown)}")
    payload = Question(
        kind=kind,
        key=key,
        question=text,
        input=input,
        choices=list(choices),
        help=help,
        optional=optional,
        error=error,
    )
    payload.update(extra)  # type: ignore[typeddict-item]  # keys checked against Question above
    return payload


def ask_until(build: Callable[[str | None], Question], read: Callable[[Any], T], *, hint: str = "") -> T:
    """Ask (`build(error)` makes the payload) until `read` takes the answer, and return what it made of it.

    A bad answer is asked again with why, never stored and never raised: an answer the checkpoint replays on
    resume (an old session's '$5') must not stop the session for good. `read` raises UserError with a message
    and fix for the person; anything else it raises is shown with its type, then `hint`.
    """
    from langgraph.types import interrupt

    from tools.errors import UserError

    error: str | None = None
    while True:
        raw = interrupt(build(error))
        try:
            return read(raw)
        except UserError as e:
            error = e.message + (f" — {e.fix}" if e.fix else "")
        except Exception as e:  # noqa: BLE001 - any unreadable answer is re-asked
            error = f"I could not use {raw!r} ({type(e).__name__}: {e})" + (f" — {hint}" if hint else "")
