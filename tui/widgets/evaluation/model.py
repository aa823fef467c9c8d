"""Read `eval/vN/report.json` and `outputs.jsonl` into what the evaluation screen shows.

Rows in outputs.jsonl look like {"id", "split", "input", "reference", "regressed",
"outputs": {system: {"text", "metrics", "format_errors", "judge": {"passed", "reason", ...}}}}; a flat
row per (example, system) with "system"/"output" is folded into the same shape. Missing keys are fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ExampleRow:
    id: str
    input: str
    reference: str = ""
    split: str = ""
    regressed: bool = False
    outputs: dict[str, dict] = field(default_factory=dict)  # system → {"text", "judge", "metrics", ...}
    pairwise: dict = field(default_factory=dict)  # candidate vs baseline: {"outcome", "reasons", "flipped"}

    @property
    def key(self) -> str:
        return f"{self.split}:{self.id}" if self.split else self.id


@dataclass
class EvalView:
    version: str | None
    report: dict
    examples: list[ExampleRow]
    rows: list[dict] = field(default_factory=list)  # outputs.jsonl as written (for plain_summary)
    eval_dir: Path | None = None
    flags: dict = field(default_factory=dict)  # (split, id) → a reference the person marked wrong
    n_train: int | None = None

    def summary(self) -> dict:
        """The plain sentence and recommendation (tools/evals/summary.py), the same as every report's."""
        from tools.evals.summary import plain_summary

        return plain_summary(self.report, self.rows, n_train=self.n_train)

    def is_flagged(self, ex: ExampleRow) -> bool:
        return (ex.split or "test", ex.id) in self.flags

    def toggle_flag(self, ex: ExampleRow) -> bool:
        """Mark / unmark the expected answer of `ex` as wrong (eval/vN/reference_flags.jsonl); the new state."""
        from tools.evals.reference_flags import set_reference_flag

        if self.eval_dir is None:
            return False
        wrong = not self.is_flagged(ex)
        self.flags = set_reference_flag(
            self.eval_dir,
            {"id": ex.id, "split": ex.split or "test", "input": ex.input, "reference": ex.reference},
            wrong,
            report=self.report,
        )
        return wrong

    @property
    def systems(self) -> list[str]:
        names = list((self.report.get("systems") or {}).keys())
        for ex in self.examples:
            names += [s for s in ex.outputs if s not in names]
        return names

    @property
    def regressed_ids(self) -> set[str]:
        return {str(i) for i in (self.report.get("regression") or {}).get("regressed_ids") or []}

    def is_regression(self, ex: ExampleRow) -> bool:
        if ex.regressed or (ex.split in ("", "test", "regression") and ex.id in self.regressed_ids):
            return True
        # a test row that is also a must-keep row is listed once, as the test row, with the must-keep row's mark
        return ex.split in ("", "test") and any(
            twin.regressed for twin in self.examples if twin.split == "regression" and twin.id == ex.id
        )

    def filtered(self, regressions_only: bool) -> list[ExampleRow]:
        """The rows to list: a must-keep row the test also holds is listed once, as the test row (walk 22 asked
        why examples were listed twice; must-keep rows are drawn from the test and validation)."""
        tested = {ex.id for ex in self.examples if ex.split in ("", "test")}
        once = [ex for ex in self.examples if not (ex.split == "regression" and ex.id in tested)]
        return [ex for ex in once if self.is_regression(ex)] if regressions_only else once

    def compared(self) -> list[str]:
        """Baseline and candidate side by side by default (the pair the verdict is about)."""
        pair = [s for s in (self.report.get("baseline"), self.report.get("candidate")) if s]
        return pair if len(pair) == 2 else self.systems[:2]


def _fold(rows: list[dict]) -> list[ExampleRow]:
    by_id: dict[tuple[str, str], ExampleRow] = {}  # (split, id): ids repeat across test/regression/forgetting
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            continue
        rid = str(r.get("id") or (r.get("metadata") or {}).get("id") or f"row-{i + 1}")
        ex = by_id.get((str(r.get("split") or ""), rid))
        if ex is None:
            ex = by_id[(str(r.get("split") or ""), rid)] = ExampleRow(
                id=rid,
                input=str(r.get("input") or ""),
                reference=str(r.get("reference") or r.get("expected") or ""),
                split=str(r.get("split") or ""),
                regressed=bool(r.get("regressed")),
            )
        if isinstance(r.get("pairwise"), dict):
            ex.pairwise = r["pairwise"]
        if isinstance(r.get("outputs"), dict):
            for name, entry in r["outputs"].items():
                ex.outputs[name] = entry if isinstance(entry, dict) else {"text": str(entry)}
        elif r.get("system"):
            ex.outputs[str(r["system"])] = {
                "text": str(r.get("output") or r.get("text") or ""),
                "judge": r.get("judge") or {},
                "metrics": r.get("metrics") or {},
            }
    return list(by_id.values())


def load_eval(run_path: Path, version: str | None = None) -> EvalView:
    from tools.workspace import read_json, read_jsonl

    base = run_path / "eval"
    if version is None:
        versions = (
            sorted(
                (p.name for p in base.glob("v*") if p.is_dir() and p.name[1:].isdigit()),
                key=lambda v: int(v[1:]),
            )
            if base.is_dir()
            else []
        )
        version = versions[-1] if versions else None
    if version is None:
        return EvalView(None, {}, [])
    d = base / version
    report = {}
    if (d / "report.json").exists():
        try:
            report = read_json(d / "report.json") or {}
        except Exception:  # noqa: BLE001 - a half-written report shows as empty, not a crash
            report = {}
    rows = (
        list(read_jsonl(d / "outputs.jsonl"))
        if (d / "outputs.jsonl").exists()
        else list(report.get("_outputs") or [])
    )
    from tools.evals.reference_flags import read_reference_flags
    from tools.evals.summary import count_train_rows

    try:
        flags = read_reference_flags(d)
    except Exception:  # noqa: BLE001 - a damaged flags file must not hide the evaluation
        flags = {}
    n_train = count_train_rows(run_path, report.get("data_version"))
    return EvalView(version, report, _fold(rows), rows, d, flags, n_train)


def _fmt(v, spec=".3f") -> str:
    return "—" if v is None else (format(v, spec) if isinstance(v, (int, float)) else str(v))


def system_table_rows(report: dict, rows: list[dict] | None = None) -> list[tuple[str, ...]]:
    """(system in plain words, primary score in words, right format, prompt tokens) per system: the
    candidate first, then the baseline it is compared with."""
    from tools.evals.summary import system_rows

    out = []
    for r in system_rows(report, rows):
        out.append((r["label"], r["score"]["cell"], r["format"], r["prompt_tokens"]))
    return out


def table_header(report: dict) -> tuple[str, ...]:
    from tools.evals.summary import metric_in_words

    return ("system", metric_in_words(report.get("primary_metric")), "right format", "prompt tokens")


def verdict_text(report: dict, rows: list[dict] | None = None) -> str:
    """The plain sentence, then what to do (and the serve command after a pass)."""
    from tools.evals.summary import plain_summary

    if not report.get("verdict") and not report.get("systems"):
        return "No verdict yet."
    s = plain_summary(report, rows)
    text = s["sentence"] + "\n→ " + s["recommendation"]
    if s.get("serve_command"):
        text += "\n" + s["serve_command"]
    return text
