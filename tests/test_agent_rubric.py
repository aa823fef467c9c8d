"""Rubric rules, answer validation and the `tunewise decide --answers --json` contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent.rubric import APPROACHES, Answers, decide
from tools.errors import ConfigError


def _d(**kw):
    return decide(Answers.from_dict({"spec": "Do the task", **kw}))


def test_knowledge_gap_goes_to_rag():
    d = _d(knowledge_needed=True, examples=300)
    assert d.approach == "rag"
    assert any("retrieval" in r for r in d.reasons)
    assert d.rubric[0].fired


def test_changing_facts_go_to_rag_even_without_explicit_gap():
    assert _d(knowledge_changes="often", examples=300).approach == "rag"


def test_prompt_good_enough_keeps_prompting():
    d = _d(prompted_success="85%", examples=400, goals=["format"])
    assert d.approach == "prompt"
    assert "85%" in d.reasons[0]
    # the behaviour rule ticked beside "keep the prompt" says what outweighed it (walk 17)
    assert d.rubric[3].fired and d.rubric[3].evidence.endswith(
        "— not followed here: a prompt already gets ≥80%"
    )


def test_working_prompt_at_high_volume_with_cost_goals_is_distilled():
    d = _d(prompted_success=0.9, examples=6, goals=["format", "latency"], volume=50_000)
    assert d.approach == "fine-tune"
    assert "train your own small model on the prompt's answers" in d.reasons[0] and d.rubric[-1].fired
    assert not any("distillation" in r for r in d.reasons)  # the walk: jargon
    # the same prompt at low volume stays a prompt
    assert _d(prompted_success=0.9, examples=6, goals=["format", "latency"], volume=500).approach == "prompt"


def test_a_prompt_that_gets_little_right_is_not_distilled_and_the_small_writer_is_named():
    """The appointments bench: "Prompting alone is not enough (0% with examples in the prompt) … train your own
    small model on the prompt's answers" — answers that are 0% right are nothing to copy."""
    d = _d(prompted_success=0.0, examples=12, goals=["format", "cost"], volume=20_000)
    assert d.approach == "fine-tune"
    assert not any("prompt's answers" in r for r in d.reasons)
    assert any("the small model on this computer" in r for r in d.reasons)  # who writes them (few examples)
    # and what that means for its answers, in plain words, with what to do (the thermostat bench: 10 examples,
    # measured by the probe)
    probe = {"measured": True, "n_test": 5, "correct_share": 0.0}
    d = decide(
        Answers.from_dict({"spec": "Do it", "examples": 10, "prompted_success": 0.0, "goals": ["cost"]}),
        probe=probe,
    )
    assert any(
        "same small model that got 0 of 5 fully right" in r and "about 50 examples" in r for r in d.reasons
    )
    d = _d(prompted_success=0.0, examples=300, goals=["format", "cost"], volume=20_000)
    assert d.approach == "fine-tune" and not any("prompt's answers" in r for r in d.reasons)
    assert any("same small model that got 0% right" in r for r in d.reasons)
    hosted = decide(
        Answers.from_dict(
            {
                "spec": "Do it",
                "examples": 12,
                "prompted_success": 0.0,
                "goals": ["format", "cost"],
                "volume": 20_000,
            }
        ),
        teacher="openai:gpt-4o-mini",
    )
    assert not any("same small model" in r for r in hosted.reasons)


def test_few_examples_go_to_few_shot():
    d = _d(examples=12, prompted_success=0.6)
    assert d.approach == "few-shot"
    assert "12 examples" in d.reasons[0]


def test_behaviour_goals_go_to_fine_tune_with_token_saving_reason():
    d = _d(examples=500, goals=["format", "latency"], prompted_success=0.5)
    assert d.approach == "fine-tune"
    assert any("prompt tokens" in r for r in d.reasons)
    assert d.estimate["training_tokens"] > 0 and d.estimate["data_generation_tokens"] > 0


def test_knowledge_plus_behaviour_is_both():
    d = _d(knowledge_needed=True, goals=["style"], examples=300, prompted_success=0.4)
    assert d.approach == "rag+fine-tune"


def test_no_behaviour_need_stays_with_prompting():
    assert _d(examples=300, prompted_success=0.6, goals=["accuracy"]).approach in ("few-shot", "prompt")


def test_few_seed_examples_but_prompting_fails_distills():
    d = _d(examples=6, goals=["format", "latency"], prompted_success=0.2)
    assert d.approach == "fine-tune"
    # who writes them, honestly: with no API key it is the small model itself (the walk read "a bigger model")
    assert any(
        "the small model on this computer" in r and "writes ~200 practice examples" in r for r in d.reasons
    )
    assert not any("bigger model" in r for r in d.reasons)
    few = d.rubric[2]  # the rule for few examples fired and was outweighed: the table says by what
    assert (
        few.fired
        and few.evidence == "you have 6 — not followed here: your examples in a prompt got only 20% right"
    )
    assert d.next_steps[0].startswith("The small model on this computer")
    hosted = decide(
        Answers.from_dict(
            {"spec": "Do the task", "examples": 6, "goals": ["format"], "prompted_success": 0.2}
        ),
        teacher="openai:gpt-5-mini",
    )
    assert any("a bigger model (openai:gpt-5-mini) writes ~200" in r for r in hosted.reasons)
    assert hosted.next_steps[0].startswith("A bigger model (openai:gpt-5-mini) writes")


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"prompted_success": "lots"}, "prompted_success"),
        ({"goals": ["purple"]}, "goals"),  # "speed" is read as latency
        ({"knowledge_changes": "maybe"}, "knowledge_changes"),  # "hourly" is read as often
        ({"volume": "many"}, "volume"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_answers_name_the_field(bad, field):
    with pytest.raises(ConfigError) as e:
        Answers.from_dict({"spec": "x", **bad})
    assert field in str(e.value)


def test_missing_spec_is_an_error():
    with pytest.raises(ConfigError, match="spec"):
        Answers.from_dict({"examples": 3})


def _tunewise(*args, **kw):
    return subprocess.run([sys.executable, "-m", "tui.cli.main", *args], capture_output=True, text=True, **kw)


def test_decide_json_contract(tmp_path):
    f = tmp_path / "answers.yaml"
    f.write_text(
        "spec: Classify support tickets by urgency\nproblem: labels are inconsistent\n"
        "knowledge_needed: no\nknowledge_changes: never\nexamples: 800\nprompted_success: 0.55\n"
        "goals: [format, cost]\nvolume: 30000\nconstraints: [cloud ok]\n"
    )
    r = _tunewise("decide", "--answers", str(f), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["approach"] in APPROACHES and out["approach"] == "fine-tune"
    assert out["reasons"] and out["next_steps"]
    for key in ("data_generation_tokens", "training_tokens", "gpu_hours", "cost_usd", "time_minutes"):
        assert key in out["estimate"]
    assert [r["fired"] for r in out["rubric"]] == [False, False, False, True, True]


def test_decide_bad_answers_file_exits_2_with_one_line(tmp_path):
    f = tmp_path / "answers.yaml"
    f.write_text("spec: x\nprompted_success: [1, 2]\n")
    r = _tunewise("decide", "--answers", str(f), "--json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "prompted_success" in r.stderr and str(f) in r.stderr


def test_estimates_scale_with_how_busy_the_cores_are(workspace, monkeypatch):
    """A rate measured alone is slower on shared cores: the walk's round, estimated at 11 minutes, took 34
    while other work ran. Rates are kept with how busy the cores were and scaled to how busy they are now."""
    import agent.rates as rates

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    rates.record_rate(workspace, "generate_tokens_per_s", 40.0, "measured here")
    rates.record_rate(workspace, "train_tokens_per_s", 100.0, "measured here")
    alone = rates.machine_rates(workspace, measure=False)
    monkeypatch.setattr(rates, "busy", lambda: 2.5)
    shared = rates.machine_rates(workspace, measure=False)
    assert alone["generate_tokens_per_s"] == 40.0 and shared["generate_tokens_per_s"] == 16.0
    a = rates.estimate_path("fine-tune", n_examples=100, rates=alone)
    b = rates.estimate_path("fine-tune", n_examples=100, rates=shared)
    assert b["time_minutes"] > 2 * a["time_minutes"] - 3  # the fixed overhead does not scale
    assert "busy with other work now (about 2.5× slower than alone)" in b["assumptions"]
    assert "busy" not in a["assumptions"]
    # measured while busy, estimated alone: faster than measured
    rates.record_rate(workspace, "generate_tokens_per_s", 16.0, "measured here")
    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    assert rates.machine_rates(workspace, measure=False)["generate_tokens_per_s"] == 40.0


def test_a_step_timed_here_replaces_the_token_rate_guess(workspace, monkeypatch):
    """The walk's estimates were ~3× too long (a quick try estimated at 36 minutes took 8): a finished step's
    seconds per practice example, kept per machine and kind of teacher, are what the next estimate uses."""
    import agent.rates as rates

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    rates.record_rate(workspace, "generate_tokens_per_s", 10.0, "measured here")  # a slow speed test
    guess = rates.estimate_path(
        "fine-tune", n_examples=80, rates=rates.machine_rates(workspace, measure=False)
    )
    rates.record_step_time(workspace, "generate", 600.0, 100, "local:embedded")  # 6 s per example
    rates.record_step_time(workspace, "critique", 300.0, 100, "local")  # 3 s per example
    rates.record_step_time(workspace, "review", 900.0, 100, "local")  # a person's time: not a rate
    timed = rates.estimate_path(
        "fine-tune", n_examples=80, rates=rates.machine_rates(workspace, measure=False)
    )
    assert timed["generate_minutes"] == 12.0  # 80 × (6 + 3) s
    assert guess["generate_minutes"] > 2 * timed["generate_minutes"]
    assert "writing, checking timed on this computer's last run" in timed["assumptions"]
    # a hosted teacher's speed is not this computer's
    hosted = rates.estimate_path(
        "fine-tune",
        n_examples=80,
        teacher="openai:gpt-5-mini",
        rates=rates.machine_rates(workspace, measure=False),
    )
    assert "timed on this computer" not in hosted["assumptions"]
    # timed alone, estimated on shared cores: longer
    monkeypatch.setattr(rates, "busy", lambda: 2.0)
    shared = rates.estimate_path(
        "fine-tune", n_examples=80, rates=rates.machine_rates(workspace, measure=False)
    )
    assert shared["generate_minutes"] == 24.0


def test_a_finished_step_records_its_time_for_the_next_estimate(workspace, monkeypatch):
    """`idempotent_step` times the work it does (not a step read back from its file) per practice example."""
    from types import SimpleNamespace

    import agent.rates as rates
    from agent.nodes.common import idempotent_step

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    monkeypatch.delenv("TUNEWISE_TEACHER", raising=False)
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TUNEWISE_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    run = workspace.create_run("timed")
    ctx = SimpleNamespace(workspace=workspace, run=lambda _id: run)
    state = {"run_id": run.id, "iteration": 1, "task": {"spec": "Sort clinic messages", "n_examples": 40}}
    calls = []

    clock = iter([100.0, 180.0])  # the work takes 80 s by this clock
    monkeypatch.setattr("agent.nodes.common._clock", lambda: next(clock))

    @idempotent_step("generate")
    def work(state, runtime):
        calls.append(1)
        return {"n": 40}

    assert work(state, SimpleNamespace(context=ctx)) == {"n": 40}
    kept = rates.load_rates(workspace)
    assert kept["generate_s_per_example_local"] == 2.0
    assert kept["generate_s_per_example_local_source"] == "measured here (generate of 40 examples)"
    rates.record_rate(workspace, "generate_s_per_example_local", 5.0, "marker")
    work(state, SimpleNamespace(context=ctx))  # read back from its file: nothing timed
    assert len(calls) == 1 and rates.load_rates(workspace)["generate_s_per_example_local"] == 5.0
    # training on the person's own examples writes nothing: its quick "generate" is not a writing speed
    # (walk 20's run recorded 0.0001 s an example, and the next estimate would have said writing is free)
    own = dict(state, iteration=2, decision={"practice": "own"})
    clock = iter([200.0, 200.01])
    work(own, SimpleNamespace(context=ctx))
    assert len(calls) == 2 and rates.load_rates(workspace)["generate_s_per_example_local"] == 5.0


def test_example_tokens_follow_the_persons_examples():
    from agent.rates import example_tokens

    short = [{"input": "Can I move my cleaning to Friday afternoon?", "output": "reschedule"}] * 3
    assert 40 <= example_tokens(short) <= 60
    assert example_tokens([]) == 180 and example_tokens(None) == 180
    long = [{"input": "x" * 800, "output": "y" * 1200}]
    assert example_tokens(long) == 540


@pytest.mark.parametrize(
    "teacher, embedded",
    [
        ("local:embedded", True),
        ("local", True),
        ("local:SmolLM2-135M-Instruct", True),  # the embedded model by its own name
        ("local:/models/qwen2.5-7b", False),
        ("openai:gpt-5-mini", False),
        ("compatible:embedded", False),
    ],
)
def test_one_test_says_whether_the_small_model_here_writes_the_examples(teacher, embedded):
    from agent.rates import _who
    from agent.rubric import writer_words
    from tools.llm.embedded import is_embedded

    assert is_embedded(teacher) is embedded
    assert writer_words(teacher).startswith("the small model on this computer") is embedded
    assert (_who(teacher) == "the small model on this computer") is embedded


def test_an_estimate_before_anything_is_timed_here_gives_a_range(workspace, monkeypatch):
    """Walk 9's writing and checking took 85 minutes for 26.7 estimated (the teacher's prompts carry the
    person's examples; off-task inputs are written again): until those steps are timed on this computer,
    the estimate says how long it could take, and the screens say why."""
    import agent.rates as rates
    from tui.screens.decision import estimate_rows, size_text

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    rates.record_rate(workspace, "generate_tokens_per_s", 40.0, "measured here")
    first = rates.estimate_path(
        "fine-tune", n_examples=80, rates=rates.machine_rates(workspace, measure=False)
    )
    writing = first["generate_minutes"]
    assert abs(first["time_minutes_high"] - (first["time_minutes"] + writing)) <= 1  # writing ×2
    text = size_text("fine-tune", None, first, None, 50, 80)
    assert f"about {first['time_minutes']} minutes, perhaps up to {first['time_minutes_high']}" in text
    assert "has not been timed on this computer yet (its speed comes from a few answers)" in text
    assert "up to 2× as long" in text
    # the writing speed was measured here, the training speed not: the note says which (walk 10 read both)
    assert "This machine's training speed is not measured yet" in text and "writing and training" not in text
    assert (
        "time, all steps (minutes)",
        f"{first['time_minutes']} (perhaps up to {first['time_minutes_high']})",
    ) in estimate_rows(first)
    # once both steps are timed here, a single figure
    rates.record_step_time(workspace, "generate", 600.0, 100, "local")
    rates.record_step_time(workspace, "critique", 300.0, 100, "local")
    timed = rates.estimate_path(
        "fine-tune", n_examples=80, rates=rates.machine_rates(workspace, measure=False)
    )
    assert "time_minutes_high" not in timed
    assert "perhaps" not in size_text("fine-tune", None, timed, None, 50, 80)
    # a hosted teacher's time is not this computer's to time
    hosted = rates.estimate_path(
        "fine-tune",
        n_examples=80,
        teacher="openai:gpt-5-mini",
        rates=rates.machine_rates(workspace, measure=False),
    )
    assert "time_minutes_high" not in hosted


def test_a_path_with_nothing_to_train_is_estimated_on_the_persons_examples(workspace, monkeypatch):
    """Walk 12: the override estimate said 'checked on ~50 examples' to a person who had given 10."""
    import agent.rates as rates

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    r = rates.machine_rates(workspace, measure=False)
    ten = rates.estimate_path("rag", rates=r, n_checked=10)
    unknown = rates.estimate_path("rag", rates=r)
    none = rates.estimate_path("prompt", rates=r, n_checked=0)
    assert "checked on your 10 examples" in ten["assumptions"] and "~50" not in ten["assumptions"]
    assert "~50 examples" in unknown["assumptions"]
    assert "until you give examples" in none["assumptions"] and none["evaluation_tokens"] == 0
    assert ten["evaluation_tokens"] < unknown["evaluation_tokens"]


def test_the_speed_test_waits_for_a_quiet_computer(workspace, monkeypatch):
    """Walk 29 measured 4 tokens/s beside a training job (57 alone), estimated 8 hours for a 30-minute run, and
    the figure stayed for every later estimate. On shared cores the benchmark figure, scaled by the load, is
    used and nothing is kept; on a quiet computer the test runs and is kept."""
    import agent.rates as rates

    class Local:
        name = "local"
        calls = 0

        def describe(self) -> str:
            return "local:embedded"

    def measured(provider, **_):
        provider.calls += 1
        return 30.0

    monkeypatch.setattr(rates, "measure_generation", measured)
    student = Local()
    monkeypatch.setattr(rates, "busy", lambda: 2.5)
    r = rates.machine_rates(workspace, student=student)
    assert student.calls == 0 and "generate_tokens_per_s" not in rates.load_rates(workspace)
    assert "too busy to measure now" in r["generate_tokens_per_s_source"]
    assert r["generate_tokens_per_s"] == rates.BENCH["cpu"]["generate_tokens_per_s"] / 2.5
    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    r = rates.machine_rates(workspace, student=student)
    assert student.calls == 1 and rates.load_rates(workspace)["generate_tokens_per_s"] == 30.0


def test_a_prompt_trial_is_estimated_by_the_answers_it_writes_and_then_by_its_own_time(
    workspace, monkeypatch
):
    """Walk 28: 30 bookings, "about 1 minute", and the trial took 7½: it answers the other 15 once per prompt
    tried (0, 2, 4, 6 examples shown: 60 answers), each allowed to run long. After a trial here, its time per
    answer is what the next estimate uses."""
    import agent.rates as rates

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    assert rates.trial_answers("few-shot", 30) == 60 and rates.trial_answers("prompt", 6) == 6
    assert rates.trial_answers("rag", 10) == 20 and rates.trial_answers("prompt", 0) == 0
    r = rates.machine_rates(workspace, measure=False)
    guess = rates.estimate_path("few-shot", rates=r, n_checked=30, tokens_per_example=55)
    assert guess["time_minutes"] >= 3 and "(60 answers)" in guess["assumptions"]
    rates.record_trial_time(workspace, 450.0, 60, "local:embedded")  # 7.5 s an answer
    timed = rates.estimate_path("few-shot", rates=rates.machine_rates(workspace, measure=False), n_checked=30)
    assert 8 <= timed["time_minutes"] <= 9  # 60 answers × 7.5 s, and a minute for loading
    assert "timed on this computer's last prompt trial" in timed["assumptions"]


def test_the_quick_try_speaks_of_the_built_in_model_only_when_it_writes_the_examples(workspace, monkeypatch):
    """Walk 13: after an API key was pasted, the quick try still said 'with the built-in model about half of
    the examples pass the checks'."""
    import agent.rates as rates
    from tui.screens.decision import size_text

    monkeypatch.setattr(rates, "busy", lambda: 1.0)
    r = rates.machine_rates(workspace, measure=False)
    local = rates.estimate_path("fine-tune", n_examples=80, rates=r)
    hosted = rates.estimate_path("fine-tune", n_examples=80, rates=r, teacher="openai:gpt-5-mini")
    assert local["local_teacher"] and not hosted["local_teacher"]
    assert "built-in model" in size_text("fine-tune", None, local, local, 80, 200)
    assert "built-in model" not in size_text("fine-tune", None, hosted, hosted, 80, 200)


def test_few_examples_advice_says_plainly_when_the_prompt_with_examples_was_measured_at_nothing():
    """Session 15's walk (the thermostat task, 10 examples, no goal ticked): "My advice: a prompt with
    examples" above "measured on 5 of your examples: 0 fully right"."""
    probe = {"measured": True, "n_test": 5, "correct_share": 0.0}
    d = decide(Answers.from_dict({"spec": "Do it", "examples": 10, "prompted_success": 0.0}), probe=probe)
    assert d.approach == "few-shot"
    assert any("got 0 of 5 fully right" in r and "cannot do this task yet" in r for r in d.reasons)
    fine = decide(Answers.from_dict({"spec": "Do it", "examples": 10, "prompted_success": 0.6}), probe=probe)
    assert not any("cannot do this task yet" in r for r in fine.reasons)


def test_a_writer_that_gets_the_examples_wrong_blocks_a_few_and_leaves_many_to_train_on_alone():
    """Walk 16 (thermostat, 10 examples, offline): "My advice: train your own small model" above "expect most
    of them to be wrong", "with instructions … scores only 0%" where the probe had 5 examples in the prompt,
    and "set an API key" for data that must stay here; and its "add about 50 examples" would have trained on
    200 wrong practice answers beside them. Now: fewer than 50 → not yet, said once; 50 or more → the model
    trains on the person's own examples and nothing is written (nor estimated as written)."""
    probe = {
        "measured": True,
        "n_test": 5,
        "correct_share": 0.0,
        "n_shots": 5,
        "student": "local:embedded",
        "with_documents": False,
    }

    def answers(n: int, constraints=("offline",)) -> Answers:
        return Answers.from_dict(
            {
                "spec": "Fahrenheit to Celsius",
                "examples": n,
                "prompted_success": 0.0,
                "goals": ["latency", "cost"],
                "volume": 50_000,
                "constraints": list(constraints),
            }
        )

    few = decide(answers(10), probe=probe, output_format="text")
    assert few.approach == "fine-tune" and few.practice == "blocked"
    said = "\n".join(few.reasons)
    assert "got 0 of 5 fully right" in said
    assert "scores only" not in said and "many will not pass the checks" not in said
    assert "do not start yet" in said and "about 50" in said and "API key" not in said  # offline
    assert "press e" in few.next_steps[0] and not any("writes ~200–500" in step for step in few.next_steps)
    some = dict(probe, correct_share=0.4)  # 2 of 5: written, and the first reason says how it was measured
    written = decide(
        Answers.from_dict({"spec": "x", "examples": 10, "prompted_success": 0.4, "goals": ["cost"]}),
        probe=some,
        output_format="text",
    )
    assert written.practice == "written"
    assert (
        "with 5 of your examples in its prompt the model you start from got 2 of 5 fully right"
        in (written.reasons[0])
    )
    cloud = decide(answers(10, ()), probe=probe, output_format="text")
    assert cloud.practice == "blocked" and any("set an API key" in r for r in cloud.reasons)

    many = decide(answers(60), probe=probe, output_format="text")
    assert many.practice == "own"
    assert any("your own 60 examples are what your model trains on" in r for r in many.reasons)
    assert many.estimate["data_generation_tokens"] == 0 and many.estimate["generate_minutes"] == 0
    assert "your own 60 examples" in many.estimate["assumptions"]
    assert "trained on your examples" in many.next_steps[0]
    from tui.screens.decision import estimate_rows

    assert any(v == "none: your own examples" for _, v in estimate_rows(many.estimate))
    assert not any(v == "none: your own examples" for _, v in estimate_rows(few.estimate))
    # a label task plans each answer, a hosted model writes well: the usual way, written
    assert decide(answers(10), probe=probe, output_format="label").practice == "written"
    assert decide(answers(10), probe=probe, teacher="openai:gpt-4o-mini", output_format="text").practice == (
        "written"
    )
    # without the format (callers that do not know it) nothing is blocked
    assert decide(answers(10), probe=probe).practice == "written"


def test_a_measured_prompt_counts_answers_right_not_parts_right():
    """Walk 26's groomer: 3 of 12 bookings fully right, 67% of the fields right, and the advice was "a prompt
    with examples" on the 67% — a booking with the wrong dog is a wrong booking. The rubric reads the share of
    answers right; the evidence still shows both."""
    from agent.probe import apply_probe

    a = Answers.from_dict({"spec": "x", "examples": 30, "goals": ["format", "cost", "privacy"], "volume": 15})
    probe = {
        "measured": True,
        "prompted_success": 0.667,
        "correct_share": 0.25,
        "metric": "json_field_accuracy",
        "n_test": 12,
    }
    apply_probe(a, probe)
    assert a.prompted_success == 0.25
    d = decide(a, probe=probe, output_format="json")
    assert d.approach == "fine-tune"
    few = next(r for r in d.rubric if r.rule.startswith("Fewer than"))
    assert (
        few.fired
        and "not followed here: your examples in a prompt got only 3 of 12 fully right" in few.evidence
    )
    kept = next(r for r in d.rubric if r.rule.startswith("Already right"))
    assert "3 fully right, 67% of the fields right" in kept.evidence


def test_not_yet_says_how_long_the_missing_examples_take_at_the_persons_volume():
    """Walk 29: 14 examples, about 10 requests a week, told to come back with about 50 and left wondering how
    long that is. The not-yet advice says it at the volume the person gave (nothing when none was given)."""
    from agent.rubric import collect_time

    probe = {"measured": True, "student": "local:embedded", "n_test": 12, "correct_share": 0.08, "n_shots": 6}
    probe |= {"prompted_success": 0.29, "metric": "json_field_accuracy"}
    probe["fields"] = {
        "trade": {"right": 2, "n": 12, "chance": 0.2},
        "urgent": {"right": 6, "n": 12, "chance": 0.5},
    }
    a = Answers.from_dict(
        {
            "spec": "Sort repairs",
            "examples": 14,
            "volume": 2,
            "goals": ["format", "privacy"],
            "prompted_success": 0.08,
        }
    )
    d = decide(a, probe=probe, output_format="json")
    said = " ".join(d.reasons)
    assert d.practice == "blocked" and "until you have about 50 (press e)" in said
    assert "; at your 2 requests a day, the 36 more take about 3 weeks to collect" in said
    assert collect_time(Answers.from_dict({"spec": "x", "examples": 14})) == ""  # no volume given
    assert collect_time(Answers.from_dict({"spec": "x", "examples": 60, "volume": 3})) == ""  # enough already
