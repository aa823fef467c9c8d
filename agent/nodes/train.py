"""train: a LoRA adapter on the iteration's data version, in a subprocess the node waits on; a node restarted
after a crash resumes that training from its last checkpoint."""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from agent.artifacts import load_step, save_step
from agent.context import AgentContext
from agent.nodes.common import budget_stop, idempotent_step, iteration, spec_of
from agent.state import AgentState


@idempotent_step("train")
def _trained(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    from tools.train.runner import prepare_training, train_blocking

    ctx = runtime.context
    run, spec, it = ctx.run(state["run_id"]), spec_of(state), iteration(state)
    overrides = dict(spec.training)
    overrides.update((state.get("mix") or {}).get("training", {}))
    if ctx.train_max_steps:
        overrides["max_steps"] = ctx.train_max_steps
    ctx.emit("status", message=f"train: LoRA on data {state['data_version']}")
    # Record the training directory before launching: a node restarted after a crash resumes that
    # run from its last checkpoint instead of starting a new one.
    started = load_step(run, it, "train_started")
    if started is None or started.get("data_version") != state["data_version"]:
        out = prepare_training(
            run,
            data_version=state["data_version"],
            model=spec.student.model or "embedded",
            overrides=overrides,
        )
        started = save_step(
            run, it, "train_started", {"out_dir": str(out), "data_version": state["data_version"]}
        )
    result = train_blocking(run, out_dir=started["out_dir"], on_event=lambda ev: ctx.emit("train", **ev))
    if result.get("status") not in ("completed", "early_stopped"):
        from tools.errors import UserError

        raise UserError(
            f"training failed: {result.get('error') or result.get('status')}",
            where=started["out_dir"],
            fix=result.get("advice") or "see train.log there",
        )
    result["version"] = Path(result["out_dir"]).name
    return result


@budget_stop
def train(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    done = _trained(state, runtime)
    return {
        "train_version": done["version"],
        "log": [
            f"train: {done['version']} — {done.get('status')} at step {done.get('final_step')}, "
            f"best eval loss {done.get('best_eval_loss')}"
        ],
    }
