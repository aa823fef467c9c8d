"""Streaming validation of a chat JSONL file: every problem with its line number and a fix.

Memory stays flat: lines are read one at a time, duplicates and contradictions are tracked in
fixed-size hash tables (`tools.data.similarity`), token lengths in histograms, and at most
`MAX_STORED_PER_KIND` problems per kind are kept (the counts are always complete).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tools.data.checks import check_answer
from tools.data.schema import ROLES, STRUCTURE_FIXES, check_chat_row, hash64, normalize_text
from tools.errors import UserError
from tools.spec import TaskSpec

MAX_STORED_PER_KIND = 1000
SHORT_ANSWER_CHARS = 3  # answers shorter than this are "very short" unless the task is a label task
MIN_EXAMPLES = 20
LABEL_MAX_DISTINCT = 20
LABEL_IMBALANCE_RATIO = 5.0  # most common label ≥ 5× the rarest
DEFAULT_EPOCHS = 3
# Assumed LoRA training throughput on one rented GPU for a small (≤1B) model; only for the estimate.
GPU_TRAIN_TOKENS_PER_S = 3000.0
CPU_TRAIN_TOKENS_PER_S = 200.0  # measured on this project's idle 2-core CPU (the design's figure)
MANAGED_ESTIMATES = (("openai", "gpt-4.1-mini"), ("together", "default"))
TOKEN_BATCH = 256

FIXES = {
    "invalid_json": "make the line one complete JSON object (check quotes, commas and brackets)",
    "invalid_encoding": "save the file as UTF-8",
    **STRUCTURE_FIXES,
    "short_answer": "write a complete answer or drop the example",
    "bad_format": "rewrite the answer to follow the task's output format",
    "unknown_label": "use one of the task's labels",
    "duplicate": "delete the repeated example",
    "near_duplicate": "delete one of the two or make them differ meaningfully",
    "contradiction": "keep one answer for this input (or make the inputs differ)",
    "inconsistent_system_prompt": "use the same system prompt in every example (the one used at inference)",
    "over_context": "shorten the example or split it; it would be truncated in training",
    "label_imbalance": "add examples of the rare labels (tunewise data generate) or down-sample the common ones",
    "too_few_examples": "add examples (tunewise data generate) or use few-shot prompting instead of fine-tuning",
}


@dataclass
class Problem:
    line: int | None
    kind: str
    message: str
    fix: str

    def one_line(self, path: str = "") -> str:
        where = f"{path}:{self.line}" if self.line is not None else (path or "file")
        return f"{where}: {self.kind}: {self.message} — fix: {self.fix}"


@dataclass
class ValidationReport:
    path: str
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def lines_of(self, kind: str) -> list[int | None]:
        return [p.line for p in self.problems if p.kind == kind]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "ok": self.ok,
            "problem_counts": self.problem_counts,
            "problems": [asdict(p) for p in self.problems],
            "summary": self.summary,
        }


# ---------------------------------------------------------------- tokens
class TokenCounter:
    """Counts tokens with the student's real tokenizer, loaded on first use."""

    def __init__(self, model: str | None = None):
        self.model = model
        self._tok = None
        self.context_length: int | None = None
        self.per_message_overhead = 0
        self.base_overhead = 0
        self.source = ""

    def load(self) -> None:
        if self._tok is not None:
            return
        from tools.llm.embedded import resolve_model_path

        path = resolve_model_path(self.model)
        import os

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

        tok = _tokenizer(str(path))
        cfg = path / "config.json"
        ctx = None
        if cfg.exists():
            ctx = json.loads(cfg.read_text()).get("max_position_embeddings")
        self.context_length = int(ctx or min(tok.model_max_length, 1 << 20))
        self.source = f"{path.name} tokenizer"
        # The chat template adds a fixed number of tokens around each message; measure it once.
        probe = [
            {"role": "system", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
        ]
        try:
            rendered = tok.apply_chat_template(probe, tokenize=False)
            total = len(tok(rendered, add_special_tokens=False)["input_ids"])
            content = sum(len(tok(m["content"], add_special_tokens=False)["input_ids"]) for m in probe)
            self.per_message_overhead = max(0, (total - content) // 3)
            self.base_overhead = max(0, total - content - 3 * self.per_message_overhead)
        except Exception:  # noqa: BLE001 - no chat template: count content only
            self.per_message_overhead = 0
        self._tok = tok

    def count_many(self, texts: list[str]) -> list[int]:
        self.load()
        if not texts:
            return []
        enc = self._tok(texts, add_special_tokens=False)["input_ids"]
        return [len(x) for x in enc]


@lru_cache(maxsize=4)
def _tokenizer(path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


class Histogram:
    """Exact percentiles from a value → frequency map (bounded by the number of distinct lengths)."""

    def __init__(self):
        self.freq: dict[int, int] = {}
        self.n = 0
        self.total = 0

    def add(self, v: int) -> None:
        self.freq[v] = self.freq.get(v, 0) + 1
        self.n += 1
        self.total += v

    def percentile(self, q: float) -> int | None:
        if not self.n:
            return None
        rank = max(1, math.ceil(q / 100 * self.n))
        seen = 0
        for v in sorted(self.freq):
            seen += self.freq[v]
            if seen >= rank:
                return v
        return max(self.freq)

    def describe(self) -> dict:
        if not self.n:
            return {"n": 0}
        return {
            "n": self.n,
            "mean": round(self.total / self.n, 1),
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p99": self.percentile(99),
            "max": max(self.freq),
        }


# ---------------------------------------------------------------- validator
class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, line: int | None, kind: str, message: str, fix: str | None = None) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] <= MAX_STORED_PER_KIND:
            self.problems.append(Problem(line, kind, message, fix or FIXES[kind]))


def _check_structure(obj: Any, line: int, col: _Collector) -> list[dict] | None:
    """Structural problems of one parsed line (tools.data.schema's check); the messages when usable."""
    problems, msgs = check_chat_row(obj)
    for p in problems:
        col.add(line, p.kind, p.message, p.fix)
    return msgs


def validate_file(
    path: str | Path,
    *,
    model: str | None = None,
    task: TaskSpec | None = None,
    count_tokens: bool = True,
    max_tokens: int | None = None,
    min_examples: int = MIN_EXAMPLES,
) -> ValidationReport:
    """Validate a chat JSONL file line by line. Raises UserError (exit 2) only when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise UserError("file not found", where=str(path), fix="check the path")
    if path.is_dir():
        raise UserError(
            "is a folder, not a JSONL file", where=str(path), fix="pass the path of the .jsonl file"
        )
    try:
        fh = open(path, "rb")
    except OSError as e:
        raise UserError(
            f"cannot read the file ({e.strerror})", where=str(path), fix="check permissions"
        ) from None
    with fh:
        head = fh.read(8192)
        fh.seek(0)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
            from tools.userfile import decode_text

            decode_text(head, str(path), what="JSONL file")  # one line: UTF-16 or binary, and the fix
        return validate_lines(
            fh,
            str(path),
            model=model,
            task=task,
            count_tokens=count_tokens,
            max_tokens=max_tokens,
            min_examples=min_examples,
            file_size=path.stat().st_size,
        )


def validate_rows(rows: Iterable[dict], *, name: str = "<rows>", **kw) -> ValidationReport:
    """Validate in-memory rows (as if they were a file, one line each)."""
    return validate_lines((json.dumps(r, ensure_ascii=False).encode() for r in rows), name, **kw)


def validate_lines(  # noqa: C901, PLR0915 - one streaming pass: every per-line check shares the parse and the running tables (duplicates, contradictions, token lengths); per-check functions pending (issue 15)
    lines: Iterable[bytes],
    name: str,
    *,
    model: str | None = None,
    task: TaskSpec | None = None,
    count_tokens: bool = True,
    max_tokens: int | None = None,
    min_examples: int = MIN_EXAMPLES,
    file_size: int | None = None,
) -> ValidationReport:
    from tools.data.similarity import FixedTable, NearDuplicateIndex
    from tools.userfile import loads_json

    col = _Collector()
    inputs = FixedTable(20)  # input hash → (first line, answer hash): duplicates and contradictions
    near = NearDuplicateIndex(21)
    near_full_at: int | None = None
    inputs_full_at: int | None = None
    systems: dict[int | None, list] = {}  # system-prompt hash → [count, first line, preview]
    answers: dict[str, int] | None = {}  # distinct normalized answers, while few enough to be labels
    short_lines: list[tuple[int, str]] = []
    label_task = task is not None and task.output.format == "label"
    n_lines = n_blank = n_parsed = n_valid = n_multi_turn = 0
    hist = {r: Histogram() for r in ROLES}
    hist_total = Histogram()
    counter = TokenCounter(model) if count_tokens else None
    pending: list[tuple[int, list[dict]]] = []
    token_note = None
    limit = max_tokens

    def flush_tokens() -> None:
        nonlocal limit
        if not pending or counter is None:
            pending.clear()
            return
        texts = [m["content"] for _, msgs in pending for m in msgs]
        lengths = iter(counter.count_many(texts))
        if limit is None:
            limit = counter.context_length
        for line_no, msgs in pending:
            total = counter.base_overhead
            for m in msgs:
                n = next(lengths)
                hist[m["role"]].add(n)
                total += n + counter.per_message_overhead
            hist_total.add(total)
            if limit and total > limit:
                col.add(
                    line_no,
                    "over_context",
                    f"{total} tokens, over the {limit}-token limit ({counter.source})",
                )
        pending.clear()

    first_bytes = None
    for line_no, raw in enumerate(lines, 1):
        n_lines += 1
        if line_no == 1:  # a byte-order mark (Windows editors) is not data
            if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            elif isinstance(raw, str) and raw.startswith("\ufeff"):
                raw = raw[1:]
        if first_bytes is None:
            first_bytes = raw[:1]
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as e:
            col.add(line_no, "invalid_encoding", f"not UTF-8 (byte {e.start})")
            continue
        if not text.strip():
            n_blank += 1
            continue
        try:
            obj = loads_json(text)
        except json.JSONDecodeError as e:
            hint = None
            if line_no == 1 and text.lstrip().startswith("["):
                hint = "the file looks like one JSON array: write one object per line (tunewise data import converts it)"
            col.add(line_no, "invalid_json", f"{e.msg} at column {e.colno}", hint)
            continue
        n_parsed += 1
        msgs = _check_structure(obj, line_no, col)
        if msgs is None:
            continue
        n_valid += 1
        if sum(1 for m in msgs if m["role"] == "user") > 1:
            n_multi_turn += 1
        # system prompt consistency
        sys_text = msgs[0]["content"] if msgs[0]["role"] == "system" else None
        sys_key = None if sys_text is None else hash64(normalize_text(sys_text))
        entry = systems.get(sys_key)
        if entry is not None:
            entry[0] += 1
        elif len(systems) < 1000:
            systems[sys_key] = [1, line_no, (sys_text or "")[:60]]
        # answers: short, format, labels
        answer = msgs[-1]["content"] if msgs[-1]["role"] == "assistant" else ""
        norm_answer = normalize_text(answer)
        if answer.strip() and len(answer.strip()) < SHORT_ANSWER_CHARS:
            if len(short_lines) < MAX_STORED_PER_KIND:
                short_lines.append((line_no, answer.strip()))
        if answers is not None and answer.strip():
            answers[norm_answer] = answers.get(norm_answer, 0) + 1
            if len(answers) > LABEL_MAX_DISTINCT * 2:
                answers = None
        if task is not None and answer.strip():
            for category, reason in check_answer(answer, task):
                col.add(line_no, "unknown_label" if category == "label" else "bad_format", reason)
        # duplicates and contradictions (normalized input → first line and answer)
        in_key = hash64("\x1e".join(f"{m['role']}:{normalize_text(m['content'])}" for m in msgs[:-1]))
        ans_key = hash64(norm_answer) or 1
        prev = inputs.setdefault(in_key or 1, line_no, ans_key)
        if inputs.full and inputs_full_at is None:
            inputs_full_at = line_no
        if prev is not None:
            if prev[1] == ans_key:
                col.add(line_no, "duplicate", f"same example as line {prev[0]}")
            else:
                col.add(line_no, "contradiction", f"same input as line {prev[0]} but a different answer")
        else:
            body = "\n".join(m["content"] for m in msgs if m["role"] != "system")
            earlier = near.check_and_add(body, line_no)
            if near.full and near_full_at is None:
                near_full_at = line_no
            if earlier is not None:
                col.add(line_no, "near_duplicate", f"nearly the same as line {earlier}")
        if counter is not None:
            pending.append((line_no, msgs))
            if len(pending) >= TOKEN_BATCH:
                try:
                    flush_tokens()
                except UserError as e:
                    token_note, counter = f"tokens not counted: {e.message}", None
                    pending.clear()
    if counter is not None:
        try:
            flush_tokens()
        except UserError as e:
            token_note = f"tokens not counted: {e.message}"

    # ---- file-level problems
    looks_like_labels = label_task or (
        answers is not None
        and n_valid >= 10
        and len(answers) <= LABEL_MAX_DISTINCT
        and all(len(a) <= 40 for a in answers)
    )
    if not looks_like_labels:
        for line_no, ans in short_lines:
            col.add(line_no, "short_answer", f"the answer {ans!r} is very short")
    if len(systems) > 1:
        ref_key = max(systems, key=lambda k: systems[k][0])
        ref_count = systems[ref_key][0]
        for key, (count, first, preview) in sorted(systems.items(), key=lambda kv: kv[1][1]):
            if key == ref_key:
                continue
            what = "has no system prompt" if key is None else f"uses system prompt {preview!r}"
            col.add(
                first,
                "inconsistent_system_prompt",
                f"{what} ({count} line{'s' if count != 1 else ''} from here) while {ref_count} lines use "
                + ("none" if ref_key is None else repr(systems[ref_key][2])),
            )
    label_counts = None
    if looks_like_labels and answers:
        label_counts = dict(sorted(answers.items(), key=lambda kv: -kv[1]))
        if task is not None and task.output.labels:
            # imbalance among the task's own labels; unknown labels are reported line by line
            label_counts = {
                normalize_text(lab): answers.get(normalize_text(lab), 0) for lab in task.output.labels
            }
        counts = list(label_counts.values())
        if len(counts) > 1 and max(counts) >= LABEL_IMBALANCE_RATIO * max(min(counts), 1):
            rare = min(label_counts, key=label_counts.get)
            common = max(label_counts, key=label_counts.get)
            col.add(
                None,
                "label_imbalance",
                f"label {common!r} has {label_counts[common]} examples, {rare!r} only {label_counts[rare]}",
            )
    if n_valid < min_examples:
        col.add(
            None,
            "too_few_examples",
            f"{n_valid} usable examples; fine-tuning needs at least {min_examples} "
            "(a few hundred is typical)",
        )

    # ---- summary
    train_tokens = hist_total.total
    summary: dict[str, Any] = {
        "lines": n_lines,
        "blank_lines": n_blank,
        "parsed": n_parsed,
        "valid_examples": n_valid,
        "multi_turn": n_multi_turn,
        "distinct_system_prompts": len(systems),
        "problems": sum(col.counts.values()),
        "tokens": {r: hist[r].describe() for r in ROLES} | {"example": hist_total.describe()},
        "tokenizer": counter.source if counter is not None and counter.source else None,
        "context_limit": limit,
        "training_tokens_per_epoch": train_tokens,
    }
    if token_note:
        summary["note"] = token_note
    if label_counts is not None:
        summary["labels"] = label_counts
    notes = []
    if inputs_full_at:
        notes.append(
            f"duplicate index full at line {inputs_full_at}: later lines checked against earlier ones only"
        )
    if near_full_at:
        notes.append(
            f"near-duplicate index full at line {near_full_at}: later lines checked against earlier ones only"
        )
    if notes:
        summary["index_notes"] = notes
    if train_tokens:
        summary["estimates"] = training_estimates(train_tokens)
    if file_size is not None:
        summary["bytes"] = file_size
    problems = sorted(col.problems, key=lambda p: (p.line is None, p.line or 0))
    return ValidationReport(name, problems, dict(sorted(col.counts.items())), summary)


def training_estimates(tokens_per_epoch: int, epochs: int = DEFAULT_EPOCHS) -> dict:
    """Managed fine-tuning cost and local GPU/CPU time for `epochs` passes over the data. Pure."""
    from tools.llm.pricing import PriceTable

    prices = PriceTable.load()
    total = tokens_per_epoch * epochs
    managed = {
        f"{prov}:{model}": round(prices.training_cost(prov, model, total), 4)
        for prov, model in MANAGED_ESTIMATES
    }
    gpu_hours = total / GPU_TRAIN_TOKENS_PER_S / 3600
    return {
        "epochs": epochs,
        "training_tokens": total,
        "managed_usd": managed,
        "local_gpu_hours": round(gpu_hours, 3),
        "local_gpu_usd": round(gpu_hours * prices.gpu_hour, 3),
        "local_cpu_hours": round(total / CPU_TRAIN_TOKENS_PER_S / 3600, 2),
        "assumptions": f"{GPU_TRAIN_TOKENS_PER_S:.0f} tokens/s on one GPU at ${prices.gpu_hour}/h; "
        f"{CPU_TRAIN_TOKENS_PER_S:.0f} tokens/s on CPU",
    }
