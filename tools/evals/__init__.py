"""Evaluation: metrics, LLM judge, systems under test, suites, verdicts, reports. One import:

    from tools.evals import evaluate, token_f1, Judge, SystemSpec, analyze_failures

Scorers live one per private module (`_match`, `_classification`, `_json`, `_pattern`, `_length`),
reducers in `_metrics/`; every name loads lazily, so importing a metric never imports torch and importing
`tools.evals.summary` never imports numpy.
"""

# every name loads on first use (PEP 562): `tools.evals.summary` (the TUI header's status words) must not
# import numpy through `_length` — it took 0.2–0.5 s of the first screen
_SCORER_MODULES = {
    "tools.evals._classification": ("extract_label", "label_accuracy", "label_match", "macro_f1"),
    "tools.evals._json": (
        "flatten_json",
        "json_field_accuracy",
        "json_valid",
        "missing_fields",
        "parse_json_output",
        "schema_conformance",
        "schema_error",
    ),
    "tools.evals._length": ("length_stats", "prompt_tokens_per_request"),
    "tools.evals._match": ("exact_match", "rouge_l", "token_f1"),
    "tools.evals._metrics": (
        "agreement_rate",
        "bootstrap_ci",
        "cohen_kappa",
        "mean_with_ci",
        "paired_bootstrap_diff",
        "win_rate",
    ),
    "tools.evals._normalize": ("normalize_text",),
    "tools.evals._pattern": ("format_errors", "format_ok", "regex_match"),
    "tools.evals._primary": ("KNOWN_METRICS", "primary_metric_for", "score_output"),
}
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
} | {name: module for module, names in _SCORER_MODULES.items() for name in names}


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
