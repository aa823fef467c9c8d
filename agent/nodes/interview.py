"""interview: ask for the spec first, then problem, knowledge, examples, goals, volume, limits, budget.

Questions use `interrupt()`; the node re-runs from its first line on resume, so everything before an
interrupt is pure. Headless runs take the answers from the task file and never interrupt.
"""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.context import AgentContext
from agent.questions import OUTPUT_KEYS, QUESTIONS, applicable
from agent.state import AgentState
from tools.errors import UserError
from tools.spec import Example, parse_spec_dict
from tools.workspace import atomic_write_yaml


def derive_answers(task: dict) -> dict:
    """Answers for a headless run: from the task's `answers:` block, else from what the task says."""
    given = dict(task.get("answers") or {})
    out = task.get("output") or {}
    goals = ["format"] if out.get("format") in ("json", "label") else []
    derived = {
        "spec": task["spec"],
        "problem": "",
        "knowledge_needed": bool(task.get("documents")),
        "knowledge_changes": "rarely" if task.get("documents") else "never",
        "examples": len(task.get("examples") or []),
        "prompted_success": None,
        "goals": goals + ["latency", "cost"],
        "volume": 0,
        "constraints": [],
    }
    derived.update({k: v for k, v in given.items() if v is not None or k == "prompted_success"})
    return derived


def _load_examples_file(path: str) -> list[dict]:
    import json

    import yaml

    p = Path(path).expanduser()
    text = p.read_text(encoding="utf-8")
    rows = []
    if p.suffix in (".yaml", ".yml"):
        data = yaml.safe_load(text) or []
        rows = data.get("examples", data) if isinstance(data, dict) else data
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                raise UserError(
                    "invalid JSON", where=f"{p}:{i}", fix="one {input, output} object per line"
                ) from None
            if "messages" in r:
                msgs = r["messages"]
                user = next((m["content"] for m in msgs if m.get("role") == "user"), "")
                r = {"input": user, "output": msgs[-1].get("content", "")}
            rows.append(r)
    return [Example(input=str(r["input"]), output=str(r["output"])).model_dump() for r in rows]


def _json_object(text: str) -> dict | None:
    """The answer as a JSON object, read as strictly as the evaluation reads it; else None."""
    from tools.evals import parse_json_output

    value, _ = parse_json_output(text)
    return value if isinstance(value, dict) else None


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
    return "text"


def output_spec_for(fmt: str, examples: list[dict], previous: dict | None = None) -> dict:
    """The task's `output:` block for a chosen format, filled in from the examples: a JSON object's
    required keys (those every example has) and whether its values are copied from the input (grounded);
    a label task's labels (the distinct example outputs)."""
    out: dict = {"format": fmt}
    pairs = [(str(e.get("input", "")), str(e.get("output", "")).strip()) for e in examples]
    if fmt == "json":
        objs = [(i, _json_object(o)) for i, o in pairs]
        objs = [(i, o) for i, o in objs if o is not None]
        if objs:
            keys = set(objs[0][1])
            for _, o in objs[1:]:
                keys &= set(o)
            out["schema"] = {"type": "object", "required": sorted(keys)}
            values = [(i, v) for i, o in objs for v in o.values()]
            if values and all(isinstance(v, str) and v.lower() in i.lower() for i, v in values):
                out["grounded"] = True
    elif fmt == "label":
        labels = sorted({o for _, o in pairs if o})
        if 2 <= len(labels) <= 50:
            out["labels"] = labels
        elif previous and previous.get("format") == "label" and previous.get("labels"):
            out["labels"] = list(previous["labels"])
    return out


def parse_answer(key: str, raw, answers: dict, task: dict) -> None:
    """Validate one answer into `answers`/`task`; raise UserError with a message to show when invalid."""
    from agent.rubric import Answers

    raw = raw if not isinstance(raw, str) else raw.strip()
    if key == "output_format":
        fmt = str(raw or "").lower()
        if fmt not in ("text", "json", "label"):
            raise UserError(f"{raw!r} is not an answer shape", fix="answer text, json or label")
        task["output"] = output_spec_for(fmt, task.get("examples") or [], task.get("output"))
        return
    if key == "labels":
        labels = [x.strip() for x in str(raw or "").split(",") if x.strip()]
        if len(set(labels)) < 2:
            raise UserError("give at least two labels", fix="comma-separated, e.g. 'urgent, normal, low'")
        task["output"] = {**(task.get("output") or {}), "format": "label", "labels": labels}
        return
    if key == "examples" and isinstance(raw, str) and raw and not raw.replace(",", "").isdigit():
        if not Path(raw).expanduser().exists():
            raise UserError(
                f"no file at {raw}", fix="give a number, or the path of a JSONL/YAML file of examples"
            )
        task["examples"] = _load_examples_file(raw)
        answers["examples"] = len(task["examples"])
        return
    if key == "budget":
        task["budget"] = float(raw) if raw not in (None, "", "none") else None
        return
    if (
        key == "prompted_success"
        and isinstance(raw, str)
        and raw.lower() in ("unknown", "?", "dont know", "don't know")
    ):
        raw = None
    trial = {**answers, "spec": answers.get("spec") or task.get("spec") or "x", key: raw}
    Answers.from_dict({k: v for k, v in trial.items() if k != "budget"}, where=f"answer to `{key}`")
    answers[key] = raw
    if key == "spec":
        task["spec"] = raw


def _default(key: str, defaults: dict, answers: dict, task: dict):
    """What a question offers before the person answers: the earlier answer after "change answers",
    else a guess the person confirms with Enter (the answer shape, and format as a goal for it)."""
    out = task.get("output") or {}
    if key == "output_format":
        if defaults:
            return out.get("format", "text")
        return guess_output_format(
            str(answers.get("spec") or task.get("spec") or ""), task.get("examples") or []
        )
    if key == "labels" and defaults and out.get("labels"):
        return ", ".join(out["labels"])
    if key == "goals" and "goals" not in defaults and out.get("format") in ("json", "label"):
        return ["format"]
    return defaults.get(key)


def interview(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run = ctx.run(state["run_id"])
    task = dict(state.get("task") or {})
    if state.get("headless"):
        answers = derive_answers(task)
    else:
        answers = dict(state.get("answers") or {})
        # after "change answers" every question is asked again, the earlier answer as its default
        defaults = dict(state.get("rewind") or {})
        if defaults:
            defaults["budget"] = task.get("budget")
        given_format = (task.get("output") or {}).get("format", "text")
        for q in QUESTIONS:
            if (
                q.key in answers
                or (q.key == "budget" and task.get("budget") is not None and not defaults)
                or not applicable(q, answers, task)
            ):
                continue
            if q.key == "spec" and task.get("spec") and not defaults:
                answers["spec"] = task["spec"]
                continue
            if q.key in OUTPUT_KEYS and given_format != "text" and not defaults:
                continue  # the task file says what answers look like
            error = None
            while True:
                raw = interrupt(
                    {
                        "kind": "question",
                        "key": q.key,
                        "question": q.text,
                        "input": q.kind,
                        "choices": list(q.choices),
                        "help": q.help,
                        "optional": q.optional,
                        "error": error,
                        "default": _default(q.key, defaults, answers, task),
                        "spec_so_far": {**task, "answers": answers},
                    }
                )
                try:
                    parse_answer(q.key, raw, answers, task)
                    break
                except UserError as e:
                    error = e.message + (f" — {e.fix}" if e.fix else "")
    task.setdefault("name", (answers.get("spec") or "task")[:40])
    spec = parse_spec_dict({k: v for k, v in task.items() if k != "answers"} | {"answers": answers})
    atomic_write_yaml(run.spec_path, spec.to_yaml_dict())
    return {
        "task": spec.to_yaml_dict(),
        "answers": answers,
        "rewind": None,
        "log": [f"interview: spec = {spec.spec!r}; {len(spec.examples)} examples on hand"]
        + [f"inferred from your examples: {n}" for n in _inferred_notes(run)],
    }


def _inferred_notes(run) -> list[str]:
    from tools.workspace import read_json

    p = run.path / "inferred.json"
    return list(read_json(p).get("notes") or []) if p.exists() else []
