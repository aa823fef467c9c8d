"""The tunewise Textual app: the App, its bindings, and the worker that drives the agent's graph.

Kept light at import (no torch/transformers/langgraph): the agent is imported inside the worker, so
the first screen paints before any model or graph code loads. Messages go up (the worker posts
`GraphPaused`, `AgentEvent`…), the app routes them to screens.
"""

from __future__ import annotations

import time
from typing import Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from tui.commands import TunewiseCommands
from tui.messages import AgentEvent, GraphFailed, GraphPaused, GraphUpdate
from tui.themes import THEMES, TUNEWISE_DARK, other_theme

_START = time.perf_counter()


class TunewiseApp(App):
    """Home → conversation → decision → data review → training → evaluation → report."""

    CSS_PATH = "tunewise.tcss"
    TITLE = "tunewise"
    SUB_TITLE = "prompt, RAG or fine-tune — measured"
    COMMANDS = App.COMMANDS | {TunewiseCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+h", "go_home", "Home", show=False),
        Binding("ctrl+r", "retry", "Retry step", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        workspace: Any = None,
        *,
        quick: bool = False,
        budget_usd: float | None = None,
        train_max_steps: int | None = None,
        max_iterations: int | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        from tools.workspace import Workspace

        self.workspace = workspace if workspace is not None else Workspace()
        self.quick = quick
        self.budget_usd = budget_usd
        self.train_max_steps = train_max_steps
        self.max_iterations = max_iterations
        self.current_run: str | None = None
        self.pending: dict[str, Any] = {}  # run id → the interrupt payload it waits on
        self.run_values: dict[str, dict] = {}  # run id → the graph's latest values
        self.busy: set[str] = set()  # runs whose graph is being driven right now
        self.errors: dict[str, str] = {}  # run id → the error its graph last stopped on
        self.first_paint_s: float | None = None
        self._contexts: dict[str, Any] = {}
        for t in THEMES:
            self.register_theme(t)
        self.theme = theme or TUNEWISE_DARK.name

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        from tui.screens.home import HomeScreen

        self.push_screen(HomeScreen())
        self.call_after_refresh(self._mark_first_paint)

    def _mark_first_paint(self) -> None:
        self.first_paint_s = time.perf_counter() - _START

    # ------------------------------------------------------------------ navigation
    def show(self, screen: Screen) -> None:
        """Show a screen over Home (replacing any other screen), so Escape always leads home."""
        from tui.screens.home import HomeScreen

        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if isinstance(self.screen, HomeScreen):
            self.push_screen(screen)
        else:
            self.switch_screen(screen)

    def open(self, name: str, run_id: str | None = None) -> None:
        """Open a screen by name for a run (the current one by default): used by the palette and keys."""
        from tui import screens

        run_id = run_id or self.current_run
        if name == "home":
            self.action_go_home()
            return
        if name != "conversation" and run_id is None:
            self.notify("Pick or start a session first (Home).", severity="warning")
            return
        self.show(screens.make_screen(name, run_id, self.pending.get(run_id) if run_id else None))

    def new_session(self, defaults: dict | None = None) -> None:
        """Open an empty conversation; `defaults` pre-fills earlier answers ("change answers")."""
        from tui.screens.conversation import ConversationScreen

        self.show(ConversationScreen(None, None, defaults=defaults))

    def action_go_home(self) -> None:
        from tui.screens.home import HomeScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        if isinstance(self.screen, HomeScreen):
            self.screen.refresh_sessions()

    def action_retry(self) -> None:
        """Continue the current session from its last checkpoint (after an error, or a closed app)."""
        if self.current_run is None:
            self.notify("No session to retry: pick one on Home.", severity="warning")
            return
        if self.drive(self.current_run, None):
            self.notify("Retrying from the last checkpoint…")

    def action_help(self) -> None:
        from tui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = other_theme(self.theme)

    # ------------------------------------------------------------------ sessions
    def start_session(self, spec_text: str, answers: dict | None = None) -> str:
        """Create a run for a one-sentence spec and start its graph (the interview continues in the chat)."""
        from agent.runner import create_run_for, initial_state
        from tools.spec import TaskSpec

        spec = TaskSpec(name=spec_text[:40], spec=spec_text)
        run = create_run_for(self.workspace, spec)
        state = initial_state(
            run.id,
            spec,
            headless=False,
            max_iterations=self.max_iterations,
            options={"smoke": self.quick, "train_max_steps": self.train_max_steps},
        )
        self.run_values[run.id] = state
        if answers:
            state["answers"] = {"spec": spec_text, **answers}
        self.current_run = run.id
        self.drive(run.id, state)
        return run.id

    def answer(self, run_id: str, answer: Any) -> None:
        """Resume the graph with the person's answer to its pending interrupt."""
        self.pending.pop(run_id, None)
        self.current_run = run_id
        self.drive(run_id, ("resume", answer))

    def resume_session(self, run_id: str) -> None:
        """Open a saved session where it stands: its pending question/decision/review, or continue it."""
        self.current_run = run_id
        self.load_session(run_id)

    @work(thread=True, group="sessions", exit_on_error=False)
    def load_session(self, run_id: str) -> None:
        from agent.runner import session_state
        from tools.errors import UserError

        try:
            st = session_state(self.workspace, run_id)
        except UserError as e:
            self.post_message(GraphFailed(run_id, e.message))
            return
        self.run_values[run_id] = st["values"]  # its options (smoke, step cap) shape the context
        if st["interrupt"] is None and st["next"]:
            # stopped between steps (closed or crashed): carry on from the last checkpoint
            self.call_from_thread(self.drive, run_id, None)
            return
        self.post_message(GraphPaused(run_id, st["values"], st["next"], st["interrupt"]))

    def context_for(self, run_id: str):
        from agent.context import AgentContext

        if run_id not in self._contexts:
            # a resumed session keeps the options it was started with (smoke sizes, step cap)
            opts = (self.run_values.get(run_id) or {}).get("options") or {}
            self._contexts[run_id] = AgentContext(
                self.workspace,
                budget_usd=self.budget_usd,
                quick=self.quick or bool(opts.get("smoke")),
                train_max_steps=self.train_max_steps or opts.get("train_max_steps"),
                stream=True,
                on_event=lambda kind, data: self.post_message(AgentEvent(run_id, kind, dict(data))),
            )
        return self._contexts[run_id]

    def drive(self, run_id: str, payload: Any) -> bool:
        """Start driving a run's graph unless it is already being driven (one driver per run)."""
        if run_id in self.busy:
            self.notify("The agent is still working on this session.", severity="warning")
            return False
        self.busy.add(run_id)
        self.errors.pop(run_id, None)
        self.drive_graph(run_id, payload)
        return True

    @work(thread=True, group="graph", exit_on_error=False)
    def drive_graph(self, run_id: str, payload: Any) -> None:
        """Stream the graph until its next interrupt or its end; long model work happens here, off the UI."""
        from agent.runner import drive
        from tools.errors import UserError
        from tui.cli.common import quiet_libraries

        quiet_libraries()  # progress bars and warnings must not draw over the screen
        if isinstance(payload, tuple) and payload and payload[0] == "resume":
            from langgraph.types import Command

            payload = Command(resume=payload[1])
        try:
            result = drive(
                self.workspace,
                run_id,
                payload,
                self.context_for(run_id),
                on_update=lambda node, upd: self.post_message(
                    GraphUpdate(run_id, node, list((upd or {}).get("log") or []))
                ),
            )
        except UserError as e:
            self.post_message(
                GraphFailed(run_id, e.message + (f" — {e.fix}" if getattr(e, "fix", None) else ""))
            )
            return
        except Exception as e:  # noqa: BLE001 - shown on screen, never a traceback in the terminal
            self.post_message(GraphFailed(run_id, f"{type(e).__name__}: {e}"[:500]))
            return
        finally:
            self.busy.discard(run_id)
        self.post_message(GraphPaused(run_id, result["values"], result["next"], result["interrupt"]))

    # ------------------------------------------------------------------ routing
    @on(GraphPaused)
    def _route_paused(self, msg: GraphPaused) -> None:
        from tui import screens

        self.run_values[msg.run_id] = msg.values
        self.sub_title = self.SUB_TITLE
        if msg.interrupt is not None:
            self.pending[msg.run_id] = msg.interrupt
        kind = msg.interrupt.get("kind") if isinstance(msg.interrupt, dict) else None
        target = {
            "question": "conversation",
            "round": "conversation",
            "decision": "decision",
            "review": "review",
        }.get(kind or "")
        if msg.finished:
            target = "report"
        if target is None:
            return
        current = self.screen
        if (
            msg.finished
            and getattr(current, "SCREEN_NAME", None) == "evaluation"
            and getattr(current, "run_id", None) == msg.run_id
        ):
            # the person is reading the results side by side: leave them there, say where the report is
            stop = msg.values.get("stop_reason") or "done"
            self.notify(f"The run finished ({stop}). Press o for the report.", title="Finished", timeout=15)
            return
        if (
            getattr(current, "SCREEN_NAME", None) == target
            and getattr(current, "run_id", None) == msg.run_id
            and hasattr(current, "on_graph_paused")
        ):
            current.on_graph_paused(msg)
            return
        self.show(screens.make_screen(target, msg.run_id, msg.interrupt, values=msg.values))

    @on(GraphUpdate)
    def _route_update(self, msg: GraphUpdate) -> None:
        if msg.log:
            self.sub_title = msg.log[-1][:70]
        for line in msg.log:
            self._forward("log", msg.run_id, {"line": line, "node": msg.node})
        if msg.node == "evaluate":
            self.open("evaluation", msg.run_id)

    @on(AgentEvent)
    def _route_event(self, msg: AgentEvent) -> None:
        if msg.kind == "train" and getattr(self.screen, "SCREEN_NAME", None) != "training":
            self.open("training", msg.run_id)
        # the header's subtitle is the one status line every screen shows while the agent works
        if msg.kind == "status" and msg.data.get("message"):
            self.sub_title = str(msg.data["message"])[:70]
        elif msg.kind == "progress":
            self.sub_title = f"{msg.data.get('step')}: {msg.data.get('done')}/{msg.data.get('total')}"
        self._forward(msg.kind, msg.run_id, msg.data)

    @on(GraphFailed)
    def _route_failed(self, msg: GraphFailed) -> None:
        self.errors[msg.run_id] = msg.error
        self.sub_title = "stopped on an error — ctrl+r retries from the last checkpoint"
        self.notify(
            msg.error + "\n(ctrl+r retries from the last checkpoint)",
            title="The agent stopped",
            severity="error",
            timeout=12,
        )
        self._forward("error", msg.run_id, {"line": msg.error})

    def _forward(self, kind: str, run_id: str, data: dict) -> None:
        handler = getattr(self.screen, "on_agent_event", None)
        if handler and self.screen.is_mounted and getattr(self.screen, "run_id", None) in (run_id, None):
            handler(kind, data)


def run_app(workspace: Any = None) -> int:
    """Entry point for `tunewise` with no arguments. Returns the exit code."""
    import os
    import sys

    app = TunewiseApp(workspace)
    app.run()
    code = app.return_code or 0
    if app.busy:
        # a graph step is still running in a worker thread: its last checkpoint is saved (and the run lock
        # is a flock the OS drops), so leave now instead of waiting for the step to finish
        print(
            "tunewise: the agent was mid-step; the session resumes from its last checkpoint (Home → Resume).",
            file=sys.stderr,
        )
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(code)
    return code
