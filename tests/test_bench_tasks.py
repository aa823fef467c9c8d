"""The bench tasks (bench/tasks/): specs load, private test sets are valid and deterministic. No model."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASKS_DIR = ROOT / "bench" / "tasks"


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the generator's own list and sizes; a task folder it does not know fails test_every_task_folder_is_known
_MAKE = _module("bench_make_tests", TASKS_DIR / "make_tests.py")
TASKS, SIZES = _MAKE.TASKS, _MAKE.SIZES


def _loop():
    return _module("bench_loop", ROOT / "bench" / "loop.py")


def test_every_task_folder_is_known_to_the_generator_and_the_loop():
    folders = {p.parent.name for p in TASKS_DIR.glob("*/task.yaml")}
    assert set(TASKS) == folders == set(SIZES) and set(_loop().ALL_TASKS) == folders
    assert len(folders) == 16 and {"repairs", "parcels"} <= folders  # the newest: nobody tuned for them


def _spec(name):
    from tools.spec import load_spec

    return load_spec(TASKS_DIR / name / "task.yaml")


def _rows(name):
    from tools.evals.run import load_rows

    return load_rows(TASKS_DIR / name / "test.jsonl")


def _user(row) -> str:
    return next(m["content"] for m in row["messages"] if m["role"] == "user")


@pytest.mark.parametrize("name", TASKS)
def test_task_spec_loads_with_bench_sizes(name):
    spec = _spec(name)
    assert spec.max_iterations == 2
    assert 60 <= spec.n_examples <= 150
    assert spec.examples and spec.approach == "auto"


@pytest.mark.parametrize("name", TASKS)
def test_test_set_is_valid_and_disjoint_from_seeds(name):
    spec, rows = _spec(name), _rows(name)
    assert len(rows) == SIZES[name]
    seeds = {" ".join(e.input.lower().split()) for e in spec.examples}
    inputs = [" ".join(_user(r).lower().split()) for r in rows]
    assert not set(inputs) & seeds, "a test input equals a seed input"
    assert len(set(inputs)) == len(inputs), "duplicate test inputs"
    for r in rows:
        assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"]
        assert r["messages"][0]["content"] == spec.effective_system_prompt
    assert _loop().validate_task(name) == []


def test_routing_test_set_is_balanced():
    spec, rows = _spec("routing"), _rows("routing")
    counts = Counter(r["messages"][-1]["content"] for r in rows)
    assert set(counts) == set(spec.output.labels)
    assert len(set(counts.values())) == 1
    # every block of four rows holds each label once, so a --test-limit of 4k rows stays balanced
    for i in range(0, len(rows), 4):
        assert len({r["messages"][-1]["content"] for r in rows[i : i + 4]}) == 4


def test_orders_references_match_the_schema_and_cover_an_unseeded_enum_value():
    from tools.llm.structured import validate_against

    spec, rows = _spec("orders"), _rows("orders")
    assert spec.output.format == "json" and not spec.output.grounded and spec.inputs is None
    schema = spec.output.json_schema
    for r in rows:
        assert validate_against(json.loads(r["messages"][-1]["content"]), schema) is None
    seeded = {json.loads(e.output)["size"] for e in spec.examples}
    unseeded = set(schema["properties"]["size"]["enum"]) - seeded
    assert unseeded, "the seeds should leave one size unused"
    tested = Counter(json.loads(r["messages"][-1]["content"])["size"] for r in rows)
    assert all(tested[v] >= 10 for v in unseeded)


def test_faq_answers_are_copied_from_the_documents():
    spec, rows = _spec("faq"), _rows("faq")
    docs = sorted(Path(spec.documents).glob("*.md"))
    assert 5 <= len(docs) <= 8
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs)
    assert all(r["messages"][-1]["content"] in text for r in rows)
    assert all(e.output in text for e in spec.examples)
    # held out: the test asks only about facts no seed answer shows
    assert not {r["messages"][-1]["content"] for r in rows} & {e.output for e in spec.examples}


def test_phone_answers_are_the_mobiles_digits_in_the_fixed_layout():
    import re

    spec, rows = _spec("phones"), _rows("phones")
    layout = re.compile(r"\+44 7\d{3} \d{6}")
    for text, answer in [(_user(r), r["messages"][-1]["content"]) for r in rows] + [
        (e.input, e.output) for e in spec.examples
    ]:
        if answer == "none":
            assert not re.search(r"(?:^|\D)(?:07|\+447|00447|\+44 7|\+44 \(0\) ?7)", text), text
            continue
        assert layout.fullmatch(answer), answer
        assert "7" + re.sub(r"\D", "", answer)[3:] in re.sub(r"\D", "", text), text  # every digit, in order
    # the hard parts are only in the test: other numbers beside the mobile, and forms with no mobile
    assert sum(r["metadata"]["category"].startswith("other numbers") for r in rows) >= 15
    assert sum(r["messages"][-1]["content"] == "none" for r in rows) >= 8


def test_allergen_answers_are_the_seven_in_their_order_and_the_hard_parts_are_only_in_the_test():
    spec, rows = _spec("allergens"), _rows("allergens")
    order = ["gluten", "dairy", "egg", "nuts", "fish", "soy", "sesame"]
    pairs = [(_user(r), r["messages"][-1]["content"]) for r in rows] + [
        (e.input, e.output) for e in spec.examples
    ]
    for text, answer in pairs:
        if answer == "none":
            continue
        named = answer.split(", ")
        assert named == sorted(named, key=order.index) and len(set(named)) == len(named), (text, answer)
    # by construction: a plain dairy word means dairy, a fish means fish (the references are not model-written)
    for text, answer in pairs:
        low = text.lower()
        if any(w in low for w in ("feta", "cheddar", "mozzarella", "cream cheese", "whole milk", "halloumi")):
            assert "dairy" in answer, text
        if any(w in low for w in ("salmon", "tuna", "mackerel")):
            assert "fish" in answer, text
    seeds = " ".join(e.input.lower() for e in spec.examples)
    free_from = [r for r in rows if r["metadata"]["category"] == "free-from"]
    assert len(free_from) >= 8 and not any(w in seeds for w in ("free", "tamari"))
    assert sum(a == "none" for _, a in pairs) >= 10


def test_rewrite_references_fit_the_length_limit():
    spec, rows = _spec("rewrite"), _rows("rewrite")
    assert all(len(r["messages"][-1]["content"]) <= spec.output.max_chars for r in rows)


def test_make_tests_is_deterministic_and_matches_the_committed_files(tmp_path):
    outs = []
    for k in (1, 2):
        out = tmp_path / f"run{k}"
        subprocess.run(
            [sys.executable, str(TASKS_DIR / "make_tests.py"), "--out", str(out)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        outs.append({n: (out / n / "test.jsonl").read_bytes() for n in TASKS})
    assert outs[0] == outs[1]
    for n in TASKS:
        assert outs[0][n] == (TASKS_DIR / n / "test.jsonl").read_bytes(), f"rerun make_tests.py: {n} is stale"


def test_loop_table_survives_no_tuned_system_and_a_failed_task():
    loop = _loop()
    results = [
        {
            "task": "routing",
            "run_id": "bench-routing-x",
            "home": "/tmp/w/routing",
            "decision": "few-shot",
            "iterations": 0,
            "steps": {"probe": 30.0, "decide": 1.0, "prompt": 61.0, "bench eval": 100.0},
            "calls_loop": 20,
            "calls_eval": 160,
            "metric": "label_accuracy",
            "n_test": 80,
            "systems": {
                "base": {"mean": 0.2, "ci": [0.1, 0.3], "format_rate": 0.5, "prompt_tokens": 30.0},
                "prompted": {"mean": 0.6, "ci": [0.5, 0.7], "format_rate": 1.0, "prompt_tokens": 200.0},
            },
        },
        {
            "task": "faq",
            "run_id": "bench-faq-x",
            "home": "/tmp/w/faq",
            "decision": "rag+fine-tune",
            "error": "tunewise run exited 1: error: too few | examples",
            "steps": {"probe": 3.0},
        },
    ]
    text = loop.table(results)
    lines = text.splitlines()
    assert len(lines) == 4 and all(line.count("|") == lines[0].count("|") for line in lines)
    assert "0.600 [0.50, 0.70]" in lines[2] and "200 → —" in lines[2] and "prompt 1m01s" in lines[2]
    assert "**failed:** tunewise run exited 1: error: too few / examples" in lines[3]


def test_loop_appends_inside_its_own_section(tmp_path):
    loop = _loop()
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmarks\n\n## Other\n\nx\n", encoding="utf-8")
    loop.append_results(path, "FIRST\n")
    path.write_text(path.read_text(encoding="utf-8") + "\n## Later\n\ny\n", encoding="utf-8")
    loop.append_results(path, "SECOND\n")
    text = path.read_text(encoding="utf-8")
    assert text.count(loop.SECTION) == 1
    assert text.index("FIRST") < text.index("SECOND") < text.index("## Later")
    assert text.index("## Other") < text.index(loop.SECTION)


def test_appointments_references_are_real_dates_and_match_the_regex():
    import datetime as dt
    import re

    spec, rows = _spec("appointments"), _rows("appointments")
    assert spec.output.format == "text" and spec.success.primary_metric == "exact_match"
    forms = Counter()
    for r in rows:
        ref = r["messages"][-1]["content"]
        assert re.search(spec.output.regex, ref)
        day, clock = ref.split()
        stamp = dt.datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M")
        user = _user(r)
        # a weekday named in the request is the date's own
        named = [
            w
            for w in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
            if w in user
        ]
        assert named in ([], [stamp.strftime("%A")]), user
        forms.update(r["metadata"]["category"].split("; "))
    # the test writes times in forms the seeds do not use (words, 24-hour clock)
    assert forms["time=words"] >= 10 and forms["time=24h"] >= 5


def test_slugs_seeds_follow_the_stated_rule_and_the_inputs_file_is_apart_from_the_test():
    """The slugs task states its rule in the prompt; its ten hand-written examples must follow it (the tuned
    model is scored against it), and the catalogue titles the teacher answers are none of the test's."""
    import re

    spec, rows = _spec("slugs"), _rows("slugs")
    assert all(_MAKE.slugify(e.input) == e.output for e in spec.examples)
    assert all(re.fullmatch(spec.output.regex, r["messages"][-1]["content"]) for r in rows)
    inputs = (TASKS_DIR / "slugs" / "inputs.txt").read_text(encoding="utf-8").splitlines()
    assert inputs == _MAKE.slug_inputs()  # as the generator writes it
    norm = {" ".join(r["messages"][1]["content"].lower().split()) for r in rows}
    assert len(inputs) == len(set(inputs)) == 150 and not norm & {" ".join(i.lower().split()) for i in inputs}
