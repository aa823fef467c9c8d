"""Home: start a new session, resume a saved one (SQLite checkpoints), recent runs with state and verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Static

from tui.messages import SessionsLoaded
from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader

if TYPE_CHECKING:
    from agent.state import StopReason

WAITING = {
    "question": "your answer",
    "round": "your go-ahead",
    "decision": "your decision",
    "review": "your review",
}
STOPPED = "stopped: error (Enter retries)"
# why a finished session stopped, in a few words for the Home column (the walk read "done (too_few_examples)")
STOP_SHORT: dict[StopReason, str] = {
    "success": "goal met",
    "iteration_limit": "rounds used up",
    "budget": "budget reached",
    "no_failures_to_target": "no misses left to practise",
    "no_practice_rows": "nothing kept to practise on",
    "stopped_by_you": "stopped by you",
    "too_few_examples": "too few examples",
    "no_writer": "needs a bigger writer",
    "own_examples_used": "trained on yours",
    "approach:few-shot": "a prompt with examples",
    "approach:prompt": "a better prompt",
    "approach:rag": "retrieval",
}


# the verdict's "inconclusive" (a test too small to tell), in the home list and the report
VERDICT_UNDECIDED = "undecided"


def session_rows(sessions: list[dict], runs: list[dict]) -> list[dict]:
    """Merge checkpointed sessions with run directories (a run without a session was headless or CLI-made)."""
    by_id = {r["id"]: r for r in runs}
    rows = []
    for s in sessions:
        r = by_id.pop(s["id"], {})
        waiting = WAITING.get(s.get("pending") or "", "")
        state = f"waiting: {waiting}" if waiting else (s.get("status") or "?")
        if state == "stopped":
            state = "stopped (Enter resumes)"  # quit or killed mid-step: nothing is running it
        if s.get("stop_reason"):
            why = s["stop_reason"]
            state = f"{state} ({STOP_SHORT.get(why, why.replace('_', ' '))})"
        if s.get("error"):
            # its question may still be listed, but the step raised on the answer it got: Enter repairs
            state = STOPPED
        elif s.get("replaced_by") and s.get("pending"):
            # its question or decision waits on nobody: a new session with more examples took its place
            state = "replaced by a newer session"
        rows.append(
            {
                "id": s["id"],
                "state": state,
                "error": s.get("error"),
                "error_node": s.get("error_node"),
                "approach": s.get("approach") or r.get("approach") or "—",
                "verdict": r.get("prompt_right") or _verdict(r.get("verdict"), r.get("verdict_status")),
                "spec": s.get("spec") or "",
                "resumable": True,
            }
        )
    for r in sorted(by_id.values(), key=lambda r: r["id"], reverse=True):
        rows.append(
            {
                "id": r["id"],
                "state": "files only",
                "approach": r.get("approach") or "—",
                "verdict": r.get("prompt_right") or _verdict(r.get("verdict"), r.get("verdict_status")),
                "spec": "",
                "resumable": False,
            }
        )
    return rows


def _verdict(passed, status: str | None = None) -> str:
    # walk 20: "not met" here, "INCONCLUSIVE" in the report, for one test too small to tell
    if status == "inconclusive":
        return VERDICT_UNDECIDED
    return "—" if passed is None else ("PASS" if passed else "not met")


class HomeScreen(Screen):
    SCREEN_NAME = "home"
    run_id = None
    BINDINGS = [
        Binding("n", "new_session", "New session"),
        Binding("r", "resume", "Resume"),
        Binding("f5", "refresh", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Vertical(id="home"):
            yield Static(
                "[b]tunewise[/b] — decide between prompting, retrieval and fine-tuning, then build, train and "
                "judge it. Start a session, or resume one where you left it.",
                id="home-intro",
            )
            with Horizontal(id="home-actions"):
                yield Button("New session", id="new", variant="primary")
                yield Button("Resume", id="resume")
                yield Button("Refresh", id="refresh")
            yield Static("Sessions and runs", classes="section-title")
            yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
            yield Static("Loading sessions…", id="sessions-status")
        yield FitFooter()

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.add_columns("state", "approach", "verdict", "run")
        self.refresh_sessions()

    def refresh_sessions(self) -> None:
        self.load_sessions()

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_sessions(self) -> None:
        from agent.sessions import list_sessions

        ws = self.app.workspace
        try:
            sessions = list_sessions(ws) if ws.sessions_db.exists() else []
        except Exception:  # noqa: BLE001 - an unreadable DB still lists the run directories
            sessions = []
        runs = []
        for run in ws.list_runs():
            try:
                runs.append(run.summary())
            except Exception:  # noqa: BLE001
                runs.append({"id": run.id})
        self.post_message(SessionsLoaded(session_rows(sessions, runs)))

    @on(SessionsLoaded)
    def _show_sessions(self, msg: SessionsLoaded) -> None:
        errors = getattr(self.app, "errors", {})
        for r in msg.rows:
            # a session this app saw stop on an error says so (Enter retries from its last checkpoint)
            if r["id"] in errors and r["id"] not in self.app.busy:
                r["state"] = STOPPED
                r["error"] = r.get("error") or errors[r["id"]]
            # working now, or training in the background after a quit: Enter opens its live screen
            note = (
                self.app.session_note(r["id"])
                if r["resumable"] and hasattr(self.app, "session_note")
                else None
            )
            if note:
                r["state"] = note
        self.rows = msg.rows
        table = self.query_one("#sessions", DataTable)
        table.clear()
        for r in msg.rows:
            table.add_row(r["state"], r["approach"], r["verdict"], r["id"], key=r["id"])
        status = self.query_one("#sessions-status", Static)
        status.update(
            f"{len(msg.rows)} session{'' if len(msg.rows) == 1 else 's'}. Enter or r resumes the highlighted one; n "
            "starts a new one."
            if msg.rows
            else "No sessions yet: press n to start one."
        )
        if msg.rows and not isinstance(self.focused, DataTable):
            table.focus()

    def selected_row(self) -> dict | None:
        table = self.query_one("#sessions", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_new_session(self) -> None:
        self.app.new_session()

    def action_refresh(self) -> None:
        self.refresh_sessions()

    def action_resume(self) -> None:
        row = self.selected_row()
        if row is None:
            self.notify("No session selected.", severity="warning")
            return
        if row.get("error") and row["resumable"] and row["id"] not in self.app.busy:
            self.repair(row)
        elif row["resumable"]:
            self.notify(f"Resuming {row['id']}…")
            self.app.resume_session(row["id"])
        else:
            self.app.current_run = row["id"]
            self.app.open("report", row["id"])

    def repair(self, row: dict) -> None:
        """A session stopped on an error is never a dead end: a failed interview asks its question again
        (the interview reads old answers leniently and re-asks what it cannot read); any other step offers
        to try again, to change the answers, or to go back."""
        run_id = row["id"]
        self.app.current_run = run_id
        if row.get("error_node") == "interview":
            self.notify("Asking the interview's question again…")
            self.app.drive(run_id, None)
            return

        def chosen(choice: str | None) -> None:
            if choice == "retry":
                self.notify("Trying the step again from the last checkpoint…")
                # and watch it: left on Home, the person saw the same "stopped: error" row and nothing moving
                self.app.continue_session(run_id)
            elif choice == "change":
                self.change_answers(run_id, row.get("error_node"))

        self.app.push_screen(StoppedDialog(run_id, row.get("error") or "", row.get("error_node")), chosen)

    @work(thread=True, exit_on_error=False, group="repair")
    def change_answers(self, run_id: str, node: str | None) -> None:
        """Back to the interview: in the same session when it stopped at its decision, else a new session
        with the earlier answers pre-filled (what was built after the decision stays in the old run)."""
        from tools.errors import UserError

        if node == "decide":
            from agent.sessions import rewind_to_interview

            try:
                rewind_to_interview(self.app.workspace, run_id)
            except UserError as e:
                self.app.call_from_thread(self.notify, e.message, severity="warning")
                return
            self.app.call_from_thread(self.app.drive, run_id, None)
            return
        from tools.workspace import read_yaml

        p = self.app.workspace.run(run_id).spec_path
        answers = dict((read_yaml(p) or {}).get("answers") or {}) if p.exists() else {}
        self.app.call_from_thread(self.app.new_session, answers)

    @on(DataTable.RowSelected, "#sessions")
    def _row_selected(self) -> None:
        self.action_resume()

    @on(Button.Pressed, "#new")
    def _new(self) -> None:
        self.action_new_session()

    @on(Button.Pressed, "#resume")
    def _resume(self) -> None:
        self.action_resume()

    @on(Button.Pressed, "#refresh")
    def _refresh(self) -> None:
        self.refresh_sessions()


class StoppedDialog(ModalScreen[str | None]):
    """What stopped a session, and the ways on: try again, change the answers, or back to Home."""

    BINDINGS = [
        Binding("escape", "choose('back')", "Back"),
        Binding("t", "choose('retry')", "Try again"),
        Binding("c", "choose('change')", "Change answers"),
    ]

    def __init__(self, run_id: str, error: str, node: str | None) -> None:
        super().__init__()
        self.run_id, self.error, self.node = run_id, error, node

    def compose(self) -> ComposeResult:
        from rich.markup import escape

        where = f" in its {self.node} step" if self.node else ""
        same = "in this session" if self.node == "decide" else "in a new session, pre-filled"
        with Vertical(id="stopped-dialog"):
            yield Static(
                f"[b]{escape(self.run_id)}[/b] stopped on an error{escape(where)}:\n\n{escape(self.error)}\n\n"
                f"[b]t[/b] tries the step again · [b]c[/b] changes your answers ({same}) · "
                "[b]esc[/b] goes back",
                id="stopped-text",
            )
            with Horizontal(id="stopped-actions"):
                yield Button("Try again", id="retry", variant="primary")
                yield Button("Change my answers", id="change")
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self.query_one("#retry", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(None if choice == "back" else choice)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "back")
