"""`tunewise train …` and `tunewise export …` (top-level commands, added by `register(app)`).

    tunewise train RUN [--data vN] [--model embedded|PATH] [--config FILE] [--set k=v …] [--processes N]
    tunewise train resume RUN [vN]
    tunewise train stop RUN [vN]
    tunewise export RUN [vN] [--gguf --outtype f16|q8_0]
    tunewise export RUN [vN] --push-to-hub ORG/NAME [--merged] [--private] [--dry-run]

`train` is one command whose first argument may be the word `resume` or `stop`, so that both
`tunewise train RUN` and `tunewise train resume RUN` work (a typer group would swallow RUN).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from tui.cli import common


def _train_dir(run_id: str, version: str | None) -> Path:
    from tools.workspace import Workspace

    run = Workspace().get_run(run_id)
    return run.version_dir("train", version)


def _show_config(doc: dict) -> None:
    from rich.table import Table

    from tools.train.config import TrainConfig

    cfg = TrainConfig.from_dict(doc)
    t = Table(title=f"training config (data {cfg.data_version}, model {cfg.model})", show_lines=False)
    t.add_column("field")
    t.add_column("value")
    t.add_column("why", style="dim")
    for name, value, why in cfg.explain():
        t.add_row(name, str(value), why)
    common.err_console().print(t)


def follow(out_dir: Path, *, from_start: bool = False) -> dict:
    """Tail events with a progress bar + loss sparkline; Ctrl-C asks for a graceful stop (twice: detach)."""
    from rich.live import Live
    from rich.text import Text

    from tools.train import runner
    from tools.train.progress import ProgressState, format_duration, sparkline

    con = common.err_console()
    state = ProgressState()

    def render() -> Text:
        total = state.max_steps or 0
        frac = min(1.0, state.step / total) if total else 0.0
        width = 30
        bar = "█" * int(frac * width) + "░" * (width - int(frac * width))
        line = Text()
        line.append(f"{bar} {state.step}/{total or '?'} ", style="cyan")
        line.append(f"ETA {format_duration(state.eta_s)} ")
        if state.losses:
            line.append(f"loss {state.losses[-1]:.4f} ", style="bold")
            line.append(sparkline(state.losses, 30) + " ", style="green")
        if state.best_eval is not None:
            line.append(f"eval {state.best_eval:.4f} ", style="magenta")
        if state.tokens_per_s:
            line.append(f"{state.tokens_per_s:.0f} tok/s ", style="dim")
        if state.mem_mb:
            line.append(f"{state.mem_mb:.0f} MB", style="dim")
        return line

    stops = 0
    with Live(render(), console=con, refresh_per_second=4, transient=False) as live:

        def on_event(e: dict) -> None:
            state.update(e)
            live.update(render())

        while True:
            try:
                metrics = runner.wait_training(out_dir, on_event=on_event, from_start=from_start)
                break
            except KeyboardInterrupt:
                stops += 1
                from_start = False
                if stops == 1:
                    con.print("[yellow]stopping: saving a checkpoint… (Ctrl-C again to detach)[/yellow]")
                    runner.stop_training(out_dir)
                else:
                    con.print(
                        f"[yellow]detached; training continues. Stop it: tunewise train stop "
                        f"{out_dir.parent.parent.name} {out_dir.name}[/yellow]"
                    )
                    return {"status": "detached", "out_dir": str(out_dir)}
    return metrics


def _report(metrics: dict, out_dir: Path) -> int:
    con = common.console()
    status = metrics.get("status")
    run_id, version = out_dir.parent.parent.name, out_dir.name
    if status in ("completed", "early_stopped", "stopped"):
        best = metrics.get("best_eval_loss")
        con.print(
            f"{status} at step {metrics.get('final_step')}/{metrics.get('max_steps')} · train loss "
            f"{metrics.get('train_loss') or float('nan'):.4f}"
            + (f" · best eval loss {best:.4f}" if best is not None else "")
            + f" · {metrics.get('tokens_per_s') or 0:.0f} tok/s · peak {metrics.get('peak_mem_mb') or 0:.0f} MB"
        )
        if metrics.get("adapter"):
            con.print(f"adapter: {metrics['adapter']}")
            con.print(
                f'try it:  tunewise chat --adapter {metrics["adapter"]} "…"   ·   '
                f"export: tunewise export {run_id} {version}"
            )
        if status == "stopped":
            con.print(f"continue: tunewise train resume {run_id} {version}")
        return 0
    if status == "detached":
        return 0
    common.err_console().print(f"[red]training failed:[/red] {metrics.get('error', 'unknown error')}")
    if metrics.get("advice"):
        common.err_console().print(f"fix: {metrics['advice']}")
    return 1


def train(
    target: str = typer.Argument(
        ...,
        metavar="RUN | resume RUN [vN] | stop RUN [vN]",
        help="run id (or prefix), or the word resume/stop followed by one",
    ),
    rest: list[str] = typer.Argument(None, hidden=True),
    data: str = typer.Option(None, "--data", help="data version (default: the latest)"),
    model: str = typer.Option(
        "embedded",
        "--model",
        "-m",
        help="embedded, a local model directory, a .gguf file or a Hub id org/name[@revision]",
    ),
    config: Path = typer.Option(None, "--config", help="YAML file of training overrides (field: value)"),
    set_: list[str] = typer.Option(None, "--set", help="override one field: --set lora_r=16 (repeatable)"),
    processes: int = typer.Option(
        1, "--processes", "--gpus", min=1, help="processes (DDP via accelerate launch)"
    ),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="stop after N optimizer steps"),
    auto_retry_oom: bool = typer.Option(
        False, "--auto-retry-oom", help="on CUDA OOM, retry with half the batch"
    ),
    detach: bool = typer.Option(
        False, "--detach", help="start and return; follow with `tunewise train resume`"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="show the chosen config and reasons; do not train"),
    backend: str = typer.Option(
        "local",
        "--backend",
        help="local (TRL+PEFT on this machine) | together | openai: managed fine-tuning of --model on that "
        "service (uploads the data version, follows the job; TOGETHER_API_KEY / OPENAI_API_KEY)",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print the result as one JSON document on stdout (progress stays on stderr)"
    ),
) -> None:
    """Train a LoRA/QLoRA adapter on a run's data (live progress; Ctrl-C stops with a checkpoint)."""
    with common.json_mode(as_json):
        if backend != "local" or (target in ("resume", "stop") and _managed_dir(rest)):
            doc, code = _train_managed(target, rest, data, model, config, set_, backend, dry_run)
        else:
            doc, code = _train(
                target, rest, data, model, config, set_, processes, max_steps, auto_retry_oom, detach, dry_run
            )
    if as_json:
        common.print_json({**doc, "exit_code": code})
    raise typer.Exit(code)


def _metrics_doc(metrics: dict, out: Path) -> dict:
    return {"run_id": out.parent.parent.name, "version": out.name, "out_dir": str(out), **metrics}


def _managed_dir(rest) -> Path | None:
    """`train resume/stop RUN [vN]` of a managed job (its version has a job.json), else None."""
    from tools.errors import UserError

    rest = list(rest or [])
    if not rest or len(rest) > 2:
        return None
    try:
        out = _train_dir(rest[0], rest[1] if len(rest) > 1 else None)
    except UserError:
        return None
    return out if (out / "job.json").exists() else None


def _train_managed(target, rest, data, model, config, set_, backend, dry_run):
    """`tunewise train RUN --backend together|openai --model M`, and resume/stop of such a job."""
    from tools.errors import UserError
    from tools.train import managed
    from tools.train.config import BACKENDS, load_config_file, parse_set_flags

    con = common.err_console()

    def show(e: dict) -> None:
        if e.get("message") or e.get("loss") is not None:
            loss = f" loss {e['loss']:.4f}" if e.get("loss") is not None else ""
            con.print(
                f"[dim]{e.get('step') or 0}/{e.get('max_steps') or '?'}{loss} {e.get('message') or ''}[/dim]"
            )

    def follow_job(out: Path) -> tuple[dict, int]:
        try:
            m = managed.wait_managed(out, on_event=show)
        except KeyboardInterrupt:
            run_id = out.parent.parent.name
            con.print(
                f"[yellow]detached; the job keeps running there. Follow it: tunewise train resume {run_id} "
                f"{out.name} · cancel it: tunewise train stop {run_id} {out.name}[/yellow]"
            )
            return {**_metrics_doc({}, out), "status": "detached"}, 0
        if m.get("fine_tuned_model"):
            common.console().print(
                f"{m['status']}: fine-tuned model {m['fine_tuned_model']} ({backend_of(out)})"
            )
        else:
            con.print(f"[red]{backend_of(out)} job {m.get('provider_status')}[/red] {m.get('error') or ''}")
        return _metrics_doc(m, out), 0 if m.get("status") == "completed" else 1

    def backend_of(out: Path) -> str:
        from tools.workspace import read_json

        return read_json(out / "job.json").get("backend", "managed")

    if target in ("resume", "stop"):
        out = _managed_dir(rest)
        if out is None:
            raise UserError(
                f"`tunewise train {target}` needs RUN [vN]", fix=f"e.g. tunewise train {target} my-run v1"
            )
        if target == "stop":
            managed.cancel_managed(out)
            common.console().print(f"cancel requested for the {backend_of(out)} job of {out}")
            return {**_metrics_doc({}, out), "stop_requested": True}, 0
        if (out / "metrics.json").exists():
            from tools.workspace import read_json

            m = read_json(out / "metrics.json")
            common.console().print(f"{out.name} already {m.get('status')}: {m.get('fine_tuned_model') or ''}")
            return _metrics_doc(m, out), 0
        return follow_job(out)
    if backend not in BACKENDS:
        raise UserError(
            f"unknown backend {backend!r}", where="--backend", fix=f"use one of {', '.join(BACKENDS)}"
        )
    if rest:
        raise UserError(f"unexpected argument(s): {' '.join(rest)}", fix="tunewise train RUN [options]")
    if model in (None, "embedded"):
        raise UserError(
            f"--backend {backend} fine-tunes a model of that service: name it with --model",
            where="--model",
            fix="e.g. --model meta-llama/Meta-Llama-3.1-8B-Instruct-Reference (together) or "
            "--model gpt-4.1-mini-2025-04-14 (openai)",
        )
    overrides = {**(load_config_file(config) if config else {}), **parse_set_flags(set_)}
    if dry_run:
        cfg, data_dir = managed.managed_config(
            target, backend, model=model, data_version=data, overrides=overrides
        )
        _show_config(cfg.to_dict())
        return {"dry_run": True, "config": cfg.to_dict()}, 0
    out = managed.start_managed(target, backend, model=model, data_version=data, overrides=overrides)
    con.print(f"{backend} job started ({out}): following it (Ctrl-C detaches)")
    return follow_job(out)


def _train(target, rest, data, model, config, set_, processes, max_steps, auto_retry_oom, detach, dry_run):
    """`tunewise train …`; returns (JSON document, exit code)."""
    from tools.errors import UserError

    rest = list(rest or [])
    if target in ("resume", "stop"):
        if not rest or len(rest) > 2:
            raise UserError(
                f"`tunewise train {target}` needs RUN [vN]",
                where=target,
                fix=f"e.g. tunewise train {target} my-run v1",
            )
        out = _train_dir(rest[0], rest[1] if len(rest) > 1 else None)
        from tools.train import runner

        if target == "stop":
            if runner.stop_training(out):
                common.console().print(f"stop requested for {out} (it saves a checkpoint first)")
                return {**_metrics_doc({}, out), "stop_requested": True}, 0
            raise UserError(
                f"no training is running in {out}", fix=f"resume it: tunewise train resume {rest[0]}"
            )
        m = runner.training_result(out)
        if m.get("status") in ("completed", "early_stopped") and not runner.is_running(out):
            common.console().print(
                f"{out.name} already {m['status']} at step {m.get('final_step')}; nothing to resume"
            )
            return _metrics_doc(m, out), 0
        common.quiet_libraries()
        if not runner.is_running(out):
            runner.resume_training(out, owner_pid=os.getpid())  # followed here, like a new training
        metrics = follow(out, from_start=True)
        return _metrics_doc(metrics, out), _report(metrics, out)
    if rest:
        raise UserError(f"unexpected argument(s): {' '.join(rest)}", fix="tunewise train RUN [options]")

    from tools.train import runner
    from tools.train.config import parse_set_flags

    common.quiet_libraries()
    overrides = parse_set_flags(set_)
    if max_steps is not None:
        overrides["max_steps"] = max_steps
    if auto_retry_oom:
        overrides["auto_retry_oom"] = True
    if dry_run:
        _cfg, doc = runner.plan_training(
            target,
            data_version=data,
            model=model,
            overrides=overrides,
            config_file=config,
            processes=processes,
        )
        _show_config(doc)
        return {"dry_run": True, "config": doc}, 0
    out = runner.prepare_training(
        target, data_version=data, model=model, overrides=overrides, config_file=config, processes=processes
    )
    from tools.workspace import read_json

    _show_config(read_json(out / "config.json"))
    # followed here: it checkpoints and stops if this terminal goes away; --detach: it runs on its own
    runner.launch(out, owner_pid=None if detach else os.getpid())
    common.err_console().print(f"training {out} (log: {out / 'train.log'})")
    if detach:
        common.console().print(str(out))
        return {**_metrics_doc({}, out), "status": "detached"}, 0
    metrics = follow(out, from_start=True)
    if metrics.get("error_kind") == "oom" and auto_retry_oom:
        metrics = runner.train_blocking(target, out_dir=out, auto_retry_oom=True)
    return _metrics_doc(metrics, out), _report(metrics, out)


def export(
    run_id: str = typer.Argument(..., metavar="RUN", help="run id (or prefix)"),
    version: str = typer.Argument(None, metavar="[vN]", help="training version (default: the latest)"),
    gguf: bool = typer.Option(
        True,
        "--gguf/--no-gguf",
        help="also write model.gguf (built in for Llama-architecture students; others need a llama.cpp checkout)",
    ),
    outtype: str = typer.Option("f16", "--outtype", help="GGUF weights: f16 | q8_0 (half the size) | f32"),
    push_to_hub: str = typer.Option(
        None,
        "--push-to-hub",
        metavar="ORG/NAME",
        help="upload the adapter (or --merged model) with a model card made from the run (token: HF_TOKEN); "
        "only what is pushed is built",
    ),
    merged: bool = typer.Option(
        False, "--merged", help="with --push-to-hub: push the merged model, not the adapter"
    ),
    private: bool = typer.Option(
        False, "--private", help="with --push-to-hub: create the repository private"
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="with --push-to-hub: write the card and the files to upload, upload nothing"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print the result as one JSON document on stdout (progress stays on stderr)"
    ),
) -> None:
    """Export a trained adapter: merged model, adapter, Ollama Modelfile, GGUF (when possible), README.

    With --push-to-hub ORG/NAME: upload it to the Hugging Face Hub with a model card (--dry-run: the card only)."""
    from tools.train.export import export_run
    from tools.workspace import Workspace, read_json

    if push_to_hub:
        from tui.cli.publish import model_push

        return model_push(run_id, version, push_to_hub, merged, private, dry_run, as_json)
    if dry_run or merged or private:
        from tools.errors import UserError

        raise UserError(
            "--dry-run, --merged and --private go with --push-to-hub", fix="add --push-to-hub ORG/NAME"
        )
    common.quiet_libraries()
    with common.json_mode(as_json):
        out = export_run(Workspace().get_run(run_id), version, gguf=gguf, gguf_outtype=outtype)
    info = read_json(out / "export.json")
    if as_json:
        common.print_json(
            {
                **info,
                "out_dir": str(out),
                "merged": str(out / "merged"),
                "adapter": str(out / "adapter"),
                "modelfile": str(out / "Modelfile"),
            }
        )
        return
    con = common.console()
    con.print(f"exported {info['train_version']} to {out}")
    con.print(f"  merged model: {out / 'merged'}   serve: tunewise serve --model {out / 'merged'}")
    con.print(f"  adapter:      {out / 'adapter'}")
    con.print(f"  Modelfile:    {out / 'Modelfile'}   (ollama create NAME -f {out / 'Modelfile'})")
    if info.get("gguf_info"):
        from tools.train.to_gguf import describe

        con.print(f"  GGUF:         {out / info['gguf']}   ({describe(info['gguf_info'])})")
    else:
        con.print(f"  GGUF:         {info['gguf_note']}")
    con.print("serve it:")
    for line in info.get("serve") or []:
        con.print(f"  {line}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("train", context_settings={"allow_interspersed_args": True})(train)
    app.command("export")(export)
