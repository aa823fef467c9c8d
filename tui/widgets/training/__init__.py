"""Training monitor: tail `events.jsonl` and fold events into progress (pure, testable)."""

from tui.widgets.training.progress import EventTail, TrainProgress, format_eta

__all__ = ["EventTail", "TrainProgress", "format_eta"]
