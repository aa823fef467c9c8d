"""The graph as LangGraph Studio / `langgraph dev` open it (langgraph.json → agent/graph.py:make_graph).

The server compiles the graph itself (its own checkpointer) and passes each run's context as JSON, so:
- the context schema is `StudioContext`: plain, JSON-friendly fields with defaults (Studio pre-fills them;
  an empty context works). Each node gets the real `AgentContext` built from it (one per thread and
  context, so a run's providers, and its budget, are reused across its steps);
- a run may start from just `{"task": {"spec": "one sentence"}}` (or a whole task.yaml as a dict): the first
  step creates the run (id `studio-<thread id>`, so the re-run of an interrupted step finds the same run)
  and fills the state the CLI and TUI would (`agent.runner.initial_state`); the interview then asks its
  questions as interrupts that Studio shows, and a resume with the answer continues.

The CLI and the TUI do not use this module: they compile `build_graph()` with their own checkpointer and an
`AgentContext` they build.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any, cast

from langgraph.runtime import Runtime

from agent.context import AgentContext


@dataclass
class StudioContext:
    """A run's context in LangGraph Studio (all optional)."""

    workspace: str = ""  # the folder holding .tunewise/ ("" → $TUNEWISE_HOME, else the server's directory)
    budget_usd: float | None = None  # USD limit for the run (None → the task's budget)
    quick: bool = False  # tiny generation/evaluation sizes (a smoke run)
    train_max_steps: int | None = None  # cap training steps


_CONTEXTS: dict[tuple, AgentContext] = {}
_LOCK = threading.Lock()


def agent_context(ctx: Any, thread_id: str | None = None) -> AgentContext:
    """The AgentContext for a run's context: None, a dict, a StudioContext, or already an AgentContext.

    One per thread (a thread is one tunewise run: its providers carry that run's budget) and context."""
    if isinstance(ctx, AgentContext):
        return ctx
    if ctx is None:
        ctx = StudioContext()
    elif isinstance(ctx, dict):
        known = {f.name for f in fields(StudioContext)}
        ctx = StudioContext(**{k: v for k, v in ctx.items() if k in known})
    from tools.workspace import Workspace

    ws = Workspace(ctx.workspace or None)  # "" → $TUNEWISE_HOME or the current directory, as it is now
    key = (thread_id, str(ws.path.resolve()), ctx.budget_usd, ctx.quick, ctx.train_max_steps)
    with _LOCK:
        if key not in _CONTEXTS:
            _CONTEXTS[key] = AgentContext(
                workspace=ws.ensure(),
                budget_usd=ctx.budget_usd,
                quick=ctx.quick,
                train_max_steps=ctx.train_max_steps,
            )
        return _CONTEXTS[key]


def studio_node(fn, *, first: bool = False):
    """Wrap a node `fn(state, runtime)`: it receives an AgentContext whatever the server passed; the first node
    also starts the run when the state has none (Studio's first input)."""

    def node(state, runtime: Runtime[StudioContext], config):
        thread_id = (config.get("configurable") or {}).get("thread_id")
        # the server's context (a StudioContext, or its JSON) is swapped for the AgentContext built from it
        rt = cast("Runtime[AgentContext]", runtime).override(
            context=agent_context(runtime.context, thread_id)
        )
        if first and not state.get("run_id"):
            init = start_state(state, rt.context, thread_id)
            update = fn({**state, **init}, rt) or {}
            return {**init, **update}
        return fn(state, rt)

    node.__name__ = getattr(fn, "__name__", "node")
    node.__doc__ = fn.__doc__
    return node


def start_state(state: dict, ctx: AgentContext, thread_id: str | None) -> dict:
    """The initial state for a Studio run: the task from the input, a run named after the thread."""
    import re

    from agent.runner import initial_state
    from tools.errors import UserError
    from tools.spec import parse_spec_dict
    from tools.workspace import atomic_write_yaml

    task = dict(state.get("task") or {})
    if not task.get("spec"):
        raise UserError(
            "the input has no task",
            where="input.task",
            fix='start with {"task": {"spec": "one sentence: what the model should do"}} or a whole task.yaml',
        )
    spec = parse_spec_dict(task, where="input.task")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(thread_id or "default"))[:36]
    run_id = f"studio-{safe}"
    ws = ctx.workspace
    run = ws.run(run_id) if (ws.runs_dir / run_id).is_dir() else ws.create_run(spec.name, run_id=run_id)
    if not run.spec_path.exists():
        atomic_write_yaml(run.spec_path, spec.to_yaml_dict())
    return initial_state(
        run.id,
        spec,
        headless=bool(state.get("headless", False)),
        options={"smoke": ctx.quick, "train_max_steps": ctx.train_max_steps},
    )
