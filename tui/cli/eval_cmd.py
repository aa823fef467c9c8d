"""`tunewise eval`: evaluate a run's systems, compare eval versions, export to Promptfoo.

    tunewise eval RUN [--systems base,prompted,tuned] [--data v2] [--test FILE] [--no-judge]
    tunewise eval compare RUN v1 v2
    tunewise eval export RUN --promptfoo [--out promptfooconfig.yaml]

`tunewise eval RUN` is shorthand for `tunewise eval run RUN`: the group inserts `run` when the first
argument is not a sub-command, so both forms work.
"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperGroup

from tui.cli import common


class _DefaultRunGroup(TyperGroup):
    """Route `tunewise eval RUN …` to the `run` command; keep `compare`/`export`/`--help` as they are."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultRunGroup,
    help="Evaluate systems on held-out data with metrics, a judge, suites and a verdict (tunewise eval RUN).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _run_and_spec(run_id: str):
    from tools.spec import load_spec
    from tools.workspace import Workspace

    run = Workspace().get_run(run_id)
    return run, load_spec(run.spec_path)


def print_report(report: dict, *, show_all: bool = False) -> None:
    """The result in one plain sentence and what to do, then a short table that fits 80 columns (the
    primary score in words, format rate, prompt tokens), then the verdict's checks. `show_all`: every
    metric with its 95% CI, the pairwise result and the targeted data requests too."""
    from rich.markup import escape

    from tools.evals.summary import n_train_for, plain_summary, rows_for
    from tools.evals.verdict import verdict_word

    con = common.console()
    rows = rows_for(report)
    plain = plain_summary(report, rows, n_train=n_train_for(report))
    word = verdict_word(report["verdict"])
    color = dict(PASS="green", FAIL="red").get(word, "yellow")
    con.print(f"[bold {color}]{escape(plain['sentence'])}[/]")
    con.print(f"→ {escape(plain['recommendation'])}")
    if plain.get("serve_command"):
        con.print(f"  {escape(plain['serve_command'])}", soft_wrap=True)  # the terminal wraps it: never cut
    if plain.get("own_examples"):
        con.print(escape(plain["own_examples"]))
    _short_table(con, report, rows, plain["noun"])
    if show_all:
        _full_table(con, report)
    con.print(f"Verdict: [bold {color}]{word}[/]")
    for r in report["verdict"]["reasons"]:
        con.print(f"  {escape(r)}")
    if show_all and report.get("failures"):
        con.print("targeted data requests:")
        for f in report["failures"][:5]:
            con.print(f"  - {escape(f['cause'])} ×{f['count']}: {escape(f['description'])}")
    more = "" if show_all else " (--all: every metric with its 95% CI)"
    con.print(f"[dim]{report['paths']['report_md']}{more}[/dim]", soft_wrap=True)


def _short_table(con, report: dict, rows: list[dict] | None, noun: str) -> None:
    """system · the primary score in words · right format · prompt tokens: fits 80 columns."""
    from rich.table import Table

    from tools.evals.summary import metric_in_words, system_rows

    what = noun if noun.startswith("test") else f"test {noun}"
    table = Table(title=f"eval {report['eval_version']} · {report['n_test']} {what}", title_justify="left")
    table.add_column("system", overflow="fold")
    table.add_column(metric_in_words(report["primary_metric"]), justify="right", no_wrap=True)
    table.add_column("right format", justify="right", no_wrap=True)
    table.add_column("prompt tokens", justify="right", no_wrap=True)
    for r in system_rows(report, rows):
        table.add_row(
            r["label"],
            r["score"]["cell"],
            r["format"],
            r["prompt_tokens"],
        )
    con.print(table)


def _full_table(con, report: dict) -> None:
    """Every metric of every system with its CI, under `--all`: one row per metric, so it fits 80 columns."""
    from rich.table import Table

    from tools.evals.report import metric_columns

    cols = metric_columns(report)
    table = Table(title=f"every metric · primary: {report['primary_metric']} ★", title_justify="left")
    table.add_column("system", overflow="fold")
    table.add_column("metric", overflow="fold")
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("95% CI", justify="right", no_wrap=True)
    for name, s in report["systems"].items():
        role = {report["candidate"]: "candidate", report["baseline"]: "baseline"}.get(name) or s["kind"]
        cells = [(c + (" ★" if c == report["primary_metric"] else ""), s["metrics"].get(c)) for c in cols]
        cells += [("prompt tokens", {"mean": s.get("prompt_tokens_mean")}), ("format rate", None)]
        for i, (metric, m) in enumerate(cells):
            m = m or {}
            if metric == "format rate":
                fr = s.get("format_rate")
                mean = "–" if fr is None else f"{fr:.0%}"
            elif m.get("mean") is None:
                mean = "–"
            else:
                mean = f"{m['mean']:.0f}" if metric == "prompt tokens" else f"{m['mean']:.3f}"
            lo, hi = (m.get("ci") or [None, None])[:2]
            ci = "" if lo is None or hi is None else f"[{lo:.2f}, {hi:.2f}]"
            table.add_row(
                f"{name} ({role})" if i == 0 else "",
                metric,
                mean,
                ci,
                end_section=i == len(cells) - 1,
            )
    con.print(table)
    if report.get("pairwise"):
        p = report["pairwise"]
        con.print(
            f"pairwise {p['candidate']} vs {p['baseline']}: {p['wins']}W {p['losses']}L {p['ties']}T → "
            f"win rate {p['win_rate']:.2f}; judge position-bias rate "
            f"{report['judge'].get('position_bias_rate') or 0:.0%}"
        )


def serve_log_rows(directory: Path) -> list[dict] | None:
    """The corrected answers of a `tunewise serve --log` folder as test rows (the messages served, then the
    correction as the reference); None when the folder is no serve log. A log without corrections is a
    clear error: there is nothing to test against."""
    from tools.data.from_serve import select
    from tools.errors import UserError
    from tools.llm.servelog import log_files

    if not log_files(directory):
        return None
    found = select(directory, max_rating=5)
    if not found["rows"]:
        raise UserError(
            f"no corrected answers in this serve log ({found['counts']['requests']} requests)",
            where=str(directory),
            fix="post corrections first: POST /v1/feedback {request_id, correction}",
        )
    return found["rows"]


def write_serve_test(run, directory: Path, rows: list[dict]) -> Path:
    """The corrected rows as the run's test file `tests/serve-corrections-<n rows>-<hash>.jsonl` (the same
    log gives the same file); checked like any test file you bring."""
    from tools.data.schema import stable_hash
    from tools.workspace import atomic_write_jsonl

    key = stable_hash(str(directory.resolve()), *(r["metadata"]["request_id"] for r in rows), size=4)
    path = run.path / "tests" / f"serve-corrections-{len(rows)}-{key}.jsonl"
    atomic_write_jsonl(path, [{"messages": r["messages"], "metadata": r["metadata"]} for r in rows])
    check_test_file(path)
    return path


def check_test_file(path: Path) -> int:
    """A test file you bring, checked completely before anything is created: readable chat JSONL, every
    row with a user turn and a final assistant turn (the reference). Returns the number of rows."""
    import json
    import re

    from tools.errors import UserError
    from tools.evals.run import load_rows
    from tools.userfile import MAX_DEPTH, loads_json, read_text

    path = Path(path)
    fix = 'one JSON object per line: {"messages": [{"role": "user", …}, {"role": "assistant", …}]}'
    if not path.exists():
        raise UserError(
            "test file not found",
            where=str(path),
            fix="pass a chat JSONL file (last assistant turn = reference)",
        )
    # a folder, no permission, binary, not UTF-8: one line each (a byte-order mark is dropped)
    text = read_text(
        path, what="chat JSONL file", fix="pass a chat JSONL file (last assistant turn = reference)"
    )
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = loads_json(line)
        except json.JSONDecodeError as e:
            raise UserError(f"invalid JSON ({e.msg})", where=f"{path}:{i}", fix=fix) from None
        # the metrics parse JSON references: one nested absurdly deep is refused here, not mid-evaluation
        msgs = row.get("messages") if isinstance(row, dict) else None
        for m in msgs if isinstance(msgs, list) else []:
            content = m.get("content") if isinstance(m, dict) else None
            if not isinstance(content, str) or content.count("[") + content.count("{") <= MAX_DEPTH:
                continue
            fenced = re.match(r"^```[A-Za-z]*\s*\n?(.*?)\n?```$", content.strip(), re.S)
            for candidate in (content, fenced.group(1) if fenced else ""):
                try:
                    loads_json(candidate)
                except json.JSONDecodeError as e:
                    if "nested" in e.msg:
                        raise UserError(
                            f"the {m.get('role')} message holds JSON {e.msg}",
                            where=f"{path}:{i}",
                            fix="remove or flatten that row",
                        ) from None
    rows = load_rows(path)
    if not rows:
        raise UserError("the test file has no rows", where=str(path), fix=fix)
    line_of = [i for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    for i, row in zip(line_of, rows, strict=False):
        for m in row["messages"]:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
                raise UserError(
                    "a message needs a role: system, user or assistant", where=f"{path}:{i}", fix=fix
                )
            if not isinstance(m.get("content"), str):
                raise UserError(
                    f"the {m['role']} message has no text `content`", where=f"{path}:{i}", fix=fix
                )
    return len(rows)


@app.command("run")
# long: a typer command whose 10 options take 28 lines of signature; the body checks, evaluates each test set, prints
def run_cmd(
    run_id: str = typer.Argument(..., metavar="RUN", help="run id (or a unique prefix/suffix)"),
    systems: str = typer.Option(
        None,
        "--systems",
        help="comma list: base,prompted,rag,tuned,tuned-vK,teacher,"
        "provider:model (default: base,prompted,rag when documents exist, every tuned)",
    ),
    data: str = typer.Option(None, "--data", help="data version (default: latest)"),
    test: Path = typer.Option(
        None,
        "--test",
        help="chat JSONL test file you bring (last assistant turn = reference), or a `serve --log` folder: "
        "the logged requests whose answers people corrected, with the corrections as references",
    ),
    no_judge: bool = typer.Option(False, "--no-judge", help="skip the LLM judge (metrics only)"),
    candidate: str = typer.Option(None, "--candidate", help="system to judge against the baselines"),
    max_tokens: int = typer.Option(None, "--max-tokens", min=1, help="answer length limit for every system"),
    forgetting_limit: int = typer.Option(
        None, "--forgetting-limit", min=0, help="use only the first N forgetting prompts"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print the reports as one JSON document on stdout (progress stays on stderr)"
    ),
    show_all: bool = typer.Option(
        False, "--all", help="every metric with its 95% CI, the pairwise result and the data requests"
    ),
) -> None:
    """Evaluate every system on the held-out test split and print the comparison with the verdict.

    Exit code: 0 the verdict passed (on every test set), 3 failed or inconclusive, 2 bad input, 1 internal error.
    """
    from tools.evals.run import evaluate
    from tools.evals.systems import build_systems
    from tools.workspace import read_jsonl
    from tui.cli.progress import Progress

    corrected = serve_log_rows(test) if test is not None and test.is_dir() else None
    if test is not None and corrected is None:
        check_test_file(test)  # before anything is created: a bad file leaves no eval version behind
    common.quiet_libraries()
    run, spec = _run_and_spec(run_id)
    if corrected is not None:
        test = write_serve_test(run, test, corrected)
    names = [s.strip() for s in systems.split(",") if s.strip()] if systems else None
    data_dir = run.version_dir("data", data) if (data or run.latest_version("data")) else None
    train_rows = (
        list(read_jsonl(data_dir / "train.jsonl")) if data_dir and (data_dir / "train.jsonl").exists() else []
    )
    specs = build_systems(spec, run.path, train_rows, names=names, max_tokens=max_tokens or 256)
    with common.json_mode(as_json):
        with run.lock(), Progress(run_path=run.path) as progress:
            # A test file you bring is evaluated besides the run's own split (each gets its own eval version).
            own_split = data_dir is not None and (data_dir / "test.jsonl").exists()
            sources = ([None] if own_split or test is None else []) + ([test] if test is not None else [])
            reports = [
                evaluate(
                    run,
                    data_version=data,
                    systems=specs,
                    spec=spec,
                    test_file=src,
                    use_judge=not no_judge,
                    on_progress=progress.on_evaluation,
                    candidate=candidate,
                    forgetting_limit=forgetting_limit,
                )
                for src in sources
            ]
        for report in reports:
            if len(reports) > 1:
                common.console().rule(f"test set: {report.get('test_source')}")
            print_report(report, show_all=show_all)
    codes = [common.verdict_exit(r.get("verdict")) for r in reports]
    code = common.EXIT_OK if codes and all(c == common.EXIT_OK for c in codes) else common.EXIT_NOT_PASSED
    if as_json:
        common.print_json(
            {
                "run_id": run.id,
                "passed": code == common.EXIT_OK,
                "exit_code": code,
                "reports": reports,
            }
        )
    raise typer.Exit(code)


@app.command("compare")
def compare_cmd(
    run_id: str = typer.Argument(..., metavar="RUN", help="run id"),
    version_a: str = typer.Argument(..., metavar="VA", help="earlier eval version, e.g. v1"),
    version_b: str = typer.Argument(..., metavar="VB", help="later eval version, e.g. v2"),
    limit: int = typer.Option(10, "--limit", min=0, help="examples to show per direction"),
    as_json: bool = typer.Option(False, "--json", help="print the comparison as one JSON document"),
) -> None:
    """What got better and worse between two eval versions, example by example.

    Exit code: 0 when the later version's verdict passed and its primary metric is not below the earlier
    one's; 3 otherwise; 2 bad input; 1 internal error.
    """
    from rich.table import Table

    from tools.evals.compare import compare_evals
    from tools.workspace import Workspace, read_json

    run = Workspace().get_run(run_id)
    res = compare_evals(run.path, version_a, version_b)
    verdict = read_json(run.path / "eval" / version_b / "report.json").get("verdict")
    ma, mb = res["mean_a"], res["mean_b"]
    not_worse = ma is None or (mb is not None and mb >= ma)
    code = common.verdict_exit(verdict) if not_worse else common.EXIT_NOT_PASSED
    if as_json:
        common.print_json({**res, "verdict_b": verdict, "passed": code == common.EXIT_OK, "exit_code": code})
        raise typer.Exit(code)
    con = common.console()
    con.print(
        f"{res['metric']}: {res['a']['system']}@{version_a} {ma if ma is None else f'{ma:.3f}'} → "
        f"{res['b']['system']}@{version_b} {mb if mb is None else f'{mb:.3f}'} · {len(res['better'])} better, "
        f"{len(res['worse'])} worse, {res['same']} unchanged"
    )
    for title, items in (("better", res["better"]), ("worse", res["worse"])):
        if not items:
            continue
        t = Table(title=title)
        for c in ("id", "input", version_a, version_b, "Δ"):
            t.add_column(c, overflow="fold")
        for it in items[:limit]:
            t.add_row(
                str(it["id"]), it["input"][:60], str(it["a"])[:60], str(it["b"])[:60], f"{it['delta']:+.2f}"
            )
        con.print(t)
    from tools.evals.verdict import verdict_word

    con.print(
        f"{version_b} verdict: {verdict_word(verdict)}"
        + ("" if not_worse else f"; {res['metric']} fell from {version_a}")
    )
    raise typer.Exit(code)


@app.command("export")
def export_cmd(
    run_id: str = typer.Argument(..., help="run id"),
    promptfoo: bool = typer.Option(
        False, "--promptfoo", help="write a Promptfoo config (the only format so far)"
    ),
    out: Path = typer.Option(
        None, "--out", help="output file (default: runs/<id>/export/promptfooconfig.yaml)"
    ),
    data: str = typer.Option(None, "--data", help="data version (default: latest)"),
    systems: str = typer.Option(None, "--systems", help="comma list of systems, as for `tunewise eval RUN`"),
) -> None:
    """Export the evaluation (prompts, providers, tests with assertions) to run outside tunewise."""
    from tools.errors import UserError
    from tools.evals.promptfoo import export_promptfoo
    from tools.evals.run import load_rows
    from tools.evals.systems import build_systems
    from tools.workspace import read_jsonl

    if not promptfoo:
        raise UserError("choose an export format", where="tunewise eval export", fix="pass --promptfoo")
    run, spec = _run_and_spec(run_id)
    data_dir = run.version_dir("data", data)
    train = list(read_jsonl(data_dir / "train.jsonl")) if (data_dir / "train.jsonl").exists() else []
    names = [s.strip() for s in systems.split(",") if s.strip()] if systems else None
    specs = build_systems(spec, run.path, train, names=names)
    path = export_promptfoo(
        spec, specs, load_rows(data_dir / "test.jsonl"), out or run.path / "export" / "promptfooconfig.yaml"
    )
    common.console().print(f"wrote {path} ({len(specs)} systems) — run: npx promptfoo eval -c {path}")
