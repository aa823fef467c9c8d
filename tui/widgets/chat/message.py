from __future__ import annotations

from textual.widgets import Markdown


class ChatMessage(Markdown):
    """One turn of the interview, rendered as Markdown; `role` is agent, user or note (styled in the tcss)."""

    def __init__(self, text: str, role: str = "agent") -> None:
        super().__init__(text, classes=f"chat-message {role}")
        self.role = role
        self.text = text
