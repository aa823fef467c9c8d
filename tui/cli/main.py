"""The `tunewise` command. Keep this module light: heavy imports happen inside commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tui.cli import common

app = typer.Typer(
    name="tunewise",
    help="Decide prompt vs RAG vs fine-tune, build data with a teacher, train LoRA/QLoRA, judge the result.\n\n"
    "Run with no command to open the terminal app.",
    epilog=common.EXIT_CODES_HELP,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("tunewise")
        except PackageNotFoundError:  # running from a source tree that was never installed
            v = "unknown (not installed)"
        print(f"tunewise {v}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", help="print the version and exit", is_eager=True, callback=_print_version
    ),
) -> None:
    if ctx.invoked_subcommand is None:
        from tui.app import run_app

        run_app()


@app.command()
def doctor(
    brief: bool = typer.Option(False, "--brief", help="one line per check, no model load"),
    as_json: bool = typer.Option(False, "--json", help="print the checks as one JSON document"),
) -> None:
    """Check Python, torch/CUDA, bitsandbytes, providers (keys present/absent), the embedded model, the workspace.

    Exit code: 0 every check passed or warned, 1 a check failed."""
    from tui.cli.doctor import run_doctor

    raise typer.Exit(run_doctor(brief=brief, as_json=as_json))


@app.command()
def chat(
    prompt: str = typer.Argument(..., metavar="PROMPT", help="the message to send"),
    provider: str = typer.Option(
        None, "--provider", "-p", help="local | openai | anthropic | compatible (default: auto)"
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="model name, local directory, .gguf file or Hub id org/name[@revision]"
    ),
    system: str = typer.Option(None, "--system", "-s", help="system prompt"),
    adapter: str = typer.Option(None, "--adapter", help="LoRA adapter directory (local provider)"),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible server URL"),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1),
    temperature: float = typer.Option(0.0, "--temperature", "-t", min=0.0, max=2.0),
    no_cache: bool = typer.Option(False, "--no-cache", help="bypass the response cache"),
    as_json: bool = typer.Option(False, "--json", help="print the completion as JSON"),
) -> None:
    """One-shot answer from a provider (the embedded model when no key is set)."""
    import json

    from tools.llm import get_provider

    common.quiet_libraries()
    p = get_provider("chat", provider, model, base_url=base_url, adapter=adapter, use_cache=not no_cache)
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    c = p.complete(messages, max_tokens=max_tokens, temperature=temperature)
    if as_json:
        print(json.dumps(c.to_dict(), indent=2))
    else:
        print(c.text)
        common.err_console().print(
            f"[dim]{p.describe()} · {c.usage.prompt_tokens}+{c.usage.completion_tokens} tokens · "
            f"${c.cost_usd:.4f} · {c.latency_s:.2f}s{' · cached' if c.cached else ''}[/dim]"
        )


@app.command()
def serve(
    model: str = typer.Option(
        None,
        "--model",
        "-m",
        help="embedded (the default), a local model directory, a .gguf file or a Hub id org/name[@revision]",
        show_default=False,
    ),
    adapter: str = typer.Option(None, "--adapter", help="LoRA adapter directory to apply"),
    prompt: str = typer.Option(
        None,
        "--prompt",
        metavar="SESSION",
        help="answer every request with the prompt a session chose (its id, its folder or its prompt.json), "
        "by the model it was measured with unless --model says otherwise",
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    name: str = typer.Option(None, "--name", help="model id to report in /v1/models"),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="requests generated together"),
    api_key: str = typer.Option(
        None,
        "--api-key",
        envvar="TUNEWISE_SERVE_API_KEY",
        show_envvar=True,
        show_default=False,
        help="require `Authorization: Bearer <key>` on every endpoint but /health (prefer the "
        "environment variable: a flag shows in the process list)",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="allow a --host beyond this machine without an API key"
    ),
    max_body_mb: float = typer.Option(
        4.0, "--max-body-mb", min=0.001, max=1024.0, help="refuse larger request bodies with 413"
    ),
    log_dir: Path = typer.Option(
        None,
        "--log",
        metavar="DIR",
        help="append every request and answer (latency, tokens, model/adapter version, request id; never a "
        "key) to DIR/serve.jsonl and accept POST /v1/feedback {request_id, rating 1-5, correction?}",
    ),
    log_max_mb: float = typer.Option(
        50.0, "--log-max-mb", min=0.01, help="with --log: start a new file when serve.jsonl reaches this size"
    ),
) -> None:
    """Serve a local model (+ an adapter, or with a session's prompt) as an OpenAI-compatible HTTP API.

    Listens on 127.0.0.1 by default; another --host needs an API key (or --insecure)."""
    from tools.llm.server import serve as _serve

    common.quiet_libraries()
    _serve(
        model=model,
        adapter=adapter,
        host=host,
        port=port,
        name=name,
        batch_size=batch_size,
        api_key=api_key or None,
        insecure=insecure,
        max_body_mb=max_body_mb,
        log_dir=str(log_dir) if log_dir else None,
        log_max_mb=log_max_mb,
        prompt=prompt,
    )


@app.command()
def monitor(
    log_dir: Path = typer.Argument(..., metavar="DIR", help="the folder given to `tunewise serve --log`"),
    spec: Path = typer.Option(None, "--spec", help="task file whose format checks the answers must pass"),
    run: str = typer.Option(None, "--run", help="take the task from this run (default: the served run)"),
    since: str = typer.Option(None, "--since", help="only requests from this day on (YYYY-MM-DD)"),
    as_json: bool = typer.Option(False, "--json", help="print the days as one JSON document"),
) -> None:
    """Per day from a serve log: volume, latency p50/p95, ratings, corrections, format failures (+ a plot)."""
    from tui.cli.serve_cmd import run_monitor

    run_monitor(log_dir, spec=spec, run=run, since=since, as_json=as_json)


common.register_subcommands(app)


def main() -> None:
    import os

    from tools.workspace import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)  # the workspace is 0700 folders / 0600 files throughout (and what we spawn)
    sys.exit(common.run_cli(app))


if __name__ == "__main__":
    main()
