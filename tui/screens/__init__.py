"""One module per screen. `make_screen(name, run_id, pending)` builds any of them (palette, routing)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

SCREEN_NAMES = ("home", "conversation", "decision", "review", "progress", "training", "evaluation", "report")

SCREEN_HELP = {
    "home": "sessions: start a new one, resume a saved one, recent runs",
    "conversation": "the interview as a chat, with the running spec",
    "decision": "the recommendation, its reasons, the rubric and the estimate",
    "review": "review generated examples: accept / edit / reject",
    "progress": "the step running now: what it does, done / total, rate, ETA, latest samples",
    "training": "live training: progress, loss curves, stop and resume",
    "evaluation": "systems with confidence intervals, outputs side by side",
    "report": "files, how to serve the model, next steps",
}


def make_screen(name: str, run_id: str | None, pending: Any = None, values: dict | None = None) -> Screen:
    if name == "home":
        from tui.screens.home import HomeScreen

        return HomeScreen()
    if name == "conversation":
        from tui.screens.conversation import ConversationScreen

        return ConversationScreen(run_id, pending if _kind(pending) in ("question", "round") else None)
    if name == "decision":
        from tui.screens.decision import DecisionScreen

        return DecisionScreen(run_id, pending if _kind(pending) == "decision" else None)
    if name == "review":
        from tui.screens.review import ReviewScreen

        return ReviewScreen(run_id, pending if _kind(pending) == "review" else None)
    if name == "progress":
        from tui.screens.progress import ProgressScreen

        return ProgressScreen(run_id)
    if name == "training":
        from tui.screens.training import TrainingScreen

        return TrainingScreen(run_id)
    if name == "evaluation":
        from tui.screens.evaluation import EvaluationScreen

        return EvaluationScreen(run_id, round_ask=pending if _kind(pending) == "round" else None)
    if name == "report":
        from tui.screens.report import ReportScreen

        return ReportScreen(run_id, values=values)
    raise ValueError(f"unknown screen {name!r}; one of {', '.join(SCREEN_NAMES)}")


def _kind(pending: Any) -> str | None:
    return pending.get("kind") if isinstance(pending, dict) else None
