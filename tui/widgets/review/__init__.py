"""Data review: the pure review model (filters, decisions, progress), the edit and confirm dialogs."""

from tui.widgets.review.confirm_dialog import ConfirmDialog
from tui.widgets.review.edit_dialog import EditDialog
from tui.widgets.review.model import FILTERS, LOW_SCORE, ReviewItem, ReviewModel, load_review_items

__all__ = [
    "ConfirmDialog",
    "EditDialog",
    "FILTERS",
    "LOW_SCORE",
    "ReviewItem",
    "ReviewModel",
    "load_review_items",
]
