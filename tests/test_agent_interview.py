"""The interview's answer shape: guessed from the examples or the spec, filled in from the examples
(JSON keys, grounding, labels), validated, and asked only when the task file does not say."""

from __future__ import annotations

import json

import pytest

from agent.nodes.interview import guess_output_format, output_spec_for, parse_answer
from agent.questions import QUESTIONS, applicable
from tools.errors import UserError
from tools.spec import parse_spec_dict

PEOPLE = [
    {"input": "Anna lives in Porto.", "output": json.dumps({"name": "Anna", "city": "Porto"})},
    {"input": "Tom moved to Leeds.", "output": json.dumps({"name": "Tom", "city": "Leeds", "year": "2020"})},
]
TICKETS = [
    {"input": f"ticket {i}", "output": label}
    for i, label in enumerate(["urgent", "low", "urgent", "normal", "low", "low"])
]


def test_the_answer_shape_is_guessed_from_examples_then_from_the_spec():
    assert guess_output_format("anything", PEOPLE) == "json"
    assert guess_output_format("anything", TICKETS) == "label"
    words = [{"input": f"say {w}", "output": w} for w in ("apple", "river", "stone", "cloud")]
    assert guess_output_format("anything", words) == "text"  # every output differs: no label set
    assert guess_output_format("Extract the city as JSON.", []) == "json"
    assert guess_output_format("Summarise the email.", []) == "text"


def test_json_keys_every_example_has_are_required_and_copied_values_are_grounded():
    out = output_spec_for("json", PEOPLE)
    assert out["schema"] == {"type": "object", "required": ["city", "name"]}
    assert out.get("grounded") == ["city", "name"]  # "2020" (year) is not in its input: not checked
    out = output_spec_for("json", PEOPLE[:1])
    assert out["grounded"] is True
    parse_spec_dict({"spec": "x", "output": out})  # a valid task output block


def test_labels_come_from_the_examples_or_are_asked():
    assert output_spec_for("label", TICKETS)["labels"] == ["low", "normal", "urgent"]
    task: dict = {"spec": "Classify tickets", "examples": []}
    parse_answer("output_format", "Label", {}, task)
    assert task["output"] == {"format": "label"}
    labels_q = next(q for q in QUESTIONS if q.key == "labels")
    assert applicable(labels_q, {}, task)  # no labels known: the interview asks for them
    with pytest.raises(UserError, match="at least two labels"):
        parse_answer("labels", "urgent", {}, task)
    parse_answer("labels", "urgent, normal , low", {}, task)
    assert task["output"]["labels"] == ["urgent", "normal", "low"]
    assert not applicable(labels_q, {}, task)
    assert parse_spec_dict({"spec": "x", "output": task["output"]}).output.labels == [
        "urgent",
        "normal",
        "low",
    ]


def test_a_bad_answer_shape_says_what_to_answer():
    with pytest.raises(UserError) as e:
        parse_answer("output_format", "xml", {}, {"spec": "x"})
    assert "text, json or label" in (e.value.fix or "")


def test_the_interview_skips_the_shape_when_the_task_file_gives_it(workspace):
    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state

    spec = parse_spec_dict(
        {
            "spec": "Classify tickets",
            "output": {"format": "label", "labels": ["low", "normal", "urgent"]},
            "examples": TICKETS,
        }
    )
    run = create_run_for(workspace, spec)
    ctx = AgentContext(workspace)
    out = drive(workspace, run.id, initial_state(run.id, spec, headless=False), ctx)
    from langgraph.types import Command

    seen = []
    for answer in ("", "no", "6"):
        seen.append(out["interrupt"]["key"])
        out = drive(workspace, run.id, Command(resume=answer), ctx)
    assert seen == ["problem", "knowledge_needed", "examples"]
    assert out["interrupt"]["key"] == "prompted_success"  # no shape question, no labels question


@pytest.mark.parametrize(
    "name, content, says",
    [
        (
            "deep.jsonl",
            ("[" * 100_000 + "]" * 100_000).encode(),
            "deep.jsonl:1: this line is not a JSON object (nested more than",
        ),
        ("deep.yaml", ("examples: " + "[" * 5_000 + "]" * 5_000).encode(), "nested more than"),
        ("binary.jsonl", bytes(range(256)) * 4, "binary.jsonl"),
        ("latin1.jsonl", '{"input": "caf\xe9", "output": "x"}\n'.encode("latin-1"), "latin1.jsonl"),
    ],
    ids=["deep-jsonl", "deep-yaml", "binary", "latin1"],
)
def test_an_examples_file_the_interview_cannot_read_is_one_user_error(tmp_path, name, content, says):
    """The interview's examples answer (the TUI's path too): a file nested 100,000 deep, binary or not
    UTF-8 is one line that names it, never a RecursionError or silently replaced characters."""
    from agent.nodes.interview import load_examples_file

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError) as e:
        load_examples_file(str(path))
    assert says in str(e.value).replace("\n", " ") or says in (e.value.where or ""), str(e.value)


def test_a_number_of_examples_is_followed_by_where_they_are(workspace, tmp_path):
    """Walk 10 answered '10' to 'how many examples do you have?' and was never asked for them: the decision
    was made from the description alone. Now the interview asks where they are (Enter goes on without)."""
    from langgraph.types import Command

    from agent.context import AgentContext
    from agent.runner import create_run_for, drive, initial_state

    def start(name):
        spec = parse_spec_dict({"spec": "Classify tickets", "name": name})
        run = create_run_for(workspace, spec, run_id=name)
        ctx = AgentContext(workspace)
        out = drive(workspace, run.id, initial_state(run.id, spec, headless=False), ctx)
        for answer in ("", "no", "10"):
            out = drive(workspace, run.id, Command(resume=answer), ctx)
        return run, ctx, out

    run, ctx, out = start("with-file")
    assert out["interrupt"]["key"] == "examples_file" and out["interrupt"]["optional"]
    out = drive(workspace, run.id, Command(resume=str(tmp_path / "missing.jsonl")), ctx)
    assert out["interrupt"]["key"] == "examples_file" and "no file at" in out["interrupt"]["error"]
    path = tmp_path / "tickets.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TICKETS))
    out = drive(workspace, run.id, Command(resume=str(path)), ctx)
    assert out["interrupt"]["key"] == "output_format"
    assert out["interrupt"]["default"] == "label"  # guessed from the examples just given
    assert out["interrupt"]["spec_so_far"]["examples"] == TICKETS
    assert out["interrupt"]["spec_so_far"]["answers"]["examples"] == 6

    run, ctx, out = start("without")
    out = drive(workspace, run.id, Command(resume=""), ctx)  # Enter: on without them
    assert out["interrupt"]["key"] == "output_format"
    assert not out["interrupt"]["spec_so_far"].get("examples")
    # a count of none asks nothing more
    assert not applicable(next(q for q in QUESTIONS if q.key == "examples_file"), {"examples": 0}, {})


# ---------------------------------------------------------------- examples written the way people write them
def test_examples_as_q_and_a_lines_or_a_csv_are_read(tmp_path):
    """Walk 13: a pool owner's questions.txt of 'Q:'/'A:' lines got 'invalid JSON (Expecting value)'."""
    from agent.nodes.interview import load_examples_file

    qa = tmp_path / "questions.txt"
    qa.write_text(
        "Q: hi what time does the kids pool open on saturday in january?\n"
        "A: In winter the kids' pool is open on Saturdays from 13:00 to 17:00.\n"
        "\n"
        "1. Question: how much for me and my 2 kids\n"
        "Answer: A family ticket is 14 euros.\n"
        "It covers 2 adults and up to 3 children.\n"
        "Customer: are you open christmas day\n"
        "Reply: No, we're closed on 25 and 26 December.\n"
    )
    got = load_examples_file(str(qa))
    assert [e["input"] for e in got] == [
        "hi what time does the kids pool open on saturday in january?",
        "how much for me and my 2 kids",
        "are you open christmas day",
    ]
    assert got[1]["output"] == "A family ticket is 14 euros.\nIt covers 2 adults and up to 3 children."
    sheet = tmp_path / "examples.csv"
    sheet.write_text('question,answer\nis parking free?,"Yes, 3 hours free."\nlockers?,1 euro coin\n')
    assert load_examples_file(str(sheet)) == [
        {"input": "is parking free?", "output": "Yes, 3 hours free."},
        {"input": "lockers?", "output": "1 euro coin"},
    ]


@pytest.mark.parametrize(
    "first, is_header",
    [
        ("title,size", True),  # walk 19's spreadsheet: its column names became a 51st example
        ("Product Title,Correct Size", True),
        ("listing,answer", True),
        ("Silk scarf,none", False),  # a first example with a short message: kept
        ("Wool hat,UK 8", False),  # an answer with a digit is no column name
        ("Blue dress,M", False),  # "m" is another row's answer too
        ("Wool blanket size,XL", False),  # a name's word in one cell only
    ],
)
def test_a_spreadsheets_first_row_is_read_as_column_names_only_when_it_is_one(tmp_path, first, is_header):
    from agent.nodes.interview import load_examples_file

    rows = [
        "Adidas Samba OG trainers white and green,UK 8",
        "Barbour waxed jacket size M olive hardly worn,M",
        "Levi's jeans W32 L34 stonewash blue,W32 L34",
        "Merino wool beanie one size charcoal,one size",
    ]
    sheet = tmp_path / "listings.csv"
    sheet.write_text("\n".join([first, *rows]) + "\n")
    got = load_examples_file(str(sheet))
    assert len(got) == (4 if is_header else 5)
    assert got[0]["input"] == (rows[0].split(",")[0] if is_header else first.split(",")[0])


@pytest.mark.parametrize(
    "first, is_header",
    [
        ("what they wrote,phone", True),  # walk 20: column names over a column of numbers
        ("form text,mobile number", True),
        ("will ring tomorrow,none", False),  # a first example whose answer is "none": kept
        ("ring me,+44 7700 900123", False),
    ],
)
def test_column_names_over_a_column_of_numbers_are_not_an_example(tmp_path, first, is_header):
    from agent.nodes.interview import load_examples_file

    rows = [f"call me on 07700 90012{i},+44 7700 90012{i}" for i in range(6)]
    sheet = tmp_path / "forms.csv"
    sheet.write_text("\n".join([first, *rows]) + "\n")
    assert len(load_examples_file(str(sheet))) == (6 if is_header else 7)


@pytest.mark.parametrize(
    "first, is_header",
    [
        ("item,allergens", True),  # walk 22: its column names became a 43rd example and a prompt's example 1
        ("Menu item,Allergen label", True),
        ("Mixed leaf salad,none", False),  # a first example: its answer is another row's
        ("Item of the day,sesame", False),  # an answer in the others' words: kept
        ("Halloumi salad,celery", False),  # a first message without a column name's word: kept
    ],
)
def test_column_names_over_answers_from_a_few_words_are_not_an_example(tmp_path, first, is_header):
    from agent.nodes.interview import load_examples_file

    rows = [
        '"Toasted brioche with smoked salmon","gluten, dairy, egg, fish"',
        "Chia pudding with coconut milk,none",
        "Sourdough toast with avocado,gluten",
        '"Chicken pesto panini","gluten, dairy, nuts"',
        "Falafel wrap with hummus,sesame",
        "Tofu rice bowl,soy",
    ]
    sheet = tmp_path / "menu.csv"
    sheet.write_text("\n".join([first, *rows]) + "\n")
    assert len(load_examples_file(str(sheet))) == (6 if is_header else 7)


GROOMER = [
    '"Hi, can Biscuit come in for a bath on Tuesday?",Biscuit,bath,Tuesday',
    "Luna needs her nails done sometime Friday please,Luna,nail trim,Friday",
    '"Could you fit Max in for a full groom, any day next week?",Max,full groom,',
    "Pepper is shedding everywhere - deshed on Saturday?,Pepper,de-shed,Saturday",
]


def test_a_sheet_with_several_answer_columns_gives_each_answer_as_its_parts(tmp_path):
    """A groomer's sheet "message,dog,service,day": the first two columns were read and the service and the
    day dropped without a word. Each answer is now the parts together (an empty cell: null), said in words."""
    from agent.nodes.interview import guess_note, load_examples_file
    from tools.data.infer import output_spec_for

    sheet = tmp_path / "bookings.csv"
    sheet.write_text("\n".join(["message,Dog name,service,day", *GROOMER]) + "\n")
    got = load_examples_file(str(sheet))
    assert len(got) == 4 and got[0]["input"] == "Hi, can Biscuit come in for a bath on Tuesday?"
    assert json.loads(got[0]["output"]) == {"dog_name": "Biscuit", "service": "bath", "day": "Tuesday"}
    assert json.loads(got[2]["output"])["day"] is None
    fmt, why = guess_note("Pull the dog, the service and the day out of booking messages", got)
    assert fmt == "json" and why.startswith(
        "Each of your answers has the same 3 parts (dog_name, service, day)"
    )
    assert output_spec_for(fmt, got)["schema"]["required"] == ["day", "dog_name", "service"]


@pytest.mark.parametrize(
    "lines, line, says, fix",
    [
        (
            GROOMER,
            1,
            "4 columns: the message, then 3 parts of the answer, and no first row",
            "add a first row",
        ),
        (  # a comma in one answer, not a column: the row is named, and quoting is the fix
            ["question,answer", "is parking free?,Yes, 3 hours free.", "lockers?,1 euro coin", "wifi?,yes"],
            2,
            "more columns than most",
            "double quotes",
        ),
    ],
)
def test_a_sheet_whose_extra_columns_cannot_be_read_says_where_and_how(tmp_path, lines, line, says, fix):
    from agent.nodes.interview import load_examples_file
    from tools.errors import UserError

    sheet = tmp_path / "sheet.csv"
    sheet.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as e:
        load_examples_file(str(sheet))
    assert says in e.value.message and fix in (e.value.fix or "") and e.value.where == f"{sheet}:{line}"


@pytest.mark.parametrize(
    "content, where, says",
    [
        ("Q: are you open on sunday\nQ: how much is a swim\nA: 5.50 euros\n", ":1", "no answer after it"),
        ("A: 5.50 euros\nQ: how much\nA: 5.50\n", ":1", "no message before it"),
        ("Dear team,\nthese are some emails we got.\n", "", "I found no examples"),
    ],
)
def test_a_file_of_examples_that_does_not_read_says_how_to_write_it(tmp_path, content, where, says):
    from agent.nodes.interview import load_examples_file
    from tools.errors import UserError

    f = tmp_path / "notes.txt"
    f.write_text(content)
    with pytest.raises(UserError) as e:
        load_examples_file(str(f))
    assert says in e.value.message and e.value.where == f"{f}{where}"
    assert "JSON" not in e.value.message + (e.value.fix or "")  # plain words for a plain-text file
