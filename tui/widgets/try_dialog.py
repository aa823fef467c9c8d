"""Try the prompt a session says to use for now on a message of one's own, with the model you start from
(walk 9 was told "copy it into the tool you use today" and used no tool and had no API key) — or the model the
session trained (walk 24 could try only the prompt)."""

from __future__ import annotations

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

TRY_TEXT = (
    "Type or paste one like your examples' questions and press Enter: the model you start from answers it with "
    "the prompt above (its instructions and your examples), here on this computer. Check each answer: it is "
    "as often wrong as the test above said. {file}"
)

TRY_MODEL_TEXT = (
    "Type or paste one like your examples' questions and press Enter: the model this session trained answers "
    "it, with the short instructions it practised with, here on this computer. Check each answer: it is as "
    "often wrong as the test said. {file}"
)
# walk 26 had a day's bookings to copy into a calendar and was given a prompt and a `curl` command
FILE_TEXT = (
    "A file of messages (one per line, or a CSV with them in the first column)? Give its path: each is answered "
    "into a spreadsheet beside it."
)


def repeating(text: str) -> bool:
    """An answer stuck repeating itself (a small model's "access 4B, 4B, 4B, …"): few distinct words."""
    words = text.lower().replace(",", " ").split()
    return len(words) >= 12 and len(set(words)) / len(words) < 0.45


class TryPromptDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Back")]

    def __init__(self, workspace, run_id: str, *, model: bool = False) -> None:
        super().__init__()
        self.workspace, self.run_id = workspace, run_id
        self.model = model  # the trained model instead of the prompt
        self._answered = False  # the first answer loads the model (said only then)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self._intro(), id="confirm-text")
            yield Input(placeholder="one like your examples…", id="try-input")
            yield Static("", id="try-answer")
            with Horizontal(id="confirm-actions"):
                yield Button("Answer it (enter)", id="try", variant="success")
                yield Button("Back (esc)", id="back")

    def _intro(self) -> str:
        return self._intro_text().replace("{file}", FILE_TEXT)

    def _intro_text(self) -> str:
        if not self.model:
            return TRY_TEXT
        from agent.sessions import tuned_version

        version = tuned_version(self.workspace, self.run_id)
        # the round it answers with: the report's table names versions (walk 25 asked which one this was)
        return (
            TRY_MODEL_TEXT.replace(
                "the model this session trained", f"the model this session trained ({version})"
            )
            if version
            else TRY_MODEL_TEXT
        )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_try()

    def action_try(self) -> None:
        text = self.query_one(Input).value.strip()
        if not text:
            self.query_one("#try-answer", Static).update("[red]Type a message first.[/red]")
            return
        from pathlib import Path

        first = "" if self._answered else " (the first answer loads the model)"
        self.query_one(Input).value = ""  # ready for the next one (walk 25 closed the box to ask another)
        if Path(text).expanduser().is_file() or Path(text).expanduser().is_dir():
            self.query_one("#try-answer", Static).update(
                f"[dim]Answering the messages in {escape(text)}…{first}[/dim]"
            )
            self._answer_file(text)
            return
        self.query_one("#try-answer", Static).update(
            f"[b]You asked:[/b] {escape(text)}\n[dim]Answering…{first}[/dim]"
        )
        self._answer(text)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _answer(self, text: str) -> None:
        from agent.sessions import answer_check, try_model, try_prompt

        try:
            answer = (try_model if self.model else try_prompt)(self.workspace, self.run_id, text)
            check = answer_check(self.workspace, self.run_id, answer)
            said = (
                f"[b]You asked:[/b] {escape(text)}\n[b]Answer:[/b] {escape(answer)}"
                + (f"\n[yellow]Check: {escape(check)}.[/yellow]" if check else "")
                + (
                    "\n[dim](It began repeating itself: the model on this computer is small"
                    + (".)[/dim]" if self.model else ", and that is what a prompt alone gets from it.)[/dim]")
                    if repeating(answer)
                    else ""
                )
            )
        except Exception as e:  # noqa: BLE001 - said on the dialog, never a traceback
            said = f"[b]You asked:[/b] {escape(text)}\n[red]Could not answer: {escape(str(e))}[/red]"
        self._answered = True
        self.app.call_from_thread(self.query_one("#try-answer", Static).update, said)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _answer_file(self, path: str) -> None:
        from agent.sessions import answer_file
        from tools.errors import UserError

        box = self.query_one("#try-answer", Static)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(box.update, f"[dim]Answered {done} of {total} messages…[/dim]")

        try:
            out, n, unread = answer_file(
                self.workspace,
                self.run_id,
                path,
                use="model" if self.model else "prompt",
                on_progress=progress,
            )
            said = (
                f"[b]Answered {n} message{'s' if n != 1 else ''}[/b] into {escape(str(out))}"
                + (
                    f"\n[yellow]{unread} of them could not be read into parts: their answer is in the check column."
                    "[/yellow]"
                    if unread
                    else ""
                )
                + "\n[dim]Open it in your spreadsheet program; check each answer before you use it.[/dim]"
            )
        except UserError as e:
            said = f"[red]{escape(e.one_line())}[/red]"
        except Exception as e:  # noqa: BLE001 - said on the dialog, never a traceback
            said = f"[red]Could not answer the file: {escape(str(e))}[/red]"
        self._answered = True
        self.app.call_from_thread(box.update, said)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_try() if event.button.id == "try" else self.action_close()
