"""The tunewise Textual app: the App, its bindings, and the worker that drives the agent's graph.

Kept light at import (no torch/transformers/langgraph): the agent is imported inside the worker, so
the first screen paints before any model or graph code loads. Messages go up (the worker posts
`GraphPaused`, `AgentEvent`…), the app routes them to screens.

The graph runs in a daemon thread per session (not a Textual thread worker: leaving the app must never
wait for a model step to end). Quitting (ctrl+q, ctrl+c) cancels every session's context — the step stops
at its next safe point without saving a result — asks a running trainer to checkpoint and stop (unless the
person chose to keep training in the background), and exits at once; the session resumes from its last
checkpoint and journal.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen

from tui.commands import TunewiseCommands
from tui.messages import AgentEvent, GraphFailed, GraphPaused, GraphStopped, GraphUpdate
from tui.themes import THEMES, TUNEWISE_DARK, other_theme
from tui.widgets.header import plain_status
from tui.widgets.progress.model import LONG_STEPS

_START = time.perf_counter()


class TunewiseApp(App):
    """Home → conversation → decision → data review → training → evaluation → report."""

    CSS_PATH = "tunewise.tcss"
    TITLE = "tunewise"
    SUB_TITLE = "should you train your own AI model? measured"
    COMMANDS = App.COMMANDS | {TunewiseCommands}
    NOTIFICATION_TIMEOUT = (
        12  # seconds a toast stays (the walk: "a toast vanished before I could read it" at 5)
    )
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding(
            "question_mark", "help", "Help", show=False
        ),  # the walk pressed ? first (typing in a field wins)
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+h", "go_home", "Home", show=False),
        Binding("ctrl+r", "retry", "Retry step", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]
    QUIT_GRACE_S = 2.0  # how long `run_app` lets a cancelled step reach its safe point before leaving

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
        self.drives_started: dict[
            str, int
        ] = {}  # per run: how many drives began (tells a continue from a stop)
        self.errors: dict[str, str] = {}  # run id → the error its graph last stopped on
        self.stop_asked: set[str] = set()  # runs the person asked to stop (the progress screen's s)
        self.first_paint_s: float | None = None
        self._contexts: dict[str, Any] = {}
        self.drivers: dict[str, threading.Thread] = {}  # run id → the thread driving its graph
        self.progress: dict[str, Any] = {}  # run id → StepProgress of its current long step
        self.quitting = False
        self.kept_training = False  # the person quit with training left running in the background
        for t in THEMES:
            self.register_theme(t)
        self.theme = theme or TUNEWISE_DARK.name

    # ------------------------------------------------------------------ lifecycle
    def get_default_screen(self) -> Screen:
        """Home is the bottom screen itself (not pushed over Textual's blank default: one screen less to
        compose and paint before the first one a person sees)."""
        from tui.screens.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
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
            self.notify("Continuing from where it stopped…")

    def action_help(self) -> None:
        from tui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = other_theme(self.theme)

    # ------------------------------------------------------------------ sessions
    def start_session(self, spec_text: str, answers: dict | None = None, task: dict | None = None) -> str:
        """Create a run for a one-sentence spec and start its graph (the interview continues in the chat).
        `task` (a spec's fields: examples, output, …) starts it from an earlier session's task instead."""
        from agent.runner import create_run_for, initial_state
        from tools.spec import TaskSpec, parse_spec_dict

        if task:
            spec = parse_spec_dict({**task, "name": spec_text[:40], "spec": spec_text})
        else:
            spec = TaskSpec(name=spec_text[:40], spec=spec_text)
        run = create_run_for(self.workspace, spec)
        state = initial_state(
            run.id,
            spec,
            headless=False,
            max_iterations=self.max_iterations,
            options={
                "smoke": self.quick,
                "train_max_steps": self.train_max_steps,
                # from an earlier session: its answers' shape is settled (not asked again)
                "shape_known": bool(task and (task.get("output") or {}).get("format")),
            },
        )
        self.run_values[run.id] = state
        if answers:
            state["answers"] = {"spec": spec_text, **answers}
        self.current_run = run.id
        self.drive(run.id, state)
        return run.id

    def add_examples_to(self, run_id: str) -> None:
        """Ask for a file of more examples of the person's own (the decision, progress and report screens'
        `e`/`a`): a new session with the earlier answers and all the examples, straight to the decision. A
        session still running stops first (its work is kept: Home continues it)."""
        from tools.workspace import read_yaml
        from tui.widgets.add_examples_dialog import AddExamplesDialog

        path = self.workspace.run(run_id).spec_path
        had = len((read_yaml(path) or {}).get("examples") or []) if path.exists() else 0

        def chosen(examples: list[dict] | None) -> None:
            if examples:
                from tools.errors import UserError

                self.stop_session(run_id)
                try:
                    self.start_with_more_examples(run_id, examples)
                except UserError as e:
                    self.notify(e.one_line(), severity="warning", timeout=12)

        self.push_screen(AddExamplesDialog(had), chosen)

    def add_inputs_to(self, run_id: str) -> None:
        """Ask for a file of the person's real inputs (messages without answers; the decision screen's `i`):
        a new session with the earlier answers and examples and that file, straight to the decision."""
        from tools.errors import UserError
        from tui.widgets.add_examples_dialog import AddExamplesDialog

        def chosen(path: str | None) -> None:
            if not path:
                return
            from agent.sessions import with_inputs

            try:
                task, answers, n = with_inputs(self.workspace, run_id, path)
            except UserError as e:
                self.notify(e.one_line(), severity="warning", timeout=12)
                return
            self.stop_session(run_id)
            self._replace_session(
                run_id,
                task,
                answers,
                f"A new session with your {n} messages and your earlier answers",
                why="real messages",
            )

        self.push_screen(AddExamplesDialog(0, inputs=True), chosen)

    def start_with_more_examples(self, run_id: str, examples: list[dict]) -> str | None:
        """A new session with an earlier one's answers and its examples plus `examples`: it goes straight to
        the decision (every question is answered). None, with a notice, when nothing new was given."""
        from agent.sessions import with_more_examples

        task, answers, added = with_more_examples(self.workspace, run_id, examples)
        if not added:
            self.notify("Every example in that file was already in the session.", severity="warning")
            return None
        return self._replace_session(
            run_id,
            task,
            answers,
            f"A new session with {len(task['examples'])} examples ({added} new) and your earlier answers",
        )

    def run_again(self, run_id: str, instructions: str | None = None) -> str | None:
        """A new session with an earlier one's answers and examples, deciding again from the start: what
        changed since (an API key pasted with `k`, documents edited) counts; `instructions` replace the
        task's (the report's `p`). A session still running stops first (its work is kept)."""
        from agent.sessions import with_more_examples
        from tools.errors import UserError

        try:
            task, answers, _ = with_more_examples(self.workspace, run_id, [])
        except UserError as e:
            self.notify(e.one_line(), severity="warning", timeout=12)
            return None
        if instructions:
            task["system_prompt"] = instructions
        self.stop_session(run_id)
        return self._replace_session(
            run_id,
            task,
            answers,
            "A new session with your new instructions"
            if instructions
            else "A new session with your earlier answers and examples",
            title="Run again",
            why="new instructions" if instructions else "run again",
        )

    def _replace_session(
        self,
        run_id: str,
        task: dict,
        answers: dict,
        said: str,
        *,
        title: str = "Started again",
        why: str = "more examples",
    ) -> str:
        """Start the session that replaces `run_id` (straight to the decision: every question is answered),
        mark the old one replaced, say so and show the new one."""
        from agent.sessions import mark_replaced
        from tui.screens.conversation import ConversationScreen

        new_id = self.start_session(task["spec"], answers, task=task)
        mark_replaced(self.workspace, run_id, new_id, why=why)
        self.notify(f"{said}: deciding again…", title=title, timeout=12)
        self.show(ConversationScreen(new_id))
        return new_id

    def ask_api_key(self, run_id: str | None = None, then=None) -> None:
        """Take an API key for this window (never saved); then offer to run the session again with it and
        call `then()` (the screen shows what changed)."""
        from tui.widgets.api_key_dialog import ApiKeyDialog

        def chosen(name: str | None) -> None:
            if not name:
                return
            self.notify(
                f"{name} key set for this window only (not saved)."
                + (" Press r to run this session again with it." if run_id else ""),
                title="API key",
                timeout=12,
            )
            self.refresh_bindings()
            if then is not None:
                then()

        self.push_screen(ApiKeyDialog(), chosen)

    def answer(self, run_id: str, answer: Any) -> None:
        """Resume the graph with the person's answer to its pending interrupt."""
        self.pending.pop(run_id, None)
        self.current_run = run_id
        self.drive(run_id, ("resume", answer))

    def resume_session(self, run_id: str) -> None:
        """Open a saved session where it stands: its pending question/decision/review, or continue it.
        A session the agent is working on right now opens its live screen (progress or training)."""
        self.current_run = run_id
        if run_id in self.busy:
            self.open_live(run_id)
            return
        self.load_session(run_id)

    def continue_session(self, run_id: str) -> None:
        """Drive a session that stopped between steps from its last checkpoint, on its live screen."""
        if self.drive(run_id, None):
            self.open_live(run_id)

    def open_live(self, run_id: str) -> None:
        """The screen that shows a running session's current step: the training monitor or the progress."""
        prog = self.progress.get(run_id)
        self.current_run = run_id
        self.open("training" if prog is not None and prog.step == "train" else "progress", run_id)

    def step_progress(self, run_id: str):
        """The run's long-step progress (created empty on first use)."""
        from tui.widgets.progress import StepProgress

        if run_id not in self.progress:
            self.progress[run_id] = StepProgress()
        return self.progress[run_id]

    def session_note(self, run_id: str) -> str | None:
        """What Home says about a session beyond its checkpoint: working now, or training in the background."""
        if run_id in self.busy:
            prog = self.progress.get(run_id)
            what = prog.short_activity().lower() if prog is not None and prog.step else "working"
            return f"working: {what} (Enter watches)"
        base = self.workspace.run(run_id).path / "train"
        if not base.is_dir():
            return None
        try:
            from tools.train.runner import is_running  # light: no torch, no langgraph

            if any((d / "process.json").exists() and is_running(d) for d in base.iterdir()):
                return "training in the background (Enter watches)"
        except Exception:  # noqa: BLE001 - a note is optional
            return None
        return None

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
            # stopped between steps (closed, quit or crashed): carry on from the last checkpoint, and watch
            self.call_from_thread(self.continue_session, run_id)
            return
        self.post_message(GraphPaused(run_id, st["values"], st["next"], st["interrupt"]))

    def context_for(self, run_id: str):
        """One context per run for the app's life (agent.runner.context_for builds it)."""
        from agent.runner import context_for

        if run_id not in self._contexts:
            self._contexts[run_id] = context_for(
                self.workspace,
                self.run_values.get(run_id) or {},
                on_event=lambda kind, data: self._post(AgentEvent(run_id, kind, dict(data))),
                budget_usd=self.budget_usd,
                quick=self.quick,
                train_max_steps=self.train_max_steps,
                stream=True,
            )
        return self._contexts[run_id]

    def _post(self, message) -> None:
        """Post from the graph thread; once the app has closed there is nobody to tell."""
        try:
            self.post_message(message)
        except RuntimeError:  # the event loop is closed: the app has exited
            pass

    def drive(self, run_id: str, payload: Any) -> bool:
        """Start driving a run's graph unless it is already being driven (one driver per run)."""
        if run_id in self.busy:
            self.open_live(run_id)
            return False
        if self.quitting:
            return False
        self.busy.add(run_id)
        self.drives_started[run_id] = self.drives_started.get(run_id, 0) + 1
        self.errors.pop(run_id, None)
        t = threading.Thread(
            target=self.drive_graph, args=(run_id, payload), name=f"tunewise-graph-{run_id}", daemon=True
        )
        self.drivers[run_id] = t
        t.start()
        return True

    def drive_graph(self, run_id: str, payload: Any) -> None:
        """Stream the graph until its next interrupt or its end; long model work happens here, off the UI.
        Runs in its own daemon thread (see the module docstring)."""
        said = None
        try:
            said = self._drive_graph(run_id, payload)
        finally:
            # no longer busy before the screens hear how it ended: a stopped screen renders its clock stopped
            # (CI after session 22 read 'running 10s', then 'running 11s', on a screen that said "Stopped.")
            self.busy.discard(run_id)
            if said is not None:
                self._post(said)

    def _drive_graph(self, run_id: str, payload: Any) -> Message | None:
        """Drive the graph; return the message that says how the drive ended (None: nobody to tell)."""
        from agent.context import Cancelled
        from agent.runner import drive
        from tools.errors import UserError
        from tui.cli.common import quiet_libraries

        quiet_libraries()  # progress bars and warnings must not draw over the screen
        ctx = self.context_for(run_id)
        ctx.reset_cancel()
        if self.quitting:  # quit landed before this thread started: do nothing
            return None
        if isinstance(payload, tuple) and payload and payload[0] == "resume":
            from langgraph.types import Command

            payload = Command(resume=payload[1])
        try:
            result = drive(
                self.workspace,
                run_id,
                payload,
                ctx,
                on_update=lambda node, upd: self._post(
                    GraphUpdate(run_id, node, list((upd or {}).get("log") or []))
                ),
            )
        except Cancelled:
            if run_id in self.stop_asked:
                return GraphStopped(run_id)
            if not self.quitting:
                return GraphFailed(run_id, "stopped at a safe point — ctrl+r continues from the checkpoint")
            return None
        except UserError as e:
            return GraphFailed(run_id, e.message + (f" — {e.fix}" if getattr(e, "fix", None) else ""))
        except Exception as e:  # noqa: BLE001 - shown on screen, never a traceback in the terminal
            return GraphFailed(run_id, f"{type(e).__name__}: {e}"[:500])
        return GraphPaused(run_id, result["values"], result["next"], result["interrupt"])

    # ------------------------------------------------------------------ quitting
    def stop_all(self, *, keep_training: bool = False) -> None:
        """Cancel every session the app is driving: each stops at its next safe point. Running trainers are
        asked to checkpoint and stop at once (they are separate processes) unless `keep_training`."""
        self.quitting = True
        for run_id in list(self.busy):
            ctx = self._contexts.get(run_id)
            if ctx is not None:
                ctx.cancel(keep_training=keep_training)
            try:
                from agent.runner import running_trainings, stop_run_training

                run = self.workspace.run(run_id)
                if not keep_training:
                    stop_run_training(run)
                elif kept := running_trainings(run):
                    from tools.train.runner import detach_training

                    for out_dir in kept:  # it would stop once this app is gone otherwise
                        detach_training(out_dir)
                    self.kept_training = True
            except Exception:  # noqa: BLE001 - quitting must not fail; the driver retries the stop
                pass

    def stop_session(self, run_id: str) -> bool:
        """Stop the step a session is running at its next safe point (generation, checking, evaluation: what
        is done is journaled, so continuing picks up there). False when the session is not running."""
        ctx = self._contexts.get(run_id)
        if run_id not in self.busy or ctx is None:
            return False
        self.stop_asked.add(run_id)
        ctx.cancel()
        return True

    async def action_quit(self) -> None:
        """Quit now: the work stops at a safe point and the session resumes later from its checkpoint."""
        self.stop_all()
        self.exit()

    def action_quit_keep_training(self) -> None:
        """Quit and leave a running training going in the background (Home shows it; Enter watches it)."""
        self.stop_all(keep_training=True)
        self.exit()

    def wait_for_drivers(self, timeout: float) -> bool:
        """Give the cancelled steps up to `timeout` seconds to reach their safe points; True if all did."""
        end = time.monotonic() + timeout
        for t in list(self.drivers.values()):
            t.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self.drivers.values())

    # ------------------------------------------------------------------ routing
    @on(GraphPaused)
    def _route_paused(self, msg: GraphPaused) -> None:
        from agent.interrupts import screen_for
        from tui import screens

        self.run_values[msg.run_id] = msg.values
        self.sub_title = self.SUB_TITLE
        if msg.interrupt is not None:
            self.pending[msg.run_id] = msg.interrupt
        target = screen_for(msg.interrupt)  # agent/interrupts.py: "round" is asked on the evaluation screen
        if msg.finished:
            target = "report"
        if target is None:
            return
        current = self.screen
        if (
            msg.finished
            and getattr(current, "SCREEN_NAME", None) == "evaluation"
            and getattr(current, "run_id", None) == msg.run_id
            and not getattr(current, "wants_report", False)  # "stop here and see the report" was chosen
        ):
            # the person is reading the results side by side: leave them there, say where the report is
            from tui.screens.home import STOP_SHORT

            stop = msg.values.get("stop_reason")
            # walk 22b read "The run finished (own_examples_used)": the home list's words, not the code
            why = f" ({STOP_SHORT.get(stop, stop.replace('_', ' '))})" if stop else ""
            self.notify(f"The run finished{why}. Press o for the report.", title="Finished", timeout=15)
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
            self.sub_title = plain_status(msg.log[-1])[:70]
        self.step_progress(msg.run_id).apply("log", {"node": msg.node})
        for line in msg.log:
            self._forward("log", msg.run_id, {"line": line, "node": msg.node})
        if msg.node == "evaluate":
            self.open("evaluation", msg.run_id)

    @on(AgentEvent)
    def _route_event(self, msg: AgentEvent) -> None:
        prog = self.step_progress(msg.run_id)
        was = prog.step if prog.active else None
        if msg.kind in ("status", "progress", "train"):
            prog.apply(msg.kind, msg.data)
        name = getattr(self.screen, "SCREEN_NAME", None)
        if msg.kind == "train" and name != "training":
            self.open("training", msg.run_id)
        elif (
            prog.active
            and prog.step != was
            and prog.step in LONG_STEPS
            and getattr(self.screen, "run_id", None) == msg.run_id
            and name not in ("evaluation", "report")  # reading results: the header says what runs
        ):
            # a long step began in the session on screen (accepted decision, submitted review, trained
            # model): show it live — the monitor for training, the progress screen for the rest
            target = "training" if prog.step == "train" else "progress"
            if name != target:
                self.open(target, msg.run_id)
        # the header's subtitle is the one status line every screen shows while the agent works
        if msg.kind == "status" and msg.data.get("message"):
            self.sub_title = plain_status(msg.data["message"])[:70]
        elif msg.kind in ("progress", "train") and prog.step is not None:
            self.sub_title = prog.headline()
        self._forward(msg.kind, msg.run_id, msg.data)

    @on(GraphStopped)
    def _route_stopped(self, msg: GraphStopped) -> None:
        self.stop_asked.discard(msg.run_id)
        self.sub_title = "stopped — ctrl+r continues from where it stopped"
        self.notify(
            "Nothing is lost: ctrl+r here, or Enter on the session on Home, continues from where it stopped.",
            title="Stopped",
            timeout=12,
        )
        self._forward("stopped", msg.run_id, {})

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
    if app.kept_training:
        print(
            "tunewise: training goes on in the background; run `tunewise` again — Home shows it, Enter watches it.",
            file=sys.stderr,
        )
    if app.busy and not app.wait_for_drivers(app.QUIT_GRACE_S):
        # a step with no safe point in reach (one long model call) is still running in its thread: its last
        # checkpoint and journal are saved and the run lock is a flock the OS drops, so leave now
        print(
            "tunewise: the agent was mid-step; the session resumes from its last checkpoint (Home → Enter).",
            file=sys.stderr,
        )
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(code)
    return code
