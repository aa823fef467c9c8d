"""Critique and repair: programmatic validators first, then a judge; low scores are repaired once or dropped.

Every decision (kept, repaired, dropped, with the score, category and reason) is returned so it can be
recorded in the data version's manifest.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tools.data.checks import check_answer
from tools.data.schema import answer_text, normalize_text, row_id, user_text, with_metadata
from tools.llm.types import GenParams, Request
from tools.spec import TaskSpec

CATEGORIES = (
    "ok",
    "incorrect",
    "off_task",
    "format",
    "incomplete",
    "verbose",
    "unsafe",
    "label",
    "length",
    "empty",
)
# why an answer was dropped, as a person reads it (walk 27's review opened on "9 not consistent, 6 untrusted field")
DROP_WORDS = {
    "incorrect": "wrong",
    "inconsistent": "not the same when asked again",
    "format": "wrong shape",
    "untrusted_field": "one value given to every input",
    "off_task": "off task",
    "verbose": "too wordy",
    "label": "not one of the labels",
    "length": "too long",
    "?": "other",
}


def drop_words(category: str) -> str:
    """A critique category ("inconsistent") in a person's words ("not the same when asked again")."""
    return DROP_WORDS.get(category, str(category).replace("_", " "))


def drop_counts_words(counts: dict, top: int = 3) -> str:
    """ "41 wrong, 12 wrong shape, 9 not the same when asked again, 6 other": the commonest `top` reasons in a
    person's words, the rest counted together. Pure."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    shown = [f"{n} {drop_words(k)}" for k, n in items[:top]]
    rest = sum(n for _, n in items[top:])
    return ", ".join(shown + ([f"{rest} other"] if rest else []))


CRITIQUE_SCHEMA = {
    "type": "object",
    "required": ["score", "category", "reason"],
    "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 5},
        "category": {"type": "string"},
        "reason": {"type": "string"},
    },
}
JUDGE_MAX_TOKENS = 96
_SCORE_RE = re.compile(r"score\W{0,4}([1-5])\b|\b([1-5])\s*/\s*5\b", re.I)


def output_rules(spec: TaskSpec) -> str:
    """The spec's output constraints in one sentence, for the judge and repair prompts. Pure."""
    return spec.output.describe()


def programmatic_issues(row: dict, spec: TaskSpec) -> list[tuple[str, str]]:
    answer = answer_text(row)
    if not answer.strip():
        return [("empty", "the answer is empty")]
    issues = check_answer(answer, spec, user_text(row))
    if normalize_text(answer) == normalize_text(user_text(row)) and spec.output.format != "label":
        # weak teachers often echo the input; a judge that cannot score must not let that through
        issues.append(("incorrect", "the answer only repeats the input"))
    planned = planned_label(row, spec)
    if planned and not any(c == "label" for c, _ in issues):
        from tools.evals._classification import extract_label

        got = extract_label(answer, spec.output.labels or [])
        if got is not None and got.lower() != planned.lower():
            # the teacher wrote this input as a `planned` case and then answered otherwise: one of the two
            # is wrong, so the pair cannot be trusted as it is
            issues.append(("incorrect", f"written as an input for {planned!r} but answered {got!r}"))
    if "truncated" in (row.get("metadata") or {}).get("flags", []):
        issues.append(("incomplete", "the answer was cut off at the token limit"))
    return issues


TRUSTED_SOURCES = ("seed", "golden", "augment", "import")


def _nearest_seed_labels(rows: list[dict], spec: TaskSpec) -> list[str | None]:
    """The label of the person's examples each row's input is clearly nearest to (label tasks)."""
    if spec.output.format != "label" or not spec.output.labels:
        return [None] * len(rows)
    from tools.data.ontask import neighbour_labels

    return neighbour_labels(
        [user_text(r) for r in rows], [(e.input, e.output) for e in spec.examples], spec.output.labels
    )


def _neighbour_issue(near: str | None, row: dict, spec: TaskSpec, issues: list) -> list[tuple[str, str]]:
    """A teacher's label that differs from the one the person's nearest examples clearly have."""
    if near is None or issues or (row.get("metadata") or {}).get("source") in TRUSTED_SOURCES:
        return []
    from tools.evals._classification import extract_label

    got = extract_label(answer_text(row), spec.output.labels or [])
    if got is None or got.lower() == near.lower():
        return []
    return [("incorrect", f"the person's examples most like this input are {near!r}, not {got!r}")]


def _relabelled(row: dict, near: str | None, verdict: dict) -> tuple[dict, dict] | None:
    """(the row with the label of the person's clearly nearest examples, its verdict), for a teacher's row
    whose label failed; None when the examples do not clearly place the input or the row is trusted."""
    if near is None or (row.get("metadata") or {}).get("source") in TRUSTED_SOURCES:
        return None
    was = answer_text(row).strip()
    return _with_answer(row, near), {
        "score": None,
        "category": "relabelled",
        "reason": f"label {near!r} from your examples most like this input (the teacher said {was[:40]!r})",
        "stage": "neighbours",
        "before": verdict,
    }


def planned_label(row: dict, spec: TaskSpec) -> str | None:
    """The label the input was generated for (from its focus), when the task has labels."""
    from tools.data.coverage import planned_label as focus_label

    if spec.output.format != "label" or not spec.output.labels:
        return None
    return focus_label(str((row.get("metadata") or {}).get("focus") or ""), spec.output.labels)


def _judge_requests(rows: list[dict], spec: TaskSpec, max_tokens: int) -> list[Request]:
    from prompts import load_prompt

    prompt = load_prompt("data_critique")
    rules = output_rules(spec)
    return [
        Request(
            prompt.messages(spec=spec.spec, output_rules=rules, input=user_text(r), answer=answer_text(r)),
            GenParams(temperature=0.0, max_tokens=max_tokens),
            json_schema=CRITIQUE_SCHEMA,
        )
        for r in rows
    ]


def lenient_score(text: str) -> int | None:
    """A score from a reply that is not valid JSON ("score: 4", "4/5"); small judges often answer so. Pure."""
    m = _SCORE_RE.search(text or "")
    return int(m.group(1) or m.group(2)) if m else None


def judge_rows(rows: list[dict], spec: TaskSpec, judge, max_tokens: int = JUDGE_MAX_TOKENS) -> list[dict]:
    """One verdict per row: {"score": int | None, "category": str, "reason": str}."""
    if not rows:
        return []
    if judge is None:  # validators only (e.g. the embedded model, which cannot grade)
        return [
            {"score": None, "category": "unjudged", "reason": "no LLM judge: programmatic validators only"}
            for _ in rows
        ]
    comps = judge.map(_judge_requests(rows, spec, max_tokens))
    verdicts = []
    for c in comps:
        if c.parsed is not None:
            cat = str(c.parsed.get("category") or "ok").strip().lower().replace(" ", "_")[:30]
            verdicts.append(
                {
                    "score": int(c.parsed["score"]),
                    "category": cat,
                    "reason": str(c.parsed.get("reason") or "")[:500],
                }
            )
        elif lenient_score(c.text) is not None:
            verdicts.append(
                {"score": lenient_score(c.text), "category": "lenient_parse", "reason": (c.text or "")[:300]}
            )
        else:
            verdicts.append(
                {
                    "score": None,
                    "category": "unjudged",
                    "reason": f"the judge's reply was not valid JSON ({(c.parse_error or '')[:120]})",
                }
            )
    return verdicts


def answer_token_cap(answers: Sequence[str], max_tokens: int) -> int:
    """Tokens enough for an answer as long as the longest of `answers` (≈3 characters a token, twice the
    longest, some slack), at most `max_tokens`: a weak teacher rambles to the limit, and a label needs few."""
    longest = max((len(a) for a in answers), default=0)
    return min(max_tokens, 32 + 2 * (longest // 3))


def _repair(
    rows: list[dict],
    critiques: list[str],
    spec: TaskSpec,
    teacher,
    max_tokens: int,
    on_progress=None,
    progress_from: tuple[int, int] | None = None,
) -> list[str]:
    from prompts import load_prompt

    # room for an answer like the person's (a label needs a few tokens; the answers being repaired may be
    # rambles to the limit); without examples, like the answers being repaired
    like = [e.output for e in spec.examples] or [answer_text(r) for r in rows]
    max_tokens = answer_token_cap(like, max_tokens)
    prompt = load_prompt("data_repair")
    rules = output_rules(spec)
    schema = spec.output.json_schema if spec.output.format == "json" else None
    reqs = [
        Request(
            prompt.messages(
                system_prompt=spec.effective_system_prompt,
                spec=spec.spec,
                output_rules=rules,
                input=user_text(r),
                answer=answer_text(r),
                critique=c,
            ),
            GenParams(temperature=0.0, max_tokens=max_tokens),
            json_schema=schema,
        )
        for r, c in zip(rows, critiques, strict=True)
    ]
    return _answers(teacher, reqs, "repairs", on_progress, progress_from)


REPAIR_PROBE = 12  # repairs asked first; when none of them passes the checks, the rest are not asked


def _repairs(
    rows: list[dict], bad: list[int], verdicts: dict, spec: TaskSpec, teacher, max_tokens: int, on_progress
) -> dict[int, dict]:
    """{index: the row with the teacher's repaired answer (rule-settled fields fixed)} for the failing rows
    that were asked (the others' verdicts say why not).

    The first `REPAIR_PROBE` are asked first; when not one of them passes the task's checks the teacher
    cannot repair this task (the embedded 135M teacher answered 42 of 109 JSON repairs with the JSON
    Schema itself, 20 minutes of the orders bench) and the rest are not asked."""

    def ask(which: list[int], done_before: int) -> dict[int, dict]:
        answers = _repair(
            [rows[i] for i in which],
            [verdicts[i]["reason"] for i in which],
            spec,
            teacher,
            max_tokens,
            on_progress,
            progress_from=(done_before, len(bad)),
        )
        return {
            i: _with_answer(rows[i], rule_fixed_answer(a, spec, user_text(rows[i]))[0])
            for i, a in zip(which, answers, strict=True)
        }

    cand = ask(bad[:REPAIR_PROBE], 0)
    if len(bad) > REPAIR_PROBE and any(not programmatic_issues(r, spec) for r in cand.values()):
        cand.update(ask(bad[REPAIR_PROBE:], REPAIR_PROBE))
    for i in bad[REPAIR_PROBE:]:
        if i not in cand:
            verdicts[i]["repair_failed"] = (
                f"not asked: the teacher's first {REPAIR_PROBE} repairs all failed the checks"
            )
    return cand


def _answers(
    teacher, reqs: list[Request], stage: str, on_progress=None, progress_from: tuple[int, int] | None = None
) -> list[str]:
    """The teacher's answers (JSON re-serialised when parsed), counted as `{"stage", "done", "total"}`
    (from `progress_from` = (done before, total) when these requests are part of a larger count)."""
    progress = on_progress or (lambda ev: None)
    start, total = progress_from or (0, len(reqs))
    done = [start]

    def tick(_i, _c) -> None:
        done[0] += 1
        progress({"stage": stage, "done": done[0], "total": total})

    progress({"stage": stage, "done": start, "total": total})
    return [
        json.dumps(c.parsed, ensure_ascii=False) if c.parsed is not None else c.text.strip()
        for c in teacher.map(reqs, on_result=tick)
    ]


def rule_fixed_answer(answer: str, spec: TaskSpec, input_text: str) -> tuple[str, list[str]]:
    """(a JSON answer with the enum fields the input's own words settle set to them, what changed): see
    `tools.data.checks.fixed_choices`. Other answers, and answers that are not JSON, come back as they are."""
    if spec.output.format != "json":
        return answer, []
    from tools.data.checks import fixed_choices
    from tools.userfile import loads_json

    try:
        obj = loads_json(answer.strip())
    except ValueError:
        return answer, []
    fixed, notes = fixed_choices(obj, spec, input_text)
    return (json.dumps(fixed, ensure_ascii=False), notes) if notes else (answer, [])


def _fixed_by_rules(row: dict, spec: TaskSpec) -> dict:
    """A teacher's row with its answer's rule-settled fields fixed (flag `fixed_by_rules`); others as is.
    The embedded teacher answers milk "almond" to "a cold brew, no milk" and stays there when asked to
    repair: the input and the person's examples already say which value it is."""
    if (row.get("metadata") or {}).get("source") in TRUSTED_SOURCES:
        return row
    answer, notes = rule_fixed_answer(answer_text(row), spec, user_text(row))
    if not notes:
        return row
    meta = row["metadata"]
    return with_metadata(
        _with_answer(row, answer),
        flags=list(meta.get("flags") or []) + ["fixed_by_rules"],
        rule_fixes=notes,
        replaced_answer=answer_text(row),
    )


def _with_answer(row: dict, answer: str) -> dict:
    msgs = [dict(m) for m in row["messages"]]
    msgs[-1]["content"] = answer
    return {"messages": msgs, "metadata": dict(row.get("metadata") or {})}


CONSISTENCY_SOURCES = ("teacher", "targeted")  # answers a model wrote (seeds, augmented, imported: not)
COLLAPSED_SHARE = 0.8  # a teacher giving one value to this share of the inputs its words do not settle…
SEEDS_VARIED_SHARE = 0.6  # …where the person's examples give no value to more than this share: collapsed


def _seed_values(spec: TaskSpec, field: str) -> list[tuple[str, str]]:
    """(input, value of `field`) for each of the person's examples whose answer has the field."""
    from tools.data.infer import _json_object

    return [
        (e.input, str(obj[field])) for e in spec.examples if (obj := _json_object(e.output)) and field in obj
    ]


def _open_answers(rows: list[dict], spec: TaskSpec, field: str) -> list[tuple[int, dict]]:
    """(row index, parsed JSON answer) of the teacher's rows whose input's own words do not settle `field`
    (`settled_choice`: a named value, a default, a sign) — an input that says "€" is EUR whatever the
    teacher's habit."""
    from tools.data.checks import implicit_choices, marker_choices, settled_choice
    from tools.userfile import loads_json

    enum = (spec.output.properties() or {})[field]["enum"]
    implicit, marks = implicit_choices(spec), marker_choices(spec)
    out = []
    for i, r in enumerate(rows):
        if (r.get("metadata") or {}).get("source") not in CONSISTENCY_SOURCES:
            continue
        if settled_choice(field, enum, user_text(r), implicit, marks) is not None:
            continue
        try:
            obj = loads_json(answer_text(r).strip())
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append((i, obj))
    return out


def collapsed_fields(rows: list[dict], spec: TaskSpec) -> dict[str, str]:
    """Enum fields of a JSON answer where the teacher gave (almost) every input one value while the person's
    examples spread over several: {field: the value}. Counted over the teacher's rows whose input's own
    words leave the field open (`_open_answers`). The expense bench's embedded teacher answered category
    "lodging" for 112 of 112 notes, tacos and taxis alike. Pure."""
    if spec.output.format == "label":
        return _collapsed_label(rows, spec)
    props = spec.output.properties()
    if spec.output.format != "json" or props is None:
        return {}
    out: dict[str, str] = {}
    for field, sub in props.items():
        enum = sub.get("enum") if isinstance(sub, dict) else None
        if not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
            continue
        seeds = Counter(v for _, v in _seed_values(spec, field))
        if len(seeds) < 3 or max(seeds.values()) > SEEDS_VARIED_SHARE * sum(seeds.values()):
            continue
        said = Counter(
            obj[field] for _, obj in _open_answers(rows, spec, field) if isinstance(obj.get(field), str)
        )
        if sum(said.values()) >= 8:
            value, n = said.most_common(1)[0]
            if n >= COLLAPSED_SHARE * sum(said.values()):
                out[field] = value
    return out


def _collapsed_label(rows: list[dict], spec: TaskSpec) -> dict[str, str]:
    """{"label": the label} when the teacher gave one label to nearly every input of a label task whose
    examples spread over several. The walk's bike shop: "complaint" for 200 of 200 messages (rentals,
    sales and repairs alike); the labels then came from the person's most similar examples, and the
    person was told nothing of it. Pure."""
    from tools.evals._classification import extract_label

    labels = spec.output.labels or []
    seeds = Counter(e.output.strip().lower() for e in spec.examples)
    if len(seeds) < 3 or max(seeds.values()) > SEEDS_VARIED_SHARE * sum(seeds.values()):
        return {}
    said = Counter(
        got
        for r in rows
        if (r.get("metadata") or {}).get("source") in CONSISTENCY_SOURCES
        and (got := extract_label(answer_text(r), labels)) is not None
    )
    if sum(said.values()) >= 8:
        value, n = said.most_common(1)[0]
        if n >= COLLAPSED_SHARE * sum(said.values()):
            return {"label": value}
    return {}


def collapsed_summary(
    collapsed: dict[str, str | None], kept: list[dict], decisions: list[dict]
) -> dict[str, dict]:
    """Per collapsed field: its value (None for a guessed field), the kept rows that took the person's
    examples' value for it, and the rows dropped because of it (for a label task's label: every teacher label
    dropped). Pure."""

    def moved(r: dict, field: str) -> bool:
        meta = r["metadata"]
        if field == "label":
            return "label_from_examples" in (meta.get("flags") or [])
        return field in (meta.get("moved_fields") or [])

    def dropped(d: dict, field: str) -> bool:
        if field == "label":
            return d.get("action") == "dropped"
        return d.get("category") == "untrusted_field" and f" answers {field} " in str(d.get("reason"))

    return {
        field: {
            "value": value,
            "from_examples": sum(1 for r in kept if moved(r, field)),
            "dropped": sum(1 for d in decisions if dropped(d, field)),
        }
        for field, value in collapsed.items()
    }


def collapsed_words(field: str, c: dict, who: str = "the teacher") -> str:
    """A collapsed field in one sentence: "the teacher gave category 'lodging' to nearly every input, so it
    was not trusted: 40 took the category of your most similar examples, 18 were dropped"."""
    moved = (
        f"{c.get('from_examples', 0)} took the {field} of your most similar examples, "
        if c.get("from_examples")
        else ""
    )
    if field == "label":
        return (
            f"{who} gave {c.get('value')!r} to nearly every input, so its labels were not trusted: "
            f"{moved}{c.get('dropped', 0)} were dropped"
        )
    if c.get("value") is None:  # a guessed field (the probe: right no more often than chance)
        return (
            f"{who} got the {field} of your own examples right no more often than a guess, so it was not "
            f"trusted: {moved}{c.get('dropped', 0)} that the input's own words do not settle were dropped"
        )
    return (
        f"{who} gave {field} {c.get('value')!r} to nearly every input, so it was not trusted: "
        f"{moved}{c.get('dropped', 0)} that the input's own words do not settle were dropped"
    )


def _collapsed_settled(
    rows: list[dict], spec: TaskSpec, guessed: Sequence[str] = ()
) -> tuple[list[dict], dict[int, str]]:
    """(rows with a collapsed field's value taken from the person's most similar examples where they clearly
    place the input — flag `value_from_examples` —, {row: why it cannot be trusted} for the others). Only
    the teacher's rows with the collapsed value and no settling words are touched; for a `guessed` field (the
    teacher was measured right on it no more often than chance, on the person's own examples) every teacher
    row whose input's words do not settle it."""
    props = spec.output.properties() or {}
    # (a guessed field of closed values: one copied from the input is held to the input by the grounding check)
    collapsed: dict[str, str | None] = {
        f: None for f in guessed if isinstance((props.get(f) or {}).get("enum"), list)
    }
    collapsed |= collapsed_fields(rows, spec)
    if not collapsed or spec.output.format != "json":
        return rows, {}  # a label task's collapsed label: its rows take their nearest examples' label later
    from tools.data.checks import surface_fields
    from tools.data.ontask import neighbour_labels

    surface = surface_fields(spec)
    rows, untrusted = list(rows), {}
    for field, value in collapsed.items():
        targets = [
            (i, obj)
            for i, obj in _open_answers(rows, spec, field)
            if i not in untrusted and (value is None or obj.get(field) == value)
        ]
        pairs = _seed_values(spec, field)
        counts = Counter(v for _, v in pairs)
        labels = [v for v, c in counts.items() if c >= 2]
        # a field of the input's wording (a currency) is not placed by what the input is about: the
        # examples most like "Train to Lyon, 64 francs" say nothing of francs (28% right on the bench)
        near = (
            [None] * len(targets)
            if field in surface
            else neighbour_labels(
                [user_text(rows[i]) for i, _ in targets], [p for p in pairs if p[1] in labels], labels
            )
        )
        for (i, obj), nearest in zip(targets, near, strict=True):
            if nearest is None:
                untrusted[i] = (
                    f"the teacher answers {field} {value!r} for nearly every input while your examples use "
                    f"{len(counts)} values, and your examples do not clearly say which this one is"
                    if value is not None
                    else f"the teacher answers {field} no more often right than chance (measured on your "
                    "examples), and your examples do not clearly say which this one is"
                )
                continue
            meta = rows[i]["metadata"]
            settled = {**(meta.get("settled_fields") or {}), field: nearest}
            # the examples agree with the teacher here: kept, and held in the vote
            if nearest == obj.get(field):
                rows[i] = with_metadata(rows[i], settled_fields=settled)
                continue
            rows[i] = with_metadata(
                _with_answer(rows[i], json.dumps({**obj, field: nearest}, ensure_ascii=False)),
                flags=list(meta.get("flags") or []) + ["value_from_examples"],
                rule_fixes=list(meta.get("rule_fixes") or []) + [f"{field} {obj.get(field)!r} → {nearest!r}"],
                moved_fields=list(meta.get("moved_fields") or []) + [field],
                # the second and third teacher answers take it too: the same teacher must not vote it back
                settled_fields=settled,
            )
    return rows, untrusted


def _with_settled(answer: str, row: dict) -> str:
    """A JSON answer with the fields the collapse step settled for this row set to those values."""
    settled = (row.get("metadata") or {}).get("settled_fields") or {}
    if not settled:
        return answer
    from tools.userfile import loads_json

    try:
        obj = loads_json(answer.strip())
    except ValueError:
        return answer
    return json.dumps({**obj, **settled}, ensure_ascii=False) if isinstance(obj, dict) else answer


def self_consistency(
    rows: list[dict], issues: list, spec: TaskSpec, teacher, max_tokens: int, on_progress=None
) -> tuple[list[dict], dict[int, str]]:
    """Ask the teacher again with other demonstrations; keep what two of (up to) three answers agree on.

    Returns (rows, {index: why} of rows with no majority). A row whose second answer disagrees gets a
    third; when the third agrees with the second, the row takes that answer (flag `consistency_replaced`).
    Agreement is the task's own scorer (`tools.evals.correct.score(...).correct`)."""
    from tools.data.coverage import balanced_order
    from tools.data.generate import answer_messages
    from tools.evals.correct import score

    idx = [
        i
        for i, r in enumerate(rows)
        if not issues[i] and (r.get("metadata") or {}).get("source") in CONSISTENCY_SOURCES
    ]
    if not idx:
        return rows, {}
    shots = [e.model_dump() for e in balanced_order(spec.examples, spec)]
    # an answer far longer than any first answer cannot agree with it: cap like the evaluation does
    # (≈3 characters a token, twice the longest, some slack) — a weak teacher rambles to the limit
    max_tokens = answer_token_cap([answer_text(rows[i]) for i in idx], max_tokens)
    half = max(1, len(shots) // 2)
    variants = [shots[half:] + shots[:half], list(reversed(shots))]  # other order, other nearest examples
    schema = spec.output.json_schema if spec.output.format == "json" else None

    def ask(which: list[int], demos: list[dict], stage: str) -> list[str]:
        reqs = [
            Request(
                answer_messages(spec, user_text(rows[i]), demos),
                GenParams(temperature=0.0, max_tokens=max_tokens),
                json_schema=schema,
            )
            for i in which
        ]
        # the same rules as the first answer had (a teacher's habitual default must not split the vote), and
        # the values the person's examples settled for a field the teacher answers one way for everything
        return [
            _with_settled(rule_fixed_answer(a, spec, user_text(rows[i]))[0], rows[i])
            for i, a in zip(which, _answers(teacher, reqs, stage, on_progress), strict=True)
        ]

    second = dict(zip(idx, ask(idx, variants[0], "second answers"), strict=True))
    split_ = [i for i in idx if not score(spec, second[i], answer_text(rows[i])).correct]
    third = dict(zip(split_, ask(split_, variants[1], "third answers"), strict=True)) if split_ else {}
    unstable: dict[int, str] = {}
    rows = list(rows)
    for i in split_:
        first = answer_text(rows[i])
        if score(spec, third[i], first).correct:
            continue  # two of three agree with the original
        if score(spec, third[i], second[i]).correct and not programmatic_issues(
            _with_answer(rows[i], second[i]), spec
        ):
            meta = rows[i]["metadata"]
            rows[i] = with_metadata(
                _with_answer(rows[i], second[i]),
                flags=list(meta.get("flags") or []) + ["consistency_replaced"],
                replaced_answer=first,
            )
            continue
        unstable[i] = (
            f"the teacher gave three different answers with different examples shown "
            f"({first[:60]!r} / {second[i][:60]!r} / {third[i][:60]!r})"
        )
    return rows, unstable


def critique_examples(
    rows: list[dict],
    spec: TaskSpec,
    *,
    judge,
    teacher=None,
    threshold: int = 3,
    repair_max_tokens: int = 256,
    judge_max_tokens: int = JUDGE_MAX_TOKENS,
    consistency: bool = True,
    guessed: Sequence[str] = (),
    on_progress=None,
) -> tuple[list[dict], list[dict[str, Any]]]:
    """(kept rows with score/critique/category in metadata, one decision per input row).

    Order: a teacher's JSON answer takes the values the input and the person's examples settle (enum value
    named, unwritten default, case and number: `rule_fixed_answer`) → programmatic validators → self-consistency (with `teacher`: teacher-written answers must agree
    with a second answer from other demonstrations under the task's scorer; a disagreement gets a third
    answer and the majority wins, no majority → dropped) → judge → one repair by the teacher for rows under
    `threshold` (or failing a validator) → validators and judge again → keep or drop. A row the judge could
    not score but that passes every validator is kept with the flag `unjudged` (a weak judge must not empty
    the dataset). A field the teacher answers one way for everything, or one in `guessed` (measured right no
    more often than chance on the person's examples), takes its value from the person's most similar
    examples where they clearly place the input; other rows with it open are dropped.
    """
    rows = [_fixed_by_rules(with_metadata(r), spec) for r in rows]
    # a field the teacher answers one way for every input: the person's examples decide it, or the row is out
    rows, untrusted = _collapsed_settled(rows, spec, guessed)
    issues = [programmatic_issues(r, spec) for r in rows]
    near = _nearest_seed_labels(rows, spec)
    for i, row in enumerate(rows):
        issues[i] += _neighbour_issue(near[i], row, spec, issues[i])
    unstable: dict[int, str] = {}
    if consistency and teacher is not None:
        asked = [iss or ([("untrusted", "")] if i in untrusted else []) for i, iss in enumerate(issues)]
        rows, unstable = self_consistency(rows, asked, spec, teacher, repair_max_tokens, on_progress)
    verdicts = _first_verdicts(rows, issues, unstable, untrusted, spec, judge, judge_max_tokens)

    def failing(v: dict) -> bool:
        return v["score"] is not None and v["score"] < threshold

    # an untrusted field is not repaired: the same teacher would give the same value again
    bad = [i for i in range(len(rows)) if failing(verdicts[i]) and i not in unstable and i not in untrusted]
    repaired: dict[int, dict] = {}
    # a label task: a failing teacher label (wrong, not a label, or no majority) whose input the person's
    # examples clearly place takes their label, no teacher asked (the routing bench's 135M teacher said
    # "account" for 107 of 120 messages and said it again when asked to repair)
    for i in [*bad, *unstable]:
        relabel = _relabelled(rows[i], near[i], verdicts[i])
        if relabel is not None:
            repaired[i], verdicts[i] = relabel
    bad = [i for i in bad if i not in repaired]
    if bad and teacher is not None:

        def check(cand: dict[int, dict], stage: str) -> None:
            _check_repairs(
                list(cand), cand, near, verdicts, repaired, spec, judge, judge_max_tokens, failing, stage
            )

        check(_repairs(rows, bad, verdicts, spec, teacher, repair_max_tokens, on_progress), "repair")
        # what a validator still fails after the repair: the teacher answers the input again, sampled
        again = [i for i in bad if i not in repaired and verdicts[i].get("stage") == "validator"]
        if again:
            check(
                _answered_again(rows, again, spec, teacher, repair_max_tokens, on_progress), "answered again"
            )

    return _outcomes(rows, verdicts, repaired, failing)


ANSWER_AGAIN_TRIES = 3  # sampled answers per failing row, until one passes the validators
# a round of at least ANSWER_AGAIN_MIN_ROWS answers that fixes under this share ends the answering again: the
# orders bench's JSON answers failed on wrong values, and sampling again fixed 6 of 80, then 3 of 74 (40 minutes
# of a busy machine), where the rewrite bench's over-long headlines came right far more often
ANSWER_AGAIN_MIN_YIELD = 0.1
ANSWER_AGAIN_MIN_ROWS = 20


def _answered_again(
    rows: list[dict], which: list[int], spec: TaskSpec, teacher, max_tokens: int, on_progress
) -> dict[int, dict]:
    """{index: the row with a new teacher answer that passes the validators} for rows whose answer failed a
    validator and whose repair failed too: the teacher answers the input again as it first did (the answer
    prompt, the person's examples in another order), sampled, up to ANSWER_AGAIN_TRIES times (fewer when a
    round fixes under ANSWER_AGAIN_MIN_YIELD of ANSWER_AGAIN_MIN_ROWS or more). A small
    teacher that cannot follow "make it shorter" still writes a short one now and then: the rewrite bench's
    embedded teacher wrote 82 of 120 headlines over the 60-character limit and failed its first 12
    repairs, and the run kept too few examples to train."""
    import random

    from tools.data.generate import answer_messages, hash_int

    like = [e.output for e in spec.examples] or [answer_text(rows[i]) for i in which]
    cap = answer_token_cap(like, max_tokens)
    schema = spec.output.json_schema if spec.output.format == "json" else None
    shots = [e.model_dump() for e in spec.examples]
    found: dict[int, dict] = {}
    for attempt in range(ANSWER_AGAIN_TRIES):
        todo = [i for i in which if i not in found]
        if not todo:
            break
        # one order of the person's examples per round, shared by its rows: the prompts then share their
        # beginning (system prompt and demonstrations), which a local engine reads once for the whole batch
        # (a shuffle per row made every prompt different after the system prompt: the demo's 20 answers again
        # took 170 s at 0.30/s, against 1.1/s for the consistency answers); the rows differ by their seeds
        order = list(shots)
        random.Random(f"answer again:{attempt}").shuffle(order)
        reqs = []
        for i in todo:
            reqs.append(
                Request(
                    answer_messages(spec, user_text(rows[i]), order),
                    GenParams(
                        temperature=0.8,
                        max_tokens=cap,
                        seed=hash_int(f"{row_id(rows[i])}:{attempt}") % (2**31),
                    ),
                    json_schema=schema,
                )
            )
        texts = _answers(
            teacher, reqs, f"answering again ({attempt + 1} of {ANSWER_AGAIN_TRIES})", on_progress
        )
        before = len(found)
        for i, text in zip(todo, texts, strict=True):
            cand = _with_answer(rows[i], rule_fixed_answer(text, spec, user_text(rows[i]))[0])
            if not programmatic_issues(cand, spec):
                found[i] = cand
        if len(todo) >= ANSWER_AGAIN_MIN_ROWS and len(found) - before < ANSWER_AGAIN_MIN_YIELD * len(todo):
            break  # sampling again rarely fixes what fails here: not worth another round
    return found


def _first_verdicts(
    rows: list[dict],
    issues: list[list],
    unstable: dict[int, str],
    untrusted: dict[int, str],
    spec: TaskSpec,
    judge,
    judge_max_tokens: int,
) -> dict[int, dict]:
    """One verdict per row: the judge's for a row with no issue, score 1 for an inconsistent row, one whose
    field the teacher answers one way for everything, or one a validator failed (only the clean,
    consistent rows are sent to the judge)."""
    to_judge = [i for i, iss in enumerate(issues) if not iss and i not in unstable and i not in untrusted]
    verdicts: dict[int, dict] = dict(
        zip(to_judge, judge_rows([rows[i] for i in to_judge], spec, judge, judge_max_tokens), strict=True)
    )
    for i, why in unstable.items():
        verdicts[i] = {"score": 1, "category": "inconsistent", "reason": why, "stage": "consistency"}
    for i, why in untrusted.items():
        verdicts[i] = {"score": 1, "category": "untrusted_field", "reason": why, "stage": "collapse"}
    for i, iss in enumerate(issues):
        if i in unstable or i in untrusted:
            continue
        if iss:
            verdicts[i] = {
                "score": 1,
                "category": iss[0][0],
                "reason": "; ".join(r for _, r in iss),
                "stage": "validator",
            }
        else:
            verdicts[i]["stage"] = "judge"
    return verdicts


def _check_repairs(
    bad: list[int],
    cand: dict[int, dict],
    near: list,
    verdicts: dict[int, dict],
    repaired: dict[int, dict],
    spec: TaskSpec,
    judge,
    judge_max_tokens: int,
    failing,
    stage: str = "repair",
) -> None:
    """Validators and the judge again on the teacher's repairs: a repair that passes replaces its row
    (into `repaired`, its verdict keeps the one `before`); one a validator fails notes why on the verdict."""
    cand_ok = [
        i
        for i in bad
        if not programmatic_issues(cand[i], spec) and not _neighbour_issue(near[i], cand[i], spec, [])
    ]
    second = dict(
        zip(cand_ok, judge_rows([cand[i] for i in cand_ok], spec, judge, judge_max_tokens), strict=True)
    )
    for i in bad:
        if i in second and not failing(second[i]):
            repaired[i] = cand[i]
            second[i]["stage"] = stage
            second[i]["before"] = verdicts[i]
            verdicts[i] = second[i]
        elif i not in second:
            verdicts[i]["repair_failed"] = "; ".join(r for _, r in programmatic_issues(cand[i], spec))


def _outcomes(
    rows: list[dict], verdicts: dict[int, dict], repaired: dict[int, dict], failing
) -> tuple[list, list]:
    """(kept rows with their critique in metadata, one decision per row): repaired, dropped or kept."""
    kept, decisions = [], []
    for i, row in enumerate(rows):
        v = verdicts[i]
        rid = row_id(row)
        if i in repaired:
            meta = repaired[i]["metadata"]
            new = with_metadata(
                repaired[i],
                source="repair",
                score=v["score"],
                critique=v["reason"],
                category=v["category"],
                flags=list(meta.get("flags") or [])
                + ["repaired"]
                + (["label_from_examples"] if v["stage"] == "neighbours" else []),
                repaired_from=meta.get("source"),
            )
            new["metadata"]["flags"] = [f for f in new["metadata"]["flags"] if f != "truncated"]
            kept.append(new)
            decisions.append(
                {
                    "id": rid,
                    "action": "repaired",
                    "score": v["score"],
                    "category": v["category"],
                    "reason": v["reason"],
                    "before": v.get("before"),
                }
            )
        elif failing(v):
            decisions.append(
                {
                    "id": rid,
                    "action": "dropped",
                    "stage": v["stage"],
                    "score": v["score"],
                    "category": v["category"],
                    "reason": v["reason"],
                    **({"repair_failed": v["repair_failed"]} if v.get("repair_failed") else {}),
                }
            )
        else:
            flags = list(row["metadata"].get("flags") or []) + (["unjudged"] if v["score"] is None else [])
            kept.append(
                with_metadata(
                    row, score=v["score"], critique=v["reason"], category=v["category"], flags=flags
                )
            )
            decisions.append(
                {
                    "id": rid,
                    "action": "kept",
                    "score": v["score"],
                    "category": v["category"],
                    "reason": v["reason"],
                }
            )
    return kept, decisions
