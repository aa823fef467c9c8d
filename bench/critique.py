"""How many wrong teacher answers survive critique? Measured where the right answer is known.

For each bench task, the teacher answers the inputs of the task's private test file (references correct
by construction, never shown to the teacher) the way generation asks it (system prompt + the person's
examples as demonstrations), the answers go through critique exactly as in a run (validators, the
nearest-examples label check, self-consistency; no judge — the embedded model cannot grade), and every
answer is scored against its reference with the evaluation's scorer (`tools.evals.correct.score`).

Printed and appended to bench/RESULTS.md: per task, the teacher's answers wrong before critique, the rows
critique kept and how many of those are wrong (the share that would reach training), and the right
answers it threw away; then the same with each check switched off, to show what each one buys.

    .venv/bin/python bench/critique.py                       # orders and routing, 80 inputs each
    .venv/bin/python bench/critique.py --tasks orders --limit 20 --no-results
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "RESULTS.md"
CHECKS = ("neighbour label", "unwritten enum value", "self-consistency")


def _load(task: str, limit: int):
    from tools.data.infer import infer_output
    from tools.data.schema import answer_text, user_text
    from tools.spec import load_spec
    from tools.workspace import read_jsonl

    spec = load_spec(ROOT / "bench" / "tasks" / task / "task.yaml")
    infer_output(spec)  # what a headless run infers from the examples
    rows = list(read_jsonl(ROOT / "bench" / "tasks" / task / "test.jsonl"))[:limit]
    return spec, [user_text(r) for r in rows], [answer_text(r) for r in rows]


def _teacher_answers(spec, inputs: list[str], teacher) -> list[str]:
    from tools.data.coverage import balanced_order
    from tools.data.generate import answer_messages
    from tools.llm.types import GenParams, Request

    shots = [e.model_dump() for e in balanced_order(spec.examples, spec)][:6]
    schema = spec.output.json_schema if spec.output.format == "json" else None
    reqs = [
        Request(
            answer_messages(spec, x, shots), GenParams(temperature=0.0, max_tokens=96), json_schema=schema
        )
        for x in inputs
    ]
    return [
        json.dumps(c.parsed, ensure_ascii=False) if c.parsed is not None else c.text.strip()
        for c in teacher.map(reqs)
    ]


def _critique(spec, rows, teacher, off: set[str]) -> list[dict]:
    """critique_examples with the named checks switched off (the rows it keeps)."""
    import tools.data.checks as checks
    import tools.data.critique as critique

    saved = (critique._nearest_seed_labels, checks.unwritten_choices)
    try:
        if "neighbour label" in off:
            critique._nearest_seed_labels = lambda rows, spec: [None] * len(rows)
        if "unwritten enum value" in off:
            checks.unwritten_choices = lambda *a: []
        kept, _ = critique.critique_examples(
            rows, spec, judge=None, teacher=teacher, consistency="self-consistency" not in off
        )
    finally:
        critique._nearest_seed_labels, checks.unwritten_choices = saved
    return kept


def measure(task: str, limit: int, teacher) -> list[dict]:
    from tools.data.schema import answer_text, make_row, user_text
    from tools.evals.correct import score

    spec, inputs, refs = _load(task, limit)
    t0 = time.time()
    answers = _teacher_answers(spec, inputs, teacher)
    ref_of = dict(zip(inputs, refs, strict=True))
    rows = [
        make_row(x, a, system=spec.effective_system_prompt, source="teacher")
        for x, a in zip(inputs, answers, strict=True)
    ]
    right = {x for x, a in zip(inputs, answers, strict=True) if score(spec, a, ref_of[x]).correct}
    out = []
    for label, off in (
        [("every check", set())]
        + [(f"without {c}", {c}) for c in CHECKS]
        + [("validators only (before #12)", set(CHECKS))]
    ):
        kept = _critique(spec, rows, teacher, off)
        wrong = sum(not score(spec, answer_text(r), ref_of[user_text(r)]).correct for r in kept)
        kept_right_inputs = {user_text(r) for r in kept} & right
        out.append(
            {
                "task": task,
                "setting": label,
                "n": len(rows),
                "teacher_wrong": len(rows) - len(right),
                "kept": len(kept),
                "kept_wrong": wrong,
                "right_lost": len(right - kept_right_inputs),
            }
        )
    print(f"  {task}: {time.time() - t0:.0f}s", file=sys.stderr)
    return out


def table(results: list[dict]) -> str:
    lines = [
        "| task | critique | teacher answers wrong | kept | kept but wrong | right answers dropped |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        share = f"{r['kept_wrong'] / r['kept']:.0%}" if r["kept"] else "—"
        lines.append(
            f"| {r['task']} | {r['setting']} | {r['teacher_wrong']}/{r['n']} | {r['kept']} | "
            f"{r['kept_wrong']} ({share}) | {r['right_lost']} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default="orders,routing")
    ap.add_argument("--limit", type=int, default=80, help="test inputs per task")
    ap.add_argument("--no-results", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = ap.parse_args()
    from tools.llm.registry import get_provider
    from tools.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TUNEWISE_HOME"] = tmp
        teacher = get_provider("teacher", "local", "embedded", workspace=Workspace(Path(tmp)))
        t0 = time.time()
        results = [r for t in args.tasks.split(",") for r in measure(t.strip(), args.limit, teacher)]
    text = table(results)
    print(text)
    if not args.no_results:
        load = os.getloadavg()[0]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(
                f"\n## Wrong teacher answers that survive critique (`bench/critique.py`)\n\n"
                f"{stamp} · {os.cpu_count()} cores, no GPU · load average {load:.1f} · "
                f"{time.time() - t0:.0f}s · `bench/critique.py --tasks {args.tasks} --limit {args.limit}`\n\n"
                "The embedded teacher answers each bench task's private test inputs (the person's examples as\n"
                "demonstrations); critique runs as in a run (no judge); each answer is scored against its\n"
                "reference with the evaluation's scorer.\n\n" + text + "\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
