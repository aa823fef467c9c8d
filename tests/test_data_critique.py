"""Critique (validators → judge → one repair), hardness filter and general mixing."""

from __future__ import annotations

import json
import re

from tools.data.critique import critique_examples, lenient_score, output_rules, programmatic_issues
from tools.data.filters import general_count, hardness_filter, load_general_prompts, mix_general
from tools.data.schema import answer_text, make_row, user_text
from tools.spec import parse_spec_dict

LABEL_SPEC = parse_spec_dict(
    {
        "spec": "Classify the sentiment of a review.",
        "system_prompt": "Answer positive or negative.",
        "output": {"format": "label", "labels": ["positive", "negative"]},
    }
)
JSON_SPEC = parse_spec_dict(
    {
        "spec": "Extract the name as JSON.",
        "output": {
            "format": "json",
            "schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        },
    }
)


def test_programmatic_validators_run_first():
    assert programmatic_issues(make_row("x", '{"name": "Ann"}'), JSON_SPEC) == []
    assert programmatic_issues(make_row("x", "Ann"), JSON_SPEC)[0][0] == "format"
    assert programmatic_issues(make_row("x", '{"nom": 1}'), JSON_SPEC)[0][0] == "format"
    assert programmatic_issues(make_row("x", "meh"), LABEL_SPEC)[0][0] == "label"
    assert programmatic_issues(make_row("x", " "), LABEL_SPEC)[0][0] == "empty"
    text_spec = parse_spec_dict({"spec": "Name the capital."})
    assert programmatic_issues(make_row("United Kingdom", "United Kingdom"), text_spec)[0][0] == "incorrect"
    assert "positive, negative" in output_rules(LABEL_SPEC)
    assert lenient_score('{"score": 4, "category": ') == 4 and lenient_score("no idea") is None


def test_critique_with_the_embedded_judge_and_teacher(embedded):
    rows = [
        make_row(
            "I love this phone, it is great",
            "positive",
            system=LABEL_SPEC.effective_system_prompt,
            source="teacher",
        ),
        make_row(
            "Worst purchase ever",
            "it is bad I think",
            system=LABEL_SPEC.effective_system_prompt,
            source="teacher",
        ),
    ]
    kept, decisions = critique_examples(
        rows,
        LABEL_SPEC,
        judge=embedded,
        teacher=embedded,
        threshold=3,
        repair_max_tokens=4,
        judge_max_tokens=12,
    )
    assert len(decisions) == 2
    by_id = {d["id"]: d for d in decisions}
    bad = by_id[rows[1]["metadata"]["id"]]
    # the off-label answer fails a validator; it is either repaired into a valid label or dropped
    assert bad["action"] in ("repaired", "dropped")
    if bad["action"] == "dropped":
        assert bad["stage"] == "validator" and bad["category"] == "label"
    for r in kept:
        assert r["messages"][-1]["content"] in ("positive", "negative")
        assert "score" in r["metadata"] and "critique" in r["metadata"]
    good = by_id[rows[0]["metadata"]["id"]]
    assert good["action"] in ("kept", "dropped", "repaired")
    json.dumps(decisions)  # goes into the manifest as is


def test_hardness_filter_marks_what_the_student_already_knows(embedded):
    rows = [
        make_row("France", "Paris", system="Reply with only the capital city of the country."),
        make_row(
            "Japan",
            "Tokyo (東京), seat of government since 1868.",
            system="Reply with only the capital city of the country.",
        ),
    ]
    kept, report = hardness_filter(rows, None, student=embedded, max_replace_share=0.5, max_tokens=6)
    assert report["checked"] == 2
    flagged = [r for r in kept if "student_correct" in r["metadata"]["flags"]]
    # at most half may be removed; the long answer is one a 6-token student cannot produce (by the
    # evaluation's own scorer: token F1 for text)
    assert len(report["removed"]) <= 1 and report["n_to_replace"] == len(report["removed"])
    assert report["student_correct"] == len(flagged) + len(report["removed"])
    assert any(r["messages"][1]["content"] == "Japan" for r in kept)


def test_general_mix_from_a_file(tmp_path):
    assert general_count(93, 0.07) == 7 and general_count(0, 0.07) == 0
    prompts = load_general_prompts()
    assert len(prompts) == 60 and len(set(prompts)) == 60
    gen = tmp_path / "general.jsonl"
    gen.write_text(
        "".join(json.dumps({"instruction": p, "output": f"answer {i}"}) + "\n" for i, p in enumerate(prompts))
    )
    task = [make_row(f"task input {i}", "x") for i in range(40)]
    mixed = mix_general(task, 0.1, general_file=gen)
    general = [r for r in mixed if r["metadata"]["source"] == "general"]
    assert len(general) == general_count(40, 0.1) == 4
    assert len(mixed) == 44 and mixed[:40] == task


def test_general_answers_cut_off_or_stuck_repeating_are_not_mixed_in():
    """The routing bench's general examples from the embedded teacher: "Washing hands is a way to protect
    ourselves…" seven times over, a letter ending in ten "P.S. I hope you have a wonderful day too.", answers
    cut at the token limit. Trained on, they teach a label task's model to run on."""
    from tools.data.filters import degenerate
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    stuck = "Washing hands helps. " + "Washing hands is a way to protect ourselves. " * 4
    assert degenerate(stuck) and degenerate("Hi.\nP.S. I hope you have a wonderful day too.\n" * 3)
    assert not degenerate("Paris is the capital of France. It is on the Seine. Paris has many museums.")

    class Teacher(Provider):
        name = "local"
        batched = True

        def __init__(self):
            super().__init__("scripted")
            self.n = 0

        def _generate_batch(self, batch):
            out = []
            for _ in batch:
                self.n += 1
                kind = self.n % 4  # half of them bad
                if kind == 0:
                    out.append(RawResult(text=stuck))
                elif kind == 1:
                    out.append(
                        RawResult(text="A long answer that ran out of room and", finish_reason="length")
                    )
                else:
                    out.append(RawResult(text=f"A plain answer number {self.n}."))
            return out

    task = [make_row(f"task input {i}", "x") for i in range(40)]
    seen: list[dict] = []
    mixed = mix_general(task, 0.1, teacher=Teacher(), spec=LABEL_SPEC, on_progress=seen.append)
    general = [r["messages"][-1]["content"] for r in mixed if r["metadata"]["source"] == "general"]
    assert len(general) == general_count(40, 0.1) == 4  # the bad ones left out, the shortfall asked again
    # counted as they are answered (the demo's took minutes with nothing shown): 6 asked, 3 good, 2 more
    assert [(e["done"], e["total"]) for e in seen] == [(i, 6) for i in range(7)] + [(6, 8), (7, 8), (8, 8)]
    assert {e["stage"] for e in seen} == {"general examples"}
    assert all(g.startswith("A plain answer number") for g in general)

    class Good(Teacher):
        def _generate_batch(self, batch):
            self.n += len(batch)
            return [RawResult(text="A plain answer.") for _ in batch]

    good = Good()
    mixed = mix_general(task, 0.1, teacher=good, spec=LABEL_SPEC)
    assert sum(r["metadata"]["source"] == "general" for r in mixed) == 4 and good.n == 6  # not twice as many


def test_hardness_filter_stops_after_a_sample_the_student_fails_entirely():
    """A control student that never answers right: only the probe sample is run, nothing is removed."""
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    class AlwaysWrong(Provider):
        name = "local"
        batched = True

        def _generate_batch(self, batch):
            return [RawResult(text="I cannot help with that.") for _ in batch]

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} + {i}?"},
                {"role": "assistant", "content": str(2 * i)},
            ]
        }
        for i in range(100)
    ]
    student = AlwaysWrong("control")
    seen: list[dict] = []
    kept, report = hardness_filter(rows, None, student=student, probe_first=16, on_progress=seen.append)
    assert len(kept) == 100 and report["sampled"] and report["checked"] == 16
    assert [e["done"] for e in seen] == list(range(17)) and {e["total"] for e in seen} == {16}
    assert student.calls == 2  # 16 rows in two batches of 8; the other 84 never ran


def test_hardness_filter_checks_the_rest_only_when_the_sample_finds_enough_easy_rows():
    """A student that knows a few answers: under a tenth of the sample right, the sample's easy rows are removed
    and the rest are not run; a tenth or more, every row is checked. Its answers are capped near the
    references' length (a base model that chats ran every check to 128 tokens)."""
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    class KnowsSome(Provider):
        name = "local"
        batched = True

        def __init__(self, known):
            super().__init__("control")
            self.known, self.asked, self.max_tokens = known, 0, set()

        def _generate_batch(self, batch):
            self.asked += len(batch)
            self.max_tokens |= {p.max_tokens for _, p, _ in batch}
            out = []
            for msgs, _, _ in batch:
                i = int(msgs[-1]["content"].split()[2])
                out.append(RawResult(text=str(2 * i) if i in self.known else "I cannot help with that."))
            return out

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} + {i}?"},
                {"role": "assistant", "content": str(2 * i)},
            ]
        }
        for i in range(100)
    ]
    few = KnowsSome(set(range(0, 100, 25)))  # 4 of 100: about 1 in a sample of 32
    kept, report = hardness_filter(rows, None, student=few, probe_first=32)
    assert report["sampled"] and few.asked == 32 and report["student_correct"] < 4
    assert len(kept) == 100 - len(report["removed"]) and report["removed"] == sorted(report["removed"])
    assert few.max_tokens == {34}  # 32 + 2 × (3 characters // 3): the longest reference is "198"
    many = KnowsSome(set(range(0, 100, 2)))  # half of them
    kept, report = hardness_filter(rows, None, student=many, probe_first=32)
    assert "sampled" not in report and report["checked"] == 100 and report["student_correct"] == 50
    assert len(report["removed"]) == 30 and len(kept) == 70
    flagged = [r for r in kept if "student_correct" in r["metadata"]["flags"]]
    assert len(flagged) == 20


def test_grounded_extraction_rejects_values_missing_from_the_input():
    from tools.data.checks import check_answer, ungrounded_values
    from tools.spec import parse_spec_dict

    assert ungrounded_values(
        {"name": "Diego", "city": "Kumasi", "age": 24}, "Diego, 24, commutes from Kyiv."
    ) == ["Kumasi"]
    assert ungrounded_values({"a": ["x", {"b": "New  York"}]}, "x lives in new york") == []
    spec = parse_spec_dict({"spec": "extract", "output": {"format": "json", "grounded": True}})
    problems = check_answer(
        '{"name": "Diego", "city": "Kumasi"}', spec, "The intern Diego commutes from Kyiv."
    )
    assert problems and problems[0][0] == "incorrect" and "Kumasi" in problems[0][1]
    assert (
        check_answer('{"name": "Diego", "city": "Kyiv"}', spec, "The intern Diego commutes from Kyiv.") == []
    )
    # without the flag the same answer passes (not every JSON task is extraction)
    spec.output.grounded = False
    assert check_answer('{"name": "Diego", "city": "Kumasi"}', spec, "Diego commutes from Kyiv.") == []


def test_one_scorer_is_as_strict_as_the_evaluation():
    from tools.evals import score_output
    from tools.evals.correct import score
    from tools.spec import TaskSpec

    spec = TaskSpec(spec="extract", output={"format": "json"})
    ref = '{"name": "Ana", "age": 3}'
    assert score(spec, '{"age": 3, "name": "Ana"}', ref).correct
    assert score(spec, '```json\n{"name": "Ana", "age": 3}\n```', ref).correct
    # prose around the JSON is what the tuned model must unlearn: not "already correct"
    assert not score(spec, 'Here is the JSON:\n```json\n{"name": "Ana", "age": 3}\n```', ref).correct
    # half the fields right: half a point, not correct; the same value the evaluation computes
    half = score(spec, '{"name": "Ana", "age": 4}', ref)
    assert half.metric == "json_field_accuracy" and not half.correct
    assert half.value == score_output('{"name": "Ana", "age": 4}', ref, spec)["json_field_accuracy"] == 0.5
    # labels and free text use the evaluation's rules too
    lab = TaskSpec(spec="route", output={"format": "label", "labels": ["billing", "shipping"]})
    assert (
        score(lab, "Billing.", "billing").correct and not score(lab, "billing or shipping", "billing").correct
    )
    txt = TaskSpec(spec="rewrite")
    s = score(txt, "please send the invoice today", "please send the invoice by today")
    assert s.metric == "token_f1" and s.correct and 0.6 <= s.value < 1.0


def test_an_answer_that_disagrees_with_the_label_its_input_was_written_for_is_flagged():
    from tools.data.critique import programmatic_issues
    from tools.data.schema import make_row
    from tools.spec import TaskSpec

    spec = TaskSpec(spec="route", output={"format": "label", "labels": ["billing", "shipping", "account"]})
    focus = "difficulty: easy; an input whose correct label is shipping"
    bad = make_row("Where is my parcel?", "account", extra={"focus": focus})
    assert programmatic_issues(bad, spec) == [
        ("incorrect", "written as an input for 'shipping' but answered 'account'")
    ]
    assert (
        programmatic_issues(make_row("Where is my parcel?", "shipping", extra={"focus": focus}), spec) == []
    )
    assert programmatic_issues(make_row("Where is my parcel?", "account"), spec) == []  # no plan: no claim


def test_examples_are_shown_label_by_label():
    from tools.data.coverage import balanced_order
    from tools.spec import parse_spec_dict

    spec = parse_spec_dict(
        {
            "spec": "route",
            "output": {"format": "label", "labels": ["a", "b", "c"]},
            "examples": [{"input": f"m{i}", "output": lab} for i, lab in enumerate("aaabbbccc")],
        }
    )
    order = [e.output for e in balanced_order(spec.examples, spec)]
    assert order == list("abcabcabc")
    assert [e.input for e in balanced_order(spec.examples, spec)][:3] == ["m0", "m3", "m6"]  # stable


def test_self_consistency_keeps_the_majority_of_three_answers():
    """A control teacher scripted per input: what it answers the 2nd and 3rd time it is asked."""
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    script = {
        "stable": ["positive"],  # the second answer agrees: no third call
        "flip": ["negative", "positive"],  # 2nd disagrees, 3rd sides with the original: kept as is
        "replace": ["negative", "negative"],  # 2nd and 3rd agree against the original: replaced
        "chaos": ["negative", "neutral"],  # three different answers: dropped
    }

    class Scripted(Provider):
        name = "local"
        batched = True

        def __init__(self):
            super().__init__("scripted")
            self.asked: dict[str, int] = {}

        def _generate_batch(self, batch):
            out = []
            for messages, _params, _schema in batch:
                user = messages[-1]["content"]
                n = self.asked.get(user, 0)
                self.asked[user] = n + 1
                out.append(RawResult(text=script[user][n]))
            return out

    spec = parse_spec_dict(
        {
            "spec": "sentiment",
            "output": {"format": "label", "labels": ["positive", "negative", "neutral"]},
            "examples": [
                {"input": f"e{i}", "output": lab} for i, lab in enumerate(["positive", "negative"] * 2)
            ],
        }
    )
    rows = [make_row(k, "positive", source="teacher") for k in script] + [
        make_row("seed", "positive", source="seed")
    ]
    teacher = Scripted()
    events = []
    kept, decisions = critique_examples(rows, spec, judge=None, teacher=teacher, on_progress=events.append)
    assert {"stage": "second answers", "done": 4, "total": 4} in events
    assert events[-1] == {"stage": "third answers", "done": 3, "total": 3}
    answers = {r["messages"][-2]["content"]: r for r in kept}
    assert set(answers) == {"stable", "flip", "replace", "seed"}
    assert answers["replace"]["messages"][-1]["content"] == "negative"
    assert "consistency_replaced" in answers["replace"]["metadata"]["flags"]
    assert answers["flip"]["messages"][-1]["content"] == "positive"
    dropped = [d for d in decisions if d["action"] == "dropped"]
    assert (
        len(dropped) == 1
        and dropped[0]["stage"] == "consistency"
        and "three different answers" in dropped[0]["reason"]
    )
    assert teacher.asked == {"stable": 1, "flip": 2, "replace": 2, "chaos": 2}  # seeds are never re-asked


def test_no_label_is_taken_from_examples_that_nearness_does_not_tell_apart():
    """Walk 24: the bakery's order / change / question / complaint messages share their words; placed by the
    others, the person's own examples came out right 4 times of 14, and 81 written messages had taken their label
    that way ("Do you have any chocolate options?" → change). Nearness is used only where it places the
    person's own examples right."""
    import pytest

    from tools.data.ontask import neighbour_labels
    from tools.rag.embeddings import embeddings_available

    if not embeddings_available()[0]:
        pytest.skip("sentence embeddings not installed (make setup installs them)")
    bakery = [
        ("Can I get two sourdough loaves for Saturday?", "order"),
        ("Hi, I'd like to order a birthday cake for my daughter Maya, chocolate with strawberries", "order"),
        ("dozen croissants for pickup tomorrow 8am pls", "order"),
        ("Please make my Friday cake chocolate instead of vanilla", "change"),
        ("actually can you add 2 baguettes to my order for tomorrow", "change"),
        ("Hi, this is Sarah Lee, I need to cancel the quiche order for Thursday, sorry!", "change"),
        ("Do you have anything gluten-free?", "question"),
        ("what time do you open on sundays", "question"),
        ("How much is a large sourdough loaf? And do you do a discount if I buy every week?", "question"),
        ("The croissants I picked up were stale", "complaint"),
        (
            "Very disappointed. I ordered a chocolate cake for my mum's 70th and it had vanilla inside.",
            "complaint",
        ),
        (
            "Waited 25 minutes at the counter on Saturday for my pre-paid order, nobody knew where it was.",
            "complaint",
        ),
    ]
    labels = ["order", "change", "question", "complaint"]
    written = ["Do you have any chocolate options at the moment?", "Two rye loaves for Friday please"]
    assert neighbour_labels(written, bakery, labels) == [None, None]
    spec = parse_spec_dict(
        {
            "spec": "Sort a bakery's customer message.",
            "examples": [{"input": i, "output": o} for i, o in bakery],
            "output": {"format": "label", "labels": labels},
        }
    )
    rows = [
        make_row(written[0], "complaint", source="teacher")
    ]  # the teacher's favourite label is not replaced
    kept, decisions = critique_examples(rows, spec, judge=None, teacher=None, consistency=False)
    assert (
        "label_from_examples" not in kept[0]["metadata"]["flags"]
        and kept[0]["messages"][-1]["content"] == "complaint"
    )


def test_a_teacher_label_unlike_the_persons_nearest_examples_takes_their_label():
    import pytest

    from tools.data.ontask import neighbour_labels
    from tools.rag.embeddings import embeddings_available

    if not embeddings_available()[0]:
        pytest.skip("sentence embeddings not installed (make setup installs them)")
    examples = [
        ("I was charged twice for my order, please refund one payment.", "billing"),
        ("Why is there a fee on my invoice I never agreed to?", "billing"),
        ("My parcel still hasn't arrived after ten days.", "shipping"),
        ("Tracking says delivered but nothing is at my door.", "shipping"),
        ("I can't log in and the password reset email never comes.", "account"),
        ("Please delete my account and my personal data.", "account"),
    ]
    spec = parse_spec_dict(
        {
            "spec": "Route a support message to a team.",
            "examples": [{"input": i, "output": o} for i, o in examples],
            "output": {"format": "label", "labels": ["billing", "shipping", "account"]},
        }
    )
    late = "The courier lost my package and the delivery is a week late."
    refund = "I want my money back for the double charge on my card."
    assert neighbour_labels([late, refund], examples, ["billing", "shipping", "account"]) == [
        "shipping",
        "billing",
    ]
    vague = "Hello, I have a question."  # no label's examples are clearly nearest
    rows = [
        make_row(late, "account", source="teacher"),  # the weak teacher's favourite label: relabelled
        make_row(refund, "billing", source="teacher"),  # agrees with the nearest examples: kept
        make_row(late, "account", source="augment"),  # the person's or exact data is not second-guessed
        make_row(late, "furious", source="teacher"),  # not a label at all: relabelled too
        make_row(vague, "frustrated", source="teacher"),  # not a label, and no clear neighbours: dropped
    ]
    assert neighbour_labels([vague], examples, ["billing", "shipping", "account"]) == [None]
    kept, decisions = critique_examples(rows, spec, judge=None, teacher=None, consistency=False)
    assert [d["action"] for d in decisions] == ["repaired", "kept", "kept", "repaired", "dropped"]
    assert decisions[0]["before"]["reason"] == (
        "the person's examples most like this input are 'shipping', not 'account'"
    )
    assert decisions[0]["reason"].startswith("label 'shipping' from your examples most like this input")
    relabelled = [r for r in kept if "label_from_examples" in r["metadata"]["flags"]]
    assert [r["messages"][-1]["content"] for r in relabelled] == ["shipping", "shipping"]
    assert all(r["metadata"]["repaired_from"] == "teacher" for r in relabelled)


def test_a_teacher_that_gives_one_label_to_everything_is_said_in_words():
    """The walk's bike shop: the embedded teacher answered "complaint" to 200 of 200 messages; the labels
    then came from the person's most similar examples and the review said only "68 incorrect"."""
    import pytest

    from tools.data.critique import collapsed_fields, collapsed_summary, collapsed_words
    from tools.rag.embeddings import embeddings_available

    if not embeddings_available()[0]:
        pytest.skip("sentence embeddings not installed (make setup installs them)")
    examples = [
        ("My brakes squeal and the chain skips, can you fix it this week?", "repair"),
        ("The gears need a tune-up, when can I bring the bike in?", "repair"),
        ("Do you have the Trek FX 3 in size L in stock?", "sale"),
        ("How much is a good kids bike for a six year old?", "sale"),
        ("Can we rent two city bikes for three days next month?", "rental"),
        ("Is a deposit needed to hire a tandem on Saturday?", "rental"),
        ("Your staff was rude to me on the phone. Not acceptable.", "complaint"),
        ("The bike I bought last week already has a cracked frame. I want a refund.", "complaint"),
    ]
    labels = ["complaint", "rental", "repair", "sale"]
    spec = parse_spec_dict(
        {
            "spec": "Sort each bike shop message into repair, sale, rental or complaint.",
            "examples": [{"input": i, "output": o} for i, o in examples],
            "output": {"format": "label", "labels": labels},
        }
    )
    messages = [
        "My rear wheel is buckled after a crash, can you true it?",
        "The chain keeps skipping gears, can you fix it on Thursday?",
        "Do you sell the Cube Kathmandu e-bike, and what does it cost?",
        "How much is the blue gravel bike in the window?",
        "We want to rent four bikes for the weekend, how much is it?",
        "Can I hire an e-bike for one day next Tuesday?",
        "I want to complain: the shop was closed during opening hours.",
        "Hello, I have a question.",
        "The front brake cable snapped, please repair it.",
        "Could we book two rental bikes for Sunday morning?",
    ]
    rows = [make_row(m, "complaint", source="teacher") for m in messages]
    assert collapsed_fields(rows, spec) == {"label": "complaint"}
    kept, decisions = critique_examples(rows, spec, judge=None, teacher=None, consistency=False)
    summary = collapsed_summary(collapsed_fields(rows, spec), kept, decisions)["label"]
    moved = [r for r in kept if "label_from_examples" in r["metadata"]["flags"]]
    assert summary == {
        "value": "complaint",
        "from_examples": len(moved),
        "dropped": sum(d["action"] == "dropped" for d in decisions),
    }
    assert len(moved) >= 5  # the repairs, sales and rentals take their nearest examples' label
    words = collapsed_words("label", summary)
    assert words.startswith(
        "the teacher gave 'complaint' to nearly every input, so its labels were not trusted"
    )
    assert f"{len(moved)} took the label of your most similar examples" in words
    # a teacher whose labels vary with the messages is not collapsed
    varied = [
        make_row(m, lab, source="teacher")
        for m, lab in zip(
            messages,
            ["repair", "repair", "sale", "sale", "rental", "rental", "complaint", "sale", "repair", "rental"],
            strict=True,
        )
    ]
    assert collapsed_fields(varied, spec) == {}


def test_repairs_are_counted_as_they_come():
    """The repair round asked the teacher for minutes with no progress shown (the CLI's bar stood at
    'third answers: 9/9'): it reports `repairs` done / total like the other stages."""
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    class Fixer(Provider):
        name = "local"
        batched = True

        def __init__(self):
            super().__init__("fixer")

        def _generate_batch(self, batch):
            return [RawResult(text="positive") for _ in batch]

    spec = parse_spec_dict(
        {
            "spec": "sentiment",
            "output": {"format": "label", "labels": ["positive", "negative"]},
            "examples": [{"input": "e1", "output": "positive"}, {"input": "e2", "output": "negative"}],
        }
    )
    rows = [make_row(f"text {i}", "furious", source="teacher") for i in range(3)]  # not a label
    events: list[dict] = []
    kept, decisions = critique_examples(
        rows, spec, judge=None, teacher=Fixer(), consistency=False, on_progress=events.append
    )
    repairs = [(e["done"], e["total"]) for e in events if e.get("stage") == "repairs"]
    assert repairs == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [d["action"] for d in decisions] == ["repaired"] * 3
    assert [r["messages"][-1]["content"] for r in kept] == ["positive"] * 3


ORDERS = parse_spec_dict(
    {
        "spec": "Turn a cafe order into JSON.",
        "examples": [
            {"input": i, "output": json.dumps(o)}
            for i, o in [
                ("Two large oat lattes", {"item": "latte", "size": "large", "milk": "oat"}),
                ("One small americano, black", {"item": "americano", "size": "small", "milk": "none"}),
                ("Three small mochas with soy", {"item": "mocha", "size": "small", "milk": "soy"}),
                ("Large cold brew, no milk", {"item": "cold brew", "size": "large", "milk": "none"}),
                ("A large chai with whole milk", {"item": "chai", "size": "large", "milk": "whole"}),
            ]
        ],
        "output": {
            "format": "json",
            "schema": {
                "type": "object",
                "required": ["item", "size", "milk"],
                "properties": {
                    "item": {"type": "string"},
                    "size": {"type": "string", "enum": ["small", "medium", "large"]},
                    "milk": {"type": "string", "enum": ["none", "whole", "oat", "soy"]},
                },
            },
        },
    }
)


def _order(item: str, size: str, milk: str) -> str:
    return json.dumps({"item": item, "size": size, "milk": milk})


def test_values_the_input_settles_are_fixed_by_rule_not_by_the_teacher():
    """The embedded teacher answered size "large" and milk "almond" to most orders and said the same when
    asked to repair; where the input names exactly one allowed value (or the person's examples leave one
    value unwritten: no milk named → "none"), the answer takes it without a teacher."""
    from tools.data.checks import fixed_choices, string_conventions

    obj = {"item": "latte", "size": "large", "milk": "soy"}
    assert fixed_choices(obj, ORDERS, "three small lattes, no milk") == (
        {"item": "latte", "size": "small", "milk": "none"},
        ["size 'large' → 'small'", "milk 'soy' → 'none'"],
    )
    # two milks named: the rules cannot tell which, so nothing changes there
    assert fixed_choices(obj, ORDERS, "a large latte, oat or soy")[1] == []
    # sizes are always written in the examples: no default to take when none is named
    assert fixed_choices(obj, ORDERS, "a latte with soy") == (obj, [])
    # the examples write the drink lowercase and singular where the order has "lattes"
    assert string_conventions(ORDERS) == {"item": {"lower", "singular"}}
    assert fixed_choices({**obj, "item": "Flat Whites"}, ORDERS, "2 small Flat Whites with soy")[0][
        "item"
    ] == ("flat white")
    rows = [
        make_row("three small lattes, no milk", _order("latte", "large", "soy"), source="teacher"),
        make_row("a large latte, oat or soy", _order("latte", "large", "whole"), source="teacher"),
    ]
    kept, decisions = critique_examples(rows, ORDERS, judge=None, teacher=None, consistency=False)
    assert [d["action"] for d in decisions] == ["kept", "dropped"]
    fixed = kept[0]
    assert json.loads(fixed["messages"][-1]["content"]) == {"item": "latte", "size": "small", "milk": "none"}
    assert "fixed_by_rules" in fixed["metadata"]["flags"]
    assert fixed["metadata"]["replaced_answer"] == _order("latte", "large", "soy")
    assert "whole" in decisions[1]["reason"]  # "milk is 'whole' but the input does not say 'whole'"


def test_repairs_stop_when_the_teachers_first_ones_all_fail():
    """A teacher that answers every repair with the JSON Schema itself (the embedded one did, 42 of 109)
    is asked REPAIR_PROBE repairs, not all of them; one that repairs is asked for every row."""
    from tools.data.critique import REPAIR_PROBE
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    class Teacher(Provider):
        name = "local"
        batched = True

        def __init__(self, answer: str):
            super().__init__("scripted")
            self.answer, self.inputs = answer, set()

        def _generate_batch(self, batch):
            # a schema miss is asked again in the same conversation: count conversations by their first question
            firsts = {next(x["content"] for x in m if x["role"] == "user") for m, _p, _s in batch}
            self.inputs |= {
                f for f in firsts if f.startswith("Input:")
            }  # repairs (answering again: probed too)
            return [RawResult(text=self.answer) for _ in batch]

    n = REPAIR_PROBE + 8
    rows = [make_row(f"order {i}: a large latte with oat milk", "sure!", source="teacher") for i in range(n)]
    echo = Teacher(json.dumps(ORDERS.output.json_schema))
    kept, decisions = critique_examples(rows, ORDERS, judge=None, teacher=echo, consistency=False)
    assert len(echo.inputs) == REPAIR_PROBE and kept == []
    assert sum("not asked" in d.get("repair_failed", "") for d in decisions) == n - REPAIR_PROBE
    good = Teacher(_order("latte", "small", "soy"))  # wrong values, settled by rule after the repair
    events: list[dict] = []
    kept, decisions = critique_examples(
        rows, ORDERS, judge=None, teacher=good, consistency=False, on_progress=events.append
    )
    assert len(good.inputs) == n and [d["action"] for d in decisions] == ["repaired"] * n
    assert {json.loads(r["messages"][-1]["content"])["milk"] for r in kept} == {"oat"}
    assert [e["done"] for e in events if e["stage"] == "repairs"][-1] == n
    assert {e["total"] for e in events if e["stage"] == "repairs"} == {n}


def test_the_rarer_labels_are_repeated_in_train_up_to_half_the_largest():
    """Routing's train split after relabelling: billing 29 / shipping 13 / account 8 / technical 6, and the
    tuned model answered billing for most of 80 balanced test messages (0.237). The same data with the
    rarer labels repeated up to half the largest scored 0.400 (bench/RESULTS.md, same day)."""
    from collections import Counter

    from tools.data.coverage import REPEAT_FLAG, evened_labels
    from tools.data.schema import row_id

    spec = parse_spec_dict(
        {
            "spec": "Route a support message.",
            "output": {"format": "label", "labels": ["billing", "shipping", "account", "technical"]},
        }
    )
    rows = (
        [make_row(f"b{i}", "billing", source="repair") for i in range(29)]
        + [make_row(f"s{i}", "shipping", source="repair") for i in range(13)]
        + [make_row(f"a{i}", "account", source="seed") for i in range(8)]
        + [make_row(f"t{i}", "technical", source="repair") for i in range(6)]
        + [make_row(f"g{i}", "a long general answer", source="general") for i in range(3)]
    )
    evened, added = evened_labels(rows, spec)
    assert added == {"shipping": [13, 14], "account": [8, 14], "technical": [6, 14]}
    labels = Counter(r["messages"][-1]["content"] for r in evened)
    assert labels == {
        "billing": 29,
        "shipping": 14,
        "account": 14,
        "technical": 14,
        "a long general answer": 3,
    }
    assert evened[: len(rows)] == rows  # the originals first, as they were
    repeats = evened[len(rows) :]
    assert all(REPEAT_FLAG in r["metadata"]["flags"] for r in repeats)
    assert len({row_id(r) for r in evened}) == len(evened)  # every repeat has its own id …
    assert {r["metadata"]["repeat_of"] for r in repeats} <= {row_id(r) for r in rows}  # … and says whose
    technical = Counter(
        r["metadata"]["repeat_of"] for r in repeats if r["messages"][-1]["content"] == "technical"
    )
    assert sorted(technical.values()) == [1, 1, 1, 1, 2, 2]  # spread over the six, not one repeated 8 times
    full, _ = evened_labels(rows, spec, share=1.0)
    assert Counter(r["messages"][-1]["content"] for r in full)["technical"] == 29
    # evening an evened split again (a later iteration adds rows to train) does not compound
    assert evened_labels(evened, spec) == (evened, added)
    assert evened_labels(rows, JSON_SPEC) == (rows, {})


EXPENSES = parse_spec_dict(
    {
        "spec": "Turn an expense note into JSON with the amount, the currency and the category.",
        "output": {
            "format": "json",
            "schema": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]},
                    "category": {"type": "string", "enum": ["meals", "travel", "lodging", "office"]},
                },
            },
        },
        "examples": [
            {"input": i, "output": json.dumps({"amount": a, "currency": c, "category": k})}
            for i, a, c, k in [
                ("Lunch with a client at Da Vinci, 48.60 euros.", 48.6, "EUR", "meals"),
                ("Taxi from the airport to the hotel, $32", 32, "USD", "travel"),
                ("Two nights at the Ibis Berlin, 210 EUR total.", 210, "EUR", "lodging"),
                ("Printer paper and toner for the office, £64.99", 64.99, "GBP", "office"),
                ("Train ticket London to Manchester, 87.50 pounds", 87.5, "GBP", "travel"),
                ("Team breakfast before the workshop, 36 dollars.", 36, "USD", "meals"),
                ("Hotel in Boston for the conference, 3 nights, $540.", 540, "USD", "lodging"),
                ("Sticky notes, markers and a whiteboard eraser, €18.40", 18.4, "EUR", "office"),
                ("Dinner with the sales team in Lyon, 126 euros", 126, "EUR", "meals"),
                ("Uber to the client's office, twelve dollars", 12, "USD", "travel"),
            ]
        ],
    }
)


def test_a_sign_the_persons_examples_tie_to_one_value_settles_the_field():
    """The embedded teacher answered "EUR" to "$24.44" and "£20"; the examples say "$" is USD, "£" GBP and
    "€" EUR. Only signs, and only for a field whose values the examples write where they are the answer:
    words like "hotel" went with one currency by chance, and "office" is a category and a word."""
    from tools.data.checks import fixed_choices, marker_choices

    assert marker_choices(EXPENSES) == {"currency": {"$": "USD", "£": "GBP", "€": "EUR"}}
    obj = {"amount": 24.44, "currency": "EUR", "category": "meals"}
    assert fixed_choices(obj, EXPENSES, "Lunch in Lyon, $24.44.")[0]["currency"] == "USD"
    assert fixed_choices(obj, EXPENSES, "Cheers to me, £20.")[1] == ["currency 'EUR' → 'GBP'"]
    assert fixed_choices(obj, EXPENSES, "Paid $10 and £5 for snacks")[1] == []  # two signs: not settled
    assert fixed_choices(obj, EXPENSES, "Coffee, 4 francs")[1] == []  # no sign, no rule


def test_a_field_the_teacher_answers_one_way_for_every_input_is_decided_by_the_persons_examples():
    """The expense bench's embedded teacher gave category "lodging" to 112 of 112 notes, tacos and taxis
    alike. Such a field is not trusted: a row takes the category of the person's most similar examples
    where they clearly place it, and is out where they do not; other fields and other rows stay."""
    from tools.data.critique import collapsed_fields

    notes = [
        "Dinner with two clients in Hamburg, 84 euros",
        "Taxi from the station to the airport, $27",
        "Lunch with the marketing team, 52 euros",
        "Train ticket Paris to Lyon, 64 euros",
        "Breakfast with the sales team before the pitch, 41 euros",
        "Uber from the client's site to the airport, $19",
        "Hotel near the trade fair, 2 nights, 380 euros",
        "Dream home, 15 euros.",
        "A box of chocolate at a store, 5.15 euros",
        "Team dinner after the launch, 230 euros",
    ]
    rows = [
        make_row(
            n,
            json.dumps(
                {
                    "amount": float(re.findall(r"\d+(?:\.\d+)?", n)[-1]),
                    "currency": "EUR",
                    "category": "lodging",
                }
            ),
            source="teacher",
        )
        for n in notes
    ]
    rows.append(make_row("Pens, €3", json.dumps({"amount": 3, "currency": "EUR", "category": "office"})))
    assert collapsed_fields(rows, EXPENSES) == {"category": "lodging"}  # currency: "euros" and "$" vary it
    kept, decisions = critique_examples(rows, EXPENSES, judge=None, teacher=None, consistency=False)
    said = {d["id"]: d for d in decisions}
    category = {
        next(m["content"] for m in r["messages"] if m["role"] == "user"): json.loads(
            r["messages"][-1]["content"]
        )["category"]
        for r in kept
    }
    assert category.get("Taxi from the station to the airport, $27") == "travel"
    assert category.get("Dinner with two clients in Hamburg, 84 euros") == "meals"
    assert category.get("Pens, €3") == "office"  # not the teacher's collapsed value: untouched
    moved = [r for r in kept if "value_from_examples" in r["metadata"]["flags"]]
    assert len(moved) >= 4
    out = [d for d in said.values() if d["action"] == "dropped"]
    assert all(d["category"] == "untrusted_field" and "'lodging'" in d["reason"] for d in out)
    assert len(kept) + len(out) == len(rows)
    # the same teacher asked again (self-consistency) answers "lodging" again: it must not vote it back
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    class SameHabit(Provider):
        name = "local"
        batched = True

        def __init__(self):
            super().__init__("habit")

        def _generate_batch(self, batch):
            def amount(item) -> float:  # the note's own amount: only the category is the habit
                return float(re.findall(r"\d+(?:\.\d+)?", item[0][-1]["content"])[-1])

            return [
                RawResult(text=json.dumps({"amount": amount(b), "currency": "EUR", "category": "lodging"}))
                for b in batch
            ]

    again, _ = critique_examples(rows, EXPENSES, judge=None, teacher=SameHabit(), consistency=True)
    said = {
        next(m["content"] for m in r["messages"] if m["role"] == "user"): json.loads(
            r["messages"][-1]["content"]
        )
        for r in again
    }
    assert said["Taxi from the station to the airport, $27"]["category"] == "travel"
    assert said["Dinner with two clients in Hamburg, 84 euros"]["category"] == "meals"
    from tools.data.critique import collapsed_summary

    summary = collapsed_summary({"category": "lodging"}, kept, decisions)
    assert summary == {"category": {"value": "lodging", "from_examples": len(moved), "dropped": len(out)}}
    # the examples the person wrote with a varied category: a teacher that varies too is not collapsed
    varied = [
        make_row(n, json.dumps({"amount": 1, "currency": "EUR", "category": c}), source="teacher")
        for n, c in zip(
            notes,
            ["meals", "travel", "meals", "travel", "meals", "travel", "lodging", "meals", "meals", "meals"],
            strict=True,
        )
    ]
    assert collapsed_fields(varied, EXPENSES) == {}


def test_a_field_the_teacher_guesses_is_decided_by_the_persons_examples_whatever_value_it_gave():
    """The parcels bench: the small teacher copied the order number right 9 times of 12 and got the issue
    right 4 of 12 where chance was 3, varied (not one value for all, so nothing looked collapsed). A field
    measured right no more often than chance (`guessed`) is treated like a collapsed one for every teacher
    row: the person's most similar examples place it, or the row is out; the other fields stay."""
    from tools.data.critique import collapsed_summary, collapsed_words

    notes = [
        "Dinner with two clients in Hamburg, 84 euros",
        "Taxi from the station to the airport, $27",
        "Lunch with the marketing team, 52 euros",
        "Train ticket Paris to Lyon, 64 euros",
        "Uber from the client's site to the airport, $19",
        "Team dinner after the launch, 230 euros",
    ]
    guesses = ["office", "lodging", "travel", "office", "meals", "lodging"]  # varied, and wrong
    rows = [
        make_row(
            n,
            json.dumps({"amount": float(re.findall(r"\d+", n)[-1]), "currency": "EUR", "category": g}),
            source="teacher",
        )
        for n, g in zip(notes, guesses, strict=True)
    ]
    rows.append(make_row("Pens, €3", json.dumps({"amount": 3, "currency": "EUR", "category": "office"})))
    plain, _ = critique_examples(rows, EXPENSES, judge=None, teacher=None, consistency=False)
    said = {user_text(r): json.loads(answer_text(r))["category"] for r in plain}
    assert said["Taxi from the station to the airport, $27"] == "lodging"  # not guessed: the teacher's stays
    kept, decisions = critique_examples(
        rows, EXPENSES, judge=None, teacher=None, consistency=False, guessed=["category"]
    )
    said = {user_text(r): json.loads(answer_text(r)) for r in kept}
    assert said["Taxi from the station to the airport, $27"]["category"] == "travel"
    assert said["Dinner with two clients in Hamburg, 84 euros"]["category"] == "meals"
    assert said["Team dinner after the launch, 230 euros"]["amount"] == 230.0  # the other fields stay
    assert said["Pens, €3"]["category"] == "office"  # the person's own kind of row: untouched
    out = [d for d in decisions if d["action"] == "dropped"]
    assert all(
        d["category"] == "untrusted_field" and "no more often right than chance" in d["reason"] for d in out
    )
    assert len(kept) + len(out) == len(rows)
    summary = collapsed_summary({"category": None}, kept, decisions)
    assert summary["category"]["value"] is None and summary["category"]["from_examples"] >= 2
    words = collapsed_words("category", summary["category"])
    assert words.startswith(
        "the teacher got the category of your own examples right no more often than a guess"
    )


def test_a_collapsed_field_of_the_inputs_wording_is_not_guessed_from_similar_examples():
    """A currency is in the input's wording, not its meaning: the examples most like "Train to Lyon, 64
    francs" say nothing of francs. Where the teacher gives every such note "EUR", those rows are out."""
    from tools.data.checks import surface_fields
    from tools.data.critique import collapsed_fields

    assert surface_fields(EXPENSES) == {"currency"}  # "210 EUR"; "office" is also a word (travel)
    notes = [
        f"{what}, {n} {unit}"
        for n, (what, unit) in enumerate(
            [
                ("Train to Lyon", "francs"),
                ("Lunch with the team", "dollars"),
                ("Hotel, 2 nights", "pounds"),
                ("Taxi to the airport", "francs"),
                ("Dinner with a client", "pounds"),
                ("Printer ink", "dollars"),
                ("Bus to the venue", "francs"),
                ("Team breakfast", "pounds"),
            ],
            10,
        )
    ]
    rows = [
        make_row(t, json.dumps({"amount": 1, "currency": "EUR", "category": "travel"}), source="teacher")
        for t in notes
    ]
    assert collapsed_fields(rows, EXPENSES).get("currency") == "EUR"
    kept, decisions = critique_examples(rows, EXPENSES, judge=None, teacher=None, consistency=False)
    assert not kept  # every row rests on the untrusted currency: none is guessed from similar examples
    assert {d["category"] for d in decisions} == {"untrusted_field"}


def test_an_answer_a_validator_fails_after_its_repair_is_answered_again_until_one_passes():
    """The rewrite bench: the embedded teacher wrote 82 of 120 headlines over the 60-character limit and
    failed its first 12 repairs; 24 examples were kept and nothing was trained. Now each such input is
    answered again (sampled, the examples in another order) until an answer passes the validators."""
    from tools.data.critique import ANSWER_AGAIN_TRIES
    from tools.llm.base import Provider
    from tools.llm.types import RawResult

    spec = parse_spec_dict(
        {
            "spec": "Rewrite a news sentence as a short headline.",
            "system_prompt": "Reply with only the headline.",
            "examples": [
                {
                    "input": "The council of Ferrow voted to close the harbour bridge.",
                    "output": "Ferrow Closes Bridge",
                },
                {
                    "input": "Crumbwell will open twelve new shops next year.",
                    "output": "Crumbwell to Open 12 Shops",
                },
            ],
            "output": {"format": "text", "max_chars": 40},
        }
    )
    long = "A Very Long Headline That Goes On And On Past The Limit Of Forty"

    class Teacher(Provider):
        name = "local"
        batched = True

        def __init__(self, short_on: int | None):
            super().__init__("scripted")
            self.short_on, self.sampled = short_on, 0

        def _generate_batch(self, batch):
            out = []
            for _m, params, _s in batch:
                if params.temperature and params.temperature > 0:
                    self.sampled += 1
                    short = self.short_on is not None and self.sampled >= self.short_on
                    out.append(RawResult(text="Mill Fire Put Out" if short else long))
                else:
                    out.append(RawResult(text=long))  # the repair: as long as before
            return out

    rows = [make_row("Firefighters put out a blaze at the paper mill overnight.", long, source="teacher")]
    kept, decisions = critique_examples(
        rows, spec, judge=None, teacher=Teacher(short_on=2), consistency=False
    )
    assert [r["messages"][-1]["content"] for r in kept] == ["Mill Fire Put Out"]
    assert decisions[0]["action"] == "repaired" and decisions[0]["before"]["category"] == "length"
    never = Teacher(short_on=None)
    kept, decisions = critique_examples(rows, spec, judge=None, teacher=never, consistency=False)
    assert kept == [] and decisions[0]["action"] == "dropped" and never.sampled == ANSWER_AGAIN_TRIES
    # many rows, and a round that fixes almost none of them: no second round (the orders bench: 6 of 80)
    from tools.data.critique import ANSWER_AGAIN_MIN_ROWS

    many = [
        make_row(
            f"Firefighters put out blaze number {i} at the paper mill overnight.", long, source="teacher"
        )
        for i in range(ANSWER_AGAIN_MIN_ROWS)
    ]
    never = Teacher(short_on=None)
    kept, _ = critique_examples(many, spec, judge=None, teacher=never, consistency=False)
    assert kept == [] and never.sampled == ANSWER_AGAIN_MIN_ROWS  # one round, not three
    soon = Teacher(short_on=1)  # every sampled answer is short: all fixed in the first round
    kept, _ = critique_examples(many, spec, judge=None, teacher=soon, consistency=False)
    assert len(kept) == ANSWER_AGAIN_MIN_ROWS and soon.sampled == ANSWER_AGAIN_MIN_ROWS


def test_an_answer_that_drops_or_invents_input_words_is_flagged_when_every_example_rewrites_its_whole_input():
    """The slugs bench (a product title → its URL slug): the small writer's kept answers were 38 of 66 wrong —
    "Men's" → "men", "Oak" → "oat", "Björn" → "john", "500 ml" → "500ml", a word said twice — and passed every
    check. Every one of the person's examples re-writes its whole input with at most one added word ("and"
    for "&"), so an answer that leaves out an input word or adds one of its own is flagged. A task whose
    answers do not re-write the input (a headline) is not checked this way."""
    from pathlib import Path

    from tools.data.checks import check_answer, untranscribed
    from tools.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "bench" / "tasks" / "slugs" / "task.yaml")
    assert untranscribed("mens-oak-cutting-board", spec, "Men's Oak Cutting Board") == []
    assert untranscribed("salt-and-pepper-mill", spec, "Salt & Pepper Mill") == []  # an added word they add
    assert "leaves out 'mens'" in untranscribed("men-oak-cutting-board", spec, "Men's Oak Cutting Board")[0]
    assert "adds 'oat'" in untranscribed("mens-oat-cutting-board", spec, "Men's Oak Cutting Board")[1]
    assert untranscribed("waterproof-backpack-waterproof", spec, "Waterproof Backpack")  # said twice
    assert ("incorrect", untranscribed("john-mug", spec, "Björn Mug")[0]) in check_answer(
        "john-mug", spec, "Björn Mug"
    )
    assert not check_answer("bjorn-mug", spec, "Björn Mug")
    assert check_answer("john-mug", spec, "Björn Mug", drift=False) == []  # a person's own wording is theirs
    # a headline takes words from its story and leaves most out: not checked this way
    rewrite = load_spec(Path(__file__).resolve().parents[1] / "bench" / "tasks" / "rewrite" / "task.yaml")
    story = rewrite.examples[0].input
    assert untranscribed("Something else entirely", rewrite, story) == []


def test_an_answer_that_does_not_copy_its_input_around_the_placeholders_is_flagged():
    """The redact bench (names, emails and phones masked in a support message): every example copies its
    input in order and puts [NAME], [EMAIL] or [PHONE] where it leaves something out, and replaces every email
    address and phone number. An answer that rewords the message, reorders it, drops words with nothing in
    their place, makes up a placeholder or keeps an email or a phone number is flagged; the 60 test
    references are not; and no other bench task or the demo is checked this way."""
    import json
    from pathlib import Path

    from tools.data.checks import _masking, check_answer, untranscribed
    from tools.spec import load_spec

    root = Path(__file__).resolve().parents[1]
    spec = load_spec(root / "bench" / "tasks" / "redact" / "task.yaml")
    given = "Hi, this is Maria Lopez, write to maria.l@mail.com or call 0612 345 678."
    assert untranscribed("Hi, this is [NAME], write to [EMAIL] or call [PHONE].", spec, given) == []
    assert (
        "adds 'hello'"
        in untranscribed("Hello, this is [NAME], write to [EMAIL] or call [PHONE].", spec, given)[0]
    )
    assert "order" in untranscribed("Write to [EMAIL] or call [PHONE]. Hi, this is [NAME],", spec, given)[0]
    assert (
        "uses [PERSON]"
        in untranscribed("Hi, this is [PERSON], write to [EMAIL] or call [PHONE].", spec, given)[0]
    )
    assert (
        "nothing in their place"
        in untranscribed("Hi, this is Maria Lopez, write to or call.", spec, given)[0]
    )
    kept = untranscribed(given, spec, given)  # copied as it is
    assert kept == [
        "the answer keeps 'maria.l@mail.com'; every example replaces an email address",
        "the answer keeps '0612 345 678'; every example replaces a phone number",
    ]
    assert ("incorrect", kept[0]) in check_answer(given, spec, given)
    # order numbers, prices and parcels are not phone numbers; a message with nothing to mask is copied
    plain = "Order 58213 (parcel 1Z51287256) cost £193.99 and never came."
    assert untranscribed(plain, spec, plain) == []
    for line in (root / "bench" / "tasks" / "redact" / "test.jsonl").read_text().splitlines():
        row = json.loads(line)["messages"]
        assert untranscribed(row[2]["content"], spec, row[1]["content"]) == [], row[1]["content"]
    others = [p for p in (root / "bench" / "tasks").glob("*/task.yaml") if p.parent.name != "redact"]
    for path in [*others, root / "examples" / "demo_task.yaml"]:
        other = load_spec(path)
        assert _masking(tuple((e.input, str(e.output)) for e in other.examples)) is None, path
