"""Coverage: every label and every enum value of the answer gets a planned share of the generated
inputs, and the data version says how many examples of each it kept (planned vs kept). Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tools.spec import TaskSpec


def coverage_axes(spec: TaskSpec) -> dict[str, list[str]]:
    """{field: values} the data must cover: `label` for label tasks, each enum field of a JSON schema."""
    out = spec.output
    if out.format == "label" and out.labels:
        return {"label": list(out.labels)}
    if out.format != "json" or not isinstance(out.json_schema, dict):
        return {}
    props = out.json_schema.get("properties") or {}
    return {
        f: [str(v) for v in sub["enum"]]
        for f, sub in props.items()
        if isinstance(sub, dict) and isinstance(sub.get("enum"), list) and 2 <= len(sub["enum"]) <= 20
    }


def coverage_focus(field: str, value: str) -> str:
    if field == "label":
        return f"an input whose correct label is {value}"
    return f"an input whose answer has {field} = {value}"


def planned_label(focus: str, labels: Sequence[str]) -> str | None:
    """The label a generation focus plans (`coverage_focus`'s words), as the task spells it; None when the
    focus plans none. Pure."""
    import re

    m = re.search(r"correct label is (.+?)(?:;|$)", focus or "")
    if not m:
        return None
    want = m.group(1).strip().lower()
    return next((lab for lab in labels if lab.lower() == want), None)


def planned_values(focus: str, spec: TaskSpec) -> dict[str, str]:
    """{field: value} a generation focus plans (`coverage_focus`'s words): `label` for a label task, each
    enum field of a JSON answer. Pure."""
    import re

    axes = coverage_axes(spec)
    if "label" in axes:
        lab = planned_label(focus, axes["label"])
        return {"label": lab} if lab is not None else {}
    out = {}
    for field, value in re.findall(r"answer has (\w+) = ([^;]+)", focus or ""):
        if field in axes and value.strip() in axes[field]:
            out[field] = value.strip()
    return out


def has_values(example: dict, planned: dict[str, str], spec: TaskSpec) -> int:
    """How many of the `planned` values one of the person's examples' answer has. Pure."""
    from tools.data.infer import _json_object

    answer = str(example.get("output", "")).strip()
    if "label" in planned:
        return int(answer.lower() == planned["label"].lower())
    obj = _json_object(answer) or {}
    return sum(1 for f, v in planned.items() if str(obj.get(f)) == v)


def unseen_values(spec: TaskSpec) -> list[tuple[str, str]]:
    """(field, value) of every label / enum value the answer allows that none of the person's examples has —
    the values a writer imitating those examples will not write (the expense bench's categories "software"
    and "other": 0 kept in every run). [] without examples. Pure."""
    if not spec.examples:
        return []
    shown = [e.model_dump() for e in spec.examples]
    return [
        (field, value)
        for field, values in coverage_axes(spec).items()
        for value in values
        if not any(has_values(e, {field: value}, spec) for e in shown)
    ]


def unseen_words(unseen: Sequence[tuple[str, str]]) -> str:
    """ "size medium" / "the label repair", joined: "size medium, milk soy". Pure."""
    return ", ".join(v if f == "label" else f"{f} {v}" for f, v in unseen)


def with_coverage(focuses: Sequence[str], axes: dict[str, list[str]], start: int = 0) -> list[str]:
    """Each focus gets one value of every coverage field, round-robin from `start` (equal planned shares;
    fields are offset so their values do not move in lockstep)."""
    out = []
    for i, focus in enumerate(focuses):
        parts = [focus]
        for j, (field, values) in enumerate(sorted(axes.items())):
            parts.append(coverage_focus(field, values[(start + i + j * 7) % len(values)]))
        out.append("; ".join(parts))
    return out


def answer_values(rows: Sequence[dict], spec: TaskSpec, field: str) -> Counter:
    from tools.data.schema import answer_text
    from tools.evals.distribution import field_value

    return Counter(field_value(answer_text(r), field, spec) for r in rows)


def coverage_table(rows: Sequence[dict], spec: TaskSpec, planned_total: int) -> list[dict]:
    """[{field, value, planned, kept, short}] — kept counts the rows whose answer gives the value;
    `short` when fewer than half the planned share were kept."""
    from tools.evals._normalize import normalize_text

    table = []
    for field, values in coverage_axes(spec).items():
        kept = answer_values(rows, spec, field)
        planned = planned_total / len(values) if values else 0
        for v in values:
            k = kept.get(normalize_text(v), 0)
            table.append(
                {"field": field, "value": v, "planned": round(planned), "kept": k, "short": k < planned / 2}
            )
    return table


def balanced_order(examples: Sequence, spec: TaskSpec) -> list:
    """The examples reordered round-robin over their answer's label (or first enum field's value), so any
    prefix — the few-shot prompt, the probe's demonstrations — shows every class before repeating one.
    People write examples grouped by label; the first four must not all be "billing". Stable otherwise."""
    from tools.evals.distribution import field_value

    axes = coverage_axes(spec)
    if not axes or not examples:
        return list(examples)
    field = sorted(axes)[0]

    def output(e):
        return e["output"] if isinstance(e, dict) else e.output

    groups: dict[str | None, list] = {}
    for e in examples:
        groups.setdefault(field_value(output(e), field, spec), []).append(e)
    out = []
    while any(groups.values()):
        for g in groups.values():
            if g:
                out.append(g.pop(0))
    return out


REPEAT_FLAG = "repeat"


EVEN_SHARE = 0.5


def evened_labels(
    rows: Sequence[dict], spec: TaskSpec, share: float = EVEN_SHARE
) -> tuple[list[dict], dict[str, list[int]]]:
    """(rows plus repeats of the rarer labels' rows, {label: [before, after]} of the labels topped up).

    A label task's kept data can lean hard on one label (the routing bench after relabelling: billing 29,
    shipping 13, account 8, technical 6 in train), and the tuned model then answers that label for most
    inputs. Each label's rows are repeated, in turn, until it has `share` × the largest label's count
    (flag `repeat`, id `<id>-rN`). Only for a train split: a repeat must never sit in a held-out one.

    `share` 0.5, measured on that train split (bench/RESULTS.md, 2026-12-02, one training each, 80-row
    private test): as it was 0.237; rarer labels repeated up to half the largest 0.400 (format 81%);
    up to the largest 0.237 (format 41%, "account" for 32 of 80); the largest cut down instead 0.025.
    Earlier repeats in `rows` are dropped first, so evening a train split again does not compound."""
    from tools.data.schema import answer_text, with_metadata

    rows = [r for r in rows if REPEAT_FLAG not in ((r.get("metadata") or {}).get("flags") or [])]
    out = spec.output
    if out.format != "label" or not out.labels:
        return rows, {}
    lower = {lab.lower(): lab for lab in out.labels}
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        lab = lower.get(answer_text(r).strip().lower())
        if lab is not None and (r.get("metadata") or {}).get("source") != "general":
            by_label.setdefault(lab, []).append(r)
    if len(by_label) < 2:
        return rows, {}
    want = int(share * max(len(v) for v in by_label.values()))
    extra: list[dict] = []
    added: dict[str, list[int]] = {}
    for lab, have in by_label.items():
        for k in range(max(0, want - len(have))):
            r = with_metadata(have[k % len(have)])
            meta = r["metadata"]
            meta.update(
                id=f"{meta['id']}-r{k // len(have) + 1}",
                repeat_of=meta["id"],
                flags=[*meta["flags"], REPEAT_FLAG],
            )
            extra.append(r)
        if len(have) < want:
            added[lab] = [len(have), want]
    return rows + extra, added


def evened_words(evened: dict[str, list[int]]) -> str:
    """`evened_labels`' counts in words: "shipping 13 → 14, technical 6 → 14". Pure."""
    return ", ".join(f"{lab} {a} → {b}" for lab, (a, b) in evened.items())
