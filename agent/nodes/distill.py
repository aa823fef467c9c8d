"""The distill loop: generate → critique → review → split → train → evaluate → analyze → (report | again).

One module per node (agent/nodes/<step>.py); this module gathers them for the graph's wiring and for the
callers that import from it. Every node's work is an `idempotent_step` (agent/nodes/common.py): its result
for the iteration is saved in the run directory (`work/iter<k>/<step>.json`) and found again on a resume, so a
resume after a crash never pays twice.
"""

from __future__ import annotations

from agent.nodes.analyze import analyze, rollback_mix
from agent.nodes.critique import critique, top_up_coverage
from agent.nodes.evaluate import PROMPT_SHOTS, eval_systems, evaluate, tuned_name
from agent.nodes.generate import augment_for, generate
from agent.nodes.review import apply_decisions, review
from agent.nodes.split import (
    MAX_TEST_SHARE,
    MIN_TEST_ROWS,
    drop_flagged_references,
    golden_rows,
    split,
    test_ratios,
)
from agent.nodes.train import train

__all__ = [
    "MAX_TEST_SHARE",
    "MIN_TEST_ROWS",
    "PROMPT_SHOTS",
    "analyze",
    "apply_decisions",
    "augment_for",
    "critique",
    "drop_flagged_references",
    "eval_systems",
    "evaluate",
    "generate",
    "golden_rows",
    "review",
    "rollback_mix",
    "split",
    "test_ratios",
    "top_up_coverage",
    "train",
    "tuned_name",
]
