"""The `tunewise` command. Keep this module light: heavy imports happen inside commands."""

from __future__ import annotations

import sys

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
        "embedded",
        "--model",
        "-m",
        help="embedded, a local model directory, a .gguf file or a Hub id org/name[@revision]",
    ),
    adapter: str = typer.Option(None, "--adapter", help="LoRA adapter directory to apply"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    name: str = typer.Option(None, "--name", help="model id to report in /v1/models"),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="requests generated together"),
) -> None:
    """Serve a local model (optionally + adapter) as an OpenAI-compatible HTTP API."""
    from tools.llm.server import serve as _serve

    common.quiet_libraries()
    _serve(model=model, adapter=adapter, host=host, port=port, name=name, batch_size=batch_size)


common.register_subcommands(app)


def main() -> None:
    sys.exit(common.run_cli(app))


if __name__ == "__main__":
    main()
