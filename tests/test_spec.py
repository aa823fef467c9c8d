def test_the_answers_closed_vocabulary_in_a_few_words():
    """What the tuned model's short prompt keeps of the full one: the labels, or each enum field's values."""
    from tools.spec import parse_spec_dict

    label = parse_spec_dict(
        {"spec": "Route it.", "output": {"format": "label", "labels": ["billing", "shipping"]}}
    )
    assert label.output.choices() == "Answer one of: billing, shipping."
    schema = {
        "type": "object",
        "properties": {
            "item": {"type": "string"},
            "size": {"type": "string", "enum": ["small", "large"]},
            "milk": {"type": "string", "enum": ["none", "oat"]},
        },
    }
    js = parse_spec_dict({"spec": "Orders as JSON.", "output": {"format": "json", "schema": schema}})
    assert js.output.choices() == "size: small, large; milk: none, oat."
    assert parse_spec_dict({"spec": "Headlines.", "output": {"format": "text"}}).output.choices() is None


def test_the_tuned_prompt_lists_only_the_values_its_data_does_not_teach(tmp_path):
    """Orders A/B (session 9, one training each, private 80-row test): with both value lists the tuned model
    scored 0.709 at 79 prompt tokens; without the size list (small 15 / medium 7 / large 29 of 56 training
    answers) 0.722 at 71 — 4.2× shorter than the few-shot prompt. Milk (soy in only 4) stays listed."""
    import json

    from tools.data.schema import make_row
    from tools.spec import parse_spec_dict
    from tools.train.runner import TAUGHT_MIN, taught_fields
    from tools.workspace import atomic_write_jsonl

    schema = {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "large"]},
            "milk": {"type": "string", "enum": ["none", "oat"]},
        },
    }
    spec = parse_spec_dict({"spec": "Orders as JSON.", "output": {"format": "json", "schema": schema}})
    sizes = ["small", "large"]
    rows = [
        make_row(
            f"a {sizes[i % 2]} order {i}", json.dumps({"size": sizes[i % 2], "milk": "none" if i else "oat"})
        )
        for i in range(2 * TAUGHT_MIN)
    ]
    atomic_write_jsonl(tmp_path / "train.jsonl", rows)
    assert taught_fields(spec, tmp_path) == ["size"]  # oat in 1 answer: milk is not taught
    # every milk value often enough, but "none" is never the input's word: the list stays (the orders bench
    # without it: milk "full-fat", "soya", "non-fat"); size written in only half the inputs: listed too
    rows = [
        make_row(
            f"a {sizes[i % 2] if i % 4 < 2 else 'big'} order {i}" + (" with oat" if i % 2 else ""),
            json.dumps({"size": sizes[i % 2], "milk": "oat" if i % 2 else "none"}),
        )
        for i in range(4 * TAUGHT_MIN)
    ]
    atomic_write_jsonl(tmp_path / "train.jsonl", rows)
    assert taught_fields(spec, tmp_path) == []
    assert spec.output.choices(skip=["size"]) == "milk: none, oat."
    assert spec.output.choices(skip=["size", "milk"]) is None
    text = parse_spec_dict({"spec": "Headlines.", "output": {"format": "text"}})
    assert taught_fields(text, tmp_path) == []
