"""Give a session more examples, or its real inputs: the path of a file, read and checked before the dialog
closes."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

ADD_EXAMPLES_TEXT = (
    "More examples of your own: the path of a file with them (each message on a line starting 'Q:' and "
    "the answer you want on a line starting 'A:', or a spreadsheet saved as CSV like your first one), or type them here (ctrl+o). "
    "tunewise starts a new session with your earlier answers and all your "
    "examples, the {had} you gave before and the new ones, and decides again. Real examples teach more "
    "than the ones a model invents."
)


ADD_INPUTS_TEXT = (
    "Real messages without answers (past emails, your catalogue's titles): the path of a file with one per "
    "line. tunewise starts a new session with your earlier answers and examples, and the practice answers "
    "are written for these messages instead of for ones the model makes up."
)


class AddExamplesDialog(ModalScreen[Any]):
    """Dismisses with the file's examples once they read (`inputs=True`: the file's path, for messages
    without answers), or None on Escape; a file that does not read says why under the box (the file, the
    line, how to fix it) and the dialog stays."""

    BINDINGS = [Binding("escape", "cancel", "Back"), Binding("ctrl+o", "type_examples", "Type them")]

    def __init__(self, had: int, inputs: bool = False) -> None:
        super().__init__()
        self.had, self.inputs = had, inputs

    def compose(self) -> ComposeResult:
        text = ADD_INPUTS_TEXT if self.inputs else ADD_EXAMPLES_TEXT.format(had=self.had)
        placeholder = "e.g. ~/messages.txt" if self.inputs else "e.g. ~/more_examples.txt"
        with Vertical(id="confirm-dialog"):
            yield Static(escape(text), id="confirm-text")
            yield Input(placeholder=placeholder, id="add-examples-path")
            yield Static("", id="add-examples-problem")
            with Horizontal(id="confirm-actions"):
                yield Button("Start again (enter)", id="add", variant="success")
                if not self.inputs:  # no file: they can be typed (walk 19 had to leave the app to write one)
                    yield Button("Type them (ctrl+o)", id="type")
                yield Button("Back (esc)", id="back")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_add()

    def action_add(self) -> None:
        from agent.nodes.interview import load_examples_file
        from tools.errors import UserError

        path = self.query_one(Input).value.strip()
        problem = self.query_one("#add-examples-problem", Static)
        if not path:
            problem.update("[red]Type the path of the file first.[/red]")
            return
        try:
            if self.inputs:
                from pathlib import Path

                from tools.data.generate import load_inputs_file

                if not load_inputs_file(Path(path)):
                    problem.update(f"[red]{escape(path)} has no messages in it.[/red]")
                    return
                self.dismiss(path)
                return
            examples = load_examples_file(path)
        except UserError as e:
            problem.update(f"[red]{escape(e.one_line())}[/red]")
            return
        if not examples:
            problem.update(f"[red]{escape(path)} has no examples in it.[/red]")
            return
        self.dismiss(examples)

    def action_type_examples(self) -> None:
        """A box to type them in ("Q:"/"A:" lines), checked line by line before it closes."""
        if self.inputs:
            return
        from tools.data.plain_examples import TYPED_HOW, TYPED_TEMPLATE, read_typed_examples, typed_problem
        from tui.widgets.review.edit_dialog import EditDialog

        def done(text: str | None) -> None:
            if text is not None:
                self.dismiss(read_typed_examples(text))

        heading = f"[b]More examples[/b], {TYPED_HOW}"
        self.app.push_screen(EditDialog("", "", TYPED_TEMPLATE, check=typed_problem, heading=heading), done)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {"add": self.action_add, "type": self.action_type_examples}
        actions.get(event.button.id or "", self.action_cancel)()
