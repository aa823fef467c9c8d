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
    if answers:
        data = read_yaml(answers)
        if not isinstance(data, dict):
            from tools.errors import ConfigError

            raise ConfigError(
                "answers must be a YAML mapping", where=answers, fix="see `tunewise decide --help`"
            )
        if isinstance(data.get("examples"), (list, str)) and not str(data.get("examples")).isdigit():
            examples = _examples_from(data["examples"], answers)
        a = Answers.from_dict(data, where=answers)
    else:
        if not sys.stdin.isatty():
            from tools.errors import UserError

            raise UserError(
                "no terminal to ask questions in", fix="pass --answers FILE (add --json for machines)"
            )
        a, examples = _interactive_answers()
    probe_result = None
    if probe and a.prompted_success is None and len(examples) >= 4:
        from agent.probe import run_probe
        from tools.llm import get_provider
        from tools.spec import parse_spec_dict

        common.quiet_libraries()
        spec = parse_spec_dict({"spec": a.spec, "examples": examples})
        if not as_json:
            common.err_console().print("[dim]probe: measuring the base model with the best prompt…[/dim]")
        probe_result = run_probe(spec, get_provider("student"))
        a.prompted_success = probe_result["prompted_success"]
    from tools.llm.registry import choose

    d = decide(
        a,
        teacher=str(choose("teacher")),
        probe={k: v for k, v in probe_result.items() if k != "rows"} if probe_result else None,
    )
    if as_json:
        print(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
        return
    print_decision(d)


def _examples_from(value, where: str) -> list[dict]:
    from agent.nodes.interview import _load_examples_file

    if isinstance(value, str):
        return _load_examples_file(value)
    out = []
    for i, ex in enumerate(value):
        if not isinstance(ex, dict) or "input" not in ex or "output" not in ex:
            from tools.errors import ConfigError

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
        hint = f" [{'/'.join(q.choices)}]" if q.choices else ""
        while True:
            raw = typer.prompt(
                f"{q.text}{hint}", default="" if q.optional or q.kind == "multi" else None, show_default=False
            )
            try:
                parse_answer(q.key, raw, answers, task)
                break
            except UserError as e:
                con.print(f"[red]{e.message}[/red]" + (f" — {e.fix}" if e.fix else ""))
    return Answers.from_dict(answers), task.get("examples", [])


def print_decision(d) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = common.console()
    con.print(
        Panel(
            f"[bold]{d.approach}[/bold]\n\n" + "\n".join(f"• {r}" for r in d.reasons),
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
            f"Probe: prompted success {d.probe.get('prompted_success', 0):.0%} on {d.probe.get('n_test')} "
            f"held-out examples with {d.probe.get('n_shots')} demonstrations ({d.probe.get('student')})"
        )
    e = d.estimate
    con.print(
        "Estimate: "
        + ", ".join(f"{k} {v}" for k, v in e.items() if k not in ("path", "assumptions"))
        + f"\n  ({e.get('assumptions')})"
    )
    con.print("Next steps:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(d.next_steps, 1)))


# ------------------------------------------------------------------ run / resume
def _printer(con):
    def on_update(node: str, update: dict) -> None:
        for line in update.get("log") or []:
            con.print(f"[cyan]●[/cyan] {line}")

    return on_update


def _event_printer(con):
    last = {"step": None}

    def on_event(kind: str, data: dict) -> None:
        if kind == "status":
            con.print(f"[dim]  … {data.get('message')}[/dim]")
        elif kind == "train" and data.get("event") in ("log", "eval"):
            step, mx = data.get("step"), data.get("max_steps")
            # every 5th step, every evaluation and the last step: a readable log, not a wall of lines
            wanted = data.get("event") == "eval" or step == mx or (step or 0) % 5 == 0
            if wanted and (step, data.get("event")) != last["step"]:
                last["step"] = (step, data.get("event"))
                loss = data.get("loss") if data.get("loss") is not None else data.get("eval_loss")
                eta = data.get("eta_s")
                con.print(
                    f"[dim]  train step {step}/{mx} loss {loss if loss is None else round(loss, 4)} "
                    f"{'eval ' if data.get('event') == 'eval' else ''}"
                    f"{'' if eta is None else f'ETA {eta:.0f}s'}[/dim]"
                )

    return on_event


def run_cmd(
    task: str = typer.Argument(..., help="task.yaml (see README)"),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="no questions: review by thresholds, spend within --budget"
    ),
    max_iterations: int = typer.Option(
        None, "--max-iterations", help="stop after this many train/eval rounds"
    ),
    budget: float = typer.Option(
        None, "--budget", help="USD for the whole run (overrides the task's budget)"
    ),
    run_id: str = typer.Option(None, "--run-id", help="use this run id (default: generated)"),
    smoke: bool = typer.Option(
        False, "--smoke", help="a quick smoke run: small generation, no judge, no mixing"
    ),
    train_max_steps: int = typer.Option(None, "--train-max-steps", help="cap training steps per iteration"),
) -> None:
    """Run the whole loop headless: decide → generate → critique → split → train → evaluate → iterate → report."""
    from agent.runner import context_for, create_run_for, drive, initial_state, resolve_task_path
    from tools.spec import load_spec
    from tools.workspace import Workspace

    common.quiet_libraries()
    spec = load_spec(resolve_task_path(task))
    if budget is not None:
        spec.budget = budget
    if not yes and sys.stdin.isatty():
        cost = "no limit" if spec.budget is None else f"up to ${spec.budget:.2f}"
        if not typer.confirm(f"Run '{spec.name}' headless ({cost})?", default=True):
            raise typer.Exit(1)
    ws = Workspace().ensure()
    run = create_run_for(ws, spec, run_id)
    con = common.console()
    con.print(f"[bold]run[/bold] {run.id} → {run.path}")
    state = initial_state(
        run.id,
        spec,
        headless=True,
        max_iterations=max_iterations,
        options={"smoke": smoke, "train_max_steps": train_max_steps},
    )
    ctx = context_for(ws, state, on_event=_event_printer(con))
    result = drive(ws, run.id, state, ctx, on_update=_printer(con))
    _finish(con, ws, run.id, result)


def resume_cmd(
    run_id: str = typer.Argument(..., help="the run/session id (a unique prefix is enough)"),
    answer: str = typer.Option(None, "--answer", help="answer to the pending question (else asked here)"),
) -> None:
    """Continue a session where it stopped: after a crash, a kill -9, or at a pending question."""
    from agent.runner import context_for, drive, session_state
    from tools.workspace import Workspace

    common.quiet_libraries()
    ws = Workspace()
    run = ws.get_run(run_id)
    state = session_state(ws, run.id)
    con = common.console()
    ctx = context_for(ws, state["values"], on_event=_event_printer(con))
    payload = None
    if state["interrupt"] is not None:
        from langgraph.types import Command

        payload = Command(resume=answer if answer is not None else _ask(state["interrupt"]))
    elif not state["next"]:
        con.print(
            f"session {run.id} is finished ({state['values'].get('stop_reason')}); report: "
            f"{(state['values'].get('artifacts') or {}).get('report')}"
        )
        return
    con.print(f"[bold]resume[/bold] {run.id} at {', '.join(state['next'])}")
    result = drive(ws, run.id, payload, ctx, on_update=_printer(con))
    _finish(con, ws, run.id, result)


def _ask(intr: dict):
    from tools.errors import UserError

    if not sys.stdin.isatty():
        raise UserError("the session waits on a question and there is no terminal", fix="pass --answer TEXT")
    if intr.get("kind") == "question":
        hint = f" ({'/'.join(intr['choices'])})" if intr.get("choices") else ""
        if intr.get("error"):
            common.console().print(f"[red]{intr['error']}[/red]")
        default = intr.get("default")
        if isinstance(default, list):
            default = ", ".join(map(str, default))
        # Enter keeps the offered default (a guess, or the earlier answer after "change answers")
        return typer.prompt(
            intr["question"] + hint,
            default="" if default is None else str(default),
            show_default=default not in (None, ""),
        )
    if intr.get("kind") == "decision":
        from agent.rubric import Decision, RuleRow

        d = intr["decision"]
        print_decision(Decision(**{**d, "rubric": [RuleRow(**r) for r in d["rubric"]]}))
        return typer.prompt("accept, 'change answers', or pick another approach", default="accept")
    if intr.get("kind") == "review":
        common.console().print(
            f"{intr['n']} examples in {intr['file']}: review them in the TUI (`tunewise`), "
            "or press enter to accept the critique's choices"
        )
        typer.prompt("", default="", show_default=False)
        return []
    return typer.prompt(str(intr))


def _finish(con, ws, run_id: str, result: dict) -> None:
    from agent.nodes.report import gain_lines, summarize

    values = result["values"]
    if result["interrupt"] is not None:
        q = result["interrupt"]
        con.print(
            f"[yellow]waiting:[/yellow] {q.get('question') or q.get('kind')} — "
            f"answer with `tunewise resume {run_id} --answer …` or in the TUI"
        )
        return
    run = ws.get_run(run_id)
    summary = summarize(run, values)
    if summary:
        from rich.table import Table

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
        from tools.evals.verdict import verdict_word

        con.print(
            f"Verdict: {verdict_word(v)} — "
            + "; ".join(v.get("reasons", []))
        )
    arts = values.get("artifacts") or {}
    con.print(
        f"Stopped: {values.get('stop_reason')}. Report: {arts.get('report') or arts.get('prompt') or run.path}"
    )
    if arts.get("export"):
        con.print(f"Export: {arts['export']}")


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
