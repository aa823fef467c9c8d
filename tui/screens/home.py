"""Home: start a new session, resume a saved one (SQLite checkpoints), recent runs with state and verdict."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from tui.messages import SessionsLoaded
from tui.widgets.header import StatusHeader

WAITING = {"question": "your answer", "decision": "your decision", "review": "your review"}


def session_rows(sessions: list[dict], runs: list[dict]) -> list[dict]:
    """Merge checkpointed sessions with run directories (a run without a session was headless or CLI-made)."""
    by_id = {r["id"]: r for r in runs}
    rows = []
    for s in sessions:
        r = by_id.pop(s["id"], {})
        waiting = WAITING.get(s.get("pending") or "", "")
        state = f"waiting: {waiting}" if waiting else (s.get("status") or "?")
        if s.get("stop_reason"):
            state = f"{state} ({s['stop_reason']})"
        rows.append(
            {
                "id": s["id"],
                "state": state,
                "approach": s.get("approach") or r.get("approach") or "—",
                "verdict": _verdict(r.get("verdict")),
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
                "verdict": _verdict(r.get("verdict")),
                "spec": "",
                "resumable": False,
            }
        )
    return rows


def _verdict(passed) -> str:
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
        yield Footer()

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
                r["state"] = "stopped: error (Enter retries)"
        self.rows = msg.rows
        table = self.query_one("#sessions", DataTable)
        table.clear()
        for r in msg.rows:
            table.add_row(r["state"], r["approach"], r["verdict"], r["id"], key=r["id"])
        status = self.query_one("#sessions-status", Static)
        status.update(
            f"{len(msg.rows)} run(s). Enter or r resumes the highlighted one; n starts a new one."
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
        if row["resumable"]:
            self.notify(f"Resuming {row['id']}…")
            self.app.resume_session(row["id"])
        else:
            self.app.current_run = row["id"]
            self.app.open("report", row["id"])

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
