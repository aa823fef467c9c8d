"""Teacher generation: planning helpers, resumability, budget stop, Batch API, and a real embedded run."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from tools.data.generate import (
    JOURNAL,
    clean_input,
    derive_axes,
    generate_examples,
    input_rejection,
    plan_focuses,
)
from tools.data.schema import make_row
from tools.data.similarity import minhash
from tools.spec import parse_spec_dict

SPEC = parse_spec_dict(
    {
        "name": "capitals",
        "spec": "Answer with the capital city of the given country.",
        "system_prompt": "Reply with only the capital city of the country.",
        "examples": [
            {"input": "France", "output": "Paris"},
            {"input": "Japan", "output": "Tokyo"},
            {"input": "Kenya", "output": "Nairobi"},
        ],
        "output": {"format": "text", "max_chars": 40},
    }
)
WORDS = (
    "amber basalt cobalt delta ember fjord granite harbor indigo jasper kestrel lagoon meadow nimbus obsidian "
    "prairie quartz river summit tundra umber valley willow xenon yarrow zephyr"
).split()


# ---------------------------------------------------------------- pure helpers
def test_axes_and_focus_plan_cover_every_value():
    axes = derive_axes(SPEC)
    assert {"difficulty", "length", "case"} <= axes.keys()
    assert any("decline" in v for v in axes["case"])  # refusals for free-text tasks
    from tools.data.coverage import coverage_axes, coverage_table, with_coverage

    label_spec = parse_spec_dict({"spec": "s", "output": {"format": "label", "labels": ["a", "b", "c"]}})
    assert coverage_axes(label_spec) == {"label": ["a", "b", "c"]}
    planned = with_coverage(["x"] * 9, coverage_axes(label_spec))
    assert [sum(f.endswith(f"label is {v}") for f in planned) for v in "abc"] == [3, 3, 3]  # equal shares
    enum = {"type": "object", "properties": {"size": {"enum": ["small", "medium", "large"]}}}
    json_spec = parse_spec_dict({"spec": "s", "output": {"format": "json", "schema": enum}})
    assert coverage_axes(json_spec) == {"size": ["small", "medium", "large"]}
    rows = [
        make_row("i", '{"size": "small"}'),
        make_row("j", '{"size": "large"}'),
        make_row("k", '{"size": "small"}'),
    ]
    table = coverage_table(rows, json_spec, planned_total=6)
    assert [(t["value"], t["planned"], t["kept"], t["short"]) for t in table] == [
        ("small", 2, 2, False),
        ("medium", 2, 0, True),
        ("large", 2, 1, False),
    ]
    focuses = plan_focuses({"x": ["1", "2"], "y": ["a", "b", "c"]}, 6)
    assert len(set(focuses)) == 6  # the full product before any repeat
    assert plan_focuses({"x": ["1", "2"]}, 5, seed=3) == plan_focuses({"x": ["1", "2"]}, 5, seed=3)


def test_input_cleaning_and_rejection():
    assert clean_input('1. "Peru"\n\nmore text') == "Peru"
    assert clean_input("Input: Chile") == "Chile"
    seen = [minhash("What is the capital of Peru?")]
    kw = {"seen_sigs": seen, "seed_lengths": [30]}
    assert input_rejection("What is the capital of Peru??", **kw).startswith("near-duplicate")
    assert input_rejection("Here is a new input: Chile", **kw).startswith("talks about")
    assert input_rejection("at the at the at the at the at the", **kw) == "repetitive text"
    assert input_rejection("x" * 500, **kw).startswith("far longer")
    assert input_rejection("Which city is the capital of Chile?", **kw) is None


def test_an_input_without_a_number_is_rejected_when_all_the_persons_inputs_hold_one():
    """The thermostat bench's teacher wrote "Warm the shower to the heat up the range.": no temperature to
    convert. Only when every one of ≥5 of the person's inputs holds a number; the real test inputs of the bench
    tasks whose seeds all do are never rejected by it."""
    from pathlib import Path

    import yaml

    from tools.data.generate import needs_a_figure

    seeds = ["Set the living room to 72°F please.", "Freezer at 5 F.", "Garage above 40 F.", "61°F", "64 F"]
    assert needs_a_figure(seeds) and not needs_a_figure(seeds[:4])  # too few to tell
    assert not needs_a_figure([*seeds, "Make it warmer in here"])  # one without: numbers are optional
    kw = {"seen_sigs": [], "seed_lengths": [40], "needs_figure": True}
    assert input_rejection("Warm the shower to the heat up the range.", **kw) == (
        "no number in it, but every one of your examples has one"
    )
    assert input_rejection("Keep the porch at 50 degrees F.", **kw) is None
    tasks = Path(__file__).resolve().parents[1] / "bench" / "tasks"
    fired = []
    for task in sorted(p.parent for p in tasks.glob("*/task.yaml")):
        spec = yaml.safe_load((task / "task.yaml").read_text(encoding="utf-8"))
        if not needs_a_figure([e["input"] for e in spec["examples"]]):
            continue
        fired.append(task.name)
        for line in (task / "test.jsonl").read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["messages"][1]["content"]
            assert input_rejection(text, **kw) is None, (task.name, text)
    assert {"appointments", "thermostat"} <= set(fired) and "orders" not in fired


def test_an_input_with_far_more_numbers_than_the_seeds_is_rejected():
    """The embedded teacher's expense notes listed ten amounts ("£1,000, EUR, 128 pounds, £2,000, …"): no
    one right answer. The limit comes from the seeds (twice their most, plus one, at least 3)."""
    from tools.data.generate import figures, figures_limit

    seeds = ["Lunch with a client, 48.60 euros.", "Hotel in Boston, 3 nights, $540.", "Uber, twelve dollars"]
    assert figures("€1,000.50 and 3 nights") == 2 and figures_limit(seeds) == 5
    assert figures_limit(["Where is my parcel?"]) == 3  # no numbers in the seeds still allows a few
    kw = {"seen_sigs": [], "seed_lengths": [40], "max_figures": figures_limit(seeds)}
    many = "Dinner to the CEO's office, £1,000, EUR, 128 pounds, £2,000, £300, £400, £120"
    assert input_rejection(many, **kw) == "more numbers than the seed inputs (6; theirs allow 5)"
    assert input_rejection("Taxi to the station for 2 people, £23.50", **kw) is None


# ---------------------------------------------------------------- an OpenAI-shaped HTTP server
def chat_response(body: dict, text: str) -> httpx.Response:
    """One /v1/chat/completions reply, shaped as OpenAI's."""
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48},
        },
    )


class FakeOpenAI:
    """Answers /v1/chat/completions like OpenAI does (same JSON shape) and records every request."""

    def __init__(self, die_after_answers: int | None = None):
        self.requests: list[dict] = []
        self.die_after_answers = die_after_answers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        user = body["messages"][-1]["content"]
        if (
            self.die_after_answers is not None
            and not user.startswith("Write one new input")
            and len(self.answered_inputs()) >= self.die_after_answers
        ):
            return httpx.Response(
                400, json={"error": {"message": "server went away", "type": "invalid_request"}}
            )
        self.requests.append(body)
        if user.startswith("Write one new input"):
            rng = random.Random(body.get("seed"))
            text = f"Name the capital of {' '.join(rng.sample(WORDS, 4))}"
        else:
            text = f"Capital-of-{user[-12:]}"
        return chat_response(body, text)

    def answered_inputs(self) -> list[str]:
        return [
            b["messages"][-1]["content"]
            for b in self.requests
            if not b["messages"][-1]["content"].startswith("Write one new input")
        ]


def _teacher(server: FakeOpenAI, budget=None):
    from tools.llm.openai_provider import OpenAIProvider

    client = httpx.AsyncClient(transport=httpx.MockTransport(server), base_url="https://api.openai.com/v1")
    return OpenAIProvider(
        "gpt-4o-mini",
        base_url="https://api.openai.com/v1",
        api_key="sk-test",
        http_client=client,
        budget=budget,
    )


class Interrupt(Exception):
    pass


def test_interrupted_generation_resumes_without_paying_twice(tmp_path):
    from tools.errors import ProviderError

    server = FakeOpenAI(die_after_answers=3)  # the run dies after three paid answers
    with pytest.raises(ProviderError):
        generate_examples(
            SPEC, 8, teacher=_teacher(server), workdir=tmp_path, concurrency=1, on_task_check=False
        )
    journal = [json.loads(x) for x in (tmp_path / JOURNAL).read_text().splitlines()]
    done_inputs = {e["row"]["messages"][1]["content"] for e in journal if e["kind"] == "answer"}
    assert len(done_inputs) == 3
    n_input_entries = sum(1 for e in journal if e["kind"] == "input")

    server2 = FakeOpenAI()
    rows = generate_examples(
        SPEC, 8, teacher=_teacher(server2), workdir=tmp_path, concurrency=4, on_task_check=False
    )
    assert len(rows) == 8
    ids = [r["metadata"]["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    # finished answers were not asked again, and no input slot was asked again
    assert not done_inputs & set(server2.answered_inputs())
    assert len(server2.answered_inputs()) == 5
    assert (
        all(not b["messages"][-1]["content"].startswith("Write one new input") for b in server2.requests)
        or n_input_entries < 8
    )
    # a third run is free
    server3 = FakeOpenAI()
    again = generate_examples(SPEC, 8, teacher=_teacher(server3), workdir=tmp_path, on_task_check=False)
    assert server3.requests == [] and [r["metadata"]["id"] for r in again] == ids
    row = rows[0]
    assert row["messages"][0] == {"role": "system", "content": SPEC.effective_system_prompt}
    assert row["metadata"]["source"] == "teacher" and row["metadata"]["focus"]


def test_budget_stop_leaves_valid_partial_result(tmp_path):
    from tools.llm.budget import Budget

    server = FakeOpenAI()
    budget = Budget(0.00012)
    rows = generate_examples(
        SPEC, 6, teacher=_teacher(server), workdir=tmp_path, budget=budget, concurrency=1, on_task_check=False
    )
    assert rows.stopped == "budget"
    assert budget.total <= 0.00012
    for r in rows:
        assert r["messages"][-1]["role"] == "assistant"
    # with more money the same call finishes, reusing everything already paid for
    server2 = FakeOpenAI()
    done = {r["messages"][1]["content"] for r in rows}
    full = generate_examples(
        SPEC, 6, teacher=_teacher(server2), workdir=tmp_path, budget=Budget(1.0), on_task_check=False
    )
    assert full.stopped is None and len(full) == 6
    assert not done & set(server2.answered_inputs())


def test_targeted_requests_use_their_examples(tmp_path):
    server = FakeOpenAI()
    target = [
        {
            "description": "countries with two capitals",
            "n": 3,
            "examples": [
                {"input": "Bolivia", "output": "Sucre (constitutional) and La Paz (seat of government)"}
            ],
        }
    ]
    rows = generate_examples(
        SPEC, 0, teacher=_teacher(server), workdir=tmp_path, targeted=target, on_task_check=False
    )
    assert len(rows) == 3 and {r["metadata"]["source"] for r in rows} == {"targeted"}
    assert rows[0]["metadata"]["target"] == "countries with two capitals"
    answer_req = next(
        b for b in server.requests if not b["messages"][-1]["content"].startswith("Write one new")
    )
    assert answer_req["messages"][1]["content"] == "Bolivia"  # few-shot from the request, not the spec


def test_a_later_round_answers_the_persons_unused_inputs_nearest_its_failures_before_writing_any(tmp_path):
    """The slugs bench (a catalogue of 150 titles as its inputs file): the second round wrote 70 inputs of
    its own ("Cad Aromafro (Wine)", "To get the creative and fun things you need, ZO…") while the person's
    titles no kept example held were left aside. Now those come first, the ones most like the failures."""
    from tools.data.generate import nearest_inputs, spare_inputs

    inputs = tmp_path / "inputs.txt"
    titles = ["France", "Kenya", "Bolivia Sucre", "Peru", "Bolivia La Paz", "Chile"]
    inputs.write_text("\n".join(titles) + "\n")
    spec = SPEC.model_copy(update={"inputs": str(inputs)})
    assert spare_inputs(titles, ["france", " Kenya "]) == ["Bolivia Sucre", "Peru", "Bolivia La Paz", "Chile"]
    assert nearest_inputs(titles[2:], ["Bolivia"], 2) == ["Bolivia Sucre", "Bolivia La Paz"]
    server = FakeOpenAI()
    target = [{"description": "two capitals", "n": 3, "examples": [{"input": "Bolivia", "output": "Sucre"}]}]
    rows = generate_examples(
        spec,
        0,
        teacher=_teacher(server),
        workdir=tmp_path / "gen",
        targeted=target,
        existing_inputs=["France", "Kenya"],
        on_task_check=False,
    )
    said = [r["messages"][-2]["content"] for r in rows]
    assert said == ["Bolivia Sucre", "Bolivia La Paz", "Peru"]  # the person's, nearest first
    assert not any(b["messages"][-1]["content"].startswith("Write one new") for b in server.requests)


# ---------------------------------------------------------------- Batch API
class FakeBatchAPI:
    def __init__(self):
        self.calls: list[str] = []
        self.polls = 0
        self.lines: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if request.method == "POST" and path.endswith("/files"):
            content = request.content.decode()
            start = content.index("{")
            self.lines = [
                json.loads(x) for x in content[start : content.rindex("}") + 1].splitlines() if x.strip()
            ]
            return httpx.Response(200, json={"id": "file-in", "object": "file", "purpose": "batch"})
        if request.method == "POST" and path.endswith("/batches"):
            return httpx.Response(
                200,
                json={
                    "id": "batch_1",
                    "object": "batch",
                    "status": "validating",
                    "input_file_id": "file-in",
                    "output_file_id": None,
                },
            )
        if request.method == "GET" and path.endswith("/batches/batch_1"):
            self.polls += 1
            done = self.polls >= 2
            return httpx.Response(
                200,
                json={
                    "id": "batch_1",
                    "object": "batch",
                    "status": "completed" if done else "in_progress",
                    "output_file_id": "file-out" if done else None,
                },
            )
        if request.method == "GET" and path.endswith("/files/file-out/content"):
            out = "".join(
                json.dumps(
                    {
                        "id": f"b{i}",
                        "custom_id": ln["custom_id"],
                        "error": None,
                        "response": {
                            "status_code": 200,
                            "body": {
                                "model": ln["body"]["model"],
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": "Lima"},
                                        "finish_reason": "stop",
                                    }
                                ],
                                "usage": {"prompt_tokens": 30, "completion_tokens": 2},
                            },
                        },
                    }
                )
                + "\n"
                for i, ln in enumerate(self.lines)
            )
            return httpx.Response(200, text=out)
        return httpx.Response(404, json={"error": {"message": "not found"}})


def test_batch_api_submit_poll_collect_and_resume(tmp_path):
    from tools.data.batch import run_batch
    from tools.llm.types import GenParams, Request

    api = FakeBatchAPI()
    client = httpx.Client(transport=httpx.MockTransport(api), base_url="https://api.openai.com/v1")
    teacher = _teacher(FakeOpenAI())
    reqs = [Request([{"role": "user", "content": c}], GenParams(max_tokens=8)) for c in ("Peru", "Chile")]
    state = tmp_path / "batch.json"

    def killed(_seconds):
        raise Interrupt  # the process dies while waiting

    with pytest.raises(Interrupt):
        run_batch(teacher, reqs, state_path=state, client=client, sleep=killed)
    assert json.loads(state.read_text())["batch_id"] == "batch_1"
    uploads = api.calls.count("POST /v1/files")
    comps = run_batch(teacher, reqs, state_path=state, client=client, sleep=lambda s: None)
    assert api.calls.count("POST /v1/files") == uploads == 1  # resumed, not resubmitted
    assert api.calls.count("POST /v1/batches") == 1
    assert [c.text for c in comps] == ["Lima", "Lima"]
    assert comps[0].cost_usd == pytest.approx(teacher.prices.cost("openai", "gpt-4o-mini", 30, 2, batch=True))
    assert (
        api.lines[0]["url"] == "/v1/chat/completions"
        and api.lines[0]["body"]["messages"][0]["content"] == "Peru"
    )


# ---------------------------------------------------------------- the real embedded model
def test_embedded_teacher_generates_and_resumes(tmp_path, embedded):
    rows = generate_examples(
        SPEC, 2, teacher=embedded, workdir=tmp_path, input_max_tokens=12, answer_max_tokens=6
    )
    assert (tmp_path / JOURNAL).exists()
    assert 1 <= len(rows) <= 2
    for r in rows:
        assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"]
        assert r["messages"][0]["content"] == SPEC.effective_system_prompt
        assert r["messages"][1]["content"] not in {"France", "Japan", "Kenya"}
    calls = embedded.calls
    again = generate_examples(
        SPEC, 2, teacher=embedded, workdir=tmp_path, input_max_tokens=12, answer_max_tokens=6
    )
    assert embedded.calls == calls  # the embedded fixture has no cache: only the journal saves these calls
    assert again == list(rows)


# ---------------------------------------------------------------- inputs that stay on task
ORDER_SEEDS = [
    "Can I get two large oat milk lattes, please?",
    "One small americano, black.",
    "I'd like 3 small cappuccinos with soy milk.",
    "A large flat white with whole milk to go, thanks.",
    "Could we have four small hot chocolates made with almond milk?",
    "Large mocha, skim milk please.",
]
ON_TASK = ["Three medium lattes with oat milk, please.", "A small cappuccino with whole milk to go."]
OFF_TASK = [
    "I'm a 7-Eleven, sorry!",
    "10 kg of dry ice delivered to the lab",
    "What is the capital of France?",
]


class ScriptedInputs(FakeOpenAI):
    """Writes inputs from a fixed cycle (on- and off-task), answers with a constant."""

    def __init__(self, cycle):
        super().__init__()
        self.cycle = cycle

    def __call__(self, request):
        body = json.loads(request.content)
        if body["messages"][-1]["content"].startswith("Write one new input"):
            n = sum(
                1 for b in self.requests if b["messages"][-1]["content"].startswith("Write one new input")
            )
            body["messages"][-1]["content"] = "Write one new input"
            self.requests.append(body)
            text = self.cycle[n % len(self.cycle)]
            return httpx.Response(
                200,
                json={
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48},
                },
            )
        return super().__call__(request)


def test_off_task_inputs_are_rejected_with_their_reason_and_replaced(tmp_path):
    from tools.data.ontask import OnTaskModel

    spec = parse_spec_dict(
        {
            "spec": "Turn a cafe order into JSON.",
            "examples": [{"input": s, "output": "{}"} for s in ORDER_SEEDS],
        }
    )
    model = OnTaskModel.fit(ORDER_SEEDS)
    assert all(model.judge(t)[0] for t in ON_TASK) and not any(model.judge(t)[0] for t in OFF_TASK)
    stricter = OnTaskModel.fit(ORDER_SEEDS, strictness=0.1)
    assert stricter.threshold > model.threshold and stricter.kind == model.kind
    # leave-one-out calibration: every seed but the oddest one would pass against the others
    assert sum(s < model.threshold for s in model.loo_scores) <= 1
    server = ScriptedInputs(ON_TASK[:1] + OFF_TASK + ON_TASK[1:])
    rows = generate_examples(spec, 2, teacher=_teacher(server), workdir=tmp_path, concurrency=1)
    kept = sorted(r["messages"][1]["content"] for r in rows)
    assert kept == sorted(ON_TASK)
    off = [e for e in rows.rejected_inputs if e["text"] in OFF_TASK]
    assert {e["text"] for e in off} == set(OFF_TASK)
    assert all(e["reason"].startswith("off task: unlike the seed inputs") for e in off)
    reasons = [e["reason"] for e in off]
    from tools.data.generate import generation_summary

    summary = generation_summary(rows)
    assert sum(n for r, n in summary["rejected_inputs"].items() if r.startswith("off task")) >= len(reasons)
    # one count per reason, not one per similarity figure
    unlike = [r for r in summary["rejected_inputs"] if r.startswith("off task: unlike the seed inputs")]
    assert unlike == [f"off task: unlike the seed inputs (similarity under {model.threshold:.2f})"]
    assert summary["rejected_inputs"][unlike[0]] == len(reasons)


def test_inputs_about_the_task_or_in_the_assistants_voice_are_rejected():
    from tools.data.ontask import meta_reason

    assert meta_reason("This input contains milk and a small size", ORDER_SEEDS).startswith(
        "talks about the task"
    )
    assert meta_reason("This is a typical customer's order.", ORDER_SEEDS).startswith("talks about the task")
    assert (
        meta_reason("I'd be happy to pour a mocha!", ORDER_SEEDS)
        == "written in the assistant's voice, not the user's"
    )
    assert meta_reason("Three medium lattes, please.", ORDER_SEEDS) is None
    # a task whose real inputs talk about answers keeps them
    assert meta_reason("Which answer is right?", ["Is this answer right?", "a", "b"]) is None


def test_a_round_stops_asking_for_inputs_once_enough_are_kept(tmp_path):
    """Candidates are oversampled (1.6× before any were judged), but once the inputs kept reach the target
    the rest of the round is not written: 8 needed, every candidate passes → 8 asked, not 13."""
    from tools.data.generate import OVERSAMPLE

    server = FakeOpenAI()
    rows = generate_examples(
        SPEC, 8, teacher=_teacher(server), workdir=tmp_path, concurrency=2, on_task_check=False
    )
    asked = [b for b in server.requests if b["messages"][-1]["content"].startswith("Write one new input")]
    assert len(rows) == 8
    assert len(asked) == 8 < int(8 * OVERSAMPLE)


def test_answers_get_room_for_an_answer_like_the_persons_not_the_whole_limit():
    from agent.nodes.generate import answer_tokens

    spec = parse_spec_dict(
        {
            "spec": "orders",
            "examples": [{"input": "a latte", "output": '{"item": "latte", "size": "medium"}'}],
        }
    )
    assert answer_tokens(spec, 256) == 32 + 2 * (35 // 3) < 256  # 35 characters → 54 tokens
    assert answer_tokens(spec, 40) == 40  # never above the limit (the quick run's 64, a caller's cap)
    assert answer_tokens(parse_spec_dict({"spec": "no examples"}), 256) == 256


def test_a_documents_task_shows_the_teacher_the_excerpts_for_each_input(tmp_path):
    """The FAQ bench's teacher wrote answers about a made-up shop without its documents. For a task with
    `documents:` the answer prompt carries the excerpts retrieved for that input, as the RAG baseline's does."""
    from tools.data.generate import answer_messages
    from tools.spec import parse_spec_dict

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text("Returns: unused items can be sent back within 45 days for a refund.\n")
    (docs / "hours.md").write_text("Opening hours: the Leeds shop opens at 9:30 and closes at 17:00.\n")
    spec = parse_spec_dict(
        {
            "spec": "Answer customer questions about the shop.",
            "system_prompt": "Answer from the shop's documents.",
            "documents": str(docs),
            "examples": [{"input": "When do you open?", "output": "At 9:30."}],
        }
    )
    system = answer_messages(spec, "How many days do I have to return a jacket?")[0]["content"]
    assert system.startswith("Answer from the shop's documents.\n\nUse these excerpts")
    assert "(returns.md) Returns: unused items can be sent back within 45 days" in system
    no_docs = parse_spec_dict({"spec": "Answer questions.", "system_prompt": "Be brief."})
    assert answer_messages(no_docs, "How many days?")[0]["content"] == "Be brief."


def test_an_input_planned_for_a_label_is_written_after_that_labels_examples():
    """With random shots the embedded teacher's bike-shop inputs were nearest their planned label's
    examples 8 times in 48; with the label's own examples among the shots, 25 in 48."""
    import random

    from tools.data.generate import FEW_SHOT_INPUTS, input_messages_for

    examples = [
        {"input": f"{lab} message {i}", "output": lab}
        for lab in ("repair", "sale", "rental")
        for i in range(3)
    ]
    spec = parse_spec_dict(
        {
            "spec": "Sort bike shop messages.",
            "examples": examples,
            "output": {"format": "label", "labels": ["repair", "sale", "rental"]},
        }
    )
    inputs = [e["input"] for e in examples]
    for seed in range(5):
        msgs = input_messages_for(
            spec,
            "case: an edge case; an input whose correct label is rental",
            inputs,
            random.Random(seed),
            examples=examples,
        )
        shots = [m["content"] for m in msgs if m["role"] == "assistant"]
        assert len(shots) == FEW_SHOT_INPUTS and len(set(shots)) == len(shots)
        assert {f"rental message {i}" for i in range(3)} <= set(shots)
    # a focus with no label: the shots are drawn from all the examples as before
    plain = input_messages_for(spec, "case: an edge case", inputs, random.Random(0), examples=examples)
    assert len([m for m in plain if m["role"] == "assistant"]) == FEW_SHOT_INPUTS
    # a JSON answer's planned enum values: the examples with most of them come first
    cats = ["meals", "travel", "lodging"]
    notes = [
        {"input": f"{c} note {i} in {cur}", "output": json.dumps({"category": c, "currency": cur})}
        for c in cats
        for i, cur in enumerate(["EUR", "USD", "GBP"])
    ]
    schema = {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": cats},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        },
    }
    expenses = parse_spec_dict(
        {"spec": "Expense notes to JSON.", "examples": notes, "output": {"format": "json", "schema": schema}}
    )
    focus = "case: a typical case; an input whose answer has category = travel; an input whose answer has currency = USD"
    msgs = input_messages_for(expenses, focus, [n["input"] for n in notes], random.Random(1), examples=notes)
    shots = [m["content"] for m in msgs if m["role"] == "assistant"]
    assert "travel note 1 in USD" in shots and {
        f"travel note {i} in {c}" for i, c in enumerate(["EUR", "USD", "GBP"])
    } <= set(shots)


class LabelTeacher:
    """An OpenAI-shaped teacher for a two-label task: an input request planned for a label gets a message of
    that kind (a new one each time), an answer request the label the message's words say."""

    MESSAGES = {
        "technical": [
            "The {x} I bought keeps dropping off the wifi every few minutes.",
            "After the update my {x} will not turn on any more.",
            "My {x} makes a crackling noise at any volume since yesterday.",
            "The {x} screen flickers when I open the settings app.",
        ],
        "billing": [
            "I was charged twice for the {x}, please refund one payment.",
            "Can you send me an invoice for the {x} with my VAT number?",
        ],
    }

    def __init__(self):
        self.input_prompts: list[list[dict]] = []
        self.n = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        msgs = body["messages"]
        user = msgs[-1]["content"]
        if any(m["content"] == "Write one new input." for m in msgs if m["role"] == "user"):
            self.input_prompts.append(msgs)
            label = "technical" if "correct label is technical" in user else "billing"
            self.n += 1
            rng = random.Random(self.n)
            text = rng.choice(self.MESSAGES[label]).format(x=rng.choice(WORDS) + " " + rng.choice(WORDS))
        else:
            text = "billing" if any(w in user for w in ("charged", "invoice", "refund")) else "technical"
        return chat_response(body, text)


def test_a_short_label_gets_inputs_written_for_it_alone_and_kept_only_when_checked(tmp_path):
    """Routing bench: 'technical' kept 12 of 30 planned and nothing topped it up (only grounded JSON
    tasks were). Now the teacher writes inputs planned for that label alone, after its examples, and what
    critique keeps with the label is added."""
    from agent.nodes.critique import _more_of, top_up_coverage
    from tools.data.coverage import coverage_table

    examples = [
        {"input": "I was charged twice for my headphones, refund one please.", "output": "billing"},
        {"input": "Can I get an invoice with my company's VAT number?", "output": "billing"},
        {"input": "A 4.99 fee appeared on my statement that I never agreed to.", "output": "billing"},
        {"input": "The smart speaker keeps dropping off the wifi every ten minutes.", "output": "technical"},
        {"input": "After the firmware update my tablet won't charge past 80%.", "output": "technical"},
        {"input": "The left earbud makes a crackling noise at any volume.", "output": "technical"},
    ]
    spec = parse_spec_dict(
        {
            "spec": "Route a support message to the team that handles it.",
            "system_prompt": "Answer with the team: billing or technical.",
            "examples": examples,
            "output": {"format": "label", "labels": ["billing", "technical"]},
        }
    )
    kept = [
        make_row(f"I was charged twice for order {i}, please refund one payment.", "billing")
        for i in range(9)
    ]
    server = LabelTeacher()
    events: list[dict] = []
    more = _more_of(
        spec,
        tmp_path,
        teacher=_teacher(server),
        judge=None,
        emit=lambda k, **ev: events.append(ev),
        quick=True,
    )
    log: list[dict] = []
    extra = top_up_coverage(spec, kept, planned_total=20, more=more, log=log)

    assert extra and {r["messages"][-1]["content"] for r in extra} == {"technical"}
    assert log == [{"field": "label", "value": "technical", "short_by": 5, "asked": 10, "kept": len(extra)}]
    assert len(extra) <= 5
    after = {c["value"]: c for c in coverage_table(kept + extra, spec, planned_total=20)}
    assert after["technical"]["kept"] == len(extra)
    # every input written for the top-up was planned for the short label, after that label's examples
    assert server.input_prompts and all(
        "correct label is technical" in p[-1]["content"] for p in server.input_prompts
    )
    tech = {e["input"] for e in examples if e["output"] == "technical"}
    assert all(tech <= {m["content"] for m in p if m["role"] == "assistant"} for p in server.input_prompts)
    # the screens count the stage: writing, then answering, done of total
    stages = [e["stage"] for e in events]
    assert (
        stages[0] == "writing more technical examples" and stages[-1] == "answering more technical examples"
    )
    assert all(e["step"] == "critique" and e["total"] and 0 <= e["done"] <= e["total"] for e in events)
    # a label none of the person's examples shows is not written for: that is for the person to add
    spec3 = parse_spec_dict(
        {
            **spec.model_dump(exclude_none=True),
            "output": {"format": "label", "labels": ["billing", "technical", "shipping"]},
        }
    )
    log3: list[dict] = []
    asked_before = len(server.input_prompts)
    assert top_up_coverage(spec3, kept + extra, planned_total=20, more=more, log=log3) == []
    assert [t for t in log3 if t["value"] == "shipping"] == [
        {"field": "label", "value": "shipping", "short_by": 4, "asked": 0, "kept": 0, "unseen": True}
    ]
    assert len(server.input_prompts) == asked_before


def test_top_ups_stop_once_the_writer_keeps_none_of_them():
    """The groomer bench: 20 written for each of five services, 0–1 held up — ten of nineteen checking minutes.
    Once TOP_UP_GIVE_UP inputs were written with none kept, the other short values get none, and the log says why."""
    from agent.nodes.critique import TOP_UP_GIVE_UP, top_up_coverage

    labels = ["a", "b", "c", "d", "e"]
    examples = [{"input": f"message {i} about {lab}", "output": lab} for i, lab in enumerate(labels * 2)]
    spec = parse_spec_dict(
        {"spec": "Sort messages.", "examples": examples, "output": {"format": "label", "labels": labels}}
    )
    kept = [make_row(f"a message {i}", "a") for i in range(40)]
    asked: list[tuple[str, int]] = []

    def more(field, value, n, avoid):
        asked.append((value, n))
        return []  # a writer whose extra examples never hold up

    log: list[dict] = []
    assert top_up_coverage(spec, kept, planned_total=100, more=more, log=log) == []
    written = sum(2 * n for _, n in asked)
    assert (
        written >= TOP_UP_GIVE_UP and written - 2 * asked[-1][1] < TOP_UP_GIVE_UP
    )  # stopped at the first chance
    gave_up = [t for t in log if t.get("gave_up")]
    assert gave_up and {t["value"] for t in gave_up} == set("bcde") - {v for v, _ in asked}
    assert all(t["gave_up"] == written and t["asked"] == 0 for t in gave_up)


def test_signature_index_finds_the_same_near_duplicates_as_the_pairwise_loop():
    """Generation's near-duplicate check against every kept input in one numpy pass: same estimate, same
    decisions as comparing pair by pair, and it grows past its first allocation."""
    import random

    from tools.data.similarity import SignatureIndex, jaccard_estimate, minhash

    rng = random.Random(3)
    words = "parcel refund login screen cable wifi update invoice courier charger tablet order".split()
    kept = [minhash(" ".join(rng.choice(words) for _ in range(10))) for _ in range(150)]
    index = SignatureIndex(kept[:5])
    for sig in kept[5:]:
        index.append(sig)
    assert len(index) == 150 and all((a == b).all() for a, b in zip(index, kept, strict=True))
    for text in [
        "parcel refund login screen cable wifi update invoice courier charger",
        "entirely new words",
    ]:
        sig = minhash(text)
        assert index.max_jaccard(sig) == max(jaccard_estimate(sig, s) for s in kept)
        kw = {"seed_lengths": [80]}
        assert input_rejection(text, seen_sigs=index, **kw) == input_rejection(text, seen_sigs=kept, **kw)
    assert SignatureIndex().max_jaccard(minhash("anything")) == 0.0


def test_on_task_scores_primed_in_one_batch_match_one_at_a_time():
    from tools.data.ontask import OnTaskModel

    seeds = ["My order is late", "Refund my charge please", "The app crashes on login", "Where is my parcel"]
    model = OnTaskModel.fit(seeds, embeddings=False)
    texts = ["My parcel is late again", "Write a poem about the sea", "My parcel is late again"]
    one_by_one = [model.similarity(t) for t in texts]
    model.prime(texts)
    assert model._primed is not None and len(model._primed) == 2  # each distinct text scored once
    assert [model.similarity(t) for t in texts] == one_by_one  # the primed scores, then a fresh one
    assert model._primed == {}


def _input_filter_of(spec, workdir):
    """A generation of `spec` that makes no calls, with its on-task input filter fitted."""
    from tools.data.generate import _Generation, plan_groups

    gen = _Generation(
        spec,
        plan_groups(spec, 10, None),
        teacher=type("NoCalls", (), {"calls": 0})(),
        workdir=workdir,
        existing_inputs=[],
        progress=lambda e: None,
        calls={"concurrency": 1, "batch": False, "batch_client": None},
        input_max_tokens=64,
        answer_max_tokens=64,
        seed=0,
    )
    gen.fit_input_filter(True, 0.0, None, user_inputs=False)
    return gen


def test_an_input_planned_for_a_value_no_seed_has_and_naming_it_is_held_to_a_lower_similarity(tmp_path):
    """The expense bench: no seed is in CHF, and at the seeds' threshold 7 of the 9 real notes of its private
    test that say "CHF" were off task, so the currency the coverage plan asks for was hardly ever kept."""
    import re
    from pathlib import Path

    from tools.data.coverage import coverage_focus
    from tools.data.ontask import RELAX_UNSEEN
    from tools.data.schema import user_text
    from tools.evals.run import load_rows
    from tools.spec import load_spec

    tasks = Path(__file__).resolve().parents[1] / "bench" / "tasks" / "expenses"
    spec = load_spec(tasks / "task.yaml")
    gen = _input_filter_of(spec, tmp_path)
    assert ("currency", "CHF") in gen.unseen_values and ("currency", "EUR") not in gen.unseen_values
    model = gen.on_task
    assert model is not None and model.threshold_for(unseen=True) == model.threshold * RELAX_UNSEEN
    chf = [t for t in (user_text(r) for r in load_rows(tasks / "test.jsonl")) if re.search(r"\bCHF\b", t)]
    planned = f"a short note; {coverage_focus('currency', 'CHF')}"
    unplanned = sum(gen.off_task_reason(t, "a short note") is None for t in chf)
    relaxed = [gen.off_task_reason(t, planned) for t in chf]
    assert sum(r is None for r in relaxed) > unplanned
    assert all(r is None or r.startswith("off task: unlike the seed inputs") for r in relaxed)
    # planned for CHF but not naming it (the orders teacher, asked for "medium", mostly wrote other sizes):
    # the seeds' threshold
    francs = [t.replace("CHF", "francs") for t in chf]
    assert sum(gen.off_task_reason(t, planned) is None for t in francs) == sum(
        gen.off_task_reason(t, "a short note") is None for t in francs
    )


# teacher-written inputs from walk 12's run that the seeds' own threshold (0.16: ten questions on ten topics)
# let through; none is about anything the shop's documents say
BIKE_JUNK = [
    "dont you use 15 minutes?",
    "a maximum of 5 out-of-the-box requirements.",
    "no, we would need to check the roads more.",
    "my partner has an asthma, must stop making noise if they have one, now where can I get a mask?",
    "no how is it today?",
    "What is it with those little bits and pieces, you know all about the little ones?",
    "i think you're right, so that's the last available option",
    "What can I do for you?",
]


def test_a_task_answered_from_documents_keeps_only_inputs_about_them(tmp_path):
    """Walk 12: ten diverse seed questions set the seeds' threshold at 0.16 and 74 of 85 junk inputs passed;
    an input must also be about a sentence of the documents."""
    from pathlib import Path

    from tools.data.ontask import OnTaskModel
    from tools.rag.embeddings import embeddings_available
    from tools.spec import load_spec

    if not embeddings_available()[0]:
        pytest.skip("the embedding model is not installed (make setup installs it)")
    shop = Path(__file__).resolve().parent / "data" / "bike_shop"
    spec = load_spec(shop / "task.yaml")
    gen = _input_filter_of(spec, tmp_path)
    assert gen.on_docs is not None and gen.on_docs.kind == "documents"
    seeds_only = OnTaskModel.fit([e.input for e in spec.examples])
    assert seeds_only is not None and all(seeds_only.judge(t)[0] for t in BIKE_JUNK)  # why the gate exists
    reasons = [gen.off_task_reason(t) for t in BIKE_JUNK]
    assert all(r and r.startswith("off task: nothing in your documents is about it") for r in reasons), (
        reasons
    )
    real = [q for q in (shop / "real_questions.txt").read_text().splitlines() if q and not q.startswith("#")]
    assert len(real) == 20 and [q for q in real if gen.off_task_reason(q) is not None] == []
    # the threshold sits under the second-least-covered seed question: at most the least-covered one is below
    assert sum(gen.off_task_reason(e.input) is not None for e in spec.examples) <= 1
