"""Paste an API key into the running app: the advice said "set an API key and run again" and a newcomer had
no way to do that short of quitting, finding out about environment variables and answering everything again
(walk 13). The key goes into this process's environment only: never written to a file, a log or the
workspace, and gone when the app closes."""

from __future__ import annotations

import os

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TUNEWISE_API_KEY", "TUNEWISE_BASE_URL")

API_KEY_TEXT = (
    "Paste an API key: from OpenAI (platform.openai.com → API keys; it starts with sk-) or from Anthropic "
    "(console.anthropic.com → API keys; it starts with sk-ant-). A larger model then writes and checks the "
    "practice examples and reads your documents; each use costs a little, and the estimate shows how much "
    "before anything starts.\n\nThe key is used in this window only and is never saved: next time, set "
    "OPENAI_API_KEY or ANTHROPIC_API_KEY in your terminal before starting tunewise."
)


def key_is_set() -> bool:
    """A hosted model is reachable: a key (or an OpenAI-compatible server) is in the environment."""
    return any(os.environ.get(v) for v in KEY_VARS)


def env_var_for(key: str) -> str | None:
    """The environment variable a pasted key belongs in, or None when it does not look like a key."""
    key = key.strip()
    if len(key) < 20 or any(c.isspace() for c in key):
        return None
    if key.startswith("sk-ant-"):
        return "ANTHROPIC_API_KEY"
    if key.startswith("sk-"):
        return "OPENAI_API_KEY"
    return None


def use_key(key: str) -> str:
    """Put the key in this process's environment; the provider's name. Raises ValueError for a non-key."""
    var = env_var_for(key)
    if var is None:
        raise ValueError(
            "that does not look like an API key: OpenAI's start with sk-, Anthropic's with sk-ant-"
        )
    os.environ[var] = key.strip()
    return "Anthropic" if var == "ANTHROPIC_API_KEY" else "OpenAI"


class ApiKeyDialog(ModalScreen[str | None]):
    """Dismisses with the provider's name once a key is in the environment, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(escape(API_KEY_TEXT), id="confirm-text")
            yield Input(placeholder="sk-…", password=True, id="api-key")
            yield Static("", id="api-key-problem")
            with Horizontal(id="confirm-actions"):
                yield Button("Use it (enter)", id="use", variant="success")
                yield Button("Back (esc)", id="back")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_use()

    def action_use(self) -> None:
        box = self.query_one(Input)
        try:
            name = use_key(box.value)
        except ValueError as e:
            self.query_one("#api-key-problem", Static).update(f"[red]{escape(str(e))}[/red]")
            return
        box.value = ""  # not kept in the widget either
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_use() if event.button.id == "use" else self.action_cancel()
