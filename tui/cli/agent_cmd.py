"""Agent commands: `tunewise decide`, `tunewise run`, `tunewise sessions`, `tunewise resume`."""

from __future__ import annotations

import json
import sys

import typer

from tui.cli import common


def register(app: typer.Typer) -> None:
    app.command("decide")(decide_cmd)
    app.command("run")(run_cmd)
    app.command("sessions")(sessions_cmd)
    app.command("resume")(resume_cmd)
    app.command("answer")(answer_cmd)


# ------------------------------------------------------------------ decide
def decide_cmd(
    answers: str = typer.Option(
        None,
        "--answers",
        help="YAML with keys spec, problem, knowledge_needed, "
        "knowledge_changes, examples, prompted_success, goals, volume, constraints",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the decision as JSON"),
    probe: bool = typer.Option(True, "--probe/--no-probe", help="measure prompted success on the examples"),
) -> None:
    """Recommend prompt, few-shot, RAG, fine-tune or RAG + fine-tune, with reasons and an estimate."""
    from agent.rubric import Answers, decide
    from tools.workspace import read_yaml

    examples: list[dict] = []
    documents = None
    if answers:
        data = read_yaml(answers)
        if not isinstance(data, dict):
            from tools.errors import ConfigError

            raise ConfigError(
                "answers must be a YAML mapping", where=answers, fix="see `tunewise decide --help`"
            )
        value = data.get("examples")
        if isinstance(value, list) or (isinstance(value, str) and _looks_like_path(value)):
            examples = _examples_from(value, answers)
            data = {**data, "examples": len(examples)}
        a = Answers.from_dict(data, where=answers)  # a count in words ('a few hundred') is read there
    else:
        if not sys.stdin.isatty():
            from tools.errors import UserError

            raise UserError(
                "no terminal to ask questions in", fix="pass --answers FILE (add --json for machines)"
            )
        a, examples, documents = _interactive_answers()
    probe_result = None
    from agent.probe import apply_probe, measure_anyway, probe_needed

    anyway = measure_anyway(a, len(examples), headless=bool(answers))  # the decide step's rules
    if probe and (probe_needed(a, len(examples)) or anyway):
        from agent.probe import run_probe
        from tools.llm import get_provider
        from tools.spec import parse_spec_dict

        common.quiet_libraries()
        spec = parse_spec_dict({"spec": a.spec, "examples": examples, "documents": documents})
        if not as_json:
            common.err_console().print("[dim]probe: measuring the base model with the best prompt…[/dim]")
        probe_result = apply_probe(a, run_probe(spec, get_provider("student")), prefer_measured=anyway)
    from tools.llm.registry import choose

    d = decide(
        a,
        teacher=str(choose("teacher")),
        probe={k: v for k, v in probe_result.items() if k != "rows"} if probe_result else None,
    )
    if as_json:
        print(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
        return
    print_decision(d, example=(probe_result.get("rows") or [None])[0] if probe_result else None)


_EXAMPLE_FILE_SUFFIXES = (".jsonl", ".json", ".yaml", ".yml", ".csv", ".tsv", ".txt")


def _looks_like_path(value: str) -> bool:
    """`examples:` names a file (rather than a count like '200' or 'a few hundred')."""
    from tools.userfile import path_exists

    v = value.strip()
    return bool(v) and ("/" in v or v.lower().endswith(_EXAMPLE_FILE_SUFFIXES) or path_exists(v))


def _examples_from(value, where: str) -> list[dict]:
    from agent.nodes.interview import load_examples_file
    from tools.errors import ConfigError

    if isinstance(value, str):
        from tools.errors import UserError
        from tools.userfile import read_text

        path = value.strip()
        try:  # a missing, folder, unreadable, binary or non-UTF-8 file: one line, before the reader sees it
            read_text(
                path,
                what="file of examples",
                fix="give a file of examples ('Q:'/'A:' lines, CSV, JSONL or YAML)",
            )
        except UserError as e:
            raise ConfigError(f"`examples`: {e.message}", where=f"{where} → {e.where}", fix=e.fix) from None
        try:
            return load_examples_file(path)
        except (RecursionError, AttributeError, TypeError, IndexError, KeyError):
            # the interview's reader trusts the shape of chat rows and recurses on nesting
            raise ConfigError(
                "`examples`: not a file of {input, output} examples or chat rows",
                where=f"{where} → {path}",
                fix='one {"input": …, "output": …} object per line (or {"messages": [...]} rows)',
            ) from None
    out = []
    for i, ex in enumerate(value):
        if not isinstance(ex, dict) or "input" not in ex or "output" not in ex:
            raise ConfigError(f"examples[{i}] needs `input` and `output`", where=where)
        out.append({"input": str(ex["input"]), "output": str(ex["output"])})
    return out


def _interactive_answers():
    from agent.nodes.interview import parse_answer
    from agent.questions import OUTPUT_KEYS, QUESTIONS, applicable
    from agent.rubric import Answers
    from tools.errors import UserError

    con = common.console()
    con.print("[bold]tunewise decide[/bold] — a few questions, then a recommendation with reasons.\n")
    answers: dict = {}
    task: dict = {}
    for q in QUESTIONS:
        if q.key == "budget" or q.key in OUTPUT_KEYS or not applicable(q, answers):
            continue
        _print_choices(con, q.choices, q.choice_labels, q.kind == "multi")
        hint = f" [{'/'.join(q.choices)}]" if q.choices and not q.choice_labels else ""
        while True:
            raw = typer.prompt(
                f"{q.text}{hint}", default="" if q.optional or q.kind == "multi" else None, show_default=False
            )
            # the interview's own lenient reading ($5, 'about half', 'fast and cheap'); else asked again
            try:
                parse_answer(q.key, raw, answers, task)
                break
            except UserError as e:
                con.print(f"[red]{e.message}[/red]" + (f" — {e.fix}" if e.fix else ""))
    return Answers.from_dict(answers), task.get("examples", []), task.get("documents")


def _print_choices(con, choices, labels, multi: bool) -> None:
    """Plain-words choices, numbered: the person may answer with numbers, the words, or the keys (several,
    comma-separated, where `multi`)."""
    if choices and labels and len(labels) == len(choices):
        for i, label in enumerate(labels, 1):
            con.print(f"  {i}. {label}", highlight=False)
        hint = "numbers or words, comma-separated; Enter for none" if multi else "its number or its words"
        con.print(f"  ({hint})", style="dim", highlight=False)


def print_decision(d, example: dict | None = None) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = common.console()
    con.print(
        Panel(
            f"[bold]{d.approach}{' — but not yet' if d.practice == 'blocked' else ''}[/bold]\n\n"
            + "\n".join(f"• {r}" for r in d.reasons),
            title="Recommendation",
            expand=False,
        )
    )
    t = Table(title="Rubric")
    t.add_column("rule")
    t.add_column("fired")
    t.add_column("evidence")
    for r in d.rubric:
        t.add_row(r.rule, "yes" if r.fired else "no", r.evidence)
    con.print(t)
    if d.probe:
        con.print(
            f"Probe: with the best prompt the base model ({d.probe.get('student')}) scored "
            f"{d.probe.get('prompted_success', 0):.0%} on {d.probe.get('n_test')} of your examples "
            f"(each with {d.probe.get('n_shots')} others shown to it in the prompt"
            + (
                ", and the passages of your documents that match each question"
                if d.probe.get("with_documents")
                else ""
            )
            + ")"
            + (
                f" — {d.probe['metric']}, the measure the final verdict uses" if d.probe.get("metric") else ""
            ),
            highlight=False,
        )
        if example:
            con.print(
                f"  One of its answers — input: {example.get('input')!s:.120}\n"
                f"    it answered: {example.get('prediction')!s:.120}\n"
                f"    you expected: {example.get('reference')!s:.120}"
                f"  ({'right' if example.get('correct') else 'not what you expected'})",
                highlight=False,
                markup=False,
            )
    e = d.estimate
    con.print(
        "Estimate: "
        + ", ".join(f"{k} {v}" for k, v in e.items() if k not in ("path", "assumptions"))
        + f"\n  ({e.get('assumptions')})"
    )
    con.print("Next steps:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(d.next_steps, 1)))


# ------------------------------------------------------------------ run / resume
def _printer(progress):
    def on_update(node: str, update: dict) -> None:
        for line in update.get("log") or []:
            progress.log(f"[cyan]●[/cyan] {line}")

    return on_update


def _drive(ws, run_id: str, payload, values: dict):
    """Drive the session with live progress on stderr; a bad task value says how to fix and resume."""
    from agent.runner import context_for, drive
    from tools.errors import ConfigError
    from tui.cli.progress import Progress

    run = ws.get_run(run_id)
    with Progress(run_path=run.path) as progress:
        ctx = context_for(ws, values, on_event=progress.on_agent_event)
        try:
            return drive(ws, run_id, payload, ctx, on_update=_printer(progress))
        except ConfigError as e:
            field = _task_field(e)
            if field:
                then = f"then: tunewise resume {run_id} --set {field}=VALUE"
                e.fix = f"{e.fix}; {then}" if e.fix else then
            raise


def _task_field(e) -> str | None:
    """The task field (dotted) a ConfigError is about: from the spec's validation, or a training field."""
    field = getattr(e, "field", None)
    if field:
        return field
    from tools.train.config import TrainConfig

    where = str(e.where or "")
    return f"training.{where}" if where in TrainConfig.model_fields else None


def _check_answers(spec, where: str) -> None:
    """The interview answers a headless run takes from the task, checked as the decide step will."""
    from agent.nodes.interview import derive_answers
    from agent.rubric import Answers

    answers = derive_answers(spec.to_yaml_dict())
    Answers.from_dict({k: v for k, v in answers.items() if k != "budget"}, where=f"{where}: answers")


def _claim_run(ws, spec, run_id: str | None, task_path):
    """(run, session or None). A run id names one task for good: a new id starts a run, the same task
    continues its session (or finds it finished), another task is refused before anything is written."""
    from agent.runner import create_run_for, session_state
    from tools.errors import UserError
    from tools.workspace import read_yaml

    if run_id is None:
        return create_run_for(ws, spec), None
    run = ws.run(run_id)  # checks the id's characters
    if not run.path.exists():
        return create_run_for(ws, spec, run_id), None
    if not run.spec_path.exists():
        held = sorted(p.name for p in run.path.iterdir() if p.name != "lock")
        if held:
            raise UserError(
                f"run {run_id} already exists and holds work that was not started from a task file "
                f"({', '.join(held[:4])})",
                where=str(run.path),
                fix="pick another --run-id, or leave it out for a new run",
            )
        return create_run_for(ws, spec, run_id), None
    differs = common.task_differences(read_yaml(run.spec_path), spec)
    if differs:
        raise UserError(
            f"run {run_id} belongs to another task (differs in: {', '.join(differs)}); a run id names one task",
            where=str(task_path),
            fix=f"leave out --run-id for a new run, or pass the task file run {run_id} was started with",
        )
    try:
        session = session_state(ws, run.id)
    except UserError:  # stopped before its first checkpoint: nothing to continue, start it
        return create_run_for(ws, spec, run_id), None
    return run, session


# long: a typer command whose 8 options take 27 lines of signature; the body checks, starts or resumes, prints
def run_cmd(
    task: str = typer.Argument(..., metavar="TASK", help="task.yaml (see README)"),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="no questions: review by thresholds, spend within --budget"
    ),
    max_iterations: int = typer.Option(
        None, "--max-iterations", min=1, max=100, help="stop after this many train/eval rounds"
    ),
    budget: float = typer.Option(
        None, "--budget", min=0.0, help="USD for the whole run (overrides the task's budget)"
    ),
    run_id: str = typer.Option(
        None,
        "--run-id",
        help="use this run id (default: generated); an existing id continues its run when the task is "
        "the same, and is refused for another task",
    ),
    smoke: bool = typer.Option(
        False, "--smoke", help="a quick smoke run: small generation, no judge, no mixing"
    ),
    train_max_steps: int = typer.Option(
        None, "--train-max-steps", min=1, help="cap training steps per iteration"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print the result as one JSON document on stdout (progress stays on stderr)"
    ),
) -> None:
    """Run the whole loop headless: decide → generate → critique → split → train → evaluate → iterate → report.

    Exit code: 0 the verdict passed; 3 it failed or is inconclusive (no verdict, budget stop, waiting on
    a question); 2 bad input; 1 internal error.
    """
    from pathlib import Path

    from tools.spec import load_spec
    from tools.workspace import Workspace

    task_path = Path(task)
    spec = load_spec(task_path)  # every field, before anything is written or any model is called
    from tools.data.infer import infer_output

    inferred = infer_output(spec)  # headless: what the interview would ask, read from the examples
    if budget is not None:
        spec = spec.model_copy(update={"budget": budget})
    _check_answers(spec, str(task_path))
    if spec.test:  # the person's own test set: checked now, not after a paid generation
        from tools.evals.run import load_rows

        load_rows(spec.test)
    common.quiet_libraries()
    if not yes and sys.stdin.isatty():
        cost = "no limit" if spec.budget is None else f"up to ${spec.budget:.2f}"
        if not typer.confirm(f"Run '{spec.name}' headless ({cost})?", default=True, err=True):
            raise typer.Exit(1)
    with common.json_mode(as_json):
        ws = Workspace().ensure()
        run, session = _claim_run(ws, spec, run_id, task_path)
        con = common.console()
        if session is None:
            from agent.runner import initial_state

            if inferred:
                from tools.workspace import atomic_write_json

                atomic_write_json(run.path / "inferred.json", {"notes": inferred})
            con.print(f"[bold]run[/bold] {run.id} → {run.path}")
            state = initial_state(
                run.id,
                spec,
                headless=True,
                max_iterations=max_iterations,
                options={"smoke": smoke, "train_max_steps": train_max_steps},
            )
            result = _drive(ws, run.id, state, state)
        else:
            values = session["values"]
            _note_ignored_flags(con, run.id, values, spec, budget, max_iterations, smoke, train_max_steps)
            if not session["next"] and session["interrupt"] is None:
                con.print(f"run {run.id} is finished ({values.get('stop_reason')}): nothing to do")
                result = session
            else:
                con.print(
                    f"[bold]run[/bold] {run.id} exists for this task: continuing at {', '.join(session['next'])}"
                )
                result = _drive(ws, run.id, None, values)
        doc, code = _finish(con, ws, run.id, result)
    if as_json:
        common.print_json(doc)
    raise typer.Exit(code)


def _note_ignored_flags(con, run_id, values, spec, budget, max_iterations, smoke, train_max_steps) -> None:
    """A continued session keeps what it started with: say so when a flag asks for something else."""
    opts = values.get("options") or {}
    task = values.get("task") or {}
    notes = []
    if budget is not None and task.get("budget") != spec.budget:
        notes.append(
            f"--budget (the session's budget is {task.get('budget')}; change it with --set budget=…)"
        )
    elif budget is None and task.get("budget") != spec.budget:
        notes.append(
            f"the task's budget (the session's is {task.get('budget')}; change it with --set budget=…)"
        )
    if max_iterations is not None and max_iterations != values.get("max_iterations"):
        notes.append(f"--max-iterations (the session's is {values.get('max_iterations')})")
    if smoke != bool(opts.get("smoke")):
        notes.append("--smoke" if smoke else "no --smoke")
    if train_max_steps is not None and train_max_steps != opts.get("train_max_steps"):
        notes.append("--train-max-steps")
    if notes:
        common.err_console().print(
            f"[yellow]note:[/yellow] run {run_id} continues with its own settings; ignored: {'; '.join(notes)}. "
            f"Change a task field with `tunewise resume {run_id} --set FIELD=VALUE`."
        )


def resume_cmd(
    run_id: str = typer.Argument(..., metavar="RUN", help="the run/session id (a unique prefix is enough)"),
    answer: str = typer.Option(None, "--answer", help="answer to the pending question (else asked here)"),
    set_: list[str] = typer.Option(
        None,
        "--set",
        help="change a task field before continuing, checked like the task file and saved to the run's "
        "spec.yaml and session: --set training.learning_rate=2e-4 (repeatable)",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print the result as one JSON document on stdout (progress stays on stderr)"
    ),
) -> None:
    """Continue a session where it stopped: after a crash, a kill -9, a bad task value, or at a pending question.

    Exit code: as for `tunewise run` (0 passed, 3 failed/inconclusive, 2 bad input, 1 internal error).
    """
    from agent.runner import session_state
    from tools.errors import UserError
    from tools.workspace import Workspace

    common.quiet_libraries()
    ws = Workspace()
    run = ws.get_run(run_id)
    state = session_state(ws, run.id)
    finished = not state["next"] and state["interrupt"] is None
    changes: list[str] = []
    if set_:
        if finished:
            raise UserError(
                f"session {run.id} is finished: --set would change nothing",
                where="--set",
                fix="start a new run with the changed task file: tunewise run TASK.yaml",
            )
        changes = set_task_fields(ws, run, state["values"], set_)
    elif not finished:
        check_session_task(run, state["values"])
    with common.json_mode(as_json):
        con = common.console()
        for c in changes:
            con.print(f"set {c}")
        if finished:
            con.print(
                f"session {run.id} is finished ({state['values'].get('stop_reason')}); report: "
                f"{(state['values'].get('artifacts') or {}).get('report')}"
            )
            result = state
        else:
            if changes and state["interrupt"] is not None:
                # the changed session asks its question again; then the answer goes to that question
                state = _drive(ws, run.id, None, session_state(ws, run.id)["values"])
            if state["interrupt"] is not None:
                from langgraph.types import Command

                payload = Command(resume=answer if answer is not None else _ask(state["interrupt"]))
                con.print(f"[bold]resume[/bold] {run.id} at {', '.join(state['next'])}")
                result = _drive(ws, run.id, payload, state["values"])
            elif state["next"]:
                con.print(f"[bold]resume[/bold] {run.id} at {', '.join(state['next'])}")
                result = _drive(ws, run.id, None, session_state(ws, run.id)["values"])
            else:
                result = state
        doc, code = _finish(con, ws, run.id, result)
    if as_json:
        common.print_json(doc)
    raise typer.Exit(code)


def check_session_task(run, values: dict) -> None:
    """A session whose stored task no longer passes validation stops here with how to fix it."""
    from tools.errors import ConfigError
    from tools.spec import parse_spec_dict

    try:
        parse_spec_dict(values.get("task") or {}, where=f"run {run.id} ({run.spec_path})")
    except ConfigError as e:
        field = getattr(e, "field", None) or "FIELD"
        e.fix = f"fix it and continue: tunewise resume {run.id} --set {field}=VALUE"
        raise


def _parse_set_value(raw: str):
    import re

    import yaml

    if raw == "":
        return None
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", raw):  # YAML 1.1 reads 2e-4 as a string
        return float(raw)
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def set_task_fields(ws, run, values: dict, items: list[str]) -> list[str]:
    """Apply `--set a.b=value` to a session's task: validated like a task file, then saved to the
    session state and the run's spec.yaml (atomically, under the run's lock). Returns what changed."""
    import copy

    from tools.errors import ConfigError
    from tools.spec import parse_spec_dict
    from tools.workspace import atomic_write_yaml

    task = copy.deepcopy(values.get("task") or {})
    changes = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or not key or not all(parts):
            raise ConfigError(
                f"--set {item!r} is not FIELD=VALUE",
                where="--set",
                fix="e.g. --set training.learning_rate=2e-4",
            )
        value = _parse_set_value(raw.strip())
        node = task
        for i, part in enumerate(parts[:-1]):
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(
                    f"--set {key}: `{'.'.join(parts[: i + 1])}` is a value, not a group of fields",
                    where="--set",
                    fix=f"set it directly: --set {'.'.join(parts[: i + 1])}=VALUE",
                )
            node = nxt
        old = node.get(parts[-1], "(not set)")
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
        changes.append(f"{key}: {old!r} → {'(not set)' if value is None else repr(value)}")
    spec = parse_spec_dict(task, where="--set")
    new_task = spec.to_yaml_dict()
    updates: dict = {"task": new_task}
    if any(item.split("=", 1)[0].strip() == "max_iterations" for item in items):
        updates["max_iterations"] = spec.max_iterations
    with run.lock():
        update_session_values(ws, run.id, updates)
        atomic_write_yaml(run.spec_path, new_task)
    return changes


def update_session_values(ws, run_id: str, updates: dict) -> None:
    """Write `updates` into a session's newest checkpoint without changing where it continues.

    LangGraph applies an update as if a node had written it and then follows that node's edges, so the
    writer must be the node that leads to the pending one: the inferred last writer first, then every
    predecessor of the pending node; a try that would move the session is undone (the checkpoint is
    copied back)."""
    from langgraph.errors import InvalidUpdateError

    from agent.graph import compile_graph
    from agent.sessions import open_checkpointer
    from tools.errors import UserError

    with open_checkpointer(ws) as saver:
        graph = compile_graph(saver)
        snap = graph.get_state({"configurable": {"thread_id": run_id}})
        want = tuple(snap.next)
        candidates: list = [None]
        for target in want:
            candidates += [s for s, d in graph.builder.edges if d == target]
            for src, branches in graph.builder.branches.items():
                for branch in branches.values():
                    ends = branch.ends or {}
                    if target in (ends.values() if isinstance(ends, dict) else ends):
                        candidates.append(src)
        for as_node in dict.fromkeys(candidates):
            try:
                cfg = graph.update_state(snap.config, updates, as_node=as_node)
            except InvalidUpdateError:
                continue
            if tuple(graph.get_state(cfg).next) == want:
                return
        graph.update_state(snap.config, None, as_node="__copy__")  # back to where it was
        raise UserError(
            f"could not change session {run_id} without moving it",
            fix="start a new run with the corrected task file",
        )


def _ask(intr: dict):
    from agent.interrupts import ASKS, kind_of
    from tools.errors import UserError

    if not sys.stdin.isatty():
        raise UserError("the session waits on a question and there is no terminal", fix="pass --answer TEXT")
    kind = kind_of(intr)
    if kind in ASKS:
        labels = intr.get("choice_labels") or []
        _print_choices(common.console(), intr.get("choices") or [], labels, intr.get("input") == "multi")
        hint = f" ({'/'.join(intr['choices'])})" if intr.get("choices") and not labels else ""
        if intr.get("note"):
            common.console().print(intr["note"], highlight=False)  # a preselected guess says it is one
        if intr.get("error"):
            common.console().print(f"[red]{intr['error']}[/red]")
        default = intr.get("default")
        if isinstance(default, list):
            default = ", ".join(map(str, default))
        # Enter keeps the offered default (a guess, or the earlier answer after "change answers")
        from agent.nodes.interview import check_answer

        while True:
            raw = typer.prompt(
                intr["question"] + hint,
                default="" if default is None else str(default),
                show_default=default not in (None, ""),
            )
            problem = check_answer(intr, raw)  # read here first: a bad answer never reaches the session
            if problem is None:
                return raw
            common.console().print(f"[red]{problem}[/red]", highlight=False)
    if kind == "decision":
        from agent.rubric import Decision, RuleRow

        d = intr["decision"]
        print_decision(Decision(**{**d, "rubric": [RuleRow(**r) for r in d["rubric"]]}))
        return typer.prompt("accept, 'change answers', or pick another approach", default="accept")
    if kind == "review":
        common.console().print(
            f"{intr['n']} examples in {intr['file']}: review them in the TUI (`tunewise`), "
            "or press enter to accept the critique's choices"
        )
        typer.prompt("", default="", show_default=False)
        return []
    return typer.prompt(str(intr))


def _finish(con, ws, run_id: str, result: dict) -> tuple[dict, int]:
    """Print where the session ended (table, verdict, files); return the JSON document and the exit code."""
    from agent.nodes.report import gain_lines, summarize

    values = result["values"]
    run = ws.get_run(run_id)
    arts = values.get("artifacts") or {}
    doc: dict = {
        "run_id": run_id,
        "path": str(run.path),
        "status": "waiting"
        if result["interrupt"] is not None
        else ("done" if not result["next"] else "stopped"),
        "next": list(result["next"]),
        "stop_reason": values.get("stop_reason"),
        "approach": values.get("approach"),
        "iterations": values.get("history") or [],
        "verdict": None,
        "summary": None,
        "artifacts": arts,
    }
    if result["interrupt"] is not None:
        q = result["interrupt"]
        doc["waiting_on"] = {k: q.get(k) for k in ("kind", "key", "question") if q.get(k) is not None}
        con.print(
            f"[yellow]waiting:[/yellow] {q.get('question') or q.get('kind')} — "
            f"answer with `tunewise resume {run_id} --answer …` or in the TUI"
        )
        doc["exit_code"] = common.EXIT_NOT_PASSED
        return doc, common.EXIT_NOT_PASSED
    summary = summarize(run, values)
    if summary:
        from rich.table import Table

        doc["summary"], doc["verdict"] = summary, summary.get("verdict")
        t = Table(title=f"Final evaluation — primary metric: {summary['primary_metric']}")
        for col in ("system", "primary", "95% CI", "format rate", "prompt tokens"):
            t.add_column(col)
        for r in summary["rows"]:
            ci = r.get("ci") or [None, None]
            fmt = lambda x, d=3: "–" if x is None else f"{x:.{d}f}"  # noqa: E731
            t.add_row(
                r["system"],
                fmt(r["primary"]),
                f"{fmt(ci[0])}–{fmt(ci[1])}",
                fmt(r["format_rate"]),
                fmt(r["prompt_tokens"], 0),
            )
        con.print(t)
        for g in gain_lines(summary):
            con.print(f"  {g}")
        v = summary["verdict"]
        con.print(
            f"Verdict: {'[green]PASS[/green]' if v.get('passed') else '[red]FAIL[/red]'} — "
            + "; ".join(v.get("reasons", []))
        )
    else:
        con.print("Verdict: none (no evaluation of a tuned model in this run)")
    from agent.nodes.report import stop_text
    from tools.workspace import read_json

    done = run.path / "summary.json"
    plain = ((read_json(done) if done.exists() else None) or {}).get("plain") or {}
    if not plain and values.get("stop_reason") in ("approach:prompt", "approach:few-shot"):
        # the prompt branch ends the graph before the report: its own result, and how to use the prompt
        from agent.artifacts import load_step
        from agent.nodes.report import prompt_plain

        plain = prompt_plain(load_step(run, 0, "prompt"), run.id) or {}
    if plain.get("sentence") and not summary:  # with an evaluation the table and verdict say it
        con.print(f"[bold]{plain['sentence']}[/bold]\n{plain.get('recommendation', '')}", highlight=False)
    con.print(
        f"Stopped because {stop_text(values.get('stop_reason'), summary)}. "
        f"Report: {arts.get('report') or arts.get('prompt') or run.path}",
        highlight=False,
    )
    if arts.get("export"):
        con.print(f"Export: {arts['export']}")
    code = common.verdict_exit(doc["verdict"])
    doc["exit_code"] = code
    return doc, code


def sessions_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List sessions (runs with checkpoints): where each stands and why it stopped."""
    from agent.sessions import list_sessions
    from tools.workspace import Workspace

    rows = list_sessions(Workspace())
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    from rich.table import Table

    t = Table(title="sessions")
    for col in ("id", "status", "next", "approach", "stop", "spec"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["id"],
            r["status"],
            ",".join(r["next"]) or "-",
            r.get("approach") or "-",
            r.get("stop_reason") or "-",
            (r.get("spec") or "")[:40],
        )
    common.console().print(t)


# ------------------------------------------------------------------ answer
def answer_cmd(
    session: str = typer.Argument(
        ..., metavar="SESSION", help="the session's id (`tunewise sessions` lists them)"
    ),
    file: str = typer.Argument(
        ..., metavar="FILE", help="the messages: one per line, or a CSV with them in the first column"
    ),
    use: str = typer.Option(
        "auto",
        "--with",
        help="model: the session's tuned model · prompt: its prompt · auto: the model if it trained one",
    ),
) -> None:
    """Answer a file of messages with a session's tuned model or prompt, into a CSV beside it (a column per part
    where the answers have parts). The terminal app does the same from its Try box (t or m on the report)."""
    from agent.sessions import answer_file, tuned_adapter
    from tools.errors import UserError
    from tools.workspace import Workspace

    ws = Workspace()
    run = ws.get_run(session)
    if use not in ("auto", "model", "prompt"):
        raise UserError(f"--with {use!r}", fix="use model, prompt or auto")
    has_model = tuned_adapter(ws, run.id) is not None
    has_prompt = (run.path / "prompt.json").exists()
    if use == "auto":
        use = "model" if has_model else "prompt"
    if not (has_model or has_prompt):
        raise UserError(
            f"session {run.id} has no tuned model and no prompt to answer with yet",
            fix=f"finish the session first (`tunewise resume {run.id}`)",
        )
    if (use == "model" and not has_model) or (use == "prompt" and not has_prompt):
        have = "prompt" if has_prompt else "model"
        raise UserError(
            f"session {run.id} has no {'tuned model' if use == 'model' else 'prompt'} to answer with",
            fix=f"use --with {have}",
        )
    common.quiet_libraries()
    con = common.err_console()
    out, n, unread = answer_file(
        ws, run.id, file, use=use, on_progress=lambda done, total: con.print(f"answered {done} of {total}")
    )
    print(out)
    con.print(
        f"{n} message{'s' if n != 1 else ''} answered with the session's "
        f"{'tuned model' if use == 'model' else 'prompt'}"
        + (f"; {unread} could not be read into parts (their answer is in the check column)" if unread else "")
    )
