"""Metrics reduce per-example scores: bootstrap confidence intervals, win rates, agreement."""

from tools.evals._metrics.agreement import agreement_rate, cohen_kappa
from tools.evals._metrics.bootstrap import bootstrap_ci, mean_with_ci, paired_bootstrap_diff
from tools.evals._metrics.win_rate import win_rate

__all__ = [
    "agreement_rate",
    "bootstrap_ci",
    "cohen_kappa",
    "mean_with_ci",
    "paired_bootstrap_diff",
    "win_rate",
]
