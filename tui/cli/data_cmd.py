"""`tunewise data …`: validate, import, generate, stats, diff, review."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Validate, import, generate, split and version training data.", no_args_is_help=True)


def _problem_table(report, limit: int):
    from rich.table import Table

    t = Table(title=f"{report.path}: {sum(report.problem_counts.values())} problem(s)", show_lines=False)
    t.add_column("line", justify="right")
    t.add_column("kind")
    t.add_column("what is wrong")
    t.add_column("fix")
    for p in report.problems[:limit]:
        t.add_row("-" if p.line is None else str(p.line), p.kind, p.message, p.fix)
    return t


def _summary_table(summary: dict):
    from rich.table import Table

    t = Table(title="token lengths" + (f" ({summary['tokenizer']})" if summary.get("tokenizer") else ""))
    for c in ("role", "n", "mean", "p50", "p90", "p99", "max"):
        t.add_column(c, justify="right" if c != "role" else "left")
    for role, d in summary.get("tokens", {}).items():
        if d.get("n"):
            t.add_row(role, *(str(d.get(k, "")) for k in ("n", "mean", "p50", "p90", "p99", "max")))
    return t


@app.command("validate")
def validate_cmd(
    file: Path = typer.Argument(..., help="chat JSONL file"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    model: str = typer.Option(
        None, "--model", help="student model whose tokenizer counts tokens (default: embedded)"
    ),
    spec: Path = typer.Option(None, "--spec", help="task spec: checks labels, JSON schema and regex too"),
    max_tokens: int = typer.Option(
        None, "--max-tokens", help="token limit per example (default: model context)"
    ),
    no_tokens: bool = typer.Option(False, "--no-tokens", help="skip token counting (no tokenizer load)"),
    min_examples: int = typer.Option(
        20, "--min-examples", help="fewer usable examples than this is a problem"
    ),
    limit: int = typer.Option(200, "--limit", help="problems to print"),
) -> int:
    """Report every problem with its line number and a fix. Exit 0 clean, 1 problems, 2 unreadable."""
    from tools.data.validate import validate_file
    from tui.cli.common import console, quiet_libraries

    quiet_libraries()
    task = None
    if spec is not None:
        from tools.spec import load_spec

        task = load_spec(spec)
    report = validate_file(
        file,
        model=model,
        task=task,
        count_tokens=not no_tokens,
        max_tokens=max_tokens,
        min_examples=min_examples,
    )
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        con = console()
        s = report.summary
        if report.ok:
            con.print(f"[green]ok[/]: {s['valid_examples']} examples, no problems")
        else:
            con.print(_problem_table(report, limit))
            hidden = sum(report.problem_counts.values()) - min(limit, len(report.problems))
            if hidden > 0:
                con.print(f"… and {hidden} more (use --json or --limit)")
            con.print("by kind: " + ", ".join(f"{k} {v}" for k, v in report.problem_counts.items()))
        con.print(
            f"{s['lines']} lines, {s['valid_examples']} valid examples, "
            f"{s['distinct_system_prompts']} distinct system prompt(s)"
        )
        if s.get("tokens", {}).get("example", {}).get("n"):
            con.print(_summary_table(s))
        est = s.get("estimates")
        if est:
            managed = ", ".join(f"{k} ${v:.2f}" for k, v in est["managed_usd"].items())
            con.print(
                f"training: {est['training_tokens']:,} tokens over {est['epochs']} epochs; managed {managed}; "
                f"local ≈ {est['local_gpu_hours']:.2f} GPU-h (${est['local_gpu_usd']:.2f}) or "
                f"{est['local_cpu_hours']:.1f} CPU-h"
            )
        if s.get("note"):
            con.print(f"note: {s['note']}")
        for note in s.get("index_notes", []):
            con.print(f"note: {note}")
    raise typer.Exit(report.exit_code)


@app.command("stats")
def stats_cmd(
    run: str = typer.Argument(..., help="run id"),
    version: str = typer.Argument(None, help="vN (default: latest)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Summary of a data version: counts, scores, categories, sources."""
    from rich.table import Table

    from tools.data.versions import version_stats
    from tui.cli.common import console

    st = version_stats(run, version)
    if as_json:
        print(json.dumps(st, indent=2, default=str))
        return
    con = console()
    con.print(f"[bold]{st['version']}[/] (parent {st['parent'] or '-'}): {st['reason'] or ''}")
    t = Table(title="splits")
    t.add_column("split")
    t.add_column("examples", justify="right")
    for k, v in st["counts"].items():
        t.add_row(k, str(v))
    con.print(t)
    c = st["critique"]
    t2 = Table(title="critique")
    t2.add_column("what")
    t2.add_column("value")
    t2.add_row("mean score", str(c["mean_score"]))
    t2.add_row("scores", ", ".join(f"{k}: {v}" for k, v in c["score_counts"].items()) or "-")
    t2.add_row("categories", ", ".join(f"{k}: {v}" for k, v in c["categories"].items()) or "-")
    t2.add_row("flags", ", ".join(f"{k}: {v}" for k, v in c["flags"].items()) or "-")
    t2.add_row("sources", ", ".join(f"{k}: {v}" for k, v in c["sources"].items()) or "-")
    t2.add_row("decisions", ", ".join(f"{k}: {v}" for k, v in st["decisions"].items()) or "-")
    con.print(t2)


@app.command("diff")
def diff_cmd(
    run: str = typer.Argument(...),
    a: str = typer.Argument(...),
    b: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What changed between two data versions."""
    from rich.table import Table

    from tools.data.versions import diff_versions
    from tui.cli.common import console

    d = diff_versions(run, a, b)
    if as_json:
        print(json.dumps(d, indent=2))
        return
    t = Table(title=f"{a} → {b}: {d.get('reason') or ''}")
    for c in ("split", a, b, "added", "removed", "changed"):
        t.add_column(c, justify="right" if c != "split" else "left")
    for split, s in d["splits"].items():
        t.add_row(
            split,
            str(s["count_a"]),
            str(s["count_b"]),
            str(len(s["added"])),
            str(len(s["removed"])),
            str(len(s["changed"])),
        )
    console().print(t)
    ms = d["mean_score"]
    console().print(f"mean critique score: {ms[0]} → {ms[1]}")


def _run_for(run: str | None, name: str):
    from tools.errors import UserError
    from tools.workspace import Workspace

    ws = Workspace().ensure()
    if not run:
        return ws.create_run(name)
    try:
        return ws.get_run(run)
    except UserError:
        return ws.create_run(name, run_id=run)  # a new run under the id the user chose


@app.command("import")
# long: a typer command whose 12 options take 33 lines of signature; the body is the argument checks and one import
def import_cmd(
    source: str = typer.Argument(
        None,
        metavar="SOURCE",
        help="Alpaca / ShareGPT JSON(L), CSV, chat JSONL, a .parquet file, a datasets.save_to_disk folder, "
        "or hf://datasets/ORG/NAME[@REV][:SPLIT] (from the Hugging Face cache first)",
    ),
    run: str = typer.Option(None, "--run", help="add to this run (default: a new run)"),
    fmt: str = typer.Option(None, "--format", help="alpaca | sharegpt | csv | jsonl (default: detected)"),
    input_col: str = typer.Option(
        None, "--input-col", help="column holding the input (CSV, JSONL, parquet, Hub)"
    ),
    output_col: str = typer.Option(
        None, "--output-col", help="column holding the answer (CSV, JSONL, parquet, Hub)"
    ),
    system: str = typer.Option(None, "--system", help="system prompt to put on every example"),
    split: str = typer.Option(
        None, "--split", help="split of a Hub dataset or a saved DatasetDict (default: train)"
    ),
    seed: int = typer.Option(0, "--seed", help="split seed"),
    from_serve_log: Path = typer.Option(
        None,
        "--from-serve-log",
        metavar="DIR",
        help="instead of SOURCE: a `tunewise serve --log DIR` log; corrected answers become rows (the "
        "correction is the target), low-rated ones go to the run's review queue",
    ),
    since: str = typer.Option(None, "--since", help="with --from-serve-log: requests from this day on"),
    max_rating: int = typer.Option(
        None, "--max-rating", help="with --from-serve-log: queue answers rated this or lower (default 2)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the result as one JSON document on stdout"),
) -> None:
    """Convert a file or dataset into canonical chat JSONL and write a new data version (train/val/test/regression).

    With --from-serve-log DIR: production answers people corrected or rated low, from a serve log."""
    from tools.errors import UserError

    if from_serve_log is not None:
        if source:
            raise UserError(
                "give either SOURCE or --from-serve-log DIR, not both",
                fix="run two imports into the same --run",
            )
        from tui.cli.serve_cmd import run_import

        return run_import(
            from_serve_log,
            run=run,
            since=since,
            max_rating=2 if max_rating is None else max_rating,
            seed=seed,
            as_json=as_json,
        )
    if since is not None or max_rating is not None:
        raise UserError(
            "--since and --max-rating go with --from-serve-log DIR", fix="add --from-serve-log DIR"
        )
    if not source:
        raise UserError(
            "nothing to import", fix="give a SOURCE (file, folder or hf://datasets/…) or --from-serve-log DIR"
        )
    from tools.data.convert import import_file
    from tools.data.sources import import_source, is_tabular_source
    from tools.data.versions import load_manifest, read_split, split_rows, write_data_version
    from tui.cli.common import console, print_json, quiet_libraries

    if is_tabular_source(source):
        quiet_libraries()
        rows, source_info = import_source(
            source, fmt=fmt, input_col=input_col, output_col=output_col, system=system, split=split
        )
        name = source.rstrip("/").split("/")[-1].split(":")[0].split("@")[0].removesuffix(".parquet")
    else:
        file = Path(source)
        rows = import_file(file, fmt=fmt, input_col=input_col, output_col=output_col, system=system)
        source_info = {
            "kind": "import",
            "path": str(file.resolve()),
            "format": fmt or "detected",
            "rows": len(rows),
        }
        name = file.stem
    r = _run_for(run, name)
    with r.lock():
        parent = r.latest_version("data")
        previous = read_split(r, parent, "all") if parent else []
        prev_reg = read_split(r, parent, "regression") if parent else None
        splits = split_rows(previous + rows, seed=seed, previous_regression=prev_reg or None)
        v = write_data_version(
            r,
            splits,
            {
                "reason": f"imported {source.rstrip('/').split('/')[-1]}",
                "sources": [source_info],
            },
        )
    m = load_manifest(r, v)
    if as_json:
        print_json({"run_id": r.id, "version": v, "path": str(r.path / "data" / v), "counts": m["counts"]})
        return
    console().print(f"run {r.id}: data {v} — " + ", ".join(f"{k} {n}" for k, n in m["counts"].items()))


@app.command("generate")
# long: a typer command whose 12 options take 24 lines of signature; the body checks, calls build_dataset and prints
def generate_cmd(
    spec_path: Path = typer.Option(..., "--spec", help="task spec YAML"),
    n: int = typer.Option(
        None, "--n", min=1, max=100_000, help="examples to generate (default: the spec's n_examples)"
    ),
    run: str = typer.Option(None, "--run", help="run id (default: a new run named after the spec)"),
    batch: bool = typer.Option(
        False,
        "--batch",
        help="use the OpenAI Batch API (OpenAI, or a compatible server that has one; half price at OpenAI, slower)",
    ),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="parallel requests (API providers)"),
    max_concurrency: int = typer.Option(
        None,
        "--max-concurrency",
        min=1,
        help="adapt parallel requests from --concurrency up to this cap (halve on 429, grow without)",
    ),
    answer_tokens: int = typer.Option(256, "--max-tokens", help="max tokens per teacher answer"),
    threshold: int = typer.Option(
        3, "--threshold", help="critique score under which an example is repaired/dropped"
    ),
    no_critique: bool = typer.Option(False, "--no-critique", help="skip the judge (validators still run)"),
    hardness: bool = typer.Option(
        False, "--hardness", help="mark/remove examples the student already gets right"
    ),
    general_file: Path = typer.Option(
        None, "--general-file", help="general examples to mix in against forgetting"
    ),
    budget: float = typer.Option(None, "--budget", min=0.0, help="USD limit (default: the spec's budget)"),
    as_json: bool = typer.Option(
        False, "--json", help="print the result as one JSON document on stdout (progress stays on stderr)"
    ),
) -> None:
    """Generate inputs and answers with the teacher, critique, mix, split and write a new data version.

    Resumable: rerunning the same command continues where a killed run stopped, paying nothing twice.
    """
    from tools.data.pipeline import build_dataset
    from tools.spec import load_spec
    from tui.cli.common import console, json_mode, print_json, quiet_libraries
    from tui.cli.progress import Progress

    quiet_libraries()
    spec = load_spec(spec_path)  # every field, before a run is created or a model called
    if general_file is not None:  # read at the mixing step, after paid generation: check it now
        from tools.data.convert import import_file

        import_file(general_file)
    with json_mode(as_json):
        r = _run_for(run, spec.name)
        if r.spec_path.exists():  # a run id names one task: data for another task goes elsewhere
            from tools.errors import UserError
            from tools.workspace import read_yaml
            from tui.cli.common import task_differences

            differs = task_differences(read_yaml(r.spec_path), spec)
            if differs:
                raise UserError(
                    f"run {r.id} belongs to another task (differs in: {', '.join(differs)})",
                    where=str(spec_path),
                    fix="leave out --run for a new run, or pass the spec that run was made with",
                )
        with r.lock(), Progress(run_path=r.path) as progress:
            from tools.workspace import atomic_write_yaml

            if not r.spec_path.exists():
                atomic_write_yaml(r.spec_path, spec.to_yaml_dict())
            out = build_dataset(
                r,
                spec,
                n=n or spec.n_examples,
                batch=batch,
                concurrency=concurrency,
                max_concurrency=max_concurrency,
                answer_max_tokens=answer_tokens,
                threshold=threshold,
                critique=not no_critique,
                hardness=hardness,
                general_file=general_file,
                budget=budget,
                on_progress=progress.on_generation,
            )
    m = out["manifest"]
    if as_json:
        print_json(
            {
                "run_id": r.id,
                "version": out["version"],
                "path": str(r.path / "data" / out["version"]),
                "counts": m["counts"],
                "generation": m.get("generation", {}),
                "critique": m.get("critique_summary", {}),
            }
        )
        return
    con = console()
    con.print(f"run {r.id}: data {out['version']} — " + ", ".join(f"{k} {v}" for k, v in m["counts"].items()))
    g = m.get("generation", {})
    con.print(
        f"generated {g.get('rows')} (inputs rejected: {sum(g.get('rejected_inputs', {}).values())}), "
        f"critique kept {m['critique_summary']['kept']}, repaired {m['critique_summary']['repaired']}, "
        f"dropped {m['critique_summary']['dropped']}; provider calls {g.get('provider_calls')}, "
        f"cost ${g.get('cost_usd', 0):.4f}"
    )
    if g.get("stopped"):
        con.print(
            f"[yellow]stopped early ({g['stopped']}): a valid partial version was written; rerun to continue[/]"
        )


@app.command("review")
def review_cmd(
    run: str = typer.Argument(...),
    version: str = typer.Argument(None),
    share: float = typer.Option(0.1, "--share", help="random sample share on top of flagged rows"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the examples that need a person's review (flagged, low score, and a random sample)."""
    from rich.table import Table

    from tools.data.review import review_queue
    from tui.cli.common import console

    items = review_queue(run, version, share)
    if as_json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return
    t = Table(title=f"{len(items)} example(s) to review")
    for c in ("id", "split", "score", "why", "input", "answer"):
        t.add_column(c)
    for it in items:
        msgs = it["row"]["messages"]
        t.add_row(
            it["id"][:8],
            it["split"],
            str(it["score"]),
            "; ".join(it["why"]),
            msgs[-2]["content"][:60] if len(msgs) > 1 else "",
            msgs[-1]["content"][:60],
        )
    console().print(t)


@app.command("export")
def export_cmd(
    run: str = typer.Argument(..., metavar="RUN", help="run id (or prefix)"),
    version: str = typer.Argument(None, metavar="[vN]", help="data version (default: the latest)"),
    fmt: str = typer.Option(
        "jsonl", "--format", help="jsonl | parquet | alpaca | sharegpt | hf (a datasets.save_to_disk folder)"
    ),
    out: Path = typer.Option(
        None, "--out", help="output folder (default: runs/<id>/export-data/<vN>/<format>)"
    ),
    push_to_hub: str = typer.Option(
        None,
        "--push-to-hub",
        metavar="ORG/NAME",
        help="also upload the version (parquet + dataset card) to the Hub",
    ),
    private: bool = typer.Option(False, "--private", help="create the Hub repository private"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="with --push-to-hub: write the card and the files to upload, upload nothing"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the result as one JSON document on stdout"),
) -> None:
    """Write a data version's splits as JSONL, parquet, Alpaca, ShareGPT or a datasets folder; optionally push it."""
    from tui.cli.publish import data_export

    data_export(run, version, fmt, out, push_to_hub, private, dry_run, as_json)
