"""Evaluation view model: the report's systems table and per-example outputs, read defensively."""

from tui.widgets.evaluation.model import (
    EvalView,
    ExampleRow,
    load_eval,
    system_table_rows,
    table_header,
    verdict_text,
)

__all__ = ["EvalView", "ExampleRow", "load_eval", "system_table_rows", "table_header", "verdict_text"]
