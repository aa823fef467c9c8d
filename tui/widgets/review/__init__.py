"""Data review: the pure review model (filters, decisions, progress) and the edit dialog."""

from tui.widgets.review.edit_dialog import EditDialog
from tui.widgets.review.model import FILTERS, LOW_SCORE, ReviewItem, ReviewModel, load_review_items

__all__ = ["EditDialog", "FILTERS", "LOW_SCORE", "ReviewItem", "ReviewModel", "load_review_items"]
