from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class EditDialog(ModalScreen[str | None]):
    """Edit the assistant's answer of one example; dismisses with the new text, or None when cancelled."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        item_id: str,
        user_text: str,
        answer: str,
        check=None,
        heading: str | None = None,
        *,
        tidy=None,
        hint: str | None = None,
    ) -> None:
        """`check(text)` → why the answer breaks the task's rules (one line), or None: a bad answer (a label
        that is not one, JSON that does not parse) is said under the box and not saved. `heading` (markup)
        replaces the line naming the example and its input (the report's instructions use the same box).
        `tidy(text)` → (text, what it changed) runs before the check (an empty part written null); `hint` is a
        line under the box on how to write the answer."""
        super().__init__()
        self.item_id, self.user_text, self.answer, self.check = item_id, user_text, answer, check
        self.heading, self.tidy, self.hint = heading, tidy, hint
        self.tidied: list[str] = []  # what tidy changed in the saved answer

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Static(
                self.heading or f"[b]Edit {escape(self.item_id)}[/b] — input: {escape(self.user_text[:200])}",
                id="edit-input",
                markup=True,
            )
            yield TextArea(self.answer, id="edit-area", soft_wrap=True)
            if self.hint:
                yield Static(escape(self.hint), id="edit-hint")
            yield Static("", id="edit-problem")
            with Horizontal(id="edit-actions"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        # at the end of the answer: walk 19 typed a fix and it went in front of the old answer
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        if self.tidy is not None:
            text, self.tidied = self.tidy(text)
        problem = self.check(text) if self.check is not None else None
        if problem:
            self.query_one("#edit-problem", Static).update(f"[red]Not saved: {escape(problem)}[/red]")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()
