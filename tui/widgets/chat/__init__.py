"""Chat widgets: one message bubble, and the running spec beside the chat."""

from tui.widgets.chat.message import ChatMessage
from tui.widgets.chat.spec_panel import SpecPanel, spec_text

__all__ = ["ChatMessage", "SpecPanel", "spec_text"]
