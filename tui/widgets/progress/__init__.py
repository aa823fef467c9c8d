"""Long-step progress: fold the agent's events into what the progress screen and the header show."""

from tui.widgets.progress.model import (
    LONG_STEPS,
    StepProgress,
    journal_counts,
    journal_samples,
    system_words,
)

__all__ = ["LONG_STEPS", "StepProgress", "journal_counts", "journal_samples", "system_words"]
