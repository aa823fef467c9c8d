"""Exact training pairs without a teacher, for grounded extraction tasks.

When an answer's values are written in the input ("two large lattes" → quantity 2, size "large"), a new
pair is made by swapping a value inside a seed input for another value of the same field — from other
seeds, from the schema's enum (so enum values no seed uses get examples too), or another number in the
same form (digits stay digits, words stay words) — and changing the answer to match. The answer is right
by construction; a weak teacher cannot get it wrong. Rows are marked `source: augment`. Pure.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence

from tools.data.infer import WORD_FOR, _json_object, grounded_fields
from tools.data.schema import make_row, normalize_text

AUGMENT_SHARE = 0.25  # of the requested examples; the rest come from the teacher (coverage and variety)
_NUMBERS = range(2, 10)  # quantities swapped in (≥2 keeps a plural sentence plural)


def _find_string(text: str, value: str) -> tuple[int, int] | None:
    """Where `value` is written in `text`: at a word start, allowing a plural ending ("lattes")."""
    m = re.search(rf"(?<!\w){re.escape(value)}(?=(?:e?s)?(?!\w))", text, re.I)
    return (m.start(), m.end()) if m else None


def _find_number(text: str, value: int) -> tuple[int, int, str] | None:
    for m in re.finditer(r"[\w-]+", text):
        tok = m.group(0)
        if tok.isdigit() and int(tok) == value:
            return m.start(), m.end(), "digit"
        if WORD_FOR.get(value) == tok.lower():
            return m.start(), m.end(), "word"
    return None


def _render_like(original: str, new: str) -> str:
    if original[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _value_pools(spec, pairs: list[tuple[str, dict]], fields: list[str]) -> dict[str, list]:
    schema = spec.output.json_schema or {}
    props = schema.get("properties") if isinstance(schema, dict) else {}
    pools: dict[str, list] = {}
    for f in fields:
        vals = [o[f] for _, o in pairs if f in o]
        if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            pools[f] = list(_NUMBERS)
            continue
        if not all(isinstance(v, str) for v in vals):
            continue
        enum = (props or {}).get(f, {}).get("enum") if isinstance((props or {}).get(f), dict) else None
        pool = list(dict.fromkeys(vals + [v for v in enum or [] if isinstance(v, str)]))
        if len(pool) >= 2:
            pools[f] = pool
    return pools


def candidates(spec) -> list[tuple[str, dict, list[str]]]:
    """Every (new input, new answer, swapped fields) one swap away from a seed."""
    examples = [e.model_dump() for e in spec.examples]
    pairs = [(e["input"], _json_object(e["output"])) for e in examples]
    pairs = [(i, o) for i, o in pairs if o is not None]
    if spec.output.grounded is True:
        fields = [f for f in grounded_fields(examples)]
    else:
        fields = [f for f in (spec.output.grounded or []) if f in grounded_fields(examples)]
    pools = _value_pools(spec, pairs, fields)
    out = []
    for text, obj in pairs:
        for f, pool in pools.items():
            if f not in obj:
                continue
            cur = obj[f]
            if isinstance(cur, int) and not isinstance(cur, bool):
                hit = _find_number(text, cur)
                if hit is None or cur < 2:
                    continue
                a, b, form = hit
                for v in pool:
                    if v == cur:
                        continue
                    word = WORD_FOR.get(v) if form == "word" else None
                    if form == "word" and word is None:
                        continue
                    new = _render_like(text[a:b], word or str(v))
                    out.append((text[:a] + new + text[b:], {**obj, f: v}, [f]))
            else:
                span = _find_string(text, cur)
                if span is None:
                    continue
                a, b = span
                for v in pool:
                    if normalize_text(v) == normalize_text(cur):
                        continue
                    new = _render_like(text[a:b], v)
                    out.append((text[:a] + new + text[b:], {**obj, f: v}, [f]))
    return out


def augment_examples(
    spec, k: int, *, avoid: Sequence[str] = (), seed: int = 0, where: tuple[str, str] | None = None
) -> list[dict]:
    """Up to `k` augmented rows, spread over seeds and fields, none repeating a seed or `avoid` input;
    with `where=(field, value)` only rows whose answer has that value (a coverage top-up)."""
    if k <= 0:
        return []
    seen = {normalize_text(t) for t in avoid} | {normalize_text(e.input) for e in spec.examples}
    pool = candidates(spec)
    if where is not None:
        f, v = where
        pool = [c for c in pool if normalize_text(str(c[1].get(f))) == normalize_text(v) and f in c[2]]
    rng = random.Random(seed)
    rng.shuffle(pool)
    rows = []
    for text, obj, swapped in pool:
        key = normalize_text(text)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            make_row(
                text,
                json.dumps(obj, ensure_ascii=False),
                system=spec.effective_system_prompt,
                source="augment",
                extra={"swapped": swapped},
            )
        )
        if len(rows) >= k:
            break
    return rows
