"""Runner checks and helpers without training: data validation, disk, OOM advice, events, progress."""

from __future__ import annotations

import json

import pytest
from test_train_run import write_data

from tools.errors import UserError
from tools.train.config import TrainConfig, short_system_prompt, trained_system_prompt
from tools.train.progress import ProgressState, format_duration, sparkline
from tools.train.runner import (
    check_dataset,
    check_free_disk,
    halve_batch,
    oom_advice,
    prepare_training,
    training_result,
    validate_chat_rows,
)
from tools.train.sft import (
    EVENT_KEYS,
    is_oom,
    last_complete_checkpoint,
    make_event,
    row_to_prompt_completion,
    truncate_events,
)


def test_structural_validation_reports_lines(tmp_path):
    p = tmp_path / "train.jsonl"
    p.write_text(
        "\n".join(
            [
                json.dumps(
                    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
                ),
                "{oops",
                json.dumps({"messages": [{"role": "bot", "content": "a"}]}),
                json.dumps(
                    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "  "}]}
                ),
                json.dumps({"text": "x"}),
            ]
        )
        + "\n"
    )
    problems = validate_chat_rows(p)
    assert [q.split(": ")[0].rsplit(":", 1)[1] for q in problems] == ["2", "3", "4", "5"]
    with pytest.raises(UserError, match="train.jsonl:2"):
        check_dataset(tmp_path)


def test_prepare_writes_config_with_reasons_and_refuses_bad_fields(workspace):
    run = workspace.create_run("prep")
    write_data(run)
    out = prepare_training(run, overrides={"max_steps": 3}, workspace=workspace)
    doc = json.loads((out / "config.json").read_text())
    assert out.name == "v1" and doc["data_version"] == "v1" and doc["max_steps"] == 3
    assert doc["dataset"]["n_train"] == 8 and doc["dataset"]["p99_tokens"] > 0
    assert doc["reasons"]["max_length"].startswith("p99")
    assert prepare_training(run, workspace=workspace).name == "v2"
    from tools.errors import ConfigError

    with pytest.raises(ConfigError, match="lr_scheduler_type"):
        prepare_training(run, overrides={"lr_scheduler_type": "warp"}, workspace=workspace)
    with pytest.raises(UserError, match="data version v9"):
        prepare_training(run, data_version="v9", workspace=workspace)


def test_not_enough_disk_is_refused(tmp_path):
    with pytest.raises(UserError, match="not enough disk") as e:
        check_free_disk(tmp_path, 10**18)
    assert "save_total_limit" in e.value.one_line()
    check_free_disk(tmp_path, 1)


def test_oom_advice_and_auto_retry_config():
    cfg = TrainConfig(per_device_train_batch_size=8, gradient_accumulation_steps=2, max_length=1024)
    advice = oom_advice(cfg)
    assert "per_device_train_batch_size=4" in advice and "gradient_accumulation_steps=4" in advice
    assert "gradient_checkpointing=true" in advice and "max_length=512" in advice
    smaller = halve_batch(cfg)
    assert (smaller.per_device_train_batch_size, smaller.gradient_accumulation_steps) == (4, 4)
    assert smaller.effective_batch_size == cfg.effective_batch_size
    last = halve_batch(TrainConfig(per_device_train_batch_size=1))
    assert last.gradient_checkpointing and halve_batch(last) is None
    import torch

    assert is_oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not is_oom(ValueError("bad"))


def test_result_of_a_killed_or_oom_run(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TrainConfig(per_device_train_batch_size=4).to_dict()))
    (tmp_path / "process.json").write_text("{}")
    r = training_result(tmp_path, returncode=-9)
    assert r["status"] == "failed" and r["resumable"] is False and "-9" in r["error"]
    (tmp_path / "metrics.json").write_text(json.dumps({"status": "failed", "error_kind": "oom"}))
    assert "per_device_train_batch_size=2" in training_result(tmp_path)["advice"]


def test_events_cut_back_to_a_checkpoint(tmp_path):
    from tools.workspace import append_jsonl

    ev = tmp_path / "events.jsonl"
    for e in [
        make_event("start", step=0),
        *(make_event("log", step=s, loss=1.0) for s in (1, 2, 3)),
        make_event("checkpoint", step=2),
        make_event("end", step=3, status="completed"),
    ]:
        append_jsonl(ev, e)
    with open(ev, "a") as fh:
        fh.write('{"event": "log", "st')  # a torn line from a kill -9
    assert truncate_events(ev, 2) == 2
    rows = [json.loads(line) for line in ev.read_text().splitlines()]
    assert [(r["event"], r["step"]) for r in rows] == [
        ("start", 0),
        ("log", 1),
        ("log", 2),
        ("checkpoint", 2),
    ]
    assert all(list(r)[: len(EVENT_KEYS)] == list(EVENT_KEYS) for r in rows)


def test_last_complete_checkpoint_skips_torn_saves(tmp_path):
    for step, done in ((2, True), (4, True), (6, False)):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        if done:
            (d / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-4"
    assert last_complete_checkpoint(tmp_path / "none") is None


def test_prompt_completion_split_keeps_the_system_prompt():
    row = {
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
        "metadata": {},
    }
    pc = row_to_prompt_completion(row, system_prompt="S")
    assert pc["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "q"}]
    assert pc["completion"] == [{"role": "assistant", "content": "a"}]


def test_the_tuned_model_is_trained_with_the_short_prompt_that_replaces_the_full_one():
    full = (
        "Read the order and reply with only a JSON object with the keys item, size, quantity and milk. " * 3
    )
    line = "Turn a cafe order into a JSON object."
    words = lambda t: len(t.split())  # noqa: E731 - a token counter for the rule
    assert short_system_prompt(full, line, words)[0] == line
    assert short_system_prompt(line + " Be brief.", line, words)[0] == line + " Be brief."  # not 2x longer
    assert short_system_prompt(full, "Orders.", words)[0] == full  # a description too short to instruct
    assert short_system_prompt(None, line, words)[0] is None
    # the answer's closed vocabulary follows the description (it does not count against the 2x rule)
    values = "size: small, large; milk: none, oat."
    assert short_system_prompt(full, line, words, choices=values)[0] == f"{line} {values}"
    assert short_system_prompt(full, "Orders.", words, choices=values)[0] == full
    row = {
        "messages": [
            {"role": "system", "content": full},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a"},
        ]
    }
    assert row_to_prompt_completion(row, line, replaces=full)["prompt"][0]["content"] == line
    general = {**row, "messages": [{"role": "system", "content": "You are helpful."}, *row["messages"][1:]]}
    assert (
        row_to_prompt_completion(general, line, replaces=full)["prompt"][0]["content"] == "You are helpful."
    )


def test_prepare_picks_the_spec_line_as_the_tuned_prompt_and_the_evaluation_sends_it(workspace):
    from test_train_run import SYSTEM

    from tools.evals.systems import tuned_system
    from tools.spec import parse_spec_dict

    run = workspace.create_run("short")
    write_data(run)
    long_system = (
        SYSTEM
        + " Answer with the city's name exactly as it is written in the sentence, never translated, never abbreviated, and never with the country."
    )
    for split in ("train", "val"):
        f = run.path / "data" / "v1" / f"{split}.jsonl"
        f.write_text(f.read_text().replace(json.dumps(SYSTEM)[1:-1], long_system))
    spec_dict = {"spec": "Find the city the traveller went to, as JSON.", "system_prompt": long_system}
    spec_dict["examples"] = [{"input": "I flew to Oslo.", "output": '{"city": "Oslo"}'}]
    import yaml

    run.spec_path.write_text(yaml.safe_dump(spec_dict))
    out = prepare_training(run, workspace=workspace)
    doc = json.loads((out / "config.json").read_text())
    assert doc["system_prompt"] == spec_dict["spec"] and doc["replaces_system_prompt"] == long_system
    assert "tokens shorter" in doc["reasons"]["system_prompt"]
    (out / "adapter").mkdir()
    assert trained_system_prompt(out / "adapter") == spec_dict["spec"]
    system = tuned_system("v1", out / "adapter", parse_spec_dict(spec_dict))
    assert system.system_prompt == spec_dict["spec"] and not system.use_row_system
    # a user's own choice wins and still replaces the full prompt in the rows
    mine = prepare_training(run, overrides={"system_prompt": "Cities as JSON."}, workspace=workspace)
    doc = json.loads((mine / "config.json").read_text())
    assert doc["system_prompt"] == "Cities as JSON." and doc["replaces_system_prompt"] == long_system


def test_progress_state_and_sparkline():
    st = ProgressState()
    for e in [
        make_event("start", step=0, max_steps=4),
        make_event("log", step=1, loss=2.0, eta_s=30),
        make_event("log", step=2, loss=1.0),
        make_event("eval", step=2, eval_loss=1.5),
        make_event("start", step=1, max_steps=4),  # resumed from checkpoint-1: step 2 is redone
        make_event("log", step=2, loss=1.2, eta_s=65),
        make_event("end", step=2, status="stopped"),
    ]:
        st.update(e)
    assert st.losses == [2.0, 1.2] and st.eval_by_step == {} and st.status == "stopped"
    assert "step 2/4" in st.summary()
    assert (
        sparkline([3, 2, 1]) == "█▅▁" and sparkline([]) == "" and len(sparkline(list(range(100)), 20)) == 20
    )
    assert (
        format_duration(65) == "01:05"
        and format_duration(3725) == "1:02:05"
        and format_duration(None) == "--:--"
    )


def test_a_json_task_whose_description_does_not_say_json_is_trained_with_its_shape():
    """The groomer bench's tuned model (43 rows, 30 steps) answered its bookings in sentences under "Pull the
    dog's name, the service and the day out of …": the tuned prompt says the shape, in the examples' key
    order, and the few values a field is chosen from (null as JSON writes it)."""
    from tools.spec import parse_spec_dict
    from tools.train.runner import json_shape

    examples = [
        {"input": f"{d} bath Monday", "output": json.dumps({"dog": d, "service": "bath", "day": None})}
        for d in "AB"
    ]
    spec = parse_spec_dict(
        {
            "spec": "Pull the dog, the service and the day out of a booking text.",
            "examples": examples,
            "output": {"format": "json", "schema": {"properties": {"day": {"enum": ["Monday", None]}}}},
        }
    )
    assert json_shape(spec) == "Answer as JSON with dog, service, day."
    assert spec.output.choices() == "day: Monday, null."
    said = parse_spec_dict(
        {"spec": "Turn an order into a JSON object.", "examples": examples, "output": {"format": "json"}}
    )
    assert json_shape(said) is None  # the description says it already
    assert json_shape(parse_spec_dict({"spec": "Headlines.", "output": {"format": "text"}})) is None
