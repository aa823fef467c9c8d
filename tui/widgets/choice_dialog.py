"""A question with a few answers: one button per answer, each with its own key; Escape answers None."""

from __future__ import annotations

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

STACK_AT = 70  # the buttons' width (labels, keys, borders) above which they stack


class ChoiceDialog(ModalScreen[str | None]):
    """`choices` is [(value, label, key)]: the dialog dismisses with the value of the button pressed or the
    key typed, and with None on Escape. The first choice has the focus."""

    BINDINGS = [Binding("escape", "choose_none", "Back")]

    def __init__(self, text: str, choices: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.text = text
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        # buttons side by side when they fit an 80-column dialog, else one under the other: walk 8 read
        # "Don't train: drop the 117 unread too (d)   Keep reviewing (k)   Tra" and could not see the third
        wide = sum(len(label) + len(key) + 8 for _, label, key in self.choices) > STACK_AT
        with Vertical(id="confirm-dialog"):
            yield Static(escape(self.text), id="confirm-text")
            with Vertical(id="confirm-actions-stacked") if wide else Horizontal(id="confirm-actions"):
                for i, (value, label, key) in enumerate(self.choices):
                    yield Button(
                        f"{label} ({key})", id=f"choice-{value}", variant="success" if i == 0 else "default"
                    )

    def on_mount(self) -> None:
        if self.choices:
            self.query_one(f"#choice-{self.choices[0][0]}", Button).focus()

    def on_key(self, event: events.Key) -> None:
        for value, _label, key in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    def action_choose_none(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(str(event.button.id or "").removeprefix("choice-"))
