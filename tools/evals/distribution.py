"""The trivial baseline (always give the most common answer) and the distribution of answers.

A model that gives one constant answer can score well on a test whose references are mostly that
answer. So every evaluation also scores the majority answer, shows how predicted and reference values
are distributed (labels, enum values, other few-valued JSON fields), and the verdict refuses a pass
when predictions collapse to one value. All pure.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tools.evals._classification import extract_label
from tools.evals._json import parse_json_output
from tools.evals._normalize import normalize_text

MAX_CATEGORIES = 8  # a JSON field with at most this many distinct reference values is categorical
COLLAPSE_SHARE = 0.9  # predictions this concentrated on one value …
VARIED_SHARE = 0.75  # … while the references' most common value is at most this share: collapsed
SHIFT_TVD = 0.5  # total variation distance between test and seed labels above this: not comparable


def _schema_enums(spec: Any) -> dict[str, list]:
    schema = getattr(getattr(spec, "output", None), "json_schema", None) or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    out = {}
    for k, v in (props or {}).items():
        if isinstance(v, dict) and isinstance(v.get("enum"), list):
            out[k] = list(v["enum"])
    return out


def categorical_fields(spec: Any, references: Sequence[str]) -> list[str]:
    """The answer "fields" whose values can be counted: `label` for label tasks; for JSON objects the
    schema's enum fields plus top-level fields with few distinct reference values; none for text."""
    fmt = getattr(getattr(spec, "output", None), "format", "text")
    if fmt == "label":
        return ["label"]
    if fmt != "json":
        return []
    fields = list(_schema_enums(spec))
    values: dict[str, set] = {}
    n_obj = 0
    for r in references:
        obj, err = parse_json_output(r)
        if err is None and isinstance(obj, dict):
            n_obj += 1
            for k, v in obj.items():
                if isinstance(v, (str, int, bool)) or v is None:
                    values.setdefault(k, set()).add(_key(v))
    for k, vs in values.items():
        if k not in fields and 1 < len(vs) <= MAX_CATEGORIES and n_obj >= 2 * len(vs):
            fields.append(k)
    return fields


def _key(v: Any) -> str:
    return normalize_text(v) if isinstance(v, str) else json.dumps(v)


ANSWER = "answer"  # the whole answer, counted like a field for text answers chosen from a few words


def answer_field(spec: Any, references: Sequence[str]) -> list[str]:
    """[ANSWER] when the answers are text chosen from a few words (allergen lists "gluten, dairy", yes/no) and
    no field is counted otherwise: a model that gives one of them for every input learned a shortcut (walk
    22's tuned model said "gluten" for 13 of 14 menu items, and the verdict only said it tied the most common
    answer). Counted for that alone: its values are too many combinations to compare with the examples'."""
    from tools.data.plain_examples import closed_vocabulary

    fmt = getattr(getattr(spec, "output", None), "format", "text")
    if fmt in ("json", "label"):
        return []
    return [ANSWER] if closed_vocabulary([str(r) for r in references]) is not None else []


def field_value(text: str, field: str, spec: Any) -> str | None:
    """The value an answer gives for `field` (normalized), None when it gives none."""
    out: Any = getattr(spec, "output", None)
    if field == ANSWER and getattr(out, "format", "text") not in ("json", "label"):
        return normalize_text(text) or None
    if field == "label" and getattr(out, "format", None) == "label":
        lab = extract_label(text, out.labels or [])
        return normalize_text(lab) if lab is not None else None
    obj, err = parse_json_output(text)
    if err is not None or not isinstance(obj, dict) or field not in obj:
        return None
    return _key(obj[field])


def distribution(texts: Sequence[str], spec: Any, fields: Sequence[str]) -> dict[str, dict[str, int]]:
    """{field: {value: count}} over the answers (missing/unparseable → "∅"), most common first."""
    out = {}
    for f in fields:
        c = Counter(field_value(t, f, spec) or "∅" for t in texts)
        out[f] = dict(c.most_common())
    return out


def collapsed_fields(pred: dict[str, dict[str, int]], ref: dict[str, dict[str, int]]) -> list[dict]:
    """Fields where the predictions sit on one value although the references vary."""
    found = []
    for f, counts in pred.items():
        n = sum(counts.values())
        rc = ref.get(f) or {}
        rn = sum(rc.values())
        if n < 5 or not rn or len(rc) < 2:
            continue
        value, top = next(iter(counts.items()))
        if value == "∅":
            continue  # mostly no valid value at all: a format problem, not one answer learned as a shortcut
        if top / n >= COLLAPSE_SHARE and max(rc.values()) / rn <= VARIED_SHARE:
            found.append({"field": f, "value": value, "count": top, "n": n, "reference_values": len(rc)})
    return found


def total_variation(a: dict[str, int], b: dict[str, int]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    if not na or not nb:
        return 0.0
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in keys)


# the trivial baseline's note in the evaluation report; the answer follows it (the words name it: walk 25 read
# "most common answer 3/20" as impossible — it is the practice data's most common answer, not the test's)
CONSTANT_NOTE = "always answers the most common training answer: "


def constant_answer(system: dict) -> str | None:
    """The trivial baseline's constant answer, read back from its report entry's notes (None if absent). Pure."""
    for note in system.get("notes") or ():
        if isinstance(note, str) and note.startswith(CONSTANT_NOTE):
            return note[len(CONSTANT_NOTE) :]
    return None


def majority_answer(answers: Sequence[str], spec: Any) -> str | None:
    """The trivial baseline's constant answer: the most common answer; for JSON objects the most common
    value of every field most answers have (a stronger constant than any single answer)."""
    answers = [a for a in answers if str(a).strip()]
    if not answers:
        return None
    fmt = getattr(getattr(spec, "output", None), "format", "text")
    if fmt == "json":
        objs = [o for o, e in (parse_json_output(a) for a in answers) if e is None and isinstance(o, dict)]
        if objs and len(objs) >= len(answers) / 2:
            keys = Counter(k for o in objs for k in o)
            out = {}
            for k, cnt in keys.items():
                if cnt * 2 >= len(objs):
                    vals = Counter(json.dumps(o[k], sort_keys=True) for o in objs if k in o)
                    out[k] = json.loads(vals.most_common(1)[0][0])
            order = [k for k in (objs[0].keys()) if k in out] + [k for k in out if k not in objs[0]]
            return json.dumps({k: out[k] for k in order}, ensure_ascii=False)
    if fmt == "label":
        labs = [extract_label(a, spec.output.labels or []) or a for a in answers]
        return Counter(labs).most_common(1)[0][0]
    counts = Counter(normalize_text(a) for a in answers)
    top = counts.most_common(1)[0][0]
    return next(a for a in answers if normalize_text(a) == top)
