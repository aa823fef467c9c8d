"""What the person decided about each generated example, kept apart from the widgets so it is testable.

Rows are canonical chat rows whose `metadata` carries {id, score (1–5 or None), critique, category,
flags, source}. Decisions are what the graph's review interrupt takes back:
{"id", "action": "accept|edit|reject", "content"?, "reason"?, "propagate"?}. Which rows a propagated
decision reaches, the low-score and flag rules and the poor-data advice come from tools.data.review, the one review
implementation the agent applies the decisions with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tools.data.review import (  # noqa: F401 - LOW_SCORE re-exported for the screen
    LOW_SCORE,
    is_low_score,
    poor_data_advice,
    quality_flags,
    similar_ids,
    similarity_keys,
)
from tools.data.schema import answer_text, row_id, user_text

FILTERS = ("all", "flagged", "low score", "unreviewed")
REVIEW_SHARE = 0.10  # a person reviews at least 10% of the generated examples


@dataclass
class ReviewItem:
    id: str
    input: str
    output: str
    score: int | float | None = None
    critique: str = ""
    category: str = ""
    flags: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def flagged(self) -> bool:
        """A flag that names a problem ("unjudged", "repaired" say how it was made): tools.data.review's rule."""
        return bool(quality_flags(self.flags))

    @property
    def low(self) -> bool:
        return is_low_score(self.score)


def item_from_row(row: dict) -> ReviewItem:
    """The row's id is tools.data.schema's, so the decisions name rows the agent can find."""
    meta = row.get("metadata") or {}
    return ReviewItem(
        id=row_id({"messages": row.get("messages") or [], "metadata": meta}),
        input=user_text(row),
        output=answer_text(row),
        score=meta.get("score"),
        critique=str(meta.get("critique") or ""),
        category=str(meta.get("category") or ""),
        flags=[str(f) for f in meta.get("flags") or []],
        source=str(meta.get("source") or ""),
    )


def load_review_items(path: str | Path) -> list[ReviewItem]:
    from tools.workspace import read_jsonl

    p = Path(path)
    if not p.exists():
        return []
    return [item_from_row(r) for r in read_jsonl(p) if isinstance(r, dict)]


class ReviewModel:
    def __init__(self, items: list[ReviewItem]) -> None:
        self.items = items
        self.by_id = {it.id: it for it in items}
        self.decisions: dict[str, dict] = {}
        self.private = False  # the task's data must stay with the person (set by the screen from the task)
        self._keys = similarity_keys(
            [{"id": it.id, "category": it.category, "flags": it.flags} for it in items]
        )

    # decisions
    def decide(
        self, item_id: str, action: str, *, content: str | None = None, reason: str | None = None
    ) -> dict:
        if item_id not in self.by_id:
            raise KeyError(item_id)
        if action not in ("accept", "edit", "reject"):
            raise ValueError(f"unknown action {action!r}")
        d: dict = {"id": item_id, "action": action}
        if action == "edit":
            d["content"] = content if content is not None else self.by_id[item_id].output
        if reason:
            d["reason"] = reason
        if self.decisions.get(item_id, {}).get("propagate"):
            d["propagate"] = True
        self.decisions[item_id] = d
        return d

    def similar(self, item_id: str) -> list[str]:
        """The other examples a propagated decision on this one would reach (never a catch-all group)."""
        return similar_ids([], item_id, self._keys)

    def similar_by(self, item_id: str) -> list[str]:
        """What those examples share with this one, in words: `category format`, `flag too_short`."""
        return sorted(k.replace(":", " ", 1) for k in self._keys.get(item_id) or set())

    def toggle_propagate(self, item_id: str) -> bool:
        """Apply this decision to every example similar to it (the agent does the spreading). Refused (False)
        when nothing is similar in a way that is safe to spread over."""
        d = self.decisions.get(item_id)
        if d is None or (not d.get("propagate") and not self.similar(item_id)):
            return False
        d["propagate"] = not d.get("propagate", False)
        return d["propagate"]

    def undo(self, item_id: str) -> None:
        self.decisions.pop(item_id, None)

    def status(self, item_id: str) -> str:
        d = self.decisions.get(item_id)
        if d is None:
            return "unreviewed"
        return {"accept": "accepted", "edit": "edited", "reject": "rejected"}[d["action"]] + (
            f" +{len(self.similar(item_id))} like it" if d.get("propagate") else ""
        )

    def decisions_list(self) -> list[dict]:
        """In the file's order, so the result does not depend on the order the person went in."""
        return [dict(self.decisions[it.id]) for it in self.items if it.id in self.decisions]

    # views
    def filtered(self, name: str) -> list[ReviewItem]:
        if name == "flagged":
            return [it for it in self.items if it.flagged]
        if name == "low score":
            return [it for it in self.items if it.low]
        if name == "unreviewed":
            return [it for it in self.items if it.id not in self.decisions]
        return list(self.items)

    @property
    def reviewed(self) -> int:
        return len(self.decisions)

    @property
    def required(self) -> int:
        return math.ceil(len(self.items) * REVIEW_SHARE) if self.items else 0

    @property
    def enough(self) -> bool:
        return self.reviewed >= self.required

    @property
    def rejected(self) -> int:
        return sum(1 for d in self.decisions.values() if d["action"] == "reject")

    @property
    def edited(self) -> int:
        return sum(1 for d in self.decisions.values() if d["action"] == "edit")

    def progress_text(self) -> str:
        """Counts only, of one kind: how many reviewed of how many, and the target (10%)."""
        return (
            f"reviewed {self.reviewed} of {len(self.items)} (target {self.required}) · "
            f"{self.rejected} rejected · {self.edited} edited"
        )

    def advice(self) -> str | None:
        """Said on the screen when the person rejects most of what they review: the data looks poor."""
        return poor_data_advice(self.reviewed, self.rejected, edited=self.edited, private=self.private)
