"""A "pick any" list that shows its picks without colour: `[x]` before a ticked choice, `[ ]` before the rest.
Space (or a click) ticks and unticks; Enter sends the picks (posts `TickList.Submitted`)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED, UNTICKED = "[x] ", "[ ] "


class TickList(SelectionList[str]):
    BINDINGS = [
        Binding("space", "select", "Tick", show=False),
        Binding("enter", "submit", "Send", show=False),
    ]

    class Submitted(Message):
        """Enter: send the ticked choices."""

        def __init__(self, tick_list: TickList) -> None:
            super().__init__()
            self.tick_list = tick_list

        @property
        def control(self) -> TickList:
            return self.tick_list

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))

    def render_line(self, y: int) -> Strip:
        # the option's own line (not SelectionList's colour-only button), with a visible tick mark in front
        line = OptionList.render_line(self, y)
        try:
            index, offset = self._lines[self.scroll_offset.y + y]
            selection = self.get_option_at_index(index)
        except (IndexError, OptionDoesNotExist):
            return line
        base = next(iter(line)).style if line.cell_length else self.rich_style
        ticked = selection.value in self._selected
        mark = (TICKED if ticked else UNTICKED) if offset == 0 else " " * len(TICKED)
        style = (base or Style()) + Style(bold=ticked, meta={"option": index})
        return Strip([Segment(mark, style), *line])
