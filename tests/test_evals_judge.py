"""Judge parsing (junk and real embedded-model outputs) and the position-swap logic."""

from __future__ import annotations

import json
import re

import pytest

from tools.evals.judge import (
    Judge,
    combine_swapped,
    parse_pairwise,
    parse_pointwise,
    position_bias_rate,
)
from tools.llm.base import Provider
from tools.llm.types import RawResult
from tools.spec import parse_spec_dict

SPEC = parse_spec_dict(
    {"spec": "Answer with the capital city of the given country.", "output": {"max_chars": 40}}
)


class ScriptedJudgeProvider(Provider):
    """A deterministic judge backend (a control, not a stand-in for a model): `policy(messages) -> reply`."""

    name = "scripted"

    def __init__(self, policy):
        super().__init__("scripted-judge")
        self.policy = policy
        self.prompts: list[str] = []

    async def _agenerate(self, messages, params, json_schema):
        self.prompts.append(messages[-1]["content"])
        return RawResult(text=self.policy(messages), prompt_tokens=10, completion_tokens=5)


def _answers(messages) -> tuple[str, str]:
    prompt = messages[-1]["content"]
    a = re.search(r"Answer A:\n(.*?)\n\nAnswer B:", prompt, re.S).group(1)
    b = re.search(r"Answer B:\n(.*?)\n\nWhich answer", prompt, re.S).group(1)
    return a, b


def test_pointwise_parsing_tolerates_junk():
    v = parse_pointwise(
        '```json\n{"correctness": "4", "format": 5, "completeness": "3/5", "reason": "ok"}\n```'
    )
    assert (v.correctness, v.format, v.completeness, v.reason) == (4, 5, 3, "ok")
    assert v.score == 4.0 and v.normalized == 0.75 and v.passed is True
    v = parse_pointwise('Here you go: {"Correctness": 2.0, "reason": 7}')  # missing fields → None
    assert (v.correctness, v.format, v.completeness) == (2, None, None) and v.score == 2.0 and v.reason == "7"
    v = parse_pointwise('{"correctness": 9, "format": "great", "completeness": true}')  # out of range / junk
    assert v.score is None and v.parsed is False and v.passed is None
    v = parse_pointwise("Correctness: 5\nFormat: 4\nCompleteness: 3")  # no JSON, labelled lines
    assert (v.correctness, v.format, v.completeness) == (5, 4, 3)
    assert parse_pointwise("").parsed is False
    assert (
        parse_pointwise(
            "blah", parsed={"correctness": 3, "format": 3, "completeness": 3, "reason": "x"}
        ).score
        == 3
    )


def test_pairwise_parsing_tolerates_junk():
    assert parse_pairwise('{"winner": "A", "reason": "r"}') == ("A", "r")
    assert parse_pairwise('```\n{"Winner": "answer b"}\n```')[0] == "B"
    assert parse_pairwise('{"verdict": "Tie"}')[0] == "tie"
    assert parse_pairwise("B")[0] == "B"
    assert parse_pairwise("After thinking, the winner is A because...")[0] == "A"
    assert parse_pairwise("Answer B is better, it names the city.")[0] == "B"
    assert parse_pairwise("I cannot decide between them.")[0] is None
    assert parse_pairwise('{"winner": "C"}')[0] is None


def test_combine_swapped_truth_table():
    assert combine_swapped("A", "B") == ("win", False)  # candidate preferred in both positions
    assert combine_swapped("B", "A") == ("loss", False)
    assert combine_swapped("A", "A") == ("tie", True)  # always the first position: a flip
    assert combine_swapped("B", "B") == ("tie", True)
    assert combine_swapped("tie", "tie") == ("tie", False)
    assert combine_swapped("A", "tie") == ("tie", False)
    assert combine_swapped("A", None) == ("tie", False)  # one order unreadable: no win from one order


def test_position_biased_judge_yields_ties_not_wins():
    always_a = ScriptedJudgeProvider(
        lambda messages: json.dumps({"winner": "A", "reason": "first is better"})
    )
    judge = Judge(always_a, spec=SPEC)
    pairs = [{"input": f"country {i}", "candidate": f"cand {i}", "baseline": f"base {i}"} for i in range(5)]
    verdicts = judge.compare(pairs)
    assert [v.outcome for v in verdicts] == ["tie"] * 5
    assert position_bias_rate(verdicts) == 1.0
    assert always_a.calls == 10  # both orders asked for every pair


def test_unbiased_judge_wins_are_kept_and_blinded():
    # prefers the longer answer wherever it sits → consistent across the swap
    def longer(messages):
        a, b = _answers(messages)
        return json.dumps(
            {"winner": "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie", "reason": "len"}
        )

    provider = ScriptedJudgeProvider(longer)
    judge = Judge(provider, spec=SPEC)
    verdicts = judge.compare(
        [
            {"input": "x", "candidate": "a long answer", "baseline": "short"},
            {"input": "y", "candidate": "tiny", "baseline": "a much longer one"},
            {"input": "z", "candidate": "same", "baseline": "same"},
        ]
    )
    assert [v.outcome for v in verdicts] == ["win", "loss", "tie"]
    assert position_bias_rate(verdicts) == 0.0
    # blinded: the prompts name no system, only A and B
    assert all("candidate" not in p.lower() and "baseline" not in p.lower() for p in provider.prompts)


def test_pointwise_with_junk_replies_never_crashes_and_records_info():
    def policy(messages):
        repairing = "previous reply was not valid" in messages[-1]["content"]
        if "France" in messages[1]["content"]:
            # first reply unusable; the repair still breaks the schema (strings, a missing field) yet is readable
            return (
                '```json\n{"correctness": "5", "format": "4", "reason": "fine"}\n```'
                if repairing
                else "Sure!"
            )
        return "no idea"

    provider = ScriptedJudgeProvider(policy)
    judge = Judge(provider, spec=SPEC)
    v1, v2 = judge.score(
        [
            {"input": "France", "output": "Paris", "reference": "Paris"},
            {"input": "Japan", "output": "Banana", "reference": "Tokyo"},
        ]
    )
    assert (v1.correctness, v1.format, v1.completeness) == (5, 4, None)  # missing field → None
    assert v2.parsed is False and v2.score is None  # junk after the provider's one repair retry
    assert provider.calls == 4  # first answers + exactly one repair each, done by the provider
    info = judge.info()
    assert info["temperature"] == 0.0 and "judge_pointwise@" in info["prompt_version"]
    assert info["model"] == "scripted:scripted-judge"


def test_real_embedded_judge_outputs_parse(embedded):
    """The embedded model as judge: whatever it writes is parsed into verdicts or None, never a crash."""
    judge = Judge(embedded, spec=SPEC, max_tokens=16)
    points = judge.score(
        [
            {"input": "France", "output": "Paris", "reference": "Paris"},
            {"input": "Japan", "output": "Banana", "reference": "Tokyo"},
        ]
    )
    assert len(points) == 2
    for v in points:
        assert v.raw  # the model wrote something
        for dim in ("correctness", "format", "completeness"):
            assert getattr(v, dim) is None or 1 <= getattr(v, dim) <= 5
    pairs = judge.compare(
        [{"input": "France", "candidate": "Paris", "baseline": "London", "reference": "Paris"}]
    )
    assert len(pairs) == 1 and pairs[0].outcome in ("win", "loss", "tie")
    assert pairs[0].first in ("A", "B", "tie", None) and pairs[0].second in ("A", "B", "tie", None)


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"winner": null}', "```json\n```"])
def test_parsers_survive_degenerate_text(text):
    assert parse_pointwise(text).score is None
    assert parse_pairwise(text)[0] is None
