"""The app's header: Textual's Header, safe against a title change while its screen is being removed.

The agent's worker updates the app's sub-title often (it is the status line every screen shows); Textual's
Header answers each change with `query_one(HeaderTitle)`, which raises NoMatches when the change lands
while a switched-away screen is taking the header apart, and that would end the app.

It also never shows a Python `None` from a status line that had a missing figure: that reads "—".
"""

from __future__ import annotations

import re

from textual import events
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

_NONE = re.compile(r"\bNone\b")


def clean_status(text: str | None) -> str:
    """A status line fit for the header: no "None" for a figure nobody knew yet."""
    return _NONE.sub("—", str(text or ""))


class StatusHeader(Header):
    def format_title(self):
        return self.app.format_title(clean_status(self.screen_title), clean_status(self.screen_sub_title))

    def _on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # Header's own handler would register the unsafe watchers

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoScreen, NoMatches):
                pass  # being removed: nothing to show the title on

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
