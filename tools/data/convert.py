"""Import Alpaca, ShareGPT, CSV and plain JSONL into canonical chat rows.

Every bad line is reported with its file and line number (UserError, exit 2); the user's file is only
read, never changed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tools.data.schema import make_row, with_metadata
from tools.errors import UserError

FORMATS = ("alpaca", "sharegpt", "csv", "jsonl")
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "system": "system",
}
INPUT_KEYS = ("input", "prompt", "question", "query", "text")
OUTPUT_KEYS = ("output", "completion", "response", "answer", "label", "target")


def _iter_json_records(path: Path, text: str | None = None):
    """(line, obj) from a JSONL file, or from a file holding one JSON array (line = element index + 1)."""
    from tools.userfile import loads_json, read_text

    if text is None:
        text = read_text(path, what="JSON or JSONL file")
    if text.lstrip().startswith("["):
        try:
            data = loads_json(text)
        except json.JSONDecodeError as e:
            raise UserError(
                f"invalid JSON ({e.msg})", where=f"{path}:{e.lineno}", fix="repair the file"
            ) from None
        for i, obj in enumerate(data, 1):
            yield i, obj
        return
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield i, loads_json(line)
        except json.JSONDecodeError as e:
            raise UserError(
                f"invalid JSON ({e.msg} at column {e.colno})",
                where=f"{path}:{i}",
                fix="repair the line, or run `tunewise data validate` to list every problem",
            ) from None


def detect_format(path: Path, text: str | None = None) -> str:
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    for _, obj in _iter_json_records(path, text):
        if not isinstance(obj, dict):
            break
        if "conversations" in obj:
            return "sharegpt"
        if "instruction" in obj:
            return "alpaca"
        return "jsonl"
    return "jsonl"


def _need_str(value, where: str, field: str) -> str:
    if value is None:
        raise UserError(
            f"missing field `{field}`", where=where, fix=f"add `{field}` or choose the columns/format"
        )
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return value


def import_file(
    path: str | Path,
    *,
    fmt: str | None = None,
    input_col: str | None = None,
    output_col: str | None = None,
    system: str | None = None,
) -> list[dict]:
    """Canonical rows (metadata.source = import) from a file in any supported format."""
    from tools.userfile import read_text

    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    what = "CSV file" if fmt == "csv" or path.suffix.lower() in (".csv", ".tsv") else "JSON or JSONL file"
    text = read_text(path, what=what)  # one reading: missing, folder, unreadable, binary, not UTF-8, BOM
    fmt = fmt or detect_format(path, text)
    rows: list[dict] = []
    if fmt == "csv":
        rows = _import_csv(path, input_col, output_col, system, text)
    else:
        for line, obj in _iter_json_records(path, text):
            where = f"{path}:{line}"
            if not isinstance(obj, dict):
                raise UserError(f"expected a JSON object, got {type(obj).__name__}", where=where)
            if fmt == "alpaca":
                instr = _need_str(obj.get("instruction"), where, "instruction")
                extra = obj.get("input") or ""
                user = f"{instr}\n\n{extra}".strip() if extra else instr
                rows.append(
                    make_row(
                        user,
                        _need_str(obj.get("output"), where, "output"),
                        system=system or obj.get("system"),
                        source="import",
                    )
                )
            elif fmt == "sharegpt":
                rows.append(_sharegpt_row(obj, where, system))
            else:
                rows.append(_jsonl_row(obj, where, input_col, output_col, system))
    if not rows:
        raise UserError("no examples found", where=str(path), fix="check the file and --format")
    return rows


def _sharegpt_row(obj: dict, where: str, system: str | None) -> dict:
    conv = obj.get("conversations")
    if not isinstance(conv, list) or not conv:
        raise UserError("`conversations` must be a non-empty list", where=where)
    msgs = []
    if system:
        msgs.append({"role": "system", "content": system})
    elif obj.get("system"):
        msgs.append({"role": "system", "content": str(obj["system"])})
    for j, turn in enumerate(conv, 1):
        if not isinstance(turn, dict):
            raise UserError(f"turn {j} is not an object", where=where)
        who = str(turn.get("from", turn.get("role", ""))).lower()
        role = SHAREGPT_ROLES.get(who)
        if role is None:
            raise UserError(
                f"turn {j} has unknown speaker {who!r}",
                where=where,
                fix="use from: human/gpt/system (or user/assistant)",
            )
        if role == "system" and system:
            continue
        msgs.append(
            {"role": role, "content": _need_str(turn.get("value", turn.get("content")), where, "value")}
        )
    return with_metadata({"messages": msgs}, source="import")


def _jsonl_row(
    obj: dict, where: str, input_col: str | None, output_col: str | None, system: str | None
) -> dict:
    if "messages" in obj and not input_col:
        msgs = obj["messages"]
        if not isinstance(msgs, list):
            raise UserError("`messages` must be a list", where=where)
        from tools.data.schema import check_chat_row

        problems, usable = check_chat_row({"messages": msgs})
        if usable is None:  # not objects with a known role and text content: nothing to train on
            raise UserError(problems[0].message, where=where, fix=problems[0].fix)
        if system and not (msgs and isinstance(msgs[0], dict) and msgs[0].get("role") == "system"):
            msgs = [{"role": "system", "content": system}] + msgs
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        return with_metadata({"messages": msgs, "metadata": meta}, source=meta.get("source") or "import")
    in_key = input_col or next((k for k in INPUT_KEYS if k in obj), None)
    out_key = output_col or next((k for k in OUTPUT_KEYS if k in obj), None)
    if in_key is None or out_key is None:
        raise UserError(
            f"cannot tell input and output apart (keys: {', '.join(sorted(obj))})",
            where=where,
            fix="pass --input-col and --output-col",
        )
    return make_row(
        _need_str(obj.get(in_key), where, in_key),
        _need_str(obj.get(out_key), where, out_key),
        system=system,
        source="import",
    )


def _import_csv(
    path: Path, input_col: str | None, output_col: str | None, system: str | None, text: str | None = None
) -> list[dict]:
    import io

    from tools.userfile import read_text

    if text is None:
        text = read_text(path, what="CSV file")
    delim = "\t" if path.suffix.lower() == ".tsv" else ","
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delim)
    last = 0  # the line the last good record ended on: a bad record starts on the next one
    try:
        cols = reader.fieldnames or []
        last = reader.line_num
        in_key = input_col or next((k for k in INPUT_KEYS if k in cols), None)
        out_key = output_col or next((k for k in OUTPUT_KEYS if k in cols), None)
        for key, flag in ((in_key, "--input-col"), (out_key, "--output-col")):
            if key is None or key not in cols:
                raise UserError(
                    f"column {key!r} not found (columns: {', '.join(cols)})",
                    where=f"{path}:1",
                    fix=f"pass {flag} with one of the column names",
                )
        for rec in reader:
            i, last = reader.line_num, reader.line_num
            user, answer = rec.get(in_key), rec.get(out_key)
            if user is None or answer is None:
                raise UserError(
                    "row has fewer columns than the header", where=f"{path}:{i}", fix="fix the row"
                )
            rows.append(make_row(user, answer, system=system, source="import"))
    except csv.Error as e:
        line = last + 1
        if "field larger than field limit" in str(e):
            raise UserError(
                f"a field longer than {csv.field_size_limit():,} characters (far over any model's context)",
                where=f"{path}:{line}",
                fix="check the quoting on and before this line (an unclosed quote makes the rest of the "
                "file one field), or shorten or drop that row",
            ) from None
        raise UserError(
            f"not readable as CSV ({e})", where=f"{path}:{line}", fix="check the quoting on this line"
        ) from None
    return rows


def export_rows(rows: list[dict], path: str | Path, fmt: str = "jsonl") -> Path:
    """Write rows back out (jsonl = canonical; alpaca/sharegpt for other tools). Atomic."""
    from tools.data.schema import answer_text, system_text, user_text
    from tools.workspace import atomic_write_jsonl

    if fmt == "alpaca":
        out = [
            {
                "instruction": user_text(r),
                "input": "",
                "output": answer_text(r),
                **({"system": system_text(r)} if system_text(r) else {}),
            }
            for r in rows
        ]
    elif fmt == "sharegpt":
        back = {"user": "human", "assistant": "gpt", "system": "system"}
        out = [
            {"conversations": [{"from": back[m["role"]], "value": m["content"]} for m in r["messages"]]}
            for r in rows
        ]
    else:
        out = rows
    return atomic_write_jsonl(path, out)
