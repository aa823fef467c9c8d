"""Programmatic checks of an answer against the task's output spec (run before any judge).

Pure functions: the validator, the critic and the hardness filter share them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tools.spec import TaskSpec


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.S)


def ungrounded_values(obj, input_text: str, fields: list[str] | None = None) -> list[str]:
    """Values (at any depth) of a JSON answer that are not written in the input: strings
    case-insensitively, numbers as digits or words ("three" is 3). With `fields`, only those top-level
    fields are checked. Values that cannot be told (booleans, null, 0 and 1) pass. Pure."""
    from tools.data.infer import value_in_input

    out: list[str] = []

    def walk(v) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif value_in_input(v, input_text) is False:
            out.append(str(v))

    if fields is not None and isinstance(obj, dict):
        for f in fields:
            if f in obj:
                walk(obj[f])
    else:
        walk(obj)
    return out


def undrawn_answer(answer: str, spec: TaskSpec, input_text: str) -> list[str]:
    """A text answer of a task whose answers are drawn from their input (`grounded: true`) that takes much
    less of its words from the input than the person's examples do: a sampled headline that drifts off its
    story ("Newbarkham City Planning Update on July 9th" for free buses). The floor is the least-drawn
    example's share less DRAWN_SLACK (0.5 when the examples cannot tell). Pure."""
    from tools.data.infer import DRAWN_SLACK, drawn_share

    share = drawn_share(answer, input_text)
    least = _least_drawn(tuple((e.input, e.output) for e in spec.examples))
    floor = 0.5 if least is None else least - DRAWN_SLACK
    if share is None or share >= floor:
        return []
    said = "the examples' answers take at least " + (f"{least:.0%}" if least is not None else "half")
    return [f"only {share:.0%} of the answer's words are in the input; {said} of theirs from it"]


@lru_cache(maxsize=64)
def _least_drawn(pairs: tuple[tuple[str, str], ...]) -> float | None:
    from tools.data.infer import drawn_from_input

    return drawn_from_input([{"input": i, "output": o} for i, o in pairs])


# ---------------------------------------------------------------- answers that re-write the whole input
TRANSCRIBED_MIN_EXAMPLES = 5  # the person's examples that must all re-write their whole input
TRANSCRIBED_MAX_EXTRA = 1  # words an example's answer may add (the slugs' "and" for "&", "inch" for '"')


def _folded_words(text: str) -> list[str]:
    """Words as a slug, a code or a cleaned-up name would keep them: accents dropped, apostrophes removed
    ("Zoë's" → "zoes"), lower case, split at anything else that is not a letter or digit. Pure."""
    import unicodedata

    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    return re.findall(r"[a-z0-9]+", re.sub(r"['’`]", "", t))


@lru_cache(maxsize=64)
def _transcribed_extras(pairs: tuple[tuple[str, str], ...]) -> frozenset[str] | None:
    """When every one of at least TRANSCRIBED_MIN_EXAMPLES of the person's examples re-writes its whole input
    (each input word in the answer, as often; nothing else but at most TRANSCRIBED_MAX_EXTRA added word),
    the words they add (a slug's "and"); None otherwise (a headline, a summary, a label). Pure."""
    from collections import Counter

    if len(pairs) < TRANSCRIBED_MIN_EXAMPLES:
        return None
    extras: set[str] = set()
    for given, answer in pairs:
        have, said = Counter(_folded_words(given)), Counter(_folded_words(answer))
        added = said - have
        if not have or have - said or sum(added.values()) > TRANSCRIBED_MAX_EXTRA:
            return None
        extras |= set(added)
    return frozenset(extras)


# a placeholder an answer puts where the input had something: [NAME], <EMAIL>, {PHONE}
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_ ]*\]|<[A-Z][A-Z0-9_ ]*>|\{[A-Z][A-Z0-9_ ]*\}")
MASKED_MIN_EXAMPLES = 2  # examples that must put a placeholder somewhere before the rule is inferred


def _in_order(words: list[str], within: list[str]) -> bool:
    """Whether `words` appear in `within` in the same order (a subsequence). Pure."""
    it = iter(within)
    return all(w in it for w in words)


@lru_cache(maxsize=64)
def _masking(pairs: tuple[tuple[str, str], ...]) -> frozenset[str] | None:
    """When every one of at least TRANSCRIBED_MIN_EXAMPLES of the person's examples copies its input, in order,
    except for spans it replaces with placeholders ([NAME], [EMAIL]: never in an input, used by at least
    MASKED_MIN_EXAMPLES examples), those placeholders; None otherwise. Pure."""
    from collections import Counter

    if len(pairs) < TRANSCRIBED_MIN_EXAMPLES:
        return None
    marks: set[str] = set()
    masked = 0
    for given, answer in pairs:
        found = _PLACEHOLDER.findall(answer)
        if any(f in given for f in found):
            return None  # copied from the input: a bracketed word of theirs, not a placeholder
        kept = _folded_words(_PLACEHOLDER.sub(" ", answer))
        have = _folded_words(given)
        if not have or Counter(kept) - Counter(have) or not _in_order(kept, have):
            return None
        if len(kept) < len(have) and not found:
            return None  # a word left out with nothing in its place
        marks |= set(found)
        masked += bool(found)
    return frozenset(marks) if masked >= MASKED_MIN_EXAMPLES else None


# what a masking task's examples may always replace, recognised by its shape alone (names have none)
_SHAPES = {
    "an email address": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "a phone number": re.compile(r"(?<![\w.])\+?\(?\d(?:[\d ().-]*\d){6,}(?![\w])"),
    "a web address": re.compile(r"\bhttps?://\S+|\bwww\.\S+"),
}


def _shape_spans(text: str) -> dict[str, list[str]]:
    return {shape: [m.group(0) for m in rx.finditer(text)] for shape, rx in _SHAPES.items()}


@lru_cache(maxsize=64)
def _masked_shapes(pairs: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """Of a masking task (`_masking`), the shapes (an email address, a phone number) its examples always
    replace: in some input, and never left in an answer. Pure."""
    seen: set[str] = set()
    kept: set[str] = set()
    for given, answer in pairs:
        for shape, spans in _shape_spans(given).items():
            if spans:
                seen.add(shape)
                if any(span in answer for span in spans):
                    kept.add(shape)
    return frozenset(seen - kept)


def unmasked(answer: str, spec: TaskSpec, input_text: str) -> list[str]:
    """A text answer of a task whose examples copy their input except spans replaced by placeholders
    (`_masking`: the redact bench's names, emails and phone numbers) that adds words of its own, changes the
    order, leaves words out with no placeholder in their place, or uses a placeholder the examples never
    use. Pure."""
    from collections import Counter

    pairs = tuple((e.input, str(e.output)) for e in spec.examples)
    marks = _masking(pairs)
    if marks is None:
        return []
    problems = []
    always = _masked_shapes(pairs)
    for shape, spans in _shape_spans(input_text).items():
        left = [span for span in spans if shape in always and span in answer]
        if left:
            problems.append(f"the answer keeps {left[0]!r}; every example replaces {shape}")
    found = _PLACEHOLDER.findall(answer)
    kept, have = _folded_words(_PLACEHOLDER.sub(" ", answer)), _folded_words(input_text)
    added = sorted(Counter(kept) - Counter(have))
    if added:
        problems.append(
            f"the answer adds {', '.join(map(repr, added[:3]))}, not in the input; the examples copy the input "
            "and only put " + ", ".join(sorted(marks)) + " in place of what they leave out"
        )
    elif not _in_order(kept, have):
        problems.append("the answer changes the order of the input's words; the examples copy it in order")
    if len(kept) < len(have) and not found:
        problems.append(
            "the answer leaves out words of the input with nothing in their place; the examples put "
            + ", ".join(sorted(marks))
            + " there"
        )
    unknown = sorted(set(found) - marks)
    if unknown:
        problems.append(
            f"the answer uses {', '.join(unknown[:3])}; the examples use only {', '.join(sorted(marks))}"
        )
    return problems


def untranscribed(answer: str, spec: TaskSpec, input_text: str) -> list[str]:
    """A text answer of a task whose examples each re-write their whole input (`_transcribed_extras`) that
    drops an input word or adds one of its own: the slugs bench's writer turned "Men's" into "men", "Oak"
    into "oat" and "Björn" into "john", and kept 38 such of 66 answers past the other checks. A task whose
    examples copy their input with placeholders in some places is checked by `unmasked`. Pure."""
    from collections import Counter

    extras = _transcribed_extras(tuple((e.input, str(e.output)) for e in spec.examples))
    if extras is None:
        return unmasked(answer, spec, input_text)
    have, said = Counter(_folded_words(input_text)), Counter(_folded_words(answer))
    dropped = sorted(have - said)
    added = sorted(w for w in said - have if w not in extras)
    problems = []
    if dropped:
        problems.append(
            f"the answer leaves out {', '.join(map(repr, dropped[:3]))} of the input; every example keeps "
            "all of its input's words"
        )
    if added:
        problems.append(
            f"the answer adds {', '.join(map(repr, added[:3]))}, not in the input; the examples add no "
            "words of their own" + (f" but {', '.join(sorted(extras))}" if extras else "")
        )
    return problems


_ORDINAL = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")
COPIED_MIN_EXAMPLES = 4  # examples with numbers of a width before the rule is inferred for that width
_DIGITS = re.compile(r"\d+")


def _numbers(text: str) -> list[str]:
    return _DIGITS.findall(text)


_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()


def _written_numbers(text: str) -> set[int]:
    """The numbers an input writes: digits, number words ("twelve", "twenty-one") and ordinals ("first",
    "twenty-third") — an answer's 1 may come from "the first of March"."""
    from tools.data.infer import _NUMBER_WORDS

    out = {int(n) for n in _numbers(text)}
    ordinal = {w: i for i, w in enumerate(_ORDINAL_WORDS, 1)} | {"thirtieth": 30}
    for word in re.findall(r"[a-z]+(?:-[a-z]+)?", text.lower()):
        parts = word.split("-")
        if len(parts) == 2 and parts[0] in ("twenty", "thirty"):
            tens = _NUMBER_WORDS[parts[0]]
            unit = _NUMBER_WORDS.get(parts[1]) or ordinal.get(parts[1])
            if unit and unit < 10:
                out.add(tens + unit)
            continue
        value = _NUMBER_WORDS.get(word, ordinal.get(word))
        if value is not None:
            out.add(value)
    return out


@lru_cache(maxsize=64)
def copied_number_widths(pairs: tuple[tuple[str, str], ...]) -> frozenset[int]:
    """Digit counts (2 or more) whose numbers, in every one of the person's examples that has one in its
    answer, are written in the input too (at least COPIED_MIN_EXAMPLES examples): the years of a booking
    task ("14 March 2027" → "2027-03-14": 4 digits, always copied; 2 digits are not — "March" → "03").
    Numbers are compared by value ("05" is 5). Pure."""
    seen: dict[int, int] = {}
    broken: set[int] = set()
    for inp, out in pairs:
        have = _written_numbers(inp)
        widths = {len(n) for n in _numbers(out) if len(n) >= 2}
        for w in widths:
            seen[w] = seen.get(w, 0) + 1
            if any(len(n) == w and int(n) not in have for n in _numbers(out)):
                broken.add(w)
    return frozenset(w for w, k in seen.items() if k >= COPIED_MIN_EXAMPLES and w not in broken)


@lru_cache(maxsize=64)
def copied_number_slots(pairs: tuple[tuple[str, str], ...]) -> tuple[int, frozenset[int]]:
    """For answers of one shape — the same count k of numbers in each, as in "2027-03-14 15:00" (k = 5) —
    the positions whose number every such example copies from its input: the year and the day of a booking
    (0 and 2; the month "March" → "03" and the hour "3pm" → "15" are not copied). (k, positions); (0, ∅)
    with fewer than COPIED_MIN_EXAMPLES examples of the commonest shape. Pure."""
    from collections import Counter

    shapes = Counter(len(_numbers(out)) for _, out in pairs)
    if not shapes:
        return 0, frozenset()
    k, count = shapes.most_common(1)[0]
    if k == 0 or count < COPIED_MIN_EXAMPLES:
        return 0, frozenset()
    slots = set(range(k))
    for inp, out in pairs:
        nums = _numbers(out)
        if len(nums) == k:
            have = _written_numbers(inp)
            slots -= {i for i, n in enumerate(nums) if int(n) not in have}
    return k, frozenset(slots)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@lru_cache(maxsize=64)
def copied_digits_prefix(pairs: tuple[tuple[str, str], ...]) -> str | None:
    """The digits every answer with digits begins with before the digits it copies, in order, from its input:
    "44" for a phone task ("call me on 07241 592066" → "+44 7241 592066": 44 then 7241592066, which the
    input holds), "" for a task that copies its digits as they are; None when some answer's digits are not so
    copied, or fewer than COPIED_MIN_EXAMPLES answers have digits. Pure."""
    valid: set[str] | None = None
    counted = 0
    for inp, out in pairs:
        a, i = _digits(out), _digits(inp)
        if not a:
            continue
        counted += 1
        ok = {a[:k] for k in range(len(a)) if a[k:] in i}
        valid = ok if valid is None else valid & ok
        if not valid:
            return None
    if valid is None or counted < COPIED_MIN_EXAMPLES:
        return None
    return min(valid, key=len)


def digits_not_copied(answer: str, input_text: str, prefix: str | None) -> bool:
    """Does `answer` hold digits its input does not, in that order (after `prefix`, see `copied_digits_prefix`)?
    A mangled or invented phone number ("+44 7173 824302" for "07173-824-025"). Pure."""
    a = _digits(answer)
    if prefix is None or not a:
        return False
    return not (a.startswith(prefix) and a[len(prefix) :] in _digits(input_text))


def invented_numbers(answer: str, spec: TaskSpec, input_text: str) -> list[str]:
    """A number in the answer that is not in the input, of a width the person's examples always copy from
    their input (`copied_number_widths`): the appointments bench's teacher answered "Can I come today?"
    with "2028-05-28 19:00". Pure."""
    pairs = tuple((e.input, str(e.output)) for e in spec.examples)
    widths = copied_number_widths(pairs)
    k, slots = copied_number_slots(pairs)
    nums = _numbers(answer)
    have = _written_numbers(input_text)
    problems = []
    made_up = [n for n in nums if len(n) in widths and int(n) not in have]
    if made_up:
        w = sorted({len(n) for n in made_up})
        problems.append(
            f"{', '.join(dict.fromkeys(made_up))} is not in the input; in every one of your examples the "
            f"answer's {'/'.join(map(str, w))}-digit numbers are written in the input"
        )
    if len(nums) == k and slots:
        missing = [nums[i] for i in sorted(slots) if int(nums[i]) not in have and nums[i] not in made_up]
        if missing:
            names = [_ORDINAL[i] if i < len(_ORDINAL) else f"#{i + 1}" for i in sorted(slots)]
            where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            problems.append(
                f"{', '.join(missing)} is not in the input; in every one of your examples the answer's "
                f"{where} number{'s are' if len(slots) > 1 else ' is'} written in the input"
            )
    prefix = copied_digits_prefix(pairs)
    if not problems and digits_not_copied(answer, input_text, prefix):
        # walk 20: "tel 07173-824-025" answered "+44 7173 824302" (digits moved), a form with no number
        # answered with another patient's
        after = f" after {prefix}" if prefix else ""
        problems.append(
            f"the answer's digits are not the input's, in order{after}; every one of your examples copies its "
            "digits from the input"
        )
    return problems


def _mentions(text: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", text.lower()) is not None


def contradicted_choices(answer_obj, spec: TaskSpec, input_text: str) -> list[str]:
    """Where the input names exactly one of a field's allowed values (a schema enum, or a label) and
    the answer picks another: "the input says 'small' but size is 'large'". Pure."""
    out = spec.output
    problems: list[str] = []
    if out.format == "label" and out.labels and isinstance(answer_obj, str):
        if not label_mentions_hold(spec):
            return problems
        named = [lab for lab in out.labels if _mentions(input_text, lab)]
        if len(named) == 1 and answer_obj.strip().lower() != named[0].lower():
            problems.append(f"the input says {named[0]!r} but the label is {answer_obj.strip()!r}")
        return problems
    props = out.properties()
    if not isinstance(answer_obj, dict) or props is None:
        return problems
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        if not isinstance(enum, list) or field not in answer_obj:
            continue
        named = [v for v in enum if isinstance(v, str) and _mentions(input_text, v)]
        got = answer_obj[field]
        if len(named) == 1 and str(got).lower() != named[0].lower():
            problems.append(f"the input says {named[0]!r} but {field} is {got!r}")
    return problems


def label_mentions_hold(spec: TaskSpec) -> bool:
    """Whether a label the input names is its label, as far as the person's examples say: False when one
    of them names exactly one label and has another. A topic label is a weaker sign than an enum value:
    the bike shop's "The rental bike we got on Sunday had a loose chain… I expect a refund" is a
    complaint, and the rule flagged the teacher's complaints about rentals and repairs as wrong. The
    routing bench's examples hold to it (2 of 2; its private test 9 of 10). Pure."""
    labels = spec.output.labels or []
    for e in spec.examples:
        named = [lab for lab in labels if _mentions(e.input, lab)]
        if len(named) == 1 and e.output.strip().lower() != named[0].lower():
            return False
    return True


def _loosely_mentions(text: str, value: str) -> bool:
    """`value` starts a word of `text` ("skim" in "skimmed milk", "latte" in "lattes")."""
    return re.search(rf"(?<!\w){re.escape(value.lower())}", text.lower()) is not None


def implicit_choices(spec: TaskSpec) -> dict[str, set[str]]:
    """For each enum field of the JSON schema whose value the person's examples write in the input in
    most cases: the values they use without writing them ("black" → milk "none"). Another value of that
    field must be written in the input. Fields the examples mostly leave unwritten are not listed."""
    props = spec.output.properties()
    if props is None or not spec.examples:
        return {}
    from tools.data.infer import _json_object

    out: dict[str, set[str]] = {}
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        if not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
            continue
        used = []
        for e in spec.examples:
            obj = _json_object(e.output)
            if obj is not None and isinstance(obj.get(field), str):
                used.append((obj[field], _loosely_mentions(e.input, obj[field])))
        if len(used) >= 3 and sum(written for _, written in used) >= 0.6 * len(used):
            out[field] = {v.lower() for v, written in used if not written}
    return out


_MARK_SIGN = re.compile(r"[^\w\s.,;:!?'\"()\[\]{}\-–—/&*+=<>|~`^@#]")  # currency signs and the like


def marker_choices(spec: TaskSpec) -> dict[str, dict[str, str]]:
    """For each enum field of the JSON schema whose value the person's examples mostly leave unwritten but
    write at least once, and only where it is the answer ("210 EUR": a field of the input's surface, not
    of its meaning; "office" in "Uber to the client's office" (travel) is a word, not a value): the signs of their
    inputs that go with one value only ("$" → USD, "€" → EUR, "£" → GBP). The expense bench's embedded
    teacher answered "EUR" to "$24.44" and "£20": the examples already say which sign means which value.
    Words are not used: with ten examples, "hotel" went with USD and "euros" with the category "meals"
    by chance. Fields with no such signs are not listed. Pure."""
    props = spec.output.properties()
    if props is None or len(spec.examples) < 3:
        return {}
    from tools.data.infer import _json_object

    mostly_written, surface = implicit_choices(spec), surface_fields(spec)
    out: dict[str, dict[str, str]] = {}
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        if field in mostly_written or not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
            continue
        if field not in surface:
            continue
        seen: dict[str, set[str]] = {}  # sign → values
        for e in spec.examples:
            obj = _json_object(e.output)
            value = obj.get(field) if obj is not None else None
            if isinstance(value, str):
                for mark in set(_MARK_SIGN.findall(e.input)):
                    seen.setdefault(mark, set()).add(value)
        marks = {mark: next(iter(values)) for mark, values in seen.items() if len(values) == 1}
        if marks:
            out[field] = marks
    return out


def surface_fields(spec: TaskSpec) -> set[str]:
    """Enum fields of the JSON schema whose values the person's examples write in the input at least once,
    and only where it is the answer ("210 EUR" → EUR): the input's wording decides them, not its meaning.
    "office" is a category and a word ("Uber to the client's office" is travel): not a surface field."""
    props = spec.output.properties()
    if props is None:
        return set()
    from tools.data.infer import _json_object

    out = set()
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        if not isinstance(enum, list):
            continue
        written, astray = False, False  # a value written where it is the answer / where another is
        for e in spec.examples:
            obj = _json_object(e.output)
            value = obj.get(field) if obj is not None else None
            if isinstance(value, str):
                written = written or _mentions(e.input, value)
                astray = astray or any(
                    _mentions(e.input, v) for v in enum if isinstance(v, str) and v != value
                )
        if written and not astray:
            out.add(field)
    return out


def _marked(input_text: str, marks: dict[str, str]) -> str | None:
    """The one value the input's signs point to (None for none, or signs of two values)."""
    found = {v for m, v in marks.items() if m in input_text}
    return next(iter(found)) if len(found) == 1 else None


def unwritten_choices(answer_obj, spec: TaskSpec, input_text: str) -> list[str]:
    """An enum value the input does not name, in a field where the person's examples always name it
    except for a few defaults: "milk is 'almond' but the input does not say 'almond' (your examples
    leave only 'none' unwritten)". Catches a teacher's habitual default. Pure."""
    if not isinstance(answer_obj, dict):
        return []
    problems = []
    for field, implicit in implicit_choices(spec).items():
        got = answer_obj.get(field)
        if isinstance(got, str) and got.lower() not in implicit and not _loosely_mentions(input_text, got):
            left = (
                f"leave only {', '.join(map(repr, sorted(implicit)))} unwritten"
                if implicit
                else "always name it"
            )
            problems.append(f"{field} is {got!r} but the input does not say {got!r} (your examples {left})")
    return problems


def string_conventions(spec: TaskSpec) -> dict[str, set[str]]:
    """For each free-text field of the JSON schema, what the person's examples do to the words they copy
    from the input: "lower" (every value is lowercase), "singular" (at least two examples write the value
    where the input has its plural: "lattes" → "latte"). Fields with neither are not listed."""
    props = spec.output.properties()
    if props is None or len(spec.examples) < 3:
        return {}
    from tools.data.infer import _json_object

    out: dict[str, set[str]] = {}
    for field, sub in props.items():
        if not isinstance(sub, dict) or sub.get("type") != "string" or "enum" in sub:
            continue
        pairs = [
            (obj[field], e.input)
            for e in spec.examples
            if (obj := _json_object(e.output)) is not None and isinstance(obj.get(field), str) and obj[field]
        ]
        if len(pairs) < 3:
            continue
        rules = set()
        if all(v == v.lower() for v, _ in pairs):
            rules.add("lower")
        plural = sum(
            1
            for v, text in pairs
            if re.search(rf"(?<!\w){re.escape(v.lower())}e?s(?!\w)", text.lower()) and not _mentions(text, v)
        )
        if plural >= 2:
            rules.add("singular")
        if rules:
            out[field] = rules
    return out


def _singular(value: str) -> str:
    """`value` without an English plural ending ("chai lattes" → "chai latte", "boxes" → "box"); words
    that only look plural ("glass", "hummus", "chassis") as they are."""
    low = value.lower()
    for cut in ("es", "s"):
        if low.endswith(cut) and not low.endswith(("ss", "us", "is")) and len(low) > len(cut) + 2:
            stem = value[: -len(cut)]
            if cut == "es" and not re.search(r"(ch|sh|x|z|o)$", stem.lower()):
                continue
            return stem
    return value


def settled_choice(
    field: str, enum: list, input_text: str, implicit: dict[str, set[str]], marks: dict[str, dict[str, str]]
) -> str | None:
    """The value of an enum field the input's own words settle, else None, in this order: the one allowed
    value it names ("small"); the one a word of it starts with ("euros" → EUR, "skimmed" → skim); with none
    named, the one value the examples leave unwritten (no milk named → "none"); the value the examples'
    signs point to ("$" → USD, `marker_choices`). Pure."""
    named = [v for v in enum if isinstance(v, str) and _mentions(input_text, v)]
    if len(named) == 1:
        return named[0]
    loose = [v for v in enum if isinstance(v, str) and _loosely_mentions(input_text, v)]
    if len(loose) == 1 and not named:
        return loose[0]  # a word that starts with the value: "skimmed" → skim, "euros" → EUR
    if loose:
        return None
    if len(implicit.get(field, ())) == 1:
        default = next(iter(implicit[field]))
        return next((v for v in enum if isinstance(v, str) and v.lower() == default), None)
    if field in marks:
        return _marked(input_text, marks[field])
    return None


def fixed_choices(answer_obj, spec: TaskSpec, input_text: str) -> tuple[dict, list[str]]:
    """(the answer with its enum fields set by the input's own words, what changed). Where the input names
    exactly one allowed value of a field, the field takes it ("small" in the order → size "small"); where
    it names none and the person's examples leave exactly one value of that field unwritten, the field
    takes that default (no milk named → milk "none"), or the value the examples' marks point to ("$" →
    currency "USD": `marker_choices`); a free-text field follows the examples' case and
    number (`string_conventions`: "Lattes" → "latte"). Other fields are untouched. The rules
    `contradicted_choices` and `unwritten_choices` check, applied instead of asking a teacher to repair
    what the task's own words settle. Pure."""
    props = spec.output.properties()
    if not isinstance(answer_obj, dict) or props is None:
        return answer_obj, []
    implicit, marks = implicit_choices(spec), marker_choices(spec)
    fixed, notes = dict(answer_obj), []
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        got = answer_obj.get(field)
        if not isinstance(enum, list) or not isinstance(got, str):
            continue
        want = settled_choice(field, enum, input_text, implicit, marks)
        if want is not None and got.lower() != want.lower():
            fixed[field] = want
            notes.append(f"{field} {got!r} → {want!r}")
    for field, rules in string_conventions(spec).items():
        got = fixed.get(field)
        if not isinstance(got, str):
            continue
        want = _singular(got) if "singular" in rules else got
        want = want.lower() if "lower" in rules else want
        if want != got:
            fixed[field] = want
            notes.append(f"{field} {got!r} → {want!r}")
    return fixed, notes


def nullable_fields(spec: TaskSpec) -> set[str]:
    """JSON fields that may be empty and are written null when they are: an enum or type that has null, or a
    field some example of the person's answers null (the groomer's day when none is given). Pure."""
    from tools.data.infer import _json_object

    out: set[str] = set()
    for field, sub in (spec.output.properties() or {}).items():
        if isinstance(sub, dict):
            kinds = sub.get("type")
            if (
                None in (sub.get("enum") or [])
                or kinds == "null"
                or (isinstance(kinds, list) and "null" in kinds)
            ):
                out.add(field)
    for e in spec.examples:
        obj = _json_object(str(e.output))
        out |= {k for k, v in (obj or {}).items() if v is None}
    return out


def empty_parts_as_null(answer: str, spec: TaskSpec | None) -> tuple[str, list[str]]:
    """(the answer with each empty part ("" or spaces) of a field that is null when empty written null, the
    fields changed). Walk 27 edited a booking without a day and could not tell "" from null; the examples
    say null, so a person's "" becomes null rather than a second way of saying none. Other answers unchanged."""
    import json

    if spec is None or spec.output.format != "json":
        return answer, []
    try:
        obj = json.loads(answer)
    except ValueError:
        return answer, []  # the check says what is wrong with it
    if not isinstance(obj, dict):
        return answer, []
    changed = [k for k in nullable_fields(spec) if isinstance(obj.get(k), str) and not obj[k].strip()]
    if not changed:
        return answer, []
    return json.dumps({k: None if k in changed else v for k, v in obj.items()}, ensure_ascii=False), sorted(
        changed
    )


def check_answer(  # noqa: C901 - one branch per output rule (format, schema, labels, grounding), side by side
    answer: str, spec: TaskSpec | None, input_text: str | None = None, *, drift: bool = True
) -> list[tuple[str, str]]:
    """A list of (category, reason) for every way `answer` breaks the spec's output rules; [] when fine.

    With `output.grounded` and the input given, extracted values must occur in the input (catches a teacher
    that copies values from its few-shot examples), and a text answer must take about as much of its words
    from the input as the person's examples do (`undrawn_answer`); and where the input names exactly one allowed value
    of an enum field or label, the answer must pick that one; an enum value the input does not name is
    wrong where the person's examples always name it (but for their unwritten defaults). In every format, a
    number of a width the examples always copy from their input must be in the input (`invented_numbers`).
    `drift=False` leaves out the word-share and number checks (a person's own wording in the review is
    theirs)."""
    if spec is None:
        return []
    out = spec.output
    problems: list[tuple[str, str]] = []
    text = answer.strip()
    if out.format == "json":
        import json

        from tools.llm.structured import validate_against
        from tools.userfile import loads_json

        try:
            obj = loads_json(text)
        except json.JSONDecodeError as e:
            problems.append(("format", f"answer is not valid JSON ({e.msg} at char {e.pos})"))
        else:
            err = validate_against(obj, out.json_schema)
            if err:
                problems.append(("format", f"answer does not match the JSON Schema: {err}"))
            elif input_text is not None:
                if out.grounded:
                    fields = None if out.grounded is True else list(out.grounded)
                    missing = ungrounded_values(obj, input_text, fields)
                    if missing:
                        problems.append(
                            (
                                "incorrect",
                                f"value(s) {', '.join(map(repr, missing[:3]))} do not appear in the input",
                            )
                        )
                problems += [("incorrect", p) for p in contradicted_choices(obj, spec, input_text)]
                problems += [("incorrect", p) for p in unwritten_choices(obj, spec, input_text)]
    elif out.format == "label" and out.labels:
        allowed = {lab.strip().lower() for lab in out.labels}
        if text.lower() not in allowed:
            problems.append(
                ("label", f"answer {text[:40]!r} is not one of the labels {', '.join(out.labels)}")
            )
        elif input_text is not None:
            problems += [("incorrect", p) for p in contradicted_choices(text, spec, input_text)]
    elif out.format == "text" and out.grounded is True and input_text is not None and drift:
        problems += [("incorrect", p) for p in undrawn_answer(text, spec, input_text)]
    if out.format == "text" and input_text is not None and drift:
        problems += [("incorrect", p) for p in untranscribed(text, spec, input_text)]
    if input_text is not None and drift:
        problems += [("incorrect", p) for p in invented_numbers(text, spec, input_text)]
    if out.regex:
        try:
            if not _compiled(out.regex).fullmatch(text):
                problems.append(("format", f"answer does not match the pattern {out.regex!r}"))
        except re.error:
            problems.append(("format", f"the spec's regex {out.regex!r} is invalid"))
    if out.max_chars is not None and len(text) > out.max_chars:
        problems.append(("length", f"answer has {len(text)} characters, more than max_chars {out.max_chars}"))
    if out.min_chars is not None and len(text) < out.min_chars:
        problems.append(
            ("length", f"answer has {len(text)} characters, fewer than min_chars {out.min_chars}")
        )
    return problems
