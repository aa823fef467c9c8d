"""Drive the graph: start a run from a task (headless or interactive), resume a session, stream updates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.context import AgentContext, Cancelled
from agent.sessions import open_checkpointer
from tools.errors import UserError
from tools.spec import TaskSpec
from tools.workspace import Workspace, atomic_write_yaml


def initial_state(
    run_id: str,
    spec: TaskSpec,
    *,
    headless: bool,
    max_iterations: int | None = None,
    options: dict | None = None,
) -> dict:
    return {
        "run_id": run_id,
        "headless": headless,
        "task": spec.to_yaml_dict(),
        "iteration": 1,
        "max_iterations": max_iterations or spec.max_iterations,
        "history": [],
        "log": [],
        "status": "running",
        "stop_reason": None,
        "targeted": [],
        "mix": {},
        "artifacts": {},
        "options": dict(options or {}),
    }


def context_for(
    workspace: Workspace,
    values: dict,
    on_event=None,
    *,
    budget_usd: float | None = None,
    quick: bool = False,
    train_max_steps: int | None = None,
    stream: bool = False,
) -> AgentContext:
    """The runtime context for a session (the CLI's and the TUI's): a resumed session keeps the options it
    was started with (`values`: its persisted state; smoke sizes, step cap) unless the caller sets them.
    `budget_usd` is the caller's limit; without one the task's budget applies (AgentContext.budget reads
    it from the state's task, so a budget the interview changes later is the one spent against)."""
    opts = values.get("options") or {}
    return AgentContext(
        workspace=workspace,
        budget_usd=budget_usd,
        on_event=on_event,
        quick=quick or bool(opts.get("smoke")),
        train_max_steps=train_max_steps or opts.get("train_max_steps"),
        stream=stream,
    )


def create_run_for(workspace: Workspace, spec: TaskSpec, run_id: str | None = None):
    run = workspace.create_run(spec.name, run_id=run_id)
    atomic_write_yaml(run.spec_path, spec.to_yaml_dict())
    return run


def drive(
    workspace: Workspace,
    run_id: str,
    payload: Any,
    ctx: AgentContext,
    on_update: Callable[[str, dict], None] | None = None,
) -> dict:
    """Stream the graph from `payload` (initial state, a Command, or None to continue) until it ends
    or waits on an interrupt. Returns {"values", "next", "interrupt"}."""
    from langgraph.types import Command  # noqa: F401 - payload may be one

    run = workspace.get_run(run_id)
    try:
        with run.lock(), open_checkpointer(workspace) as saver:
            from agent.graph import compile_graph

            graph = compile_graph(saver)
            config = {"configurable": {"thread_id": run.id}, "recursion_limit": 500}
            # durability="sync": paid and long steps must be checkpointed before the next one starts
            stream = graph.stream(payload, config, context=ctx, stream_mode="updates", durability="sync")
            try:
                for chunk in stream:
                    for node, update in chunk.items():
                        if on_update and node != "__interrupt__":
                            on_update(node, update or {})
                    # between steps is a safe point too: the finished step is checkpointed
                    ctx.check_cancelled()
            finally:
                stream.close()
            snap = graph.get_state(config)
    except Cancelled:
        _after_cancel(run, ctx)
        raise
    except Exception as e:
        if ctx.cancelled:
            # a step that noticed the stop its own way (the trainer exited "stopped"): still a cancel
            _after_cancel(run, ctx)
            raise Cancelled(str(e)) from e
        raise
    pending = None
    for task in snap.tasks:
        for intr in task.interrupts or ():
            pending = intr.value
    return {"values": snap.values or {}, "next": list(snap.next), "interrupt": pending}


def _after_cancel(run, ctx: AgentContext) -> None:
    """A cancelled drive leaves no trainer of its run behind unless the person chose to keep it going."""
    if not ctx.keep_training:
        stop_run_training(run)


def running_trainings(run) -> list[Path]:
    """The run's training directories whose trainer process is alive (started by us or another process)."""
    base = run.path / "train"
    if not base.is_dir():
        return []
    from tools.train.runner import is_running

    return [d for d in sorted(base.iterdir()) if (d / "process.json").exists() and is_running(d)]


def stop_run_training(run) -> list[Path]:
    """Ask every running trainer of the run to checkpoint and stop (the next resume continues from it)."""
    from tools.train.runner import stop_training

    stopped = []
    for d in running_trainings(run):
        if stop_training(d):
            stopped.append(d)
    return stopped


def session_state(workspace: Workspace, run_id: str) -> dict:
    run = workspace.get_run(run_id)
    with open_checkpointer(workspace) as saver:
        from agent.graph import compile_graph

        snap = compile_graph(saver).get_state({"configurable": {"thread_id": run.id}})
        if not snap.values:
            raise UserError(
                f"no session for run {run.id}", fix="start one with `tunewise run TASK.yaml` or the TUI"
            )
        pending = None
        for task in snap.tasks:
            for intr in task.interrupts or ():
                pending = intr.value
        return {"values": snap.values, "next": list(snap.next), "interrupt": pending}


def resolve_task_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(
            "task file not found", where=str(p), fix="pass a task.yaml (see the README's example)"
        )
    return p
