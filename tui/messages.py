"""Custom Textual messages: the graph worker posts these to the app (messages go up); the app decides
which screen shows what."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class GraphUpdate(Message):
    """A node finished: its name and the log lines it added."""

    def __init__(self, run_id: str, node: str, log: list[str]) -> None:
        super().__init__()
        self.run_id, self.node, self.log = run_id, node, log


class GraphPaused(Message):
    """The graph stopped: waiting on an interrupt (`interrupt` is its payload) or finished (`next` empty)."""

    def __init__(self, run_id: str, values: dict, next_nodes: list[str], interrupt: Any) -> None:
        super().__init__()
        self.run_id, self.values, self.next_nodes, self.interrupt = run_id, values, next_nodes, interrupt

    @property
    def finished(self) -> bool:
        return self.interrupt is None and not self.next_nodes


class GraphFailed(Message):
    """Driving the graph raised: one line for the person, and the fix when known."""

    def __init__(self, run_id: str, error: str) -> None:
        super().__init__()
        self.run_id, self.error = run_id, error


class GraphStopped(Message):
    """The person stopped the session's step (the progress screen's s): it stopped at a safe point."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class AgentEvent(Message):
    """A progress callback from a node: kind is "status", "progress" or "train"."""

    def __init__(self, run_id: str, kind: str, data: dict) -> None:
        super().__init__()
        self.run_id, self.kind, self.data = run_id, kind, data


class SessionsLoaded(Message):
    def __init__(self, rows: list[dict]) -> None:
        super().__init__()
        self.rows = rows
