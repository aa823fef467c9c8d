"""The whole loop, headless, on bench tasks nobody tuned tunewise for; scored on private test sets.

    .venv/bin/python bench/loop.py                         # all seven tasks (hours on 2 CPU cores)
    .venv/bin/python bench/loop.py --tasks orders,routing
    .venv/bin/python bench/loop.py --dry-run               # validate task files and test sets only (seconds)
    .venv/bin/python bench/loop.py --tasks routing --smoke --train-max-steps 2 --max-iterations 1 --test-limit 8
    .venv/bin/python bench/loop.py --eval-only --workdir DIR     # re-score the runs already in DIR (no new loop)
    make bench-loop BENCH_ARGS='--tasks orders,routing'

For each task in bench/tasks/<t>/: `tunewise run task.yaml --yes --run-id bench-<t>-<stamp>` in a fresh
workspace (TUNEWISE_HOME=<workdir>/<t>, so nothing mixes with your own `.tunewise/` and the response
cache starts empty), then `tunewise eval run <run> --test bench/tasks/<t>/test.jsonl`: the test set that
tunewise never saw during the run. Then ONE markdown table for all tasks is printed and appended to
bench/RESULTS.md: decision, base / prompted (few-shot) / rag / tuned primary metric with 95% CIs, format
rates, prompt tokens (prompted → tuned), provider calls, wall time per step, iterations.

A task whose decision is not a fine-tune has no tuned system ("—"); a failed task records its one-line
error and the next task runs (exit status 3, "finished, verdict not passed", is not a failure). The
bench eval runs without the LLM judge unless a key or server is configured (`--judge auto`): the embedded
model cannot grade. `tunewise eval run --test` also re-scores the run's own test split (a second eval
version); its time and calls are in "bench eval". Smoke runs append to <workdir>/RESULTS.md, not here. Wall time per step comes from the run folder: each step writes its result
file when it finishes (work/iter<k>/<step>.json, decision.json, summary.json), so a step's time is the
gap between its file and the one before. Provider calls are the rows the run added to its (fresh)
response cache: model requests actually made, not served from the cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS_DIR = ROOT / "bench" / "tasks"
RESULTS = ROOT / "bench" / "RESULTS.md"
ALL_TASKS = tuple(sorted(p.parent.name for p in TASKS_DIR.glob("*/task.yaml")))  # every task folder
SECTION = "## The whole loop on unseen tasks (`bench/loop.py`)"
SECTION_INTRO = (
    "`tunewise run TASK --yes` then `tunewise eval run RUN --test bench/tasks/<t>/test.jsonl` on the tasks\n"
    "in bench/tasks/ (JSON extraction without an inputs file, 4-way label routing, a headline rewrite\n"
    "scored by token F1, FAQ over made-up documents, expense notes to JSON, booking requests to a date\n"
    "and time scored by exact match), each in a fresh workspace. The test sets are written\n"
    "by bench/tasks/make_tests.py (seeded composition, references correct by construction) and never shown\n"
    "to tunewise during the run. Metric cells: mean [95% CI] on the bench test set; — = no such system.\n"
)
# the files a finished step leaves in the run folder, in graph order within an iteration
ITER_STEPS = ("generate", "critique", "review", "split", "train", "evaluate")
DONE_CODES = (
    0,
    3,
)  # tunewise exit codes: 0 = verdict passed, 3 = finished but not passed (tui/cli/common.py)
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- validation (--dry-run, tests)
def test_path(name: str) -> Path:
    return TASKS_DIR / name / "test.jsonl"


def validate_task(name: str) -> list[str]:
    """Problems with bench/tasks/<name>/ (empty when fine): the spec loads, the test set loads, uses the
    task's system prompt, shares no input with the seeds, is balanced (labels), fits the schema (json),
    copies its answers from the documents (documents), fits max_chars (text)."""
    from tools.errors import UserError
    from tools.evals.run import load_rows
    from tools.spec import load_spec

    problems: list[str] = []
    task_file = TASKS_DIR / name / "task.yaml"
    try:
        spec = load_spec(task_file)
    except UserError as e:
        return [f"{task_file}: {e.one_line()}"]
    if spec.documents and not any(Path(spec.documents).glob("*.md")):
        problems.append(f"documents folder {spec.documents} has no .md files")
    try:
        rows = load_rows(test_path(name))
    except UserError as e:
        return problems + [f"{test_path(name)}: {e.one_line()}"]
    seeds = {_norm(e.input) for e in spec.examples}
    refs: list[str] = []
    for i, r in enumerate(rows, 1):
        msgs = r["messages"]
        where = f"{test_path(name).name}:{i}"
        if msgs[0].get("role") != "system" or msgs[0].get("content") != spec.effective_system_prompt:
            problems.append(f"{where}: the system message is not the task's system prompt")
        user = next(m["content"] for m in msgs if m["role"] == "user")
        if _norm(user) in seeds:
            problems.append(f"{where}: test input equals a seed input: {user!r}")
        refs.append(msgs[-1]["content"])
    inputs = [_norm(next(m["content"] for m in r["messages"] if m["role"] == "user")) for r in rows]
    if len(set(inputs)) != len(inputs):
        problems.append("duplicate test inputs")
    out = spec.output
    if out.format == "label":
        counts = {lab: refs.count(lab) for lab in out.labels or []}
        if set(refs) - set(counts):
            problems.append(f"references outside the labels: {sorted(set(refs) - set(counts))}")
        if len(set(counts.values())) != 1:
            problems.append(f"labels are not balanced: {counts}")
    if out.format == "json":
        from tools.llm.structured import validate_against

        for i, ref in enumerate(refs, 1):
            try:
                err = validate_against(json.loads(ref), out.json_schema)
            except json.JSONDecodeError as e:
                err = f"invalid JSON ({e.msg})"
            if err:
                problems.append(f"{test_path(name).name}:{i}: reference does not fit the schema: {err}")
    if out.max_chars:
        long = [i for i, ref in enumerate(refs, 1) if len(ref) > out.max_chars]
        if long:
            problems.append(f"references over max_chars={out.max_chars} on rows {long[:5]}")
    if spec.documents:
        docs = "\n".join(p.read_text(encoding="utf-8") for p in Path(spec.documents).glob("*.md"))
        missing = [i for i, ref in enumerate(refs, 1) if ref not in docs]
        if missing:
            problems.append(f"answers not copied from the documents on rows {missing[:5]}")
    return problems


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def dry_run(tasks: list[str]) -> int:
    from tools.spec import load_spec

    bad = 0
    for name in tasks:
        problems = validate_task(name)
        if problems:
            bad += 1
            print(f"✗ {name}")
            for p in problems[:20]:
                print(f"    {p}")
            continue
        spec = load_spec(TASKS_DIR / name / "task.yaml")
        n = sum(1 for line in test_path(name).read_text(encoding="utf-8").splitlines() if line.strip())
        docs = f", {len(list(Path(spec.documents).glob('*.md')))} documents" if spec.documents else ""
        print(
            f"✓ {name}: {spec.output.format}, {len(spec.examples)} seeds, n_examples {spec.n_examples}, "
            f"max_iterations {spec.max_iterations}{docs}; test set {n} rows"
        )
    return 1 if bad else 0


# ---------------------------------------------------------------- running one task
def tunewise_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("tunewise")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("tunewise")
    if found:
        return [found]
    return [sys.executable, "-c", "from tui.cli.main import main; main()"]


class Child:
    """A subprocess in its own session, its output teed to a log file and (prefixed) to stdout."""

    def __init__(self, cmd: list[str], *, cwd: Path, env: dict, log: Path, prefix: str, echo: bool):
        self.cmd, self.log, self.prefix, self.echo = cmd, log, prefix, echo
        self.lines: list[str] = []
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"$ {' '.join(cmd)}\n")
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: a timeout stops the trainer it spawns too
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.log, "a", encoding="utf-8") as fh:
            for line in self.proc.stdout:
                line = line.rstrip("\n")
                self.lines.append(line)
                fh.write(line + "\n")
                fh.flush()
                if self.echo and line.strip():
                    print(f"{self.prefix}{line}", flush=True)

    def wait(self, timeout: float | None) -> int | None:
        """The exit status, or None after stopping it at the timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None
        self._reader.join(timeout=10)
        return rc

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(timeout=10)

    def error_line(self) -> str:
        """tunewise's one-line error (`error: …` / `internal error: …`), else the last line it printed."""
        for line in reversed(self.lines):
            s = line.strip()
            if s.startswith(("error:", "internal error:")) or re.match(r"^\w*(Error|Exception)\b", s):
                return s[:300]
        last = next((x.strip() for x in reversed(self.lines) if x.strip()), "")
        return last[:300] or "no output"


def run_child(cmd: list[str], cwd: Path, env: dict, log: Path, prefix: str, echo: bool, timeout):
    """Run `cmd` as a Child and wait: (exit code or None on a timeout, the child for its error line); Ctrl-C
    stops it before passing on."""
    child = Child(cmd, cwd=cwd, env=env, log=log, prefix=prefix, echo=echo)
    try:
        return child.wait(timeout), child
    except KeyboardInterrupt:
        child.stop()
        raise


def cache_rows(home: Path, until: float | None = None) -> int:
    """Responses in the workspace's cache (written up to `until`, a Unix time): the provider calls made."""
    db = home / ".tunewise" / "cache" / "llm.sqlite"
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=30)
    try:
        sql, params = "SELECT COUNT(*) FROM responses", ()
        if until is not None:
            sql, params = sql + " WHERE created <= ?", (until + 1.0,)
        return int(con.execute(sql, params).fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def step_times(run_dir: Path, started: float, ended: float) -> dict[str, float]:
    """Seconds per step (summed over iterations) from the modification times of the step files."""
    marks: list[tuple[float, str]] = []

    def mark(path: Path, label: str) -> None:
        if path.exists():
            marks.append((path.stat().st_mtime, label))

    mark(run_dir / "work" / "iter0" / "probe.json", "probe")
    mark(run_dir / "decision.json", "decide")
    mark(run_dir / "work" / "iter0" / "prompt.json", "prompt")
    mark(run_dir / "work" / "iter0" / "rag.json", "rag")
    for it_dir in (run_dir / "work").glob("iter*"):
        if it_dir.name[4:].isdigit() and int(it_dir.name[4:]) >= 1:
            for step in ITER_STEPS:
                mark(it_dir / f"{step}.json", step)
    mark(run_dir / "summary.json", "report")
    out: dict[str, float] = {}
    prev = started
    for t, label in sorted(marks):
        out[label] = out.get(label, 0.0) + max(0.0, t - prev)
        prev = max(prev, t)
    if ended - prev > 0.5:
        out["exit"] = ended - prev  # after the last step file: export, process exit
    return out


def eval_max_tokens(rows: list[dict]) -> int:
    """The agent's own cap: twice the longest reference (≈3 characters a token) plus slack, at most 256."""
    longest = max((len(r["messages"][-1]["content"]) // 3 for r in rows), default=112)
    return min(256, 32 + 2 * longest)


def judge_wanted(mode: str) -> bool:
    if mode in ("on", "off"):
        return mode == "on"
    # auto: only a capable judge; the embedded 135M model cannot grade (tools.llm.registry.can_grade)
    return any(
        os.environ.get(k)
        for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TUNEWISE_BASE_URL", "TUNEWISE_JUDGE")
    )


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def find_report(run_dir: Path, test_file: Path) -> dict:
    """The newest eval report of `run_dir` that was scored on `test_file`."""
    found = []
    for rep in (run_dir / "eval").glob("v*/report.json"):
        data = read_json(rep)
        if data.get("test_source") and Path(data["test_source"]).resolve() == test_file.resolve():
            found.append((int(rep.parent.name[1:]) if rep.parent.name[1:].isdigit() else 0, data))
    return max(found, key=lambda t: t[0])[1] if found else {}


def systems_from(report: dict) -> dict[str, dict]:
    """{"base"|"prompted"|"rag"|"tuned": {name, mean, ci, format_rate, prompt_tokens}} from a report.json."""
    metric = report.get("primary_metric")
    out: dict[str, dict] = {}
    for name, s in (report.get("systems") or {}).items():
        kind = s.get("kind")
        if kind not in ("base", "prompted", "rag", "tuned"):
            continue
        m = (s.get("metrics") or {}).get(metric) or {}
        out[kind] = {  # later tuned systems overwrite earlier ones: the newest adapter
            "name": name,
            "mean": m.get("mean"),
            "ci": m.get("ci") or [None, None],
            "format_rate": s.get("format_rate"),
            "prompt_tokens": s.get("prompt_tokens_mean"),
        }
    return out


def newest_run(home: Path, name: str) -> str | None:
    runs = sorted((home / ".tunewise" / "runs").glob(f"bench-{name}-*"), key=lambda p: p.stat().st_mtime)
    return runs[-1].name if runs else None


def run_task(name: str, args, stamp: str, workdir: Path) -> dict:
    home = workdir / name
    home.mkdir(parents=True, exist_ok=True)
    run_id = (newest_run(home, name) if args.eval_only else None) or f"bench-{name}-{stamp}"
    res: dict = {"task": name, "run_id": run_id, "home": str(home), "error": None, "steps": {}}
    env = dict(os.environ, TUNEWISE_HOME=str(home))
    for k, v in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("COLUMNS", "160"),  # rich wraps at 80 columns without a terminal
    ):
        env.setdefault(k, v)
    log = home / "bench.log"
    run_dir = home / ".tunewise" / "runs" / run_id
    timeout = args.timeout_min * 60 if args.timeout_min else None

    if args.eval_only:  # re-score a finished run: its step times come from its files
        if not run_dir.is_dir():
            res["error"] = f"--eval-only: no run bench-{name}-* under {home / '.tunewise' / 'runs'}"
            return res
        files = [p for p in run_dir.rglob("*.json") if "eval" not in p.relative_to(run_dir).parts]
        t0 = (run_dir / "spec.yaml").stat().st_mtime
        t1 = max((p.stat().st_mtime for p in files), default=t0)
        rc, child = 0, None
    else:
        cmd = [*tunewise_cmd(), "run", str(TASKS_DIR / name / "task.yaml"), "--yes", "--run-id", run_id]
        if args.smoke:
            cmd.append("--smoke")
        if args.train_max_steps:
            cmd += ["--train-max-steps", str(args.train_max_steps)]
        if args.max_iterations:
            cmd += ["--max-iterations", str(args.max_iterations)]
        res["command"] = " ".join(["tunewise", *cmd[len(tunewise_cmd()) :]])
        print(f"── {name}: {res['command']}  (workspace {home})", flush=True)
        t0 = time.time()
        rc, child = run_child(cmd, home, env, log, f"[{name}] ", not args.quiet, timeout)
        t1 = time.time()
    res["loop_s"] = t1 - t0
    res["steps"] = step_times(run_dir, t0, t1)
    res["calls_loop"] = cache_rows(home, until=t1)
    decision = read_json(run_dir / "decision.json")
    res["decision"] = decision.get("chosen") or decision.get("approach")
    summary = read_json(run_dir / "summary.json")
    res["stop_reason"] = summary.get("stop_reason")
    res["iterations"] = len(summary.get("history") or []) or len(
        [p for p in (run_dir / "work").glob("iter*") if p.name != "iter0" and (p / "train.json").exists()]
    )
    if rc is None:
        res["error"] = f"the loop timed out after {args.timeout_min} min"
        return res
    # exit 3 = finished, verdict not passed (tui/cli/common.py); a finished run has its decision
    if rc not in DONE_CODES or not decision:
        res["error"] = f"tunewise run exited {rc}: {child.error_line() if child else 'no decision.json'}"
        return res

    # the private test set, never seen by the run
    from tools.evals.run import load_rows

    test = test_path(name)
    rows = load_rows(test)
    if args.test_limit:
        rows = rows[: args.test_limit]
        test = home / f"test-first-{len(rows)}.jsonl"
        test.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    res["n_test"] = len(rows)
    ecmd = [
        *tunewise_cmd(),
        "eval",
        "run",
        run_id,
        "--test",
        str(test),
        "--max-tokens",
        str(eval_max_tokens(rows)),
    ]
    if not judge_wanted(args.judge):
        ecmd.append("--no-judge")
    res["eval_command"] = " ".join(["tunewise", *ecmd[len(tunewise_cmd()) :]])
    print(f"── {name}: {res['eval_command']}", flush=True)
    calls_before = cache_rows(home)
    t2 = time.time()
    rc, child = run_child(ecmd, home, env, log, f"[{name} eval] ", not args.quiet, timeout)
    res["steps"]["bench eval"] = time.time() - t2
    res["calls_eval"] = cache_rows(home) - calls_before
    report = find_report(run_dir, test) if rc in DONE_CODES else {}
    if rc is None:
        res["error"] = f"the eval timed out after {args.timeout_min} min"
        return res
    if not report:
        why = (
            f"exited {rc}: {child.error_line()}"
            if rc not in DONE_CODES
            else f"wrote no report on {test.name}"
        )
        res["error"] = f"tunewise eval {why}"
        return res
    res["data"] = kept_inputs_check(run_dir, name)
    res["metric"] = report.get("primary_metric")
    res["systems"] = systems_from(report)
    res["eval_version"] = report.get("eval_version")
    res["eval_verdict"] = (report.get("verdict") or {}).get("passed")
    return res


MADE_SOURCES = ("teacher", "targeted", "repair")


def kept_inputs_check(run_dir: Path, name: str) -> dict:
    """How many teacher-written inputs that made it into the run's last data version look unlike the
    real inputs of the private test: less similar to the seeds than 95% of the test's inputs are (the
    on-task model, calibrated here on the private test instead of on the seeds). An estimate of the
    off-task share that the run's own check could not see; read a sample by eye beside it."""
    from tools.data.ontask import OnTaskModel
    from tools.data.schema import user_text
    from tools.spec import load_spec
    from tools.workspace import read_jsonl

    versions = sorted(
        (run_dir / "data").glob("v*"), key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 0
    )
    if not versions:
        return {}
    made = [
        user_text(r)
        for split in ("train", "val", "test", "regression")
        for r in (
            read_jsonl(versions[-1] / f"{split}.jsonl") if (versions[-1] / f"{split}.jsonl").exists() else []
        )
        if (r.get("metadata") or {}).get("source") in MADE_SOURCES
    ]
    spec = load_spec(TASKS_DIR / name / "task.yaml")
    model = OnTaskModel.fit([e.input for e in spec.examples])
    real = [user_text(r) for r in read_jsonl(test_path(name))]
    if model is None or not made or len(real) < 20:
        return {"made_kept": len(made)}
    real_sims = sorted(model.similarities(real))
    p5 = real_sims[int(0.05 * len(real_sims))]
    unlike = sum(s < p5 for s in model.similarities(made))
    return {"made_kept": len(made), "unlike_real": unlike, "p5": round(p5, 3), "kind": model.kind}


def data_table(results: list[dict]) -> str:
    lines = [
        "| task | teacher-written inputs kept | of them unlike the private test's inputs (< its 5th percentile) |",
        "|---|---:|---:|",
    ]
    for r in results:
        d = r.get("data") or {}
        if "unlike_real" in d:
            share = f"{d['unlike_real']}/{d['made_kept']} ({d['unlike_real'] / d['made_kept']:.0%}; {d['kind']} ≥ {d['p5']})"
        else:
            share = "—"
        lines.append(f"| {r['task']} | {d.get('made_kept', '—')} | {share} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- the table
def fmt_secs(s: float | None) -> str:
    if s is None:
        return "—"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def fmt_metric(sys_info: dict | None) -> str:
    if not sys_info or sys_info.get("mean") is None:
        return "—"
    lo, hi = (sys_info.get("ci") or [None, None])[:2]
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{sys_info['mean']:.3f}{ci}"


def fmt_rate(x) -> str:
    return "—" if x is None else f"{x:.0%}"


def table(results: list[dict]) -> str:
    head = (
        "| task | decision (stop) | metric | base | prompted | rag | tuned | format rate b/p/r/t "
        "| prompt tokens prompted → tuned | provider calls loop + eval | iterations | wall time per step | total |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        sysd = r.get("systems") or {}
        decision = r.get("decision") or "—"
        if r.get("stop_reason"):
            decision += f" ({r['stop_reason']})"
        if r.get("error"):
            decision += f" · **failed:** {r['error'].replace('|', '/')}"
        fr = "/".join(
            fmt_rate((sysd.get(k) or {}).get("format_rate")) for k in ("base", "prompted", "rag", "tuned")
        )
        pt_p = (sysd.get("prompted") or {}).get("prompt_tokens")
        pt_t = (sysd.get("tuned") or {}).get("prompt_tokens")
        tokens = f"{'—' if pt_p is None else f'{pt_p:.0f}'} → {'—' if pt_t is None else f'{pt_t:.0f}'}"
        calls = f"{r.get('calls_loop', '—')} + {r.get('calls_eval', '—')}"
        steps = " · ".join(f"{k} {fmt_secs(v)}" for k, v in (r.get("steps") or {}).items() if v >= 0.5) or "—"
        total = sum((r.get("steps") or {}).values()) if r.get("steps") else None
        metric = r.get("metric") or "—"
        if r.get("n_test"):
            metric += f" (n={r['n_test']})"
        lines.append(
            "| "
            + " | ".join(
                [
                    r["task"],
                    decision,
                    metric,
                    fmt_metric(sysd.get("base")),
                    fmt_metric(sysd.get("prompted")),
                    fmt_metric(sysd.get("rag")),
                    fmt_metric(sysd.get("tuned")),
                    fr if sysd else "—",
                    tokens if sysd else "—",
                    calls,
                    str(r.get("iterations", "—") if r.get("iterations") is not None else "—"),
                    steps,
                    fmt_secs(total),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = ""
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f", GPU {torch.cuda.get_device_name(0)}"
    except Exception:  # noqa: BLE001 - the header must still be written
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return f"{model} × {os.cpu_count()} cores (nproc){gpu or ', no GPU'}" + (
        f" · load average {load:.1f} at the end" if load is not None else ""
    )


def section(results: list[dict], command: str, started: dt.datetime, note: str = "") -> str:
    when = started.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"### {when} · {machine()}", "", f"Command: `{command}`" + (f" — {note}" if note else ""), ""]
    parts += [table(results), ""]
    if any(r.get("data") for r in results):
        parts += [data_table(results), ""]
    runs = ", ".join(f"{r['task']} → `{r['home']}/.tunewise/runs/{r['run_id']}`" for r in results)
    parts += [f"Runs: {runs}", ""]
    return "\n".join(parts)


def append_results(path: Path, block: str) -> None:
    """Add `block` at the end of this benchmark's section (created at the end of the file if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{SECTION_INTRO}\n"
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    if nxt == -1:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        text = text[:nxt].rstrip("\n") + "\n\n" + block.rstrip("\n") + "\n" + text[nxt:]
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="The whole tunewise loop on the bench tasks, scored on private tests."
    )
    ap.add_argument("--tasks", default=",".join(ALL_TASKS), help="comma list (default: all)")
    ap.add_argument("--dry-run", action="store_true", help="only validate the task files and test sets")
    ap.add_argument(
        "--smoke", action="store_true", help="pass --smoke to tunewise run (tiny generation, no judge)"
    )
    ap.add_argument("--train-max-steps", type=int, help="pass --train-max-steps to tunewise run")
    ap.add_argument("--max-iterations", type=int, help="pass --max-iterations (default: the task's, 2)")
    ap.add_argument(
        "--eval-only",
        action="store_true",
        help="no new loop: re-score the newest bench-<t>-* run of each task in --workdir",
    )
    ap.add_argument("--test-limit", type=int, help="score only the first N test rows (smoke checks)")
    ap.add_argument(
        "--judge",
        choices=("auto", "on", "off"),
        default="auto",
        help="LLM judge in the bench eval (auto: only with a key or server; never the embedded model)",
    )
    ap.add_argument("--workdir", type=Path, help="where the per-task workspaces go (default: a new temp dir)")
    ap.add_argument("--timeout-min", type=float, help="stop a task's loop (or eval) after this many minutes")
    ap.add_argument(
        "--results",
        type=Path,
        help="markdown file to append the table to (default: bench/RESULTS.md; "
        "with --smoke: <workdir>/RESULTS.md, smoke figures are not benchmark figures)",
    )
    ap.add_argument(
        "--quiet", action="store_true", help="do not echo tunewise's output (it is in <workspace>/bench.log)"
    )
    args = ap.parse_args(argv)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if not (TASKS_DIR / t / "task.yaml").exists()]
    if unknown:
        print(f"unknown task(s) {unknown}; known: {', '.join(ALL_TASKS)}", file=sys.stderr)
        return 2
    if args.dry_run:
        return dry_run(tasks)
    if dry_run(tasks):
        print("fix the task files first (see above)", file=sys.stderr)
        return 1
    if args.eval_only and not args.workdir:
        print("--eval-only needs --workdir (where the earlier runs are)", file=sys.stderr)
        return 2

    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix=f"tunewise-bench-{stamp}-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    command = "bench/loop.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results: list[dict] = []
    note = ""
    try:
        for name in tasks:
            try:
                results.append(run_task(name, args, stamp, workdir))
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - one broken task must not stop the bench
                results.append(
                    {
                        "task": name,
                        "run_id": f"bench-{name}-{stamp}",
                        "home": str(workdir / name),
                        "error": f"bench: {type(e).__name__}: {e}"[:300],
                    }
                )
    except KeyboardInterrupt:
        note = "interrupted: the tasks after the last row did not run"
        print(f"\n{note}", file=sys.stderr)
    if args.smoke:
        note = "; ".join(x for x in ("smoke settings, not a benchmark figure", note) if x)
    block = section(results, command.strip(), started, note)
    print("\n" + block)
    out = args.results or (workdir / "RESULTS.md" if args.smoke else RESULTS)
    append_results(out, block)
    (workdir / "bench-loop.json").write_text(
        json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print(f"table appended to {out}; raw results in {workdir / 'bench-loop.json'}")
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
