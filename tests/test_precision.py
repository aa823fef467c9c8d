"""The practice-data writer's number format (agent.precision): int8 weights only where they measured no worse
on the person's own examples, measured on the real embedded model, saved with the probe, never sharing the
float32 answers' cache entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.precision import ENV, choose


def test_int8_is_chosen_only_when_it_is_right_as_often():
    assert choose(7, 7, 0.80, 0.80, 12)[0] == "int8"
    assert choose(8, 7, 0.79, 0.80, 12)[0] == "int8"  # a mean within rounding of float32's
    assert choose(6, 7, 0.90, 0.80, 12)[0] == "float32"  # one fewer right
    assert choose(7, 7, 0.70, 0.80, 12)[0] == "float32"  # as many right, a clearly lower mean
    precision, reason = choose(5, 6, 0.5, 0.6, 12)
    assert (
        precision == "float32"
        and "of your 12 examples the faster copy got 5 right, the full model 6" in reason
    )


def test_the_writer_precision_is_measured_on_the_probe_and_saved(workspace, monkeypatch, embedded_dir):
    pytest.importorskip("ctranslate2")
    from agent.artifacts import load_step, save_step
    from agent.context import AgentContext
    from agent.precision import teacher_precision, teacher_provider
    from agent.probe import run_probe
    from agent.runner import create_run_for
    from tools.spec import load_spec

    monkeypatch.delenv(ENV, raising=False)
    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / "demo_task.yaml")
    run = create_run_for(workspace, spec)
    ctx = AgentContext(workspace)
    student = ctx.provider("student", spec, run.id)
    if student.engine != "ctranslate2":
        pytest.skip(f"CTranslate2 is not in use here: {student.engine_reason}")
    # nothing measured yet: float32, and nothing run
    assert teacher_precision(ctx, spec, run)["precision"] == "float32"
    probe = save_step(run, 0, "probe", run_probe(spec, student))
    got = teacher_precision(ctx, spec, run)
    assert got["n"] == probe["n_test"] == len(probe["rows"])
    assert got["right_float32"] == sum(bool(r["correct"]) for r in probe["rows"])
    assert (
        got["precision"]
        == choose(got["right"], got["right_float32"], got["value"], got["value_float32"], got["n"])[0]
    )
    assert load_step(run, 0, "probe")["teacher_precision"] == got  # saved: measured once per task
    assert teacher_provider(ctx, spec, run)[0].precision == got["precision"]
    f32 = ctx.provider("teacher", spec, run.id)
    int8 = ctx.provider("teacher", spec, run.id, precision="int8")
    assert int8.identity() != f32.identity() and int8.identity()["precision"] == "int8"
    # both answer, each in its own format (int8 weights are quantized when loaded)
    assert int8._loaded()[1].compute_type == "int8" and f32._loaded()[1].compute_type == "float32"
    monkeypatch.setenv(ENV, "float32")
    assert teacher_provider(ctx, spec, run)[0].precision == "float32"
    monkeypatch.setenv(ENV, "int8")
    assert teacher_provider(ctx, spec, run)[0].precision == "int8"
