"""The interrupt payloads: one typed builder per kind, and the screen each one is answered on."""

from __future__ import annotations

import pytest

from agent.interrupts import Question, kind_of, question, screen_for


def test_a_question_payload_has_the_typed_keys_and_refuses_others():
    q = question("budget", "What may it cost?", input="text", default="5", note="a guess")
    assert set(q) <= set(Question.__annotations__) and q["kind"] == "question" and q["error"] is None
    assert question("next_round", "Another round?", input="choice", kind="round")["kind"] == "round"
    with pytest.raises(TypeError, match="not a question field"):
        question("budget", "?", input="text", defualt="5")


def test_each_kind_has_its_screen():
    assert screen_for(question("spec", "?", input="text")) == "conversation"
    assert screen_for({"kind": "round"}) == "evaluation"
    assert screen_for({"kind": "decision"}) == "decision" and screen_for({"kind": "review"}) == "review"
    assert screen_for("not a payload") is None and kind_of(None) is None
