"""A person's examples written the way people write them: "Q: … / A: …" lines, or a spreadsheet saved as CSV.

Walk 13: a pool owner gave a text file of questions and answers as "Q:" and "A:" lines and was told
"invalid JSON (Expecting value) — one {input, output} object per line". JSONL and YAML stay (see
agent/nodes/interview.load_examples_file); these are the forms a non-expert has to hand.

    read_labelled_pairs(text, where) -> [{"input", "output"}] or None (no "Q:"/"A:" lines at all)
    read_two_columns(text, where, delimiter) -> [{"input", "output"}]
"""

from __future__ import annotations

import csv
import io
import re

from tools.errors import UserError

# what people put before a message and before its answer ("Q:", "Customer:", "Input:", "1. Question:")
ASKED = {"q", "question", "input", "in", "message", "msg", "customer", "user", "request", "email", "client"}
ANSWERED = {
    "a",
    "answer",
    "output",
    "out",
    "reply",
    "response",
    "assistant",
    "us",
    "agent",
    "we",
    "me",
    "staff",
}
_LABEL = re.compile(r"^\s*(?:\d+\s*[.)]\s*)?([A-Za-z][A-Za-z ]{0,11}?)\s*[:：]\s?(.*)$")

PLAIN_FORMAT = (
    "write each example as a line starting 'Q:' with the message and a line starting 'A:' with the answer "
    "you want (a spreadsheet saved as CSV with the message in the first column and the answer in the "
    "second works too)"
)


def _label(line: str) -> tuple[str, str] | None:
    """("asked" | "answered", the rest of the line) when the line starts with a known label."""
    m = _LABEL.match(line)
    if not m:
        return None
    word = m.group(1).strip().lower()
    if word in ASKED:
        return "asked", m.group(2).strip()
    if word in ANSWERED:
        return "answered", m.group(2).strip()
    return None


def read_labelled_pairs(text: str, where: str) -> list[dict] | None:
    """Pairs from "Q: …" / "A: …" lines; a line without a label continues the one before (a long answer
    over several lines). None when no line has a label, so the caller can say what the file should hold."""
    pairs: list[dict] = []
    field: str | None = None  # which part the current lines belong to
    asked_line = 0
    parts: dict[str, list[str]] = {}
    seen_label = False

    def close(line_no: int) -> None:
        if not parts:
            return
        if "answered" not in parts:
            raise UserError(
                "this message has no answer after it",
                where=f"{where}:{asked_line}",
                fix="add a line starting 'A:' with the answer you want, or remove the message",
            )
        pairs.append(
            {
                "input": "\n".join(parts["asked"]).strip(),
                "output": "\n".join(parts["answered"]).strip(),
            }
        )
        parts.clear()

    for i, line in enumerate(text.splitlines(), 1):
        found = _label(line)
        if found is None:
            if field is not None and line.strip():
                parts[field].append(line.strip())
            continue
        seen_label = True
        kind, rest = found
        if kind == "asked":
            close(i)
            asked_line, field = i, "asked"
            parts["asked"] = [rest]
        else:
            if "asked" not in parts:
                raise UserError(
                    "an answer with no message before it",
                    where=f"{where}:{i}",
                    fix="put the message on a line starting 'Q:' just above it",
                )
            if "answered" in parts:  # a second "A:" line goes on the same answer
                parts["answered"].append(rest)
            else:
                parts["answered"] = [rest]
            field = "answered"
    if not seen_label:
        return None
    close(0)
    empty = next((n for n, p in enumerate(pairs, 1) if not p["input"] or not p["output"]), None)
    if empty is not None:
        raise UserError(
            f"example {empty} has an empty message or answer", where=where, fix="fill it in or remove it"
        )
    return pairs


# what the app's box for typing examples starts with, the cursor after it (walk 19: examples could only come
# from a file); a "Q:"/"A:" pair set out in advance put the cursor under both, and Enter after the message
# pushed "A:" down a line
TYPED_TEMPLATE = "Q: "
TYPED_HOW = "each as two lines:\n  Q: a message\n  A: the answer you want for it"


def typed_text(text: str) -> str:
    """What was typed into the app's box, without the template's empty last "Q:"/"A:" lines."""
    lines = text.splitlines()
    while lines and (not lines[-1].strip() or re.fullmatch(r"\s*[QqAa]\s*[:：]\s*", lines[-1])):
        lines.pop()
    return "".join(line + "\n" for line in lines)


def read_typed_examples(text: str) -> list[dict]:
    """Examples typed into the app's box as "Q:"/"A:" lines; a problem is a UserError naming the line
    ("line 3: an answer with no message before it"). The template's empty last "Q:"/"A:" lines are left out."""
    text = typed_text(text)
    if not text:
        raise UserError(
            "nothing typed yet", fix="type a message after 'Q:' and the answer you want after 'A:'"
        )
    try:
        pairs = read_labelled_pairs(text, "line")
    except UserError as e:
        e.where = (e.where or "").replace("line:", "line ") if e.where != "line" else None
        raise
    if pairs is None:
        raise UserError("no 'Q:' or 'A:' lines", fix=PLAIN_FORMAT)
    return pairs


def typed_problem(text: str) -> str | None:
    """Why the typed examples do not read, in one line ("line 1: an answer with no message before it …"), or
    None: the app's box says it under the text and stays open."""
    try:
        read_typed_examples(text)
    except UserError as e:
        return e.one_line()
    return None


HEADERS = ASKED | ANSWERED | {"prompt", "completion", "label", "target", "text", "query"}
COLUMN_WORDS = {  # words a spreadsheet's column names are made of ("Product title", "Correct size")
    *("title", "name", "description", "message", "sentence", "review", "comment", "email", "ticket", "note"),
    *("size", "category", "class", "tag", "value", "result", "expected", "correct", "reply", "response"),
    *("summary", "translation", "code", "type", "kind", "status", "column", "listing", "item", "product"),
    *("phone", "number", "address", "date", "time", "price", "amount", "wrote", "written", "typed", "said"),
}


def closed_vocabulary(answers: list[str]) -> set[str] | None:
    """The words of answers chosen from a few (allergens "gluten, dairy, egg", labels, yes/no), lower-cased; None
    when there are fewer than 5 answers or they use more than max(12, half as many) words. Pure."""
    vocab = {w.lower() for a in answers for w in re.findall(r"[^\W\d_]+", a)}
    return vocab if len(answers) >= 5 and len(vocab) <= max(12, len(answers) // 2) else None


def _column_names(first: list[str], rows: list[list[str]]) -> bool:
    """Is a CSV's first row its column names? Both known (question/answer, input/output, …), or both a few
    words of letters with a column name's word in each ("title", "Correct size"), and the second nobody's
    answer (walk 19's spreadsheet began "title,size" and became an example; a first example
    "Blue dress,M" has an answer other rows share); a column name's word first and an answer in none of the
    words the other answers share ("item,allergens"); or a first answer of letters over a column of numbers."""
    if len(first) < 2:
        return False
    a, b = first[0].lower(), first[1].lower()
    if a in HEADERS and b in HEADERS:
        return True
    if not all(re.fullmatch(r"[^\W\d]+(?:[ _-][^\W\d]+){0,2}", c) for c in (a, b)):
        return False
    others = [r[1].strip().lower() for r in rows if len(r) >= 2]
    if b in set(others):
        return False

    def named(cell: str) -> bool:
        return cell in HEADERS or bool(set(re.split(r"[ _-]", cell)) & COLUMN_WORDS)

    # walk 20's "what they wrote,phone" above answers like "+44 7221 140567": a first answer of letters alone
    # over a column whose answers nearly all hold digits is the column's name, whatever its words
    with_digits = sum(any(ch.isdigit() for ch in o) for o in others)
    nothing = b in ("none", "n/a", "na", "no", "nothing", "unknown", "empty")  # a real answer: "no number"
    unlike = len(others) >= 5 and with_digits >= 0.75 * len(others) and not nothing
    # walk 22's "item,allergens" above answers made of a few words ("gluten, dairy, egg", "none"): a first
    # answer whose words none of the others uses, where the others share a small vocabulary, names the column
    vocab = closed_vocabulary(others)
    foreign = vocab is not None and not set(re.findall(r"[^\W\d_]+", b)) & vocab
    return (named(a) and (named(b) or foreign)) or unlike


def _answer_columns(rows: list[list[str]]) -> int:
    """How many columns after the message hold answers: the last column any row fills (at least 1)."""
    return max([1] + [j for r in rows for j, c in enumerate(r) if j >= 1 and c.strip()])


def _named_columns(first: list[str], rows: list[list[str]], width: int) -> bool:
    """Is the first row of a sheet with several answer columns its column names ("message,dog,service,day")?
    Each name a few words of letters, none of them a value its column has below, and one a column name's word
    or a message's ("message", "day")."""
    cells = [c.strip().lower() for c in first[: width + 1]]
    if len(cells) <= width or not all(re.fullmatch(r"[^\W\d]+(?:[ _-][^\W\d]+){0,2}", c) for c in cells):
        return False
    for j in range(1, width + 1):
        if cells[j] in {r[j].strip().lower() for r in rows if len(r) > j}:
            return False
    words = COLUMN_WORDS | HEADERS | {"day", "service", "name", "when", "who", "what", "where"}
    return any(c in words or set(re.split(r"[ _-]", c)) & words for c in cells)


def _field_name(name: str) -> str:
    """A column's name as an answer part's name: "Dog name" → "dog_name"."""
    return re.sub(r"[^\w]+", "_", name.strip().lower()).strip("_") or "part"


def read_two_columns(text: str, where: str, delimiter: str = ",") -> list[dict]:
    """The first two columns of a CSV/TSV (the message, then the answer); a first row of column names
    (question/answer, input/output, title/size, …: `_column_names`) is skipped. A sheet with more answer
    columns under a row of names ("message,dog,service,day") gives each answer as those parts together, a JSON
    object ({"dog": "Biscuit", "service": "bath", "day": "Tuesday"}; an empty cell: null): its third column was
    dropped without a word before. Without names it says how to add them."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    width = _answer_columns(rows)
    if width > 1:
        filled = [r for r in rows if any(c.strip() for c in r)]
        wide = [i for i, r in enumerate(rows, 1) if any(c.strip() for c in r[2:])]
        if len(wide) * 2 < len(filled):  # a few rows only: a comma in an answer, not columns
            raise UserError(
                "this row has more columns than most (2: the message and the answer)",
                where=f"{where}:{wide[0]}",
                fix='a comma inside the answer? put the answer in double quotes ("Yes, 3 hours free."), or '
                "remove the extra cells",
            )
        first = filled[0]
        body = rows[rows.index(first) + 1 :]
        if not _named_columns(first, body, width):
            raise UserError(
                f"this file has {width + 1} columns: the message, then {width} parts of the answer, and no first "
                "row naming them",
                where=f"{where}:1",
                fix="add a first row with a name for each column (e.g. message,dog,service,day), or keep only "
                "the message and the answer",
            )
        return _read_parts(rows, rows.index(first), where, width)
    out = []
    for i, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if i == 1 and _column_names(cells, rows[1:]):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise UserError(
                "this row needs the message in the first column and the answer in the second",
                where=f"{where}:{i}",
                fix="fill in both columns, or remove the row",
            )
        out.append({"input": cells[0], "output": cells[1]})
    if not out:
        raise UserError("no examples in the file", where=where, fix=PLAIN_FORMAT)
    return out


def _read_parts(rows: list[list[str]], head: int, where: str, width: int) -> list[dict]:
    """`read_two_columns` for a sheet of several answer columns named on row `head`."""
    import json

    names = [_field_name(c) for c in rows[head][1 : width + 1]]
    if len(set(names)) < len(names):
        raise UserError(
            "two columns have the same name", where=f"{where}:{head + 1}", fix="give each column its own name"
        )
    out = []
    for i, row in enumerate(rows[head + 1 :], head + 2):
        cells = [c.strip() for c in row] + [""] * (width + 1 - len(row))
        if not any(cells):
            continue
        if not cells[0] or not any(cells[1 : width + 1]):
            raise UserError(
                "this row needs the message in the first column and its answer in the others",
                where=f"{where}:{i}",
                fix="fill them in, or remove the row",
            )
        parts = {n: (c or None) for n, c in zip(names, cells[1 : width + 1], strict=True)}
        out.append({"input": cells[0], "output": json.dumps(parts, ensure_ascii=False)})
    if not out:
        raise UserError("no examples in the file", where=where, fix=PLAIN_FORMAT)
    return out
