"""The command palette provider: every screen, theme toggle, help and quit are reachable from ctrl+p."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import TunewiseApp


class TunewiseCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        from tui.screens import SCREEN_HELP

        app = cast("TunewiseApp", self.app)  # the palette is registered by TunewiseApp only
        cmds: list[tuple[str, Callable[[], Any], str]] = [
            (f"screen: {name}", partial(app.open, name), text) for name, text in SCREEN_HELP.items()
        ]
        cmds += [
            ("session: new", app.new_session, "start a new session (the interview)"),
            ("theme: toggle light/dark", app.action_toggle_theme, "switch between the light and dark theme"),
            ("help: keys", app.action_help, "list every key binding"),
            ("app: quit", app.action_quit, "leave tunewise now (sessions resume from their checkpoint)"),
        ]
        return cmds

    async def discover(self) -> Hits:
        for name, callback, text in self._commands():
            yield DiscoveryHit(name, callback, help=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=text)
