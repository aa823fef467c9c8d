"""What a task's own examples say about its answers: the answer shape, a JSON answer's keys, which
fields are copied from the input (grounded), the labels. The interview asks the person to confirm
these guesses; a headless run applies them and says so in the spec it writes. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "dozen": 12, "pair": 2, "couple": 2, "single": 1, "double": 2, "triple": 3,
    "half-dozen": 6,
}  # fmt: skip
WORD_FOR = {v: k for k, v in reversed(list(_NUMBER_WORDS.items()))}
_TOKEN = re.compile(r"[\w-]+")


def _json_object(text: str) -> dict | None:
    from tools.evals import parse_json_output

    value, _ = parse_json_output(text)
    return value if isinstance(value, dict) else None


def numbers_in(text: str) -> set[float]:
    """Every number written in `text`, as digits ("3", "2.5") or words ("three", "a dozen")."""
    out: set[float] = set()
    for tok in _TOKEN.findall(text.lower()):
        if tok in _NUMBER_WORDS:
            out.add(float(_NUMBER_WORDS[tok]))
        else:
            try:
                out.add(float(tok.replace(",", "")))
            except ValueError:
                pass
    return out


def value_in_input(value: Any, input_text: str) -> bool | None:
    """Is a JSON leaf value written in the input? None when it cannot be told (booleans, null, and
    0/1, which are usually implied — "a latte" is quantity 1 — unless the input names another number)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        nums = numbers_in(input_text)
        if value in (0, 1):  # usually implied; wrong only when the input names one other number
            return None if len(nums) != 1 else float(value) in nums
        return float(value) in nums
    if isinstance(value, str):
        if not value.strip():
            return None
        return " ".join(value.lower().split()) in " ".join(input_text.lower().split())
    return None


def grounded_fields(examples: list[dict]) -> list[str]:
    """Top-level JSON fields whose value is written in the input in every example that can tell
    (at least 2, and in at least half of the examples)."""
    pairs = [(str(e.get("input", "")), _json_object(str(e.get("output", "")))) for e in examples]
    pairs = [(i, o) for i, o in pairs if o is not None]
    if not pairs:
        return []
    keys = set(pairs[0][1])
    for _, o in pairs[1:]:
        keys &= set(o)
    out = []
    for k in sorted(keys):
        seen = [value_in_input(o[k], i) for i, o in pairs]
        told = [s for s in seen if s is not None]
        if len(told) >= max(min(2, len(pairs)), len(pairs) // 2) and all(told):
            out.append(k)
    return out


# words a sentence needs whatever its content: left out when counting how much of an answer its input says
_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with as and or but nor so if than then that this these those it its "
    "is are was were be been being has have had do does did will would can could shall should may might must "
    "not no up out over into onto about after before under until while who whom whose which what when where "
    "why how all any each both few more most other some such only own same too very just also there here "
    "i me my we our you your he him his she her they them their".split()
)
DRAWN_MIN_EXAMPLES = 4  # examples needed before a text task's answers are taken as drawn from their input
DRAWN_MIN_SHARE = 0.5  # ... and the share of its words every example's answer must take from its input
DRAWN_SLACK = 0.15  # an answer may take this much less than the least-drawn example before it is flagged


def _content_words(text: str) -> list[str]:
    words = [w.strip("'").removesuffix("'s") for w in re.findall(r"[\w']+", text.lower().replace(",", ""))]
    return [
        str(_NUMBER_WORDS[w]) if w in _NUMBER_WORDS else w.removesuffix("s") if len(w) > 3 else w
        for w in words
        if w and w not in _FUNCTION_WORDS and (len(w) > 1 or w.isdigit())
    ]


def drawn_share(answer: str, input_text: str) -> float | None:
    """The share of a free-text answer's content words that its input already has ("Zipto Recalls 4,000
    Scooters Over Faulty Brakes" from "…Zipto has recalled 4,000 scooters because of a faulty brake
    cable…": 5 of 6); a word counts when the input has it or a word with its first five letters
    (recalls/recalled), plurals and numbers (digits or words) as one. None when the answer has no content word. Pure."""
    said = _content_words(answer)
    if not said:
        return None
    have = set(_content_words(input_text))
    stems = {w[:5] for w in have if len(w) >= 5}
    return sum(w in have or (len(w) >= 5 and w[:5] in stems) for w in said) / len(said)


def drawn_from_input(examples: list[dict]) -> float | None:
    """The least share of its words any example's answer takes from its input, when a text task's answers
    are drawn from their inputs (a headline, a summary, a cleaned-up sentence: at least DRAWN_MIN_EXAMPLES
    examples, each at or above DRAWN_MIN_SHARE); None otherwise (an answer written from knowledge or
    documents, a translation). Pure."""
    shares = [drawn_share(str(e.get("output", "")), str(e.get("input", ""))) for e in examples]
    told = [s for s in shares if s is not None]
    if len(told) < DRAWN_MIN_EXAMPLES or len(told) < len(shares) or min(told) < DRAWN_MIN_SHARE:
        return None
    return min(told)


_LABEL_LIST = re.compile(
    r"(?:\b(?:one of|into|as|either|to)\b[^.:;]{0,40}?:\s*"  # "into one of four kinds: a, b, c or d"
    r"([a-z][\w'-]*(?:\s*,\s*[a-z][\w'-]*)*,?\s+(?:or|and)\s+[a-z][\w'-]*)"
    r"|\b(?:as|into)\s+([a-z][\w'-]*(?:\s*,\s*[a-z][\w'-]*)*,?\s+or\s+[a-z][\w'-]*)\s*[.!]?\s*$)",  # "as a or b."
    re.I,
)


def labels_in_text(text: str) -> list[str]:
    """The answers a description lists as the choices: "… into one of four kinds: book, cancel, reschedule
    or question." → [book, cancel, reschedule, question]; [] when it lists none. Pure."""
    m = _LABEL_LIST.search(text or "")
    if not m:
        return []
    listed = m.group(1) or m.group(2)
    words = [w.strip() for w in re.split(r"\s*,\s*|\s+(?:or|and)\s+", listed) if w.strip()]
    words = list(dict.fromkeys(w.strip("'") for w in words))
    return words if 2 <= len(words) <= 20 else []


def guess_output_format(spec_text: str, examples: list[dict]) -> str:
    """The likeliest answer shape: from the examples when there are some, else from the spec's words."""
    outs = [str(e.get("output", "")).strip() for e in examples]
    if outs and all(_json_object(o) is not None for o in outs):
        return "json"
    distinct = set(outs)
    if (
        len(outs) >= 4
        and len(distinct) <= max(2, len(outs) // 2)
        and all(len(o) <= 30 and "\n" not in o for o in outs)
    ):
        return "label"
    if not outs and "json" in spec_text.lower():
        return "json"
    if not outs and labels_in_text(spec_text):
        return "label"
    return "text"


def output_spec_for(fmt: str, examples: list[dict], previous: dict | None = None) -> dict:
    """The task's `output:` block for a chosen format, filled in from the examples: a JSON object's
    required keys (those every example has) and the fields copied from the input (`grounded`: true
    when every field is, else the list of those that are); a text answer drawn from its input
    (`grounded`: true, see `drawn_from_input`) and its layout (`regex`, see `answer_layout`); a label task's
    labels."""
    out: dict = {"format": fmt}
    pairs = [(str(e.get("input", "")), str(e.get("output", "")).strip()) for e in examples]
    if fmt == "json":
        objs = [o for _, o in pairs if _json_object(o) is not None]
        if objs:
            keys = set(_json_object(objs[0]))
            for o in objs[1:]:
                keys &= set(_json_object(o))
            out["schema"] = {"type": "object", "required": sorted(keys)}
            fields = grounded_fields(examples)
            every_key = {k for o in objs for k in _json_object(o)}
            if fields:
                out["grounded"] = True if set(fields) == every_key else fields
            closed = closed_fields(examples, fields)
            if closed:
                out["schema"] = with_closed_fields(out["schema"], closed)
            laid = {k: v for k, v in laid_out_fields(examples).items() if k not in closed}
            if laid:
                out["schema"] = with_laid_out_fields(out["schema"], laid)
    elif fmt == "text":
        if drawn_from_input(examples) is not None:
            out["grounded"] = True
        layout = answer_layout(examples)
        if layout:
            out["regex"] = layout[0]
    elif fmt == "label":
        labels = sorted({o for _, o in pairs if o})
        if 2 <= len(labels) <= 50:
            out["labels"] = labels
        elif previous and previous.get("format") == "label" and previous.get("labels"):
            out["labels"] = list(previous["labels"])
    return out


LAYOUT_SHARE = 0.8  # of the person's answers that must share one layout before it is held to


def _layout(text: str) -> str:
    """An answer's layout: each digit as 9, each letter as a, anything else as itself ("+44 7241 592066" →
    "+99 9999 999999"). Pure."""
    return "".join("9" if ch.isdigit() else "a" if ch.isalpha() else ch for ch in text)


def answer_layout(examples: list[dict]) -> tuple[str, str] | None:
    """(regex, words) when the person's free-text answers share one layout with digits in it (at least
    LAYOUT_SHARE of them and 4 or more), the rest a few answers of letters alone ("none"): the phones task's
    "+44 7241 592066" or "none". The evaluation's "right format" holds answers to it (walk 20 saw 100% right
    format for "+44 700123"). None for answers of many shapes (a size, a slug, a sentence). Pure."""
    from collections import Counter

    outs = [str(e.get("output", "")).strip() for e in examples if str(e.get("output", "")).strip()]
    if len(outs) < 5:
        return None
    top, n = Counter(_layout(o) for o in outs).most_common(1)[0]
    if n < max(4, LAYOUT_SHARE * len(outs)) or "9" not in top:
        return word_list_layout(outs)
    others = sorted({o for o in outs if _layout(o) != top})
    if len(others) > 3 or any(not o.replace(" ", "").isalpha() for o in others):
        return None
    shape = "".join(r"\d" if c == "9" else "[^\W\d_]" if c == "a" else re.escape(c) for c in top)
    regex = "|".join([shape, *map(re.escape, others)])
    sample = next(o for o in outs if _layout(o) == top)
    words = " or ".join([f"laid out like {sample}", *others])
    return regex, words


def word_list_layout(outs: list[str]) -> tuple[str, str] | None:
    """(regex, words) when every answer lists words from a few, each used at least twice, with one separator
    between them, and some answer lists more than one: walk 22's allergens "gluten, dairy, egg" or "none",
    where the tuned model's "fruit", "wheat" and "1. gluten" were counted as the right format. None otherwise
    (answers of one word each are labels; a word seen once may not be the whole list). Pure."""
    from collections import Counter

    from tools.data.plain_examples import closed_vocabulary

    if len(outs) < 8 or closed_vocabulary(outs) is None:
        return None
    parts = [re.split(r"(\W+)", o) for o in outs]
    if any(len(p) % 2 == 0 or p[0] == "" or p[-1] == "" for p in parts):  # each begins and ends with a word
        return None
    seps = {sep for p in parts for sep in p[1::2]}
    counts = Counter(w for p in parts for w in p[0::2])
    if len(seps) != 1 or min(counts.values()) < 2 or not any(len(p) > 1 for p in parts):
        return None
    sep = seps.pop()
    word = "(?:" + "|".join(map(re.escape, sorted(counts))) + ")"
    return (
        f"{word}(?:{re.escape(sep)}{word})*",
        f"words from {', '.join(sorted(counts))} separated by {sep!r}",
    )


CLOSED_MIN_VALUES = 8  # examples with a value before a field's values are taken as chosen from a few


def _objects_and_common_keys(examples: list[dict]) -> tuple[list[dict], set[str]]:
    """(the examples' JSON object answers, the keys every one of them has). Pure."""
    objs = [o for o in (_json_object(str(e.get("output", ""))) for e in examples) if o is not None]
    keys = set(objs[0]) if objs else set()
    for o in objs[1:]:
        keys &= set(o)
    return objs, keys


def closed_fields(examples: list[dict], skip: Collection[str] = ()) -> dict[str, list]:
    """JSON fields (not in `skip`: the grounded ones, copied from the input) whose values the person's examples
    choose from a few: every example answers a string or null, at least CLOSED_MIN_VALUES strings, each value
    used at least twice and no more distinct values than half the strings — a groomer's service ("bath", "nail
    trim", …) beside its dog's name. The values, null last when an example has it. Walk 26's writer answered
    "full day trip", "hair wrap" and "wax wax" for the service and nothing checked it. Pure."""
    from collections import Counter

    objs, keys = _objects_and_common_keys(examples)
    out: dict[str, list] = {}
    for k in sorted(keys - set(skip)):
        vals = [o[k] for o in objs]
        strs = [v.strip() for v in vals if isinstance(v, str)]
        if len(strs) < CLOSED_MIN_VALUES or any(v is not None and not isinstance(v, str) for v in vals):
            continue
        counts = Counter(strs)
        if min(counts.values()) < 2 or len(counts) > len(strs) // 2:
            continue
        out[k] = sorted(counts) + ([None] if any(v is None for v in vals) else [])
    return out


def with_closed_fields(schema: dict | None, fields: dict[str, list]) -> dict:
    """`schema` with an enum for each closed field it does not describe yet (a field it describes keeps its
    own rule). Pure."""
    schema = dict(schema or {"type": "object"})
    props = dict(schema.get("properties") or {})
    for k, values in fields.items():
        props.setdefault(k, {"enum": values})
    if props:
        schema["properties"] = props
    return schema


def laid_out_fields(examples: list[dict], skip: Collection[str] = ()) -> dict[str, tuple[str, str, bool]]:
    """JSON fields (not in `skip`) whose every value in the person's examples is a string of one layout with
    digits in it, at least 4 of them, or null: {field: (regex, a sample, whether null occurs)} — the parcels
    task's order number "BK4821" / "bk5012". The teacher's "customers always have a story to tell" for the order
    (a phrase its input held, so grounding let it through) is then the wrong format. Pure."""
    from collections import Counter

    objs, keys = _objects_and_common_keys(examples)
    out: dict[str, tuple[str, str, bool]] = {}
    for k in sorted(keys - set(skip)):
        vals = [o[k] for o in objs]
        if any(v is not None and not isinstance(v, str) for v in vals):
            continue
        strs = [v.strip() for v in vals if isinstance(v, str) and v.strip()]
        layouts = Counter(_layout(v) for v in strs)
        if len(strs) < 4 or len(layouts) != 1 or "9" not in next(iter(layouts)):
            continue
        top = next(iter(layouts))
        shape = "".join(r"\d" if c == "9" else r"[^\W\d_]" if c == "a" else re.escape(c) for c in top)
        out[k] = (f"^(?:{shape})$", strs[0], any(v is None for v in vals))
    return out


def with_laid_out_fields(schema: dict | None, fields: dict[str, tuple[str, str, bool]]) -> dict:
    """`schema` with each laid-out field (`laid_out_fields`) held to its layout: a string matching it, or null
    where the examples have null; a field it describes keeps its own rule. Pure."""
    schema = dict(schema or {"type": "object"})
    props = dict(schema.get("properties") or {})
    for k, (regex, sample, null) in fields.items():
        # the sample says the layout in words where a prompt names it (`OutputSpec.choices`)
        props.setdefault(
            k, {"type": ["string", "null"] if null else "string", "pattern": regex, "examples": [sample]}
        )
    schema["properties"] = props
    return schema


def infer_output(spec) -> list[str]:
    """Fill in what the task file left out and its examples show; returns one note per inference
    (the headless run prints them and they are kept in the spec it writes). Mutates `spec.output`."""
    examples = [e.model_dump() for e in spec.examples]
    out = spec.output
    notes: list[str] = []
    if not examples:
        return notes
    explicit = out.model_fields_set
    if "format" not in explicit:
        fmt = guess_output_format(spec.spec, examples)
        if fmt != out.format:
            out.format = fmt
            notes.append(f"answer shape: {fmt} (every example's answer is {_shape_words(fmt)})")
    if out.format == "json" and "grounded" not in explicit:
        keys = {k for e in examples for k in (_json_object(e["output"]) or {})}
        fields = grounded_fields(examples)
        if fields:
            out.grounded = True if set(fields) == keys else fields
            notes.append(
                f"grounded fields: {', '.join(fields)} (in every example their value is written in the input)"
            )
    if out.format == "json":
        every = {k for e in examples for k in (_json_object(e["output"]) or {})}
        grounded = (
            out.grounded if isinstance(out.grounded, list) else list(every) if out.grounded is True else []
        )
        described = set(out.properties() or {})
        closed = {k: v for k, v in closed_fields(examples, grounded).items() if k not in described}
        if closed:
            out.json_schema = with_closed_fields(out.json_schema, closed)
            notes += [
                f"{k} is one of: {', '.join('none' if v is None else v for v in vals)} (the values your examples use)"
                for k, vals in closed.items()
            ]
        laid = {k: v for k, v in laid_out_fields(examples).items() if k not in described and k not in closed}
        if laid:
            out.json_schema = with_laid_out_fields(out.json_schema, laid)
            notes += [
                f"{k} is laid out like {sample}{' or none' if null else ''} (as in every example)"
                for k, (_, sample, null) in laid.items()
            ]
    if out.format == "text" and "grounded" not in explicit:
        least = drawn_from_input(examples)
        if least is not None:
            out.grounded = True
            notes.append(
                f"answers drawn from the input (every example's answer takes at least {least:.0%} of its "
                "words from its input)"
            )
    if out.format == "text" and "regex" not in explicit:
        layout = answer_layout(examples)
        if layout:
            out.regex = layout[0]
            notes.append(f"answer layout: {layout[1]} (at least {LAYOUT_SHARE:.0%} of the examples' answers)")
    if out.format == "label" and not out.labels:
        labels = sorted({str(e["output"]).strip() for e in examples if str(e["output"]).strip()})
        if len(labels) >= 2:
            out.labels = labels
            notes.append(f"labels: {', '.join(labels)} (from the examples)")
    return notes


def _shape_words(fmt: str) -> str:
    return {"json": "a JSON object", "label": "one of a few short labels", "text": "free text"}[fmt]
