"""Evaluation: metrics, LLM judge, systems under test, suites, verdicts, reports. One import:

    from tools.evals import evaluate, token_f1, Judge, SystemSpec, analyze_failures

Scorers live one per private module (`_match`, `_classification`, `_json`, `_pattern`, `_length`),
reducers in `_metrics/`; the model-facing parts (`judge`, `systems`, `run`) load lazily so importing
a metric never imports torch.
"""

from tools.evals._classification import extract_label, label_accuracy, label_match, macro_f1
from tools.evals._json import (
    flatten_json,
    json_field_accuracy,
    json_valid,
    missing_fields,
    parse_json_output,
    schema_conformance,
    schema_error,
)
from tools.evals._length import length_stats, prompt_tokens_per_request
from tools.evals._match import exact_match, rouge_l, token_f1
from tools.evals._metrics import (
    agreement_rate,
    bootstrap_ci,
    cohen_kappa,
    mean_with_ci,
    paired_bootstrap_diff,
    win_rate,
)
from tools.evals._normalize import normalize_text
from tools.evals._pattern import format_errors, format_ok, regex_match
from tools.evals._primary import KNOWN_METRICS, primary_metric_for, score_output

_LAZY = {
    "Judge": "tools.evals.judge",
    "PointwiseVerdict": "tools.evals.judge",
    "PairwiseVerdict": "tools.evals.judge",
    "parse_pointwise": "tools.evals.judge",
    "parse_pairwise": "tools.evals.judge",
    "combine_swapped": "tools.evals.judge",
    "position_bias_rate": "tools.evals.judge",
    "SystemSpec": "tools.evals.systems",
    "build_systems": "tools.evals.systems",
    "generate_outputs": "tools.evals.systems",
    "evaluate": "tools.evals.run",
    "decide_verdict": "tools.evals.verdict",
    "analyze_failures": "tools.evals.analysis",
    "judge_agreement": "tools.evals.agreement",
    "export_promptfoo": "tools.evals.promptfoo",
    "compare_evals": "tools.evals.compare",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tools.evals' has no attribute {name!r}")


__all__ = [
    "KNOWN_METRICS",
    "agreement_rate",
    "bootstrap_ci",
    "cohen_kappa",
    "exact_match",
    "extract_label",
    "flatten_json",
    "format_errors",
    "format_ok",
    "json_field_accuracy",
    "json_valid",
    "label_accuracy",
    "label_match",
    "length_stats",
    "macro_f1",
    "mean_with_ci",
    "missing_fields",
    "normalize_text",
    "paired_bootstrap_diff",
    "parse_json_output",
    "primary_metric_for",
    "prompt_tokens_per_request",
    "regex_match",
    "rouge_l",
    "schema_conformance",
    "schema_error",
    "score_output",
    "token_f1",
    "win_rate",
    *_LAZY,
]
