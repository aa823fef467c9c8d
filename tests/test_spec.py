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
