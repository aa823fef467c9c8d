"""The footer that fits: every key it shows is whole, at 80 columns too.

Textual's Footer lays the keys out in one row and cuts what does not fit ("f1 H…" at 80×24, the evaluation
screen lost "o Report", "^q Quit" and "f1 Help"). This one drops the least important keys first (the
theme, reload, the command palette, then each screen's `FOOTER_OPTIONAL` keys, in their order) and goes
compact before it would cut a key. Dropped keys still work and F1 lists every key.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PALETTE = "command_palette"
# dropped first on every screen, in this order; then the screen's own FOOTER_OPTIONAL, in its order
ALWAYS_OPTIONAL = ("toggle_theme", "app.toggle_theme", "reload", "refresh", PALETTE)


def key_width(key_display: str, description: str, *, compact: bool) -> int:
    """Columns one footer key takes (with its margin), as Textual's FooterKey draws it."""
    return len(key_display) + len(description) + (2 if compact else 3)


def fit_keys(
    keys: list[tuple[str, str, str]], width: int, optional: tuple[str, ...] = ()
) -> tuple[list[str], bool]:
    """Which keys to show in `width` columns: `keys` is [(action, key display, description)] in footer order
    (the command palette's action is `command_palette`). Drops keys in `optional` order until the rest
    fits, going compact before dropping a key that is not optional. Returns (actions shown, compact)."""
    order = [a for a in optional if any(k[0] == a for k in keys)]
    shown = [k for k in keys]

    def total(ks, compact: bool) -> int:
        return sum(key_width(d, desc, compact=compact) for _, d, desc in ks)

    for compact in (False, True):
        shown = list(keys)
        if total(shown, compact) <= width:
            return [k[0] for k in shown], compact
        for action in order:
            shown = [k for k in shown if k[0] != action]
            if total(shown, compact) <= width:
                return [k[0] for k in shown], compact
    return [k[0] for k in shown], True  # all that is left is essential: compact, and Textual scrolls it


class FitFooter(Footer):
    """A Footer that shows only whole keys (see the module doc)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._fitted_width = 0
        self._composed: tuple | None = None  # what the keys shown were fitted to (`_signature`)

    def _signature(self) -> tuple:
        """What the keys shown depend on: the width, each shown binding and whether it is enabled, and which
        keys the screen lets go first (a report that says "press a" keeps a)."""
        active = self.screen.active_bindings.values()
        keys = tuple((b.action, b.key, b.description, enabled) for _n, b, enabled, _t in active if b.show)
        optional = tuple(getattr(self.screen, "FOOTER_OPTIONAL", ()))
        return self._available(), keys, self.show_command_palette, optional

    def bindings_changed(self, screen) -> None:
        """Textual recomposes the footer on every bindings signal (three times before the first screen
        settled, each restyling every key); this one only when what it shows would change."""
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._signature() != self._composed:
            self.call_after_refresh(self.recompose)

    def _available(self) -> int:
        return self.size.width or self.app.size.width

    def compose(self):
        if not self._bindings_ready:
            return
        self._composed = self._signature()
        active = self.screen.active_bindings
        by_action: dict[str, tuple] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = (binding, enabled, tooltip)
        keys = [
            (action, self.app.get_key_display(b), b.description) for action, (b, _e, _t) in by_action.items()
        ]
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                keys.append((PALETTE, self.app.get_key_display(palette[1]), palette[1].description))
        optional = ALWAYS_OPTIONAL + tuple(getattr(self.screen, "FOOTER_OPTIONAL", ()))
        self._fitted_width = self._available()
        shown, compact = fit_keys(keys, self._fitted_width, optional)
        self.set_reactive(Footer.compact, compact)
        self.set_class(compact, "-compact")
        for action in shown:
            if action == PALETTE:
                continue
            binding, enabled, tooltip = by_action[action]
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if palette is not None and PALETTE in shown:
            _node, binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
