"""The streaming validator: every defect kind at its line, exit codes, summary, flat memory."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tools.data.validate import validate_file, validate_rows
from tools.spec import parse_spec_dict

FIX = Path(__file__).parent / "fixtures" / "data"
EXPECTED = {
    13: "invalid_json",
    14: "missing_role",
    15: "unknown_role",
    16: "wrong_order",
    17: "last_not_assistant",
    18: "empty_content",
    19: "short_answer",
    20: "non_string_content",
    21: "inconsistent_system_prompt",
    22: "duplicate",
    23: "near_duplicate",
    24: "contradiction",
    25: "over_context",
    26: "missing_messages",
}


@pytest.fixture(scope="module")
def defects_report():
    return validate_file(FIX / "defects.jsonl")  # real tokenizer: counts the over-context line


def test_every_defect_kind_at_its_line(defects_report):
    found = {(p.line, p.kind) for p in defects_report.problems}
    for line, kind in EXPECTED.items():
        assert (line, kind) in found, f"{kind} expected at line {line}; got {sorted(found)}"
    # nothing flagged on the 12 good lines
    assert not [p for p in defects_report.problems if p.line is not None and p.line <= 12]
    assert all(p.fix for p in defects_report.problems)
    assert defects_report.exit_code == 1


def test_messages_point_at_the_earlier_line(defects_report):
    by_line = {p.line: p for p in defects_report.problems}
    assert "line 2" in by_line[22].message
    assert "line 3" in by_line[23].message
    assert "line 4" in by_line[24].message
    assert "8192" in by_line[25].message  # the student's real context length


def test_summary_tokens_and_estimates(defects_report):
    s = defects_report.summary
    assert s["lines"] == 26 and s["valid_examples"] == 21
    assert s["tokenizer"].startswith("SmolLM2")
    asst = s["tokens"]["assistant"]
    assert asst["n"] >= 20 and asst["p50"] <= asst["p90"] <= asst["max"]
    est = s["estimates"]
    assert est["training_tokens"] == 3 * s["training_tokens_per_epoch"] > 0
    assert est["managed_usd"]["openai:gpt-4.1-mini"] > 0 and est["local_gpu_hours"] > 0


def test_clean_file_is_clean():
    report = validate_file(FIX / "clean.jsonl", count_tokens=False, min_examples=10)
    assert report.ok and report.exit_code == 0, report.problems


def test_labels_imbalance_and_unknown_label():
    task = parse_spec_dict(
        {"spec": "Classify sentiment", "output": {"format": "label", "labels": ["positive", "negative"]}}
    )
    report = validate_file(FIX / "labels.jsonl", task=task, count_tokens=False)
    assert report.lines_of("unknown_label") == [17]
    assert report.lines_of("label_imbalance") == [None]
    assert report.summary["labels"] == {"positive": 14, "negative": 2}
    # label answers are short by nature: not reported as very short answers
    assert not report.lines_of("short_answer")


def test_json_format_checked_against_schema():
    task = parse_spec_dict(
        {
            "spec": "Extract",
            "output": {
                "format": "json",
                "schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}},
                },
            },
        }
    )
    rows = [
        {"messages": [{"role": "user", "content": f"who is {i}"}, {"role": "assistant", "content": a}]}
        for i, a in enumerate(['{"name": "Ann"}', "Ann", '{"age": 3}'])
    ]
    report = validate_rows(rows, task=task, count_tokens=False, min_examples=1)
    assert report.lines_of("bad_format") == [2, 3]


def test_cli_exit_codes(tmp_path):
    root = Path(__file__).resolve().parents[1]

    def run(*args):
        return subprocess.run(
            [str(Path(sys.executable).parent / "tunewise"), "data", "validate", *args],
            capture_output=True,
            text=True,
            cwd=root,
        )

    bad = run(str(FIX / "defects.jsonl"), "--no-tokens", "--json")
    assert bad.returncode == 1
    data = json.loads(bad.stdout)
    assert {p["line"] for p in data["problems"] if p["line"]} >= set(EXPECTED) - {25}
    missing = run(str(tmp_path / "nope.jsonl"))
    assert (
        missing.returncode == 2 and "file not found" in missing.stderr and "Traceback" not in missing.stderr
    )


def _big_file(path: Path, n: int) -> Path:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": f"Question {i}: what is {i} plus {i * 7 % 13}?"},
                            {
                                "role": "assistant",
                                "content": f"The sum of {i} and {i * 7 % 13} is {i + i * 7 % 13}.",
                            },
                        ]
                    }
                )
                + "\n"
            )
    return path


def _peak(path: Path) -> int:
    tracemalloc.start()
    report = validate_file(path, count_tokens=False, min_examples=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.summary["valid_examples"] > 0
    return peak


def test_memory_stays_flat(tmp_path):
    small = _peak(_big_file(tmp_path / "a.jsonl", 500))
    large = _peak(_big_file(tmp_path / "b.jsonl", 3000))
    # 6× the lines must not mean 6× the memory: the indexes are fixed-size, lines are not kept
    assert large < small * 1.5, (small, large)
