"""What a task's examples say about its answers, and the checks that follow from it."""

from __future__ import annotations

from pathlib import Path

from tools.data.checks import check_answer
from tools.data.infer import grounded_fields, infer_output, numbers_in, output_spec_for
from tools.spec import load_spec, parse_spec_dict

SIZES = ["small", "medium", "large"]
ORDERS = {
    "spec": "Turn a cafe order into JSON.",
    "examples": [
        {"input": "two large lattes with oat milk", "output": '{"item": "latte", "size": "large", "quantity": 2, "milk": "oat"}'},
        {"input": "One medium cappuccino please", "output": '{"item": "cappuccino", "size": "medium", "quantity": 1, "milk": "none"}'},
        {"input": "3 large mochas, soy", "output": '{"item": "mocha", "size": "large", "quantity": 3, "milk": "soy"}'},
        {"input": "a medium flat white with whole milk", "output": '{"item": "flat white", "size": "medium", "quantity": 1, "milk": "whole"}'},
    ],
    "output": {"format": "json", "schema": {"type": "object", "properties": {"size": {"type": "string", "enum": SIZES}}}},
}  # fmt: skip


def test_numbers_are_read_as_digits_and_words():
    assert numbers_in("Two lattes and a dozen cookies, 3 teas") == {2.0, 12.0, 3.0}


def test_grounded_fields_are_those_written_in_every_input():
    # milk "none" is not written in the input: only item, size, quantity are grounded ("two" is 2)
    assert grounded_fields(ORDERS["examples"]) == ["item", "quantity", "size"]
    assert output_spec_for("json", ORDERS["examples"])["grounded"] == ["item", "quantity", "size"]


def test_a_headless_task_gets_what_its_examples_show_and_says_so():
    spec = parse_spec_dict(ORDERS)
    notes = infer_output(spec)
    assert spec.output.grounded == ["item", "quantity", "size"] and spec.output.format == "json"
    assert len(notes) == 1 and "grounded fields: item, quantity, size" in notes[0]
    # no output block at all: the shape is inferred too
    bare = parse_spec_dict({k: v for k, v in ORDERS.items() if k != "output"})
    notes = infer_output(bare)
    assert bare.output.format == "json" and any("answer shape: json" in n for n in notes)
    # what the task file says explicitly is never overridden
    said = parse_spec_dict(ORDERS | {"output": ORDERS["output"] | {"grounded": False}})
    assert infer_output(said) == [] and said.output.grounded is False
    labels = parse_spec_dict(
        {"spec": "route", "examples": [{"input": f"m{i}", "output": lab} for i, lab in enumerate("abab")]}
    )
    infer_output(labels)
    assert labels.output.format == "label" and labels.output.labels == ["a", "b"]


def test_checks_catch_the_wrong_answers_a_weak_teacher_gives():
    spec = parse_spec_dict(ORDERS)
    infer_output(spec)
    # "three small coffee cups" → size large: the input names exactly one size, the answer another
    bad = check_answer(
        '{"item": "coffee", "size": "large", "quantity": 3, "milk": "none"}', spec, "three small coffee cups"
    )
    assert ("incorrect", "the input says 'small' but size is 'large'") in bad
    # "a pair of small lutosos" → quantity 1: the input names one number, 2
    bad = check_answer(
        '{"item": "lutoso", "size": "small", "quantity": 1, "milk": "none"}', spec, "a pair of small lutosos"
    )
    assert bad == [("incorrect", "value(s) '1' do not appear in the input")]
    # an item that is nowhere in the sentence
    bad = check_answer(
        '{"item": "sushi", "size": "small", "quantity": 2, "milk": "none"}', spec, "two small teas"
    )
    assert bad == [("incorrect", "value(s) 'sushi' do not appear in the input")]
    # right answers pass, with number words and an implied quantity of one
    assert (
        check_answer(
            '{"item": "tea", "size": "small", "quantity": 2, "milk": "none"}', spec, "Two small teas"
        )
        == []
    )
    assert (
        check_answer(
            '{"item": "latte", "size": "large", "quantity": 1, "milk": "oat"}', spec, "a large latte, oat"
        )
        == []
    )


def test_a_label_that_contradicts_the_input_is_flagged():
    spec = parse_spec_dict(
        {"spec": "route", "output": {"format": "label", "labels": ["billing", "shipping"]}}
    )
    assert check_answer("shipping", spec, "My billing address is wrong") == [
        ("incorrect", "the input says 'billing' but the label is 'shipping'")
    ]
    assert check_answer("billing", spec, "billing for shipping is too high") == []  # names both: cannot tell


def test_a_label_named_in_the_input_is_no_sign_when_the_persons_examples_say_so():
    """The bike shop's example "The rental bike … had a loose chain … I expect a refund" is a complaint: a
    teacher's complaint about a rental is not flagged for naming "rental"."""
    labels = ["complaint", "rental", "repair", "sale"]
    examples = [
        {"input": "Can I rent a tandem for Saturday?", "output": "rental"},
        {
            "input": "The rental bike had a loose chain that fell off twice. I expect a refund.",
            "output": "complaint",
        },
    ]
    spec = parse_spec_dict(
        {"spec": "sort", "examples": examples, "output": {"format": "label", "labels": labels}}
    )
    assert check_answer("complaint", spec, "The rental e-bike died after an hour, I want my money back") == []
    # examples that hold to it keep the check
    holds = parse_spec_dict(
        {"spec": "sort", "examples": examples[:1], "output": {"format": "label", "labels": labels}}
    )
    assert check_answer("complaint", holds, "Is the rental price per day?") == [
        ("incorrect", "the input says 'rental' but the label is 'complaint'")
    ]


def test_a_teachers_habitual_default_is_flagged_where_the_examples_always_name_the_value():
    milks = ["none", "oat", "soy", "whole", "almond", "skim"]
    schema = {"type": "object", "properties": {"size": {"enum": SIZES}, "milk": {"enum": milks}}}
    spec = parse_spec_dict(ORDERS | {"output": {"format": "json", "schema": schema}})
    from tools.data.checks import implicit_choices

    # the examples write every milk but "none" ("One medium cappuccino please"), and every size
    assert implicit_choices(spec) == {"milk": {"none"}, "size": set()}
    bad = check_answer(
        '{"item": "latte", "size": "small", "quantity": 1, "milk": "almond"}',
        spec,
        "One small latte, no milk",
    )
    assert bad == [
        (
            "incorrect",
            "milk is 'almond' but the input does not say 'almond' (your examples leave only 'none' unwritten)",
        )
    ]
    ok = '{"item": "latte", "size": "small", "quantity": 1, "milk": "skim"}'
    assert check_answer(ok, spec, "a small latte with skimmed milk") == []  # "skim" starts "skimmed"
    assert check_answer(ok.replace("skim", "none"), spec, "a small latte, black") == []
    # a size the input does not name has no default in the examples: flagged
    assert check_answer(ok.replace("small", "large"), spec, "a latte with skim")[0][1].startswith(
        "size is 'large'"
    )
    # a label task whose labels are not written in the inputs gets no such rule
    routing = parse_spec_dict(
        {
            "spec": "route",
            "examples": [{"input": f"message {i}", "output": lab} for i, lab in enumerate("abab")],
            "output": {"format": "label", "labels": ["a", "b"]},
        }
    )
    assert implicit_choices(routing) == {}


def test_labels_the_description_lists_make_a_label_task_without_examples():
    """The walk's clinic owner wrote "… into one of four kinds: book, cancel, reschedule or question" and had
    no examples at hand; the interview said "Nothing says the answers have a fixed shape" (free text)."""
    from agent.nodes.interview import guess_note, parse_answer
    from tools.data.infer import guess_output_format, labels_in_text

    clinic = "Sort messages from my dental clinic's patients into one of four kinds: book, cancel, reschedule or question."
    assert labels_in_text(clinic) == ["book", "cancel", "reschedule", "question"]
    assert labels_in_text("Classify reviews as positive or negative.") == ["positive", "negative"]
    assert labels_in_text("Route a message to a team: billing, shipping and technical.") == [
        "billing",
        "shipping",
        "technical",
    ]
    for free in ("Rewrite a news report as a headline.", "Extract the name, city and age from a sentence."):
        assert labels_in_text(free) == []
    assert guess_output_format(clinic, []) == "label"
    fmt, why = guess_note(clinic, [])
    assert fmt == "label" and why.startswith(
        "Your description names 4 answers (book, cancel, reschedule, question), so I'll treat answers as labels"
    )
    answers, task = {"spec": clinic}, {"spec": clinic}
    parse_answer("output_format", "label", answers, task)
    assert task["output"] == {"format": "label", "labels": ["book", "cancel", "reschedule", "question"]}


HEADLINES = {
    "spec": "Rewrite a news sentence as a short headline.",
    "examples": [
        {"input": "On Monday the town council of Ferrow voted to close the old harbour bridge for six months of repairs.", "output": "Ferrow Council Closes Harbour Bridge for Repairs"},
        {"input": "Electric scooter firm Zipto has recalled 4,000 scooters because of a faulty brake cable, the company said.", "output": "Zipto Recalls 4,000 Scooters Over Faulty Brakes"},
        {"input": "Local bakery chain Crumbwell said on Friday that it will open twelve new shops across the north next year.", "output": "Crumbwell to Open 12 New Shops in the North"},
        {"input": "Shares in the airline Skyvale fell sharply on Thursday after it cut its profit forecast for the year.", "output": "Skyvale Shares Fall After Profit Warning"},
    ],
}  # fmt: skip


def test_a_text_answer_drawn_from_its_input_is_checked_against_how_much_the_examples_draw():
    from tools.data.infer import drawn_from_input, drawn_share

    # plurals, verb endings (recalled/recalls) and numbers as words or digits count as the input's words
    assert (
        drawn_share("Zipto Recalls 4,000 Scooters Over Faulty Brakes", HEADLINES["examples"][1]["input"])
        == 1.0
    )
    assert drawn_share("Crumbwell to Open 12 New Shops", HEADLINES["examples"][2]["input"]) == 1.0
    assert drawn_share("the of and", "anything") is None  # no content word: cannot tell
    # the least-drawn example ("Fall", "Warning" are not in its input: 3 of 5) sets the bar
    assert drawn_from_input(HEADLINES["examples"]) == 0.6
    spec = parse_spec_dict(HEADLINES)
    notes = infer_output(spec)
    assert spec.output.format == "text" and spec.output.grounded is True
    assert notes == [
        "answers drawn from the input (every example's answer takes at least 60% of its words from its input)"
    ]
    assert output_spec_for("text", HEADLINES["examples"]) == {"format": "text", "grounded": True}
    story = "The city of Newbarkham will make its buses free for all residents from mid-July, the mayor said."
    assert check_answer("Newbarkham Makes Buses Free From July", spec, story) == []
    # a sampled headline that drifts off its story (the rewrite bench's teacher, answering again)
    drift = check_answer("How to Get People to Take Your Point to Health and Safety", spec, story)
    assert drift == [
        (
            "incorrect",
            "only 0% of the answer's words are in the input; the examples' answers take at least 60% of theirs from it",
        )
    ]
    assert (
        check_answer("How to Get People to Take Your Point", spec, None) == []
    )  # no input: nothing to compare
    # a person's own wording (the review's edit box) is not second-guessed by a word count
    assert check_answer("How to Get People to Take Your Point", spec, story, drift=False) == []
    # answers written from knowledge (an FAQ) are not drawn from their questions: no such rule
    faq = parse_spec_dict(
        {
            "spec": "Answer shop questions.",
            "examples": [
                {
                    "input": f"question {i} about returns?",
                    "output": "Returns are free within 30 days with a receipt.",
                }
                for i in range(4)
            ],
        }  # fmt: skip
    )
    assert infer_output(faq) == [] and faq.output.grounded is False
    # a task file that says grounded: false is not overridden
    said = parse_spec_dict(HEADLINES | {"output": {"format": "text", "grounded": False}})
    assert infer_output(said) == [] and check_answer("Nothing Alike Here", said, story) == []


BOOKINGS = {
    "spec": "Turn a booking request into YYYY-MM-DD HH:MM.",
    "examples": [
        {"input": "Could I book a check-up on 14 March 2027 at 3pm?", "output": "2027-03-14 15:00"},
        {"input": "Can we do the 2nd of June 2027, 9:30 in the morning?", "output": "2027-06-02 09:30"},
        {"input": "Please put me down for 5 October 2027 at 11am.", "output": "2027-10-05 11:00"},
        {"input": "Would 22/11/2027 at 4.15pm work?", "output": "2027-11-22 16:15"},
        {"input": "Can I move my cleaning to January 8, 2028 at 10:45?", "output": "2028-01-08 10:45"},
    ],
    "output": {"format": "text", "regex": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"},
}


def test_a_number_the_examples_always_copy_from_their_input_must_be_in_the_input():
    """The appointments bench's teacher answered "Can I come today?" with "2028-05-28 19:00" (47 of its 120
    answers had a year that was nowhere in the input); every example's year is written in its input."""
    from tools.data.checks import copied_number_slots, copied_number_widths, invented_numbers

    spec = parse_spec_dict(BOOKINGS)
    pairs = tuple((e.input, e.output) for e in spec.examples)
    assert copied_number_widths(pairs) == {4}  # the year; the 2-digit month and hour are not copied
    assert check_answer("2028-05-28 19:00", spec, "Can I come today? I was going to work.") == [
        (
            "incorrect",
            "2028 is not in the input; in every one of your examples the answer's 4-digit numbers are "
            "written in the input",
        ),
        (
            "incorrect",
            "28 is not in the input; in every one of your examples the answer's 1st and 3rd numbers are "
            "written in the input",
        ),
    ]
    # answers of one shape (five numbers): the year and the day are copied in every example, so a day that
    # is not in the input is made up ("2nd July 2027" → "2027-02-22" kept by two agreeing teacher answers)
    assert copied_number_slots(pairs) == (5, {0, 2})
    assert check_answer("2027-11-18 18:30", spec, "Tuesday 1 November 2027 at 3pm") == [
        (
            "incorrect",
            "18 is not in the input; in every one of your examples the answer's 1st and 3rd numbers are "
            "written in the input",
        )
    ]
    assert (
        check_answer("2027-11-01 18:30", spec, "Tuesday 1 November 2027 at 3pm") == []
    )  # a wrong hour: not this
    assert invented_numbers("2027-03-01 09:00", spec, "the first of March 2027, 9am") == []
    # a person's own wording in the review is theirs
    assert check_answer("2028-05-28 19:00", spec, "Can I come today?", drift=False) == []
    # fewer than four examples with such numbers: no rule
    few = parse_spec_dict(BOOKINGS | {"examples": BOOKINGS["examples"][:3]})
    assert check_answer("2028-05-28 19:00", few, "Can I come today?") == []
    # one example whose year is not in its input: no rule for that width
    loose = parse_spec_dict(
        BOOKINGS
        | {"examples": [*BOOKINGS["examples"], {"input": "Next Monday at 9", "output": "2027-01-04 09:00"}]}
    )
    assert copied_number_widths(tuple((e.input, e.output) for e in loose.examples)) == frozenset()


def test_digits_the_examples_copy_in_order_must_be_the_inputs_digits():
    """Walk 20: "tel 07173-824-025" answered "+44 7173 824302" and a form with no number answered with another
    patient's; every example of the phones task copies its digits, after a 44, in order from its input."""
    from tools.data.checks import copied_digits_prefix, digits_not_copied

    spec = load_spec(Path(__file__).resolve().parents[1] / "bench" / "tasks" / "phones" / "task.yaml")
    pairs = tuple((e.input, str(e.output)) for e in spec.examples)
    assert copied_digits_prefix(pairs) == "44"
    assert check_answer("+44 7173 824025", spec, "tel 07173-824-025") == []
    assert check_answer("none", spec, "will ring the clinic tomorrow") == []
    for answer, text in (
        ("+44 7173 824302", "tel 07173-824-025"),  # digits moved
        ("+44 7597 248622", "will ring the clinic tomorrow"),  # a number from nowhere
        ("+41 937 355 937", "mobile: 07190 937 355"),
    ):
        assert check_answer(answer, spec, text) == [
            (
                "incorrect",
                "the answer's digits are not the input's, in order after 44; every one of your examples "
                "copies its digits from the input",
            )
        ], answer
    # a task whose answers compute their numbers (a year from "next Monday") has no such rule
    assert (
        copied_digits_prefix(tuple((e.input, e.output) for e in parse_spec_dict(BOOKINGS).examples)) is None
    )
    assert not digits_not_copied("2028-05-28", "Can I come today?", None)


def test_answers_of_one_layout_are_held_to_it():
    """Walk 20 saw "right format 100%" for "+44 700123": the phones examples' answers share one layout (or are
    "none"), and the evaluation's format check now holds answers to it."""
    from tools.data.infer import answer_layout
    from tools.evals import format_errors

    spec = load_spec(Path(__file__).resolve().parents[1] / "bench" / "tasks" / "phones" / "task.yaml")
    notes = infer_output(spec)
    assert any(n.startswith("answer layout: laid out like +44 7241 592066 or none") for n in notes)
    assert format_errors("+44 7173 824025", spec.output) == [] and format_errors("none", spec.output) == []
    assert format_errors("+44 700123", spec.output) == [
        "not in the layout the task asks for (like its examples' answers)"
    ]
    # answers of many shapes (sizes: "UK 8", "W32 L34", "M", "one size") have no layout; nor have few examples
    sizes = [{"output": o} for o in ("UK 8", "W32 L34", "M", "age 7-8", "one size", "12", "XL")]
    assert answer_layout(sizes) is None and answer_layout([{"output": "+44 7241 592066"}] * 4) is None


def test_answers_listing_words_from_a_few_are_held_to_them():
    """Walk 22b saw "right format 100%" beside a tuned model answering "fruit", "wheat" and "1. gluten" for
    allergen labels made of seven words: answers listing words from a few, each seen twice, with one separator,
    are held to that list."""
    from tools.data.infer import answer_layout
    from tools.evals import format_errors
    from tools.spec import parse_spec_dict

    labels = [
        "gluten, dairy, egg, fish",
        "none",
        "gluten",
        "gluten, dairy, nuts",
        "sesame",
        "nuts, soy",
        "gluten, egg, fish",
        "dairy, nuts",
        "none",
        "gluten, soy, sesame",
    ]
    spec = parse_spec_dict(
        {
            "spec": "the allergens in a menu item",
            "examples": [{"input": f"menu item {i}", "output": o} for i, o in enumerate(labels)],
            "output": {"format": "text"},
        }
    )
    notes = infer_output(spec)
    assert any(
        "words from dairy, egg, fish, gluten, none, nuts, sesame, soy separated by ', '" in n for n in notes
    )
    for right in ("gluten, dairy, egg", "none", "soy"):
        assert format_errors(right, spec.output) == [], right
    for off in ("fruit", "wheat", "1. gluten", "gluten,dairy", "gluten, dairy, "):
        assert format_errors(off, spec.output), off
    # a word seen once may not be the whole list; one word an answer is a label; few answers say little
    assert answer_layout([{"output": o} for o in [*labels, "celery"]]) is None
    assert answer_layout([{"output": o} for o in ("S", "M", "L", "M", "S", "L", "M", "S")]) is None
    assert answer_layout([{"output": o} for o in labels[:6]]) is None


def test_a_field_whose_examples_share_one_layout_with_digits_is_held_to_it():
    """The parcels bench: the order number is "BK4821", "bk5012" or null in every example; the small writer
    answered "customers always have a story to tell" for it — a phrase of its own input, so the grounding check
    let it through. A JSON field whose every value has one layout with digits becomes a pattern, and such an
    answer fails the format check; names, prices and fields of mixed layouts do not."""
    import json

    from tools.data.checks import check_answer
    from tools.data.infer import laid_out_fields

    orders = ["BK4821", "BK5107", None, "bk5012", "BK5233", None]
    examples = [
        {
            "input": f"order {o or 'unknown'}: it is late, sent by {n}",
            "output": json.dumps({"order": o, "by": n}),
        }
        for o, n in zip(orders, ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"], strict=True)
    ]
    laid = laid_out_fields(examples)
    assert list(laid) == ["order"] and laid["order"][1:] == ("BK4821", True)
    assert laid_out_fields(examples[:3]) == {}  # two values: too few to tell
    mixed = [*examples, {"input": "ref A-77", "output": json.dumps({"order": "A-77", "by": "Gil"})}]
    assert laid_out_fields(mixed) == {}
    spec = parse_spec_dict({"spec": "Delivery complaints.", "examples": examples})
    assert "order is laid out like BK4821 or none (as in every example)" in infer_output(spec)
    asked = "Hi, customers always have a story to tell. BK2403 never came, sent by Ann"
    wrong = json.dumps({"order": "customers always have a story to tell", "by": "Ann"})
    assert check_answer(wrong, spec, asked)[0][0] == "format"
    assert check_answer(json.dumps({"order": "BK2403", "by": "Ann"}), spec, asked) == []
    assert check_answer(json.dumps({"order": None, "by": "Ann"}), spec, asked) == []
    assert output_spec_for("json", examples)["schema"]["properties"]["order"]["pattern"] == laid["order"][0]
    # the tuned model's prompt names the layout (its order answers were "today" and "left" where the message
    # held no order number)
    assert spec.output.choices() == "order: like BK4821 or null."


def test_a_field_whose_examples_choose_from_a_few_values_is_held_to_them():
    """Walk 26's groomer: the service is one of five, the dog's name and the day are copied from the message.
    The writer answered "full day trip", "hair wrap" and "wax wax" for the service and nothing checked it:
    a field the examples fill from a few values (each used twice or more, none copied from the input) becomes
    an enum, and a written answer outside it fails the format check. A name (each used once) never does."""
    import json

    from tools.data.checks import check_answer
    from tools.data.infer import closed_fields, infer_output, output_spec_for
    from tools.spec import parse_spec_dict

    services = ["bath", "nail trim", "full groom", "de-shed", "puppy trim"] * 2
    dogs = ["Rex", "Pip", "Bo", "Tilly", "Otis", "Juno", "Cleo", "Frank", "Bear", "Skye"]
    days = ["Monday", None, "Friday", "Tuesday", None, "Monday", "Friday", "Saturday", "Tuesday", "Monday"]
    said = {"bath": "a wash", "nail trim": "her nails", "full groom": "the works", "de-shed": "a brush out"}
    said["puppy trim"] = "a first cut"
    examples = [
        {
            "input": f"Can {d} come in for {said[s]}" + (f" on {day}" if day else ", any day") + "?",
            "output": json.dumps({"dog": d, "service": s, "day": day}),
        }
        for d, s, day in zip(dogs, services, days, strict=True)
    ]
    closed = closed_fields(examples, skip=["day", "dog"])
    assert closed == {"service": ["bath", "de-shed", "full groom", "nail trim", "puppy trim"]}
    assert "dog" not in closed_fields(examples)  # each name once: not a choice
    assert closed_fields(examples[:6], skip=["day", "dog"]) == {}  # too few to tell
    out = output_spec_for("json", examples)
    assert out["schema"]["properties"] == {"service": {"enum": closed["service"]}}
    spec = parse_spec_dict({"spec": "Bookings.", "examples": examples})
    notes = infer_output(spec)
    assert (
        "service is one of: bath, de-shed, full groom, nail trim, puppy trim (the values your examples use)"
        in notes
    )
    asked = "Can Rex come in for a day trip on Monday?"
    wrong = check_answer(json.dumps({"dog": "Rex", "service": "full day trip", "day": "Monday"}), spec, asked)
    assert wrong and wrong[0][0] == "format"
    right = json.dumps({"dog": "Rex", "service": "bath", "day": "Monday"})
    assert check_answer(right, spec, "Can Rex come in for a wash on Monday?") == []
    # a field the task file describes keeps its own rule
    told = parse_spec_dict(
        {
            "spec": "Bookings.",
            "examples": examples,
            "output": {
                "format": "json",
                "schema": {"type": "object", "properties": {"service": {"type": "string"}}},
            },
        }
    )
    infer_output(told)
    assert told.output.json_schema["properties"]["service"] == {"type": "string"}
