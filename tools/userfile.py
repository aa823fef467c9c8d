"""Reading the files a person gives us (task files, answers, data to import or validate, test sets).

Whatever is wrong with such a file becomes one `UserError` (exit 2: where, what, how to fix) — never a
traceback: a missing file, a folder, no read permission, binary data, text that is not UTF-8 (Latin-1 /
Windows-1252 or UTF-16 exports from spreadsheets), JSON or YAML nested deeper than any real data (the
parsers recurse and would raise RecursionError). A UTF-8 byte-order mark is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.errors import UserError

BOM = b"\xef\xbb\xbf"
# Deeper than any real task file or chat row; far below the interpreter's recursion limit, so neither
# the parsers nor anything walking the result later (validation, json.dumps, copies) can overflow.
MAX_DEPTH = 100
_SNIFF = 8192


def _iconv_fix(path: str, source: str) -> str:
    return f"save it as UTF-8 (e.g. `iconv -f {source} -t utf-8 {path} > fixed.txt`, or 'CSV UTF-8' when exporting)"


def path_exists(path: str | Path) -> bool:
    """`Path.exists`, but False (not an exception) for a name too long or one holding a NUL byte."""
    try:
        return Path(path).expanduser().exists()
    except (OSError, ValueError, RuntimeError):  # RuntimeError: `~user` with no such user
        return False


def read_bytes(path: str | Path, *, what: str = "file", fix: str | None = None) -> bytes:
    """The file's bytes, or one UserError for a path that is missing, a folder, or not readable."""
    try:
        p = Path(path).expanduser()
        if p.is_dir():
            raise UserError(
                f"is a folder, not a {what}", where=str(path), fix=fix or f"pass the path of the {what}"
            )
        return p.read_bytes()
    except FileNotFoundError:
        raise UserError("file not found", where=str(path), fix="check the path") from None
    except PermissionError:
        raise UserError(
            "cannot read the file (permission denied)",
            where=str(path),
            fix=f"make it readable (chmod u+r {path}) or pass a copy you can read",
        ) from None
    except IsADirectoryError:
        raise UserError(
            f"is a folder, not a {what}", where=str(path), fix=f"pass the path of the {what}"
        ) from None
    except OSError as e:
        raise UserError(
            f"cannot read the file ({e.strerror or type(e).__name__})", where=str(path), fix="check the path"
        ) from None
    except (ValueError, RuntimeError) as e:  # a NUL byte in the name; `~user` with no such user
        raise UserError(
            f"not a usable file name ({e})", where=repr(str(path)), fix="check the path"
        ) from None


def decode_text(data: bytes, where: str, *, what: str = "text file") -> str:
    """UTF-8 text without a byte-order mark, or one UserError saying which encoding it looks like."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError(
            f"UTF-16 text, not UTF-8 (expected a {what})", where=where, fix=_iconv_fix(where, "utf-16")
        )
    nul = data.find(b"\x00", 0, _SNIFF)
    if nul >= 0:
        raise UserError(
            f"binary data, not a {what} (a NUL byte at offset {nul})",
            where=where,
            fix=f"pass the {what} itself (plain UTF-8 text)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start]
        printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in data[:_SNIFF]) / max(1, len(data[:_SNIFF]))
        if printable < 0.7:  # mostly unprintable: not text at all
            raise UserError(
                f"binary data, not a {what}", where=where, fix=f"pass the {what} itself (plain UTF-8 text)"
            ) from None
        raise UserError(
            f"not UTF-8 text (byte 0x{bad:02x}; probably Latin-1 / Windows-1252)",
            where=f"{where}:{line}",
            fix=_iconv_fix(where, "latin1"),
        ) from None


def read_text(path: str | Path, *, what: str = "text file", fix: str | None = None) -> str:
    """A person's text file, checked: readable, not a folder, not binary, UTF-8 (a BOM is dropped)."""
    return decode_text(read_bytes(path, what=what, fix=fix), str(path), what=what)


# ---------------------------------------------------------------- nesting
class TooDeep(ValueError):
    """A JSON/YAML value nested more than MAX_DEPTH levels."""


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when `value` (parsed JSON/YAML) has more than `limit` levels of lists/dicts.

    Iterative; a container shared through YAML aliases is walked again only when reached deeper than
    before, so the walk stays linear in the file's size (a self-referencing alias is simply too deep)."""
    if not isinstance(value, (dict, list, tuple)):
        return False
    deepest: dict[int, int] = {}
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return True
        if deepest.get(id(v), 0) >= d:
            continue
        deepest[id(v)] = d
        children = v.values() if isinstance(v, dict) else v
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list, tuple)))
    return False


def _too_deep_msg() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, except that nesting deeper than MAX_DEPTH raises `json.JSONDecodeError` like any
    other bad JSON (the C parser would raise RecursionError, and deep values break later code)."""
    if isinstance(text, bytes):  # as json.loads does: UTF-8/16/32, a UTF-8 byte-order mark allowed
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(_too_deep_msg(), text, 0) from None
    # cheap guard first: a value cannot be deeper than its number of opening brackets
    if isinstance(value, (dict, list)) and text.count("[") + text.count("{") > MAX_DEPTH:
        if depth_exceeds(value):
            raise json.JSONDecodeError(_too_deep_msg(), text, 0)
    return value


def loads_yaml(text: str) -> Any:
    """`yaml.safe_load`, except that nesting deeper than MAX_DEPTH raises a `yaml.YAMLError`."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except RecursionError:
        raise yaml.YAMLError(_too_deep_msg()) from None
    if isinstance(value, (dict, list)) and depth_exceeds(value):
        raise yaml.YAMLError(_too_deep_msg())
    return value
