"""The agent graph: interrupts and resume across processes, rollback routing, Postgres sessions, and an
end-to-end headless run on the embedded model (few examples, few training steps)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent.context import AgentContext
from agent.graph import route_after_analyze, route_approach
from agent.runner import create_run_for, drive, initial_state, session_state
from tools.spec import parse_spec_dict

REPO = Path(__file__).resolve().parents[1]

MICRO_TASK = {
    "name": "micro",
    "spec": "Extract the person's name and city from a sentence as JSON.",
    "system_prompt": 'Reply with only a JSON object with keys "name" and "city".',
    "examples": [
        {"input": "Anna lives in Porto.", "output": '{"name": "Anna", "city": "Porto"}'},
        {"input": "Tom moved to Leeds.", "output": '{"name": "Tom", "city": "Leeds"}'},
        {"input": "Wei works in Taipei.", "output": '{"name": "Wei", "city": "Taipei"}'},
        {"input": "Kofi was born in Kumasi.", "output": '{"name": "Kofi", "city": "Kumasi"}'},
    ],
    "output": {
        "format": "json",
        "schema": {"type": "object", "required": ["name", "city"]},
        "grounded": True,
    },
    # a prompt that works, needed cheaper at high volume: the rubric says distil it (fine-tune)
    "answers": {
        "knowledge_needed": False,
        "examples": 4,
        "goals": ["format", "latency"],
        "prompted_success": 0.9,
        "volume": 50000,
    },
    "n_examples": 10,
    "max_iterations": 1,
}


def test_every_role_spends_from_one_budget_set_by_the_interview(workspace):
    from tools.errors import BudgetExceeded

    spec = parse_spec_dict({**MICRO_TASK, "budget": 0.5})
    run = create_run_for(workspace, spec)
    ctx = AgentContext(workspace)  # no caller limit: the task's (the interview's answer) applies
    teacher_budget, judge_budget = ctx.budget(run.id, spec), ctx.budget(run.id, spec)
    assert teacher_budget is judge_budget and teacher_budget.limit_usd == 0.5
    teacher_budget.charge(0.4, "teacher")
    with pytest.raises(BudgetExceeded):
        judge_budget.reserve(0.2, "judge")
    saved = json.loads(run.budget_path.read_text())
    assert saved["total"] == pytest.approx(0.4) and saved["limit_usd"] == 0.5


def test_routing_functions():
    assert route_approach({"approach": "prompt"}) == "prompt"
    assert route_approach({"approach": "few-shot"}) == "prompt"
    assert route_approach({"approach": "rag"}) == "rag"
    assert route_approach({"approach": "fine-tune"}) == "generate"
    assert route_approach({"approach": "rag+fine-tune"}) == "generate"
    assert route_approach({"approach": "fine-tune", "rewind": {"spec": "x"}}) == "interview"
    assert route_after_analyze({"stop_reason": "success"}) == "report"
    assert route_after_analyze({"history": [{"rolled_back": True}]}) == "generate"  # new data, always
    assert route_after_analyze({"history": [{"rolled_back": False}]}) == "generate"


def _round_two(run, spec, workspace, *, best_before: float):
    """(state, runtime) of the analyze step after round 2 of 3, round 1's score `best_before` (data v1 good)."""
    state = {
        "run_id": run.id,
        "task": spec.to_yaml_dict(),
        "iteration": 2,
        "max_iterations": 3,
        "data_version": "v2",
        "good_data_version": "v1",
        "train_version": "v2",
        "eval_version": "v2",
        "history": [{"iteration": 1, "primary": best_before, "rolled_back": False}],
        "mix": {},
    }

    class R:
        context = AgentContext(workspace=workspace)

    return state, R()


def test_regression_triggers_rollback_and_gentler_mix(workspace):
    """Iteration 2 regressed on the regression set: analyze rolls back to the last good data version,
    raises the general share, halves the learning rate, tightens the on-task filter, and routes to new
    (targeted) data — never to retraining the same data alone."""
    from agent.artifacts import save_step
    from agent.nodes.distill import analyze

    spec = parse_spec_dict(MICRO_TASK)
    run = create_run_for(workspace, spec)
    save_step(
        run,
        2,
        "evaluate",
        {
            "verdict": {"passed": False, "reasons": ["regression set lost 2 examples"]},
            "candidate": "tuned v2",
            "systems": {"tuned v2": {"mean": 0.7}},
            "regressed_ids": ["a", "b"],
            "forgetting": {},
        },
    )
    state, runtime = _round_two(run, spec, workspace, best_before=0.6)

    update = analyze(state, runtime)
    assert update["data_version"] == "v1"
    assert update["mix"]["general_share"] == pytest.approx(spec.general_share + 0.05)
    assert update["mix"]["training"]["learning_rate"] == pytest.approx(1e-4)
    assert update["history"][0]["rolled_back"] and "rolled back" in update["history"][0]["note"]
    # in words (walk 8 read "regression/forgetting: … general share → 12%, lr → 1.0e-04")
    note = update["history"][0]["note"]
    assert "more general examples mixed in" in note and "a gentler learning rate" in note
    assert "lr →" not in note and "general share" not in note
    assert update["mix"]["on_task_strictness"] == pytest.approx(0.1)
    # no failures to target: nothing new to learn from, so the loop stops instead of retraining the same data
    assert update["stop_reason"] == "no_failures_to_target"
    assert route_after_analyze({**state, **update}) == "report"


def test_a_round_is_rolled_back_only_for_a_loss_beyond_noise(workspace):
    """The languages bench rolled round 2 back for 1 must-keep row of 4 (a loss the verdict called noise) and 5 of
    9 test rows right against 6; round 2 was the better model on the 63-row private test (0.59 against 0.30)."""
    from agent.artifacts import save_step
    from agent.nodes.distill import analyze

    spec = parse_spec_dict(MICRO_TASK | {"max_iterations": 3})
    run = create_run_for(workspace, spec)
    state, runtime = _round_two(run, spec, workspace, best_before=0.667)

    def analyzed(ci_top: float, regression_ok: bool) -> dict:
        save_step(
            run,
            2,
            "evaluate",
            {
                "verdict": {"passed": False, "checks": {"regression": regression_ok}},
                "candidate": "tuned v2",
                "systems": {"tuned v2": {"mean": 0.556, "ci": [0.22, ci_top], "n": 9}},
                "regressed_ids": ["a"],
                "forgetting": {},
                "targets": [],
                "practised": 4,
            },
        )
        return analyze(state, runtime)

    kept = analyzed(0.89, True)  # within noise on both counts: round 2 stands, and is the model kept
    assert not kept["history"][0]["rolled_back"] and kept["best_train_version"] == "v2"
    assert kept["good_data_version"] == "v2"
    worse = analyzed(0.6, True)  # even the top of its 95% CI is below round 1's score
    assert worse["history"][0]["rolled_back"] and "worse than the round before" in worse["history"][0]["note"]
    lost = analyzed(0.89, False)  # a must-keep loss the verdict counts
    assert lost["history"][0]["rolled_back"] and "must keep right" in lost["history"][0]["note"]
    assert "best_train_version" not in worse and "best_train_version" not in lost
    analyzed(0.89, True)  # round 2 stands again …
    last = analyze(
        {**state, "max_iterations": 2}, runtime
    )  # … as the last round: the log read "iteration 2: "
    assert last["stop_reason"] == "iteration_limit" and last["log"] == [
        "analyze: iteration 2: that was the last round (2 of 2)"
    ]


def test_interactive_interview_interrupts_and_resumes_across_processes(workspace):
    """Process 1 starts a session and stops at the first question; process 2 answers it from the
    SQLite checkpoint and gets the next question."""
    spec = parse_spec_dict({"spec": "Classify tickets by urgency"})
    run = create_run_for(workspace, spec)
    script = textwrap.dedent(f"""
        import json, sys
        from langgraph.types import Command
        from agent.context import AgentContext
        from agent.runner import drive, initial_state
        from tools.spec import parse_spec_dict
        from tools.workspace import Workspace
        ws = Workspace({str(workspace.path)!r})
        ctx = AgentContext(workspace=ws)
        if sys.argv[1] == "start":
            st = initial_state({run.id!r}, parse_spec_dict({{"spec": "Classify tickets by urgency"}}), headless=False)
            out = drive(ws, {run.id!r}, st, ctx)
        else:
            out = drive(ws, {run.id!r}, Command(resume=sys.argv[2]), ctx)
        print(json.dumps(out["interrupt"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.run(
        [sys.executable, "-c", script, "start"], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert first.returncode == 0, first.stderr
    q1 = json.loads(first.stdout.strip().splitlines()[-1])
    assert q1["kind"] == "question" and q1["key"] == "problem"  # the spec came with the task
    second = subprocess.run(
        [sys.executable, "-c", script, "answer", "labels are inconsistent"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert second.returncode == 0, second.stderr
    q2 = json.loads(second.stdout.strip().splitlines()[-1])
    assert q2["key"] == "knowledge_needed" and q2["choices"] == ["no", "yes"]
    # an invalid answer is re-asked with the reason, not a crash
    third = subprocess.run(
        [sys.executable, "-c", script, "answer", "perhaps"], capture_output=True, text=True, env=env, cwd=REPO
    )
    q3 = json.loads(third.stdout.strip().splitlines()[-1])
    assert q3["key"] == "knowledge_needed" and "yes/no" in q3["error"]
    st = session_state(workspace, run.id)
    assert (
        st["values"]["answers"]["problem"] == "labels are inconsistent" if "answers" in st["values"] else True
    )
    assert st["next"] == ["interview"]


def test_headless_prompt_branch_writes_best_prompt(workspace, embedded):
    """A task whose answers point to prompting ends in the prompt branch with a real, chosen prompt."""
    task = dict(MICRO_TASK, answers={"examples": 4, "goals": ["accuracy"], "prompted_success": 0.9})
    spec = parse_spec_dict(task)
    run = create_run_for(workspace, spec)
    events: list[tuple[str, dict]] = []
    ctx = AgentContext(workspace=workspace, on_event=lambda kind, data: events.append((kind, data)))
    out = drive(workspace, run.id, initial_state(run.id, spec, headless=True), ctx)
    assert out["values"]["approach"] == "prompt"
    assert out["values"]["stop_reason"] == "approach:prompt"
    chosen = json.loads((run.path / "prompt.json").read_text())
    assert {t["shots"] for t in chosen["trials"]} == {0, 2}
    # walk 17 watched two minutes of "working…": each prompt tried is counted and said as it finishes
    tried = [d for k, d in events if k == "progress" and d.get("step") == "prompt"]
    assert [(d["done"], d["total"]) for d in tried] == [(2, 4), (4, 4)]
    assert tried[1]["text"].startswith("with 2 of your examples in the prompt: ")
    # the chosen prompt's wrong answers are kept and said, to be turned into rules (walk 17's leftover)
    best = chosen["best"]
    assert len(best["misses"]) == best["n_held_out"] - best["correct"]
    assert all(m["got"] != m["expected"] for m in best["misses"])
    assert ("## Where the chosen prompt went wrong" in (run.path / "prompt.md").read_text()) == bool(
        best["misses"]
    )
    assert "## System" in (run.path / "prompt.md").read_text()
    decision = json.loads(run.decision_path.read_text())
    assert decision["approach"] == "prompt" and decision["reasons"]


def _events(path: Path) -> list[dict]:
    return (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    )


def test_headless_run_survives_kill_9_and_resumes(tmp_path):
    """`tunewise run` end to end on the embedded model — interview → decide → generate → critique → review →
    split → train → evaluate → analyze → report — killed with SIGKILL mid-training, then `tunewise resume`
    finishes it without regenerating data and with no duplicated training steps."""
    import signal

    import yaml

    inputs = tmp_path / "inputs.txt"
    inputs.write_text(
        "\n".join(
            f"{n} lives in {c}."
            for n, c in [
                ("Maria", "Lisbon"),
                ("Jonas", "Berlin"),
                ("Aisha", "Nairobi"),
                ("Kenji", "Osaka"),
                ("Lucia", "Madrid"),
                ("Omar", "Cairo"),
                ("Elena", "Athens"),
                ("Diego", "Lima"),
                ("Sofia", "Rome"),
                ("Liam", "Dublin"),
                ("Chen", "Shanghai"),
                ("Noah", "Toronto"),
            ]
        )
        + "\n"
    )
    task = dict(
        MICRO_TASK,
        inputs=str(inputs),
        training={
            "save_steps": 2,
            "eval_steps": 2,
            "per_device_train_batch_size": 2,
            "max_length": 96,
            "early_stopping_patience": 0,
        },
    )
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    cmd = [sys.executable, "-m", "tui.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run_dir = tmp_path / ".tunewise" / "runs" / "e2e"
    proc = subprocess.Popen(
        [*cmd, "run", "task.yaml", "--yes", "--smoke", "--train-max-steps", "6", "--run-id", "e2e"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    train_dir = run_dir / "train" / "v1"
    deadline = time.time() + 600
    killed = False
    while time.time() < deadline and proc.poll() is None:
        if any(e.get("event") == "checkpoint" for e in _events(train_dir / "events.jsonl")):
            os.kill(proc.pid, signal.SIGKILL)
            pid = json.loads((train_dir / "process.json").read_text())["pid"]
            try:
                os.killpg(pid, signal.SIGKILL)  # the trainer runs in its own session: kill it too
            except ProcessLookupError:
                pass
            killed = True
            break
        time.sleep(0.3)
    proc.wait(timeout=60)
    assert killed, f"never saw a checkpoint; output:\n{proc.stdout.read()[-3000:]}"
    generated = (run_dir / "work" / "iter1" / "generate.json").read_text()
    gen_journal = sorted((run_dir / "work" / "iter1" / "gen").glob("*"))
    journal_sizes = {p.name: p.stat().st_size for p in gen_journal if p.is_file()}

    r = subprocess.run(
        [*cmd, "resume", "e2e"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    # exit code = the verdict: 0 passed, 3 failed or inconclusive
    assert r.returncode == (0 if "Verdict: PASS" in r.stdout else 3), r.stdout[-3000:] + r.stderr[-3000:]
    assert "resume e2e at train" in r.stdout
    # no paid work redone: the generation result and its journal are untouched
    assert (run_dir / "work" / "iter1" / "generate.json").read_text() == generated
    assert {p.name: p.stat().st_size for p in gen_journal if p.is_file()} == journal_sizes
    steps = [e["step"] for e in _events(train_dir / "events.jsonl") if e.get("event") == "log"]
    assert steps and len(steps) == len(set(steps)) and max(steps) == 6
    assert json.loads((train_dir / "metrics.json").read_text())["final_step"] == 6
    assert (train_dir / "adapter" / "adapter_config.json").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stop_reason"] in ("success", "iteration_limit")
    systems = {row["system"] for row in summary["summary"]["rows"]}
    assert {"base zero-shot", "base few-shot", "tuned v1"} <= systems
    assert "Stopped because" in (run_dir / "report.md").read_text()
    assert "Verdict:" in r.stdout
    # a finished session resumes to a no-op
    r2 = subprocess.run(
        [*cmd, "resume", "e2e"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r2.returncode == r.returncode and "is finished" in r2.stdout


@pytest.fixture
def postgres_url(tmp_path):
    initdb = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    if not initdb:
        pytest.skip("PostgreSQL server binaries are not installed (Debian package `postgresql`)")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    try:
        import psycopg  # noqa: F401
        from langgraph.checkpoint.postgres import PostgresSaver  # noqa: F401
    except ImportError:
        pytest.skip(
            "psycopg / langgraph-checkpoint-postgres not installed (pip install 'tunewise[postgres]')"
        )
    import tempfile

    # not under tmp_path: pytest's directories are private to root, and the server runs as `postgres`
    base = Path(tempfile.mkdtemp(prefix="tunewise-pg-"))
    os.chmod(base, 0o755)
    data = base / "pg"
    data.mkdir()
    run_as = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    from tools.llm.server import free_port

    port = free_port()
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
            "-l",
            str(data / "log"),
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.postgres
def test_sessions_in_postgres(workspace, postgres_url, monkeypatch):
    from langgraph.types import Command

    from agent.sessions import list_sessions

    monkeypatch.setenv("TUNEWISE_DB_URL", postgres_url)
    spec = parse_spec_dict({"spec": "Summarise support tickets"})
    run = create_run_for(workspace, spec)
    ctx = AgentContext(workspace=workspace)
    out = drive(workspace, run.id, initial_state(run.id, spec, headless=False), ctx)
    assert out["interrupt"]["key"] == "problem"
    out = drive(workspace, run.id, Command(resume="too verbose"), ctx)
    assert out["interrupt"]["key"] == "knowledge_needed"
    rows = list_sessions(workspace)
    assert [r["id"] for r in rows] == [run.id] and rows[0]["pending"] == "question"
    # nothing went to SQLite
    assert not workspace.sessions_db.exists()


def test_split_evens_out_the_labels_in_train_only_and_the_floor_counts_unique_rows(workspace):
    """A label task whose kept data leans on one label: train gets repeats of the rarer label's rows (never a
    held-out split), the log and report.md say so in words, and repeats do not count toward the floor."""
    from agent.artifacts import save_step, work_dir
    from agent.nodes.report import data_lines
    from agent.nodes.split import MIN_TRAIN_ROWS, split
    from tools.data.coverage import REPEAT_FLAG
    from tools.data.schema import make_row
    from tools.data.versions import read_split
    from tools.workspace import atomic_write_jsonl

    spec = parse_spec_dict(
        {
            "name": "route",
            "spec": "Route a support message to a team.",
            "system_prompt": "Route the customer's support message: reply billing or shipping.",
            "output": {"format": "label", "labels": ["billing", "shipping"]},
            "examples": [
                {"input": "I was charged twice.", "output": "billing"},
                {"input": "Where is my parcel?", "output": "shipping"},
            ],
        }
    )
    run = create_run_for(workspace, spec)

    class R:
        context = AgentContext(workspace=workspace)

    state = {"run_id": run.id, "task": spec.to_yaml_dict(), "iteration": 1, "approach": "fine-tune"}
    rows = [make_row(f"Refund request number {i} for order {i * 7}.", "billing") for i in range(40)]
    rows += [make_row(f"Parcel {i} has not arrived at street {i * 3}.", "shipping") for i in range(8)]
    general = [make_row(f"Recommend novel {i}.", f"Read book {i}.", source="general") for i in range(4)]
    atomic_write_jsonl(work_dir(run, 1) / "reviewed.jsonl", rows + general)
    save_step(run, 1, "generate", {"n": 60, "teacher": 60})
    save_step(run, 1, "critique", {"kept": 48, "generated": 60, "judged": False})
    update = split(state, R())
    version = update["data_version"]
    train = read_split(run, version, "train")
    repeats = [r for r in train if REPEAT_FLAG in r["metadata"]["flags"]]
    labels = [r["messages"][-1]["content"] for r in train]
    assert repeats and all(r["messages"][-1]["content"] == "shipping" for r in repeats)
    assert labels.count("shipping") == labels.count("billing") // 2
    for held_out in ("val", "test", "regression", "golden"):
        kept_out = read_split(run, version, held_out)
        assert not any(REPEAT_FLAG in r["metadata"]["flags"] for r in kept_out)
        assert not any(r["metadata"]["source"] == "general" for r in kept_out)  # never tested on
    assert sum(r["metadata"]["source"] == "general" for r in train) == 4  # they train
    assert any("labels evened out in train" in line for line in update["log"])
    assert "stop_reason" not in update  # enough unique rows
    assert any("the rarer labels' examples were repeated" in line for line in data_lines(run, 1))
    # the floor counts rows, not repeats: 12 unique with their repeats is still too few
    run2 = create_run_for(workspace, spec)
    few = rows[:10] + rows[40:42]
    atomic_write_jsonl(work_dir(run2, 1) / "reviewed.jsonl", few)
    save_step(run2, 1, "critique", {"kept": 12, "generated": 60, "judged": False})
    update2 = split({**state, "run_id": run2.id}, R())
    assert update2["stop_reason"] == "too_few_examples" and f"at least {MIN_TRAIN_ROWS}" in update2["log"][-1]
    from agent.nodes.report import too_few_plain

    sentence = too_few_plain(run2, {**state, "run_id": run2.id})["sentence"]
    # "Only 18 examples held up … (25 of the 50 … passed)" puzzled the walk: it says where the other 7 went
    assert (
        "of the 60 written for you (12 passed the checks; the rest of those are kept aside to test"
        in sentence
    )
    # how to get a bigger model, in steps a person can take (not a task-file key)
    advice = too_few_plain(run2, {**state, "run_id": run2.id})["recommendation"]
    assert "start tunewise with an OpenAI or Anthropic API key set" in advice
    assert advice.startswith("Keep using your prompt")  # no measurement says otherwise
    # when the decision measured the prompt at 17%, "keep using your prompt" would contradict it
    save_step(run2, 0, "probe", {"measured": True, "prompted_success": 1 / 6})
    advice = too_few_plain(run2, {**state, "run_id": run2.id})["recommendation"]
    assert advice.startswith("Your prompt got only 17% right when it was checked, so it is no answer either")
    # the walk: "'your prompt' — I never wrote a prompt"
    nobodys = {
        **state,
        "run_id": run2.id,
        "task": {k: v for k, v in state["task"].items() if k != "system_prompt"},
    }
    said = too_few_plain(run2, nobodys)
    assert "your prompt" not in said["sentence"] + said["recommendation"]
    assert said["recommendation"].startswith("A prompt with your examples got only 17% right")
    # data that must stay here: no API key in the advice (the walk's clinic)
    private = {**state, "run_id": run2.id, "task": {**state["task"], "answers": {"constraints": ["offline"]}}}
    advice = too_few_plain(run2, private)["recommendation"]
    assert "API key" not in advice and "more examples yourself, about 50 in all" in advice


def test_too_few_examples_stop_before_training_and_the_report_says_why_in_words(workspace):
    """The routing bench once trained on 3 rows; with fewer than MIN_TRAIN_ROWS to learn from, the run stops
    before training and the report (and its plain sentence) says why and what to do."""
    from agent.artifacts import save_step, work_dir
    from agent.graph import route_after_split
    from agent.nodes.report import report
    from agent.nodes.split import MIN_TRAIN_ROWS, split
    from tools.data.schema import make_row
    from tools.workspace import atomic_write_jsonl

    spec = parse_spec_dict(MICRO_TASK)
    run = create_run_for(workspace, spec)

    class R:
        context = AgentContext(workspace=workspace)

    state = {"run_id": run.id, "task": spec.to_yaml_dict(), "iteration": 1, "approach": "fine-tune"}
    rows = [
        make_row(f"Person {i} lives in Town{i}.", json.dumps({"name": f"P{i}", "city": f"T{i}"}))
        for i in range(6)
    ]
    atomic_write_jsonl(work_dir(run, 1) / "reviewed.jsonl", rows)
    save_step(run, 1, "critique", {"kept": 6, "generated": 120, "judged": False})
    update = split(state, R())
    assert update["stop_reason"] == "too_few_examples" and route_after_split({**state, **update}) == "report"
    assert f"at least {MIN_TRAIN_ROWS} are needed" in update["log"][-1]
    done = report({**state, **update}, R())
    text = (run.path / "report.md").read_text()
    assert "Only " in text and "of the 120 written for you (6 passed the checks" in text
    assert "none was trained" in text and "too few examples held up after checking" in text
    assert done["stop_reason"] == "too_few_examples"
    # nothing trained: the prompt to use for now is in the report and in prompt.md (walk 8 got neither)
    assert "## The prompt to use for now" in text and (run.path / "prompt.md").exists()
    # enough rows: the run goes on to training
    run2 = create_run_for(workspace, spec)
    more = [
        make_row(f"Person {i} lives in Town{i}.", json.dumps({"name": f"P{i}", "city": f"T{i}"}))
        for i in range(60)
    ]
    atomic_write_jsonl(work_dir(run2, 1) / "reviewed.jsonl", more)
    update2 = split({**state, "run_id": run2.id}, R())
    assert "stop_reason" not in update2 and route_after_split({**state, **update2}) == "train"


def test_a_quit_session_is_listed_stopped_not_running(workspace):
    """Every session starts with status "running"; after a quit nothing runs it (the walk's Home said
    "running" for a session it had quit). It is "stopped" until a process holds its run again."""
    from agent.context import Cancelled
    from agent.sessions import list_sessions

    spec = parse_spec_dict({"spec": "Summarise support tickets", "examples": []})
    run = create_run_for(workspace, spec)
    ctx = AgentContext(workspace=workspace)
    with pytest.raises(Cancelled):
        drive(
            workspace,
            run.id,
            initial_state(run.id, spec, headless=True),
            ctx,
            on_update=lambda *_: ctx.cancel(),
        )
    (row,) = list_sessions(workspace)
    assert row["next"] and row["status"] == "stopped"
    with run.lock():  # a process working on it again
        assert list_sessions(workspace)[0]["status"] == "running"


def test_rejecting_every_example_stops_with_the_too_few_advice_not_an_error(workspace):
    """The walk's way out of poor data ("Don't train: drop the unread too") leaves nothing to split: the run
    stops on too few examples and says the person rejected them, instead of stopping on an error."""
    from types import SimpleNamespace

    from agent.artifacts import save_step, work_dir
    from agent.nodes.report import too_few_plain
    from agent.nodes.split import TOO_FEW, split
    from tools.workspace import atomic_write_jsonl

    spec = parse_spec_dict(
        {"spec": "Route a support message.", "system_prompt": "Reply billing or shipping."}
    )
    run = create_run_for(workspace, spec)
    atomic_write_jsonl(work_dir(run, 1) / "reviewed.jsonl", [])
    save_step(run, 1, "critique", {"kept": 40, "generated": 80})
    rejected = [{"id": f"r{i}", "action": "reject"} for i in range(40)]
    save_step(run, 1, "review", {"mode": "person", "decisions": rejected, "kept": 0})
    state = {"run_id": run.id, "task": spec.to_yaml_dict(), "iteration": 1, "approach": "fine-tune"}
    ctx = SimpleNamespace(run=lambda _id: run, workspace=workspace, quick=True, emit=lambda *a, **k: None)
    out = split(state, SimpleNamespace(context=ctx))
    assert out["stop_reason"] == TOO_FEW and out["data_version"] is None
    said = too_few_plain(run, state)["sentence"]
    assert "you rejected 40 of them" in said and "kept aside" not in said
    # walk 8 read "you rejected 128": it had rejected 11 and left out the 117 it had not read
    from tools.data.review import UNREAD_REASON

    mixed = rejected[:11] + [{**d, "reason": UNREAD_REASON} for d in rejected[11:]]
    save_step(run, 1, "review", {"mode": "person", "decisions": mixed, "kept": 0})
    said = too_few_plain(run, state)["sentence"]
    assert "you rejected 11 of them and left out the 29 you had not read" in said


def test_headless_run_stops_before_writing_when_the_small_writer_gets_the_examples_wrong(workspace, embedded):
    """The thermostat bench (Fahrenheit to whole degrees Celsius): the small model got 0 of 5 of the person's
    examples right with the others in its prompt, yet wrote 120 practice answers (33 of the 48 checkable kept
    ones wrong) and trained on them for most of an hour. Headless, nobody reads the warning: the run stops at
    the decision, trains nothing, and the report says why and what to do, in words."""
    from agent.rubric import Answers, practice_data
    from tools.spec import load_spec

    spec = load_spec(REPO / "bench" / "tasks" / "thermostat" / "task.yaml")
    run = create_run_for(workspace, spec)
    out = drive(
        workspace, run.id, initial_state(run.id, spec, headless=True), AgentContext(workspace=workspace)
    )
    values = out["values"]
    assert values["approach"] == "fine-tune" and values["stop_reason"] == "no_writer"
    assert not (run.path / "data").exists() and not (run.path / "train").exists()  # nothing written, trained
    text = (run.path / "report.md").read_text()
    assert "No model was trained. The small model on this computer would write the practice answers" in text
    # all 10 examples measured (each half with the other in the prompt), at most 2 right
    assert re.search(r"got [012] of 10 fully right", text) and "learns the mistakes" in text
    # the task is offline (its data stays here): the way on is the person's own examples, not a hosted model
    # (10 in hand: about 40 more, 50 in all — the gate's own figure)
    assert "write about 40 more examples yourself, about 50 in all" in text and "API key" not in text
    assert json.loads((run.path / "summary.json").read_text())["plain"]["status"] == "none"
    # the prompt it gives for now says how it did here, not "the best you have" (the sizes bench: 0 of 5)
    kept = text.split("## The prompt to use for now", 1)[1].split("```", 1)[0]
    assert "With the small model on this computer it got" in kept and "best you have" not in kept
    # the gate is narrow: a label or JSON task has its answers fixed otherwise, a hosted writer is not gated,
    # and neither is a person with enough examples of their own or a writer that gets some right
    a = Answers.from_dict({"spec": "x", "examples": 10, "prompted_success": 0.0, "goals": ["cost"]})
    probe = {"measured": True, "student": "local:embedded", "with_documents": False}
    assert practice_data(a, probe, "local:embedded", "text") == "blocked"
    assert practice_data(a, probe, "local:embedded", "label") != "blocked"
    assert practice_data(a, probe, "local:embedded", "json") != "blocked"
    assert practice_data(a, probe, "openai:gpt-4o-mini", "text") != "blocked"
    assert practice_data(a, None, "local:embedded", "text") != "blocked"  # not measured
    many = Answers.from_dict({"spec": "x", "examples": 80, "prompted_success": 0.0, "goals": ["cost"]})
    some = Answers.from_dict({"spec": "x", "examples": 10, "prompted_success": 0.4, "goals": ["cost"]})
    assert practice_data(many, probe, "local:embedded", "text") != "blocked"
    assert practice_data(some, probe, "local:embedded", "text") != "blocked"
    # answers right or wrong (exact match): a writer right on 4 of 12 writes mostly wrong ones (walk 19)
    exact = probe | {"metric": "exact_match"}
    third = Answers.from_dict({"spec": "x", "examples": 61, "prompted_success": 0.33, "goals": ["cost"]})
    assert practice_data(third, exact, "local:embedded", "text") == "own"
    assert practice_data(third, probe | {"metric": "token_f1"}, "local:embedded", "text") == "written"


def test_a_json_writer_whose_every_field_is_a_guess_stops_a_headless_run_before_writing(workspace, embedded):
    """The repairs bench (a tenant's request → trade and whether it is urgent, 14 examples): the small model
    answered "plumbing" or "locks" whatever the request (trade right 0 of 12, urgent at chance), wrote 120
    practice answers, and the model trained on them for 26 minutes answered plumbing, not urgent, to 60 of 60.
    A JSON task's values the input names are set by rule, so the text-only gate let it through; now a writer
    whose every field is right no more often than chance writes nothing, and the report says so by field."""
    from tools.spec import load_spec

    spec = load_spec(REPO / "bench" / "tasks" / "repairs" / "task.yaml")
    run = create_run_for(workspace, spec)
    out = drive(
        workspace, run.id, initial_state(run.id, spec, headless=True), AgentContext(workspace=workspace)
    )
    assert out["values"]["stop_reason"] == "no_writer"
    assert not (run.path / "data").exists() and not (run.path / "train").exists()
    probe = json.loads((run.path / "work" / "iter0" / "probe.json").read_text())
    assert set(probe["fields"]) == {"trade", "urgent"} and probe["fields"]["trade"]["n"] == 12
    text = (run.path / "report.md").read_text()
    assert "its trade and urgent were right no more often than guesses" in text


def test_the_json_writer_gate_needs_every_field_a_guess_and_enough_answers():
    """Pure: `guessed_fields` on the probe's per-field counts (`agent.probe.writer_fields`). The expenses
    bench's writer guessed the category but copied amount and currency right: it writes (the checks place the
    category); fewer than 8 answers cannot tell a guess from a bad draw."""
    from agent.probe import writer_fields
    from agent.rubric import Answers, guessed_fields, practice_data
    from tools.spec import parse_spec_dict

    spec = parse_spec_dict(
        {
            "spec": "request → trade, urgent",
            "output": {"format": "json"},
            "examples": [{"input": "tap drips", "output": '{"trade": "plumbing", "urgent": false}'}] * 2,
        }
    )
    trades = ["plumbing", "locks", "heating", "electrical"] * 3
    rows = [
        {
            "input": f"request {i}",
            "reference": json.dumps({"trade": t, "urgent": i % 2 == 0}),
            "prediction": json.dumps({"trade": "plumbing", "urgent": i % 3 == 0}),
        }
        for i, t in enumerate(trades)
    ]
    # an answer that is not JSON is not counted: the practice answers are held to the shape, the probe's not
    prose = {"input": "request x", "reference": rows[0]["reference"], "prediction": "Send a plumber."}
    fields = writer_fields(spec, [*rows, prose])
    assert fields["trade"] == {"right": 3, "n": 12, "chance": 0.25}  # always plumbing: right when it is
    assert fields["urgent"]["right"] == 6 and abs(fields["urgent"]["chance"] - 0.5) < 1e-9
    probe = {"measured": True, "student": "local:embedded", "with_documents": False, "fields": fields}
    a = Answers.from_dict({"spec": "x", "examples": 14, "prompted_success": 0.17, "goals": ["cost"]})
    assert guessed_fields(probe) == ["trade", "urgent"]
    assert practice_data(a, probe, "local:embedded", "json") == "blocked"
    assert practice_data(a, probe, "openai:gpt-4o-mini", "json") == "written"  # a hosted writer is not gated
    copied = {**fields, "amount": {"right": 10, "n": 12, "chance": 0.1}}
    assert practice_data(a, {**probe, "fields": copied}, "local:embedded", "json") == "written"
    few = {f: {**c, "n": 6, "right": c["right"] // 2} for f, c in fields.items()}
    assert practice_data(a, {**probe, "fields": few}, "local:embedded", "json") == "written"
    assert practice_data(a, {**probe, "fields": {}}, "local:embedded", "json") == "written"


def test_the_next_round_is_aimed_at_practice_misses_never_at_the_test(workspace, embedded):
    """The next round's examples were asked for from the test's failures — each failing test input and its
    expected answer shown to the teacher — and the next round was then tested on what it had practised. They
    come from the validation rows now (practice examples the tuned model did not train on)."""
    from agent.artifacts import save_step
    from agent.nodes.distill import analyze
    from agent.nodes.evaluate import practice_failures
    from tools.data.schema import make_row, user_text
    from tools.data.versions import write_data_version
    from tools.evals.systems import base_system

    spec = parse_spec_dict(
        {
            "spec": "Sort a clinic message into zork (bookings) or blip (everything else).",
            "examples": [
                {"input": "Can I book Tuesday?", "output": "zork"},
                {"input": "Hi", "output": "blip"},
            ],
            "output": {"format": "label", "labels": ["zork", "blip"]},
            "max_iterations": 2,
        }
    )
    run = create_run_for(workspace, spec)
    val = [make_row(f"Could I come in on day {i} of the month?", "zork") for i in range(1, 4)]
    test = [make_row(f"Is the car park open on holiday {i}?", "blip") for i in range(1, 5)]
    must_keep = make_row("Can I book the morning of the 9th?", "zork")
    version = write_data_version(
        run,
        {
            "train": [make_row("Book me in", "zork")],
            "val": [*val, must_keep],
            "test": test,
            "regression": [
                must_keep
            ],  # a must-keep row drawn from validation checks the next round: not aimed at
        },
        {"reason": "test"},
    )
    events = []
    system = base_system(max_tokens=8, name="tuned v1")  # answers no label of this task: every row fails
    targets = practice_failures(
        run, version, system, spec, provider=embedded, emit=lambda k, **d: events.append(d)
    )
    asked = [e["input"] for t in targets for e in t["examples"]]
    assert sorted(asked) == sorted(user_text(r) for r in val)
    assert all(t["splits"] == ["val"] for t in targets)
    assert events[0] == {"step": "evaluate", "stage": "practice", "done": 0, "total": 3}
    assert events[-1]["done"] == 3
    # the analyze step asks for exactly those (never the eval report's test failures)
    save_step(
        run,
        1,
        "evaluate",
        {"verdict": {"passed": False}, "candidate": "tuned v1", "systems": {}, "targets": targets},
    )
    state = {
        "run_id": run.id,
        "task": spec.to_yaml_dict(),
        "iteration": 1,
        "max_iterations": 2,
        "data_version": version,
        "train_version": "v1",
        "eval_version": "v1",
        "history": [],
        "mix": {},
    }

    class R:
        context = AgentContext(workspace=workspace)

    update = analyze(state, R())
    assert update["targeted"] == targets and update["iteration"] == 2
    asked = sum(t["n"] for t in targets)
    assert update["history"][0]["note"] == (
        f"asked for {asked} new examples like the 3 practice examples it got wrong, for round 2"
    )
    # no practice rows kept aside (walk 24: every validation row was a must-keep row) is not "it got them all
    # right", which the report said beside 5 of 20
    from agent.nodes.evaluate import practice_rows
    from agent.nodes.report import STOP_REASONS

    assert len(practice_rows(run, version)) == 3
    only_kept = write_data_version(
        run,
        {
            "train": [make_row("Book me in", "zork")],
            "val": [must_keep],
            "test": test,
            "regression": [must_keep],
        },
        {"reason": "test"},
    )
    assert practice_rows(run, only_kept) == []
    for practised, reason in ((0, "no_practice_rows"), (3, "no_failures_to_target")):
        save_step(
            run,
            1,
            "evaluate",
            {
                "verdict": {"passed": False},
                "candidate": "tuned v1",
                "systems": {},
                "targets": [],
                "practised": practised,
            },
        )
        update = analyze(state, R())
        assert update["stop_reason"] == reason and "0 practice" not in update["history"][0]["note"]
    assert "got every practice example" not in STOP_REASONS["no_practice_rows"]
