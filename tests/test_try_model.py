"""The report's "Try your model": the model a session trained answers a message of one's own (walk 24 could try
only the prompt, and wanted to type its messages into the model it had just trained)."""

from __future__ import annotations

import json

import pytest

from agent.runner import create_run_for
from tools.spec import parse_spec_dict

USER = "Can I get two sourdough loaves for Saturday?"


@pytest.fixture
def trained_run(workspace, embedded_dir, monkeypatch):
    """A session whose train/v1 holds a LoRA adapter with random (non-zero) weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("TUNEWISE_ENGINE", "transformers")  # no CTranslate2 conversion of the merged adapter
    spec = parse_spec_dict(
        {
            "spec": "Sort a bakery's customer message: order, change, question or complaint.",
            "examples": [{"input": "Two baguettes for tomorrow please", "output": "order"}],
            "output": {"format": "label", "labels": ["order", "change", "question", "complaint"]},
        }
    )
    run = create_run_for(workspace, spec)
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    lora = get_peft_model(
        base, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    lora.save_pretrained(str(run.path / "train" / "v1" / "adapter"))
    return run


def test_the_trained_model_answers_a_message_of_ones_own(workspace, trained_run):
    from agent.sessions import try_model, tuned_adapter
    from tools.evals.systems import build_messages, tuned_system
    from tools.llm.local import LocalProvider
    from tools.spec import load_spec

    adapter = tuned_adapter(workspace, trained_run.id)
    assert adapter == trained_run.path / "train" / "v1" / "adapter"
    said = try_model(workspace, trained_run.id, USER)
    # the tuned model, sent what the evaluation sends it: the same answer; the model you start from gives another
    from tools.data.critique import answer_token_cap

    spec = load_spec(trained_run.spec_path)
    cap = answer_token_cap(
        [str(e.output) for e in spec.examples], 256
    )  # as long as a label can be, and no longer
    system = tuned_system("v1", adapter, spec, max_tokens=cap)
    messages = build_messages(
        system, {"messages": [{"role": "user", "content": USER}, {"role": "assistant", "content": ""}]}
    )
    tuned = LocalProvider("embedded", adapter=str(adapter)).complete(
        messages, max_tokens=cap, temperature=0.0
    )
    plain = LocalProvider("embedded").complete(messages, max_tokens=cap, temperature=0.0)
    assert said == tuned.text.strip() and said != plain.text.strip()


def test_a_session_that_trained_nothing_has_no_model_to_try(workspace):
    from agent.sessions import try_model, tuned_adapter

    run = create_run_for(workspace, parse_spec_dict({"spec": "Say hello"}))
    assert tuned_adapter(workspace, run.id) is None
    with pytest.raises(ValueError, match="trained no model"):
        try_model(workspace, run.id, USER)


async def test_the_try_box_is_ready_for_the_next_message_and_says_what_was_asked(workspace):
    """Walk 25 closed and reopened the box for each message: the last one stayed typed, and an answer like the
    one before could not be told from it."""
    from test_tui_helpers import wait_for

    from tui.app import TunewiseApp
    from tui.widgets.try_dialog import TryPromptDialog

    run = create_run_for(workspace, parse_spec_dict({"spec": "Say hello"}))  # trained nothing
    app = TunewiseApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TryPromptDialog(workspace, run.id, model=True))
        await wait_for(pilot, lambda: isinstance(app.screen, TryPromptDialog))
        await pilot.press(*"two rye loaves", "enter")
        box = app.screen.query_one("#try-answer")
        await wait_for(pilot, lambda: "Could not answer" in str(box.render()))
        said = str(box.render())
        assert "You asked: two rye loaves" in said and "trained no model" in said
        assert app.screen.query_one("Input").value == ""


async def test_the_try_box_names_the_version_it_answers_with(workspace):
    """Walk 25 tried its model after two rounds and could not tell which round's model answered: the box says
    the version the report kept (the export's), else the latest trained."""
    import json

    from test_tui_helpers import wait_for

    from agent.sessions import tuned_version
    from tui.app import TunewiseApp
    from tui.widgets.try_dialog import TryPromptDialog

    run = create_run_for(workspace, parse_spec_dict({"spec": "Say hello"}))
    assert tuned_version(workspace, run.id) is None
    for v in ("v1", "v2"):
        (run.path / "train" / v / "adapter").mkdir(parents=True)
    assert tuned_version(workspace, run.id) is None  # folders without an adapter are no model
    for v in ("v1", "v2"):
        (run.path / "train" / v / "adapter" / "adapter_config.json").write_text("{}")
    assert tuned_version(workspace, run.id) == "v2"
    export = run.path / "export"
    (export / "adapter").mkdir(parents=True)
    (export / "adapter" / "adapter_config.json").write_text("{}")
    (export / "export.json").write_text(json.dumps({"train_version": "v1"}))
    assert tuned_version(workspace, run.id) == "v1"  # rolled back: the report kept round 1
    app = TunewiseApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TryPromptDialog(workspace, run.id, model=True))
        await wait_for(pilot, lambda: bool(app.screen.query("#confirm-text")))
        assert "the model this session trained (v1) answers" in str(
            app.screen.query_one("#confirm-text").render()
        )


GROOMER_SPEC = {
    "spec": "Pull the dog, the service and the day out of a booking text.",
    "examples": [
        {
            "input": "Can Biscuit come in for a bath on Tuesday?",
            "output": '{"dog": "Biscuit", "service": "bath", "day": "Tuesday"}',
        },
        {
            "input": "Luna needs her nails done, any day",
            "output": '{"dog": "Luna", "service": "nail trim", "day": null}',
        },
    ],
    "output": {"format": "json"},
}


def test_answers_are_written_as_the_persons_own_sheet_a_column_per_part(tmp_path):
    """Walk 26 had a day's bookings to copy into a calendar and got a prompt and a `curl` command: a file of
    messages is answered into a spreadsheet with the parts as columns (null an empty cell; an answer that is
    not such an object kept, in a last column)."""
    import csv

    from agent.sessions import answers_csv, read_messages

    services = ["bath", "nail trim", "full groom"]
    schema = {"type": "object", "properties": {"service": {"type": "string", "enum": services}}}
    spec = parse_spec_dict({**GROOMER_SPEC, "output": {"format": "json", "schema": schema}})
    out = tmp_path / "today-answers.csv"
    texts = ["Rex, full groom Friday", "Can Peanut have a bath, any day"]
    answers = ['{"dog": "Rex", "service": "full groom", "day": "Friday"}', "Peanut, bath"]
    assert answers_csv(out, texts, answers, spec) == 1
    rows = list(csv.reader(out.open(newline="")))
    assert rows[0] == ["message", "dog", "service", "day", "check"]
    assert rows[1] == ["Rex, full groom Friday", "Rex", "full groom", "Friday", ""]
    assert rows[2] == ["Can Peanut have a bath, any day", "", "", "", "could not read: Peanut, bath"]
    # every answer read and allowed: no check column (walk 28's was always empty); null an empty cell
    null = '{"dog": "Pip", "service": "bath", "day": null}'
    answers_csv(out, ["Pip bath"], [null], spec)
    assert list(csv.reader(out.open(newline=""))) == [
        ["message", "dog", "service", "day"],
        ["Pip bath", "Pip", "bath", ""],
    ]
    # a value the task does not allow is said in the check column (walk 28: "bath and nail trim")
    both = '{"dog": "Dave", "service": "bath and nail trim", "day": null}'
    answers_csv(out, ["Dave's dog Milo, bath and nails"], [both], spec)
    assert list(csv.reader(out.open(newline="")))[1][-1] == (
        "service 'bath and nail trim' is not one of: bath, nail trim, full groom"
    )
    # the messages: one per line, or a sheet's first column under its name
    (tmp_path / "today.txt").write_text("Rex, full groom Friday\n\n  Can Peanut have a bath  \n")
    assert read_messages(tmp_path / "today.txt") == ["Rex, full groom Friday", "Can Peanut have a bath"]
    (tmp_path / "today.csv").write_text('message,dog\n"Rex, full groom Friday",\nPip bath,\n')
    assert read_messages(tmp_path / "today.csv") == ["Rex, full groom Friday", "Pip bath"]
    (tmp_path / "empty.txt").write_text("\n\n")
    from tools.errors import UserError

    with pytest.raises(UserError, match="no messages in empty.txt"):
        read_messages(tmp_path / "empty.txt")


def test_a_file_of_messages_is_answered_with_the_sessions_prompt_beside_it(workspace, tmp_path):
    """The embedded model answers each message with the session's prompt; the sheet lands beside the file and
    never replaces one that is there."""
    import csv
    import json

    from agent.sessions import answer_file

    run = create_run_for(workspace, parse_spec_dict(GROOMER_SPEC))
    (run.path / "prompt.json").write_text(
        json.dumps(
            {
                "system": "Reply with only a JSON object with the keys dog, service and day.",
                "shots": GROOMER_SPEC["examples"],
            }
        )
    )
    src = tmp_path / "today.txt"
    src.write_text("Can Rex come in for a full groom on Friday?\nCould Pip have a bath on Monday?\n")
    (tmp_path / "today-answers.csv").write_text("someone's own file\n")
    seen = []
    out, n, unread = answer_file(
        workspace, run.id, src, use="prompt", on_progress=lambda d, t: seen.append((d, t))
    )
    assert (
        out == tmp_path / "today-answers-2.csv"
        and (tmp_path / "today-answers.csv").read_text() == "someone's own file\n"
    )
    rows = list(csv.reader(out.open(newline="")))
    assert rows[0][:4] == ["message", "dog", "service", "day"] and n == 2 and seen[-1] == (2, 2)
    assert rows[0][4:] in ([], ["check"])  # the check column only when an answer needs it
    assert [r[0] for r in rows[1:]] == [
        "Can Rex come in for a full groom on Friday?",
        "Could Pip have a bath on Monday?",
    ]
    # an unreadable answer keeps its text in the check column
    assert sum(1 for r in rows[1:] if r[4:] and r[-1].startswith("could not read: ")) == unread


def test_the_answer_command_says_in_one_line_what_a_session_lacks(workspace, tmp_path):
    """`tunewise answer SESSION FILE`: a session with neither a tuned model nor a prompt, or an unknown one, is
    one line with the fix and exit 2, never a traceback."""
    from test_cli_basic import assert_one_line_error, run_cli

    run = create_run_for(workspace, parse_spec_dict(GROOMER_SPEC))
    src = tmp_path / "today.txt"
    src.write_text("Rex, full groom Friday\n")
    env = {"TUNEWISE_HOME": str(workspace.path.parent)}
    assert_one_line_error(
        run_cli("answer", run.id, str(src), env=env), "has no tuned model and no prompt", "finish the session"
    )
    assert_one_line_error(run_cli("answer", "nope", str(src), env=env), "'nope' not found")
    (run.path / "prompt.json").write_text(json.dumps({"system": "s", "shots": []}))
    assert_one_line_error(
        run_cli("answer", run.id, str(src), "--with", "model", env=env), "no tuned model", "use --with prompt"
    )


def test_a_tried_answer_outside_the_allowed_values_is_said_under_it(workspace):
    """Walk 29 tried "the fridge freezer stopped" and read {"trade": "fridge", …} among five trades, with
    nothing saying it was not one of them: the try box says what to check under such an answer."""
    from agent.sessions import answer_check

    services = ["bath", "nail trim", "full groom"]
    schema = {"type": "object", "properties": {"service": {"type": "string", "enum": services}}}
    run = create_run_for(
        workspace, parse_spec_dict({**GROOMER_SPEC, "output": {"format": "json", "schema": schema}})
    )
    odd = answer_check(workspace, run.id, '{"dog": "Rex", "service": "haircut", "day": null}')
    assert odd == "service 'haircut' is not one of: bath, nail trim, full groom"
    assert answer_check(workspace, run.id, '{"dog": "Rex", "service": "bath", "day": null}') is None
    assert (
        answer_check(workspace, run.id, "Rex, a bath") == "it is not in the shape of your examples' answers"
    )
