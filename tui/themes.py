"""tunewise's light and dark themes (registered on the app; `ctrl+t` toggles, the palette picks any)."""

from __future__ import annotations

from textual.theme import Theme

TUNEWISE_DARK = Theme(
    name="tunewise-dark",
    primary="#5FB3B3",
    secondary="#C594C5",
    accent="#F9AE58",
    warning="#F9AE58",
    error="#EC5F66",
    success="#99C794",
    foreground="#D8DEE9",
    background="#1B2B34",
    surface="#22343F",
    panel="#2C3E4A",
    dark=True,
)

TUNEWISE_LIGHT = Theme(
    name="tunewise-light",
    primary="#1F7A7A",
    secondary="#7B4B94",
    accent="#B5651D",
    warning="#B5651D",
    error="#B3261E",
    success="#2E7D32",
    foreground="#1B2B34",
    background="#F7F7F2",
    surface="#ECEDE6",
    panel="#DDE2DA",
    dark=False,
)

THEMES = (TUNEWISE_DARK, TUNEWISE_LIGHT)


def other_theme(name: str) -> str:
    """The toggle target: dark ↔ light (any dark theme goes to our light one and back)."""
    return TUNEWISE_LIGHT.name if name != TUNEWISE_LIGHT.name else TUNEWISE_DARK.name
