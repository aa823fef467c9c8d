"""interview: ask for the spec first, then problem, knowledge, examples, goals, volume, limits, budget.

Questions use `interrupt()`; the node re-runs from its first line on resume, so everything before an
interrupt is pure. Headless runs take the answers from the task file and never interrupt.
"""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from agent.context import AgentContext
from agent.interrupts import ask_until
from agent.interrupts import question as ask
from agent.questions import MATCH_METRICS, OUTPUT_KEYS, QUESTIONS, applicable
from agent.state import AgentState
from tools.data.infer import guess_output_format, labels_in_text, output_spec_for  # noqa: F401 - the interview's guesses
from tools.data.schema import user_text
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


def load_examples_file(path: str) -> list[dict]:
    """A person's file of examples: "Q:"/"A:" lines, a CSV/TSV of two columns, JSONL ({input, output} or chat
    rows) or a YAML list — each bad spot said with its line and a fix in plain words."""
    import json

    import yaml

    from tools.data.plain_examples import PLAIN_FORMAT, read_labelled_pairs, read_two_columns
    from tools.userfile import loads_json, loads_yaml, read_text

    p = Path(path).expanduser()
    if p.is_dir():
        raise UserError(f"{p} is a folder", fix="give the path of one file with your examples")
    text = read_text(p, what="examples file")
    rows: list = []
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            data = loads_yaml(text) or []
        except yaml.YAMLError as e:
            raise UserError(f"not valid YAML ({str(e).splitlines()[0]})", where=str(p)) from None
        rows = data.get("examples", data) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise UserError("no list of examples", where=str(p), fix="a list of {input, output} pairs")
    elif p.suffix.lower() in (".csv", ".tsv"):
        rows = read_two_columns(text, str(p), "\t" if p.suffix.lower() == ".tsv" else ",")
    elif not first.startswith(("{", "[")):
        pairs = read_labelled_pairs(text, str(p))
        if pairs is None:
            raise UserError(f"I found no examples in {p.name}", where=str(p), fix=PLAIN_FORMAT)
        rows = pairs
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = loads_json(line)
            except json.JSONDecodeError as e:
                raise UserError(
                    f"this line is not a JSON object ({e.msg})",
                    where=f"{p}:{i}",
                    fix='write each line like {"input": "the message", "output": "the answer"}, or '
                    + PLAIN_FORMAT,
                ) from None
            if isinstance(r, dict) and "messages" in r:
                r = {"input": user_text(r), "output": r["messages"][-1].get("content", "")}
            rows.append(r)
    out = []
    for i, r in enumerate(rows, 1):
        if not isinstance(r, dict) or "input" not in r or "output" not in r:
            raise UserError(
                f"example {i} has no input and output",
                where=str(p),
                fix="each example needs `input` and `output`",
            )
        out.append(Example(input=str(r["input"]), output=str(r["output"])).model_dump())
    return out


def _common_parts(outputs: list[str]) -> list[str]:
    """The names every answer (a JSON object) has, in the first answer's order; [] otherwise. Pure."""
    from tools.data.infer import _json_object

    objs = [_json_object(o) for o in outputs]
    if len(objs) < 2 or any(o is None for o in objs):
        return []
    keys = [k for k in objs[0] if all(k in o for o in objs[1:])]  # type: ignore[union-attr]
    return keys if len(keys) >= 2 else []


def guess_note(spec_text: str, examples: list[dict]) -> tuple[str, str]:
    """The guessed answer shape and the sentence that says why (shown with the question)."""
    fmt = guess_output_format(spec_text, examples)
    outs = [str(e.get("output", "")).strip() for e in examples]
    n = len(outs)
    if fmt == "json":
        why = (
            f"Your {'example is a JSON object' if n == 1 else f'{n} examples are all JSON objects'}"
            if outs
            else "Your description mentions JSON"
        ) + ", so I'll treat answers as JSON"
        if parts := _common_parts(outs):
            # a spreadsheet's answer columns (walk 26's groomer): nobody there wrote "JSON"
            why = (
                f"Each of your answers has the same {len(parts)} parts ({', '.join(parts)}), so I'll treat an "
                "answer as those parts together (JSON)"
            )
    elif fmt == "label" and not outs:
        named = labels_in_text(spec_text)
        why = f"Your description names {len(named)} answers ({', '.join(named)}), so I'll treat answers as labels"
    elif fmt == "label":
        distinct = sorted(set(outs))
        shown = ", ".join(distinct[:5]) + ("…" if len(distinct) > 5 else "")
        why = (
            f"Your {n} examples use only {len(distinct)} different answers ({shown}), "
            "so I'll treat answers as labels"
        )
    elif outs:
        why = "Your examples' answers are free text, so I'll treat answers as text"
    else:
        why = "Nothing says the answers have a fixed shape, so I'll treat them as free text"
    return fmt, why + " — Enter to keep, or pick another."


def guess_match(examples: list[dict]) -> tuple[str, str]:
    """Must a free-text answer be exactly like the person's? A guess from their answers ("exactly" when they
    are short and none is a sentence: a ticket, a code, a number; else "other words") and the sentence that
    says why. Pure."""
    import re
    import statistics

    outs = [str(e.get("output", "")).strip() for e in examples if str(e.get("output", "")).strip()]
    if not outs:
        return (
            "other words",
            "With no examples to go by, I'll count an answer in other words as right — Enter to keep, or pick another.",
        )
    short = statistics.median(len(o.split()) for o in outs) <= 15
    sentences = sum(bool(re.search(r"[.!?]$", o)) for o in outs)
    # a code, a number, a slug (one token) or a ticket's fields (| ; / = :) is exact; a short headline in
    # words is not (it may say the same in other words)
    # … and so is an answer mostly of digits (walk 20's "+44 7241 592066" was guessed "other words", which
    # counts a phone number with one wrong digit as right)
    coded = sum(
        len(o.split()) == 1
        or bool(re.search(r"[|;/=:]", o))
        or 2 * sum(ch.isdigit() for ch in o) >= len(o.replace(" ", ""))
        for o in outs
    )
    from tools.data.plain_examples import closed_vocabulary

    # … and so are answers chosen from a few words (walk 22's allergens "gluten, dairy, egg" were guessed
    # "other words", which counts a label missing an allergen as right)
    chosen = closed_vocabulary(outs) is not None
    if short and not sentences and (coded * 2 >= len(outs) or chosen):
        return "exactly", (
            "Your examples' answers are short and none is a sentence (like a code, a number or a ticket), so I'll count "
            "an answer as right only when it is exactly like yours — Enter to keep, or pick another."
        )
    return "other words", (
        "Your examples' answers are written in words, so I'll count an answer as right when most of its words "
        "match yours — Enter to keep, or pick another."
    )


_PATH_HINT = (".jsonl", ".json", ".yaml", ".yml", ".csv", ".txt")


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.lower().endswith(_PATH_HINT) or text.startswith("~")


def normalize_answer(key: str, raw):
    """One answer as stored: read leniently by its kind's parser (agent/answers.py); UserError when unreadable."""
    from agent import answers as A

    if key == "knowledge_needed":
        return "yes" if A.parse_yes_no(raw, key) else "no"
    if key == "knowledge_changes":
        return A.parse_change(raw, key)
    if key == "examples":
        return A.parse_count(raw, key)
    if key == "prompted_success":
        return A.parse_rate(raw, key)
    if key == "goals":
        return A.parse_goals(raw, key)
    if key == "volume":
        return A.parse_count(raw, key, per_day=True)
    if isinstance(raw, str) or raw is None:
        return (raw or "").strip()
    return raw


def _parse_examples(key: str, raw, answers: dict, task: dict) -> bool:
    """The examples questions: a path loads the file into the task; True when the answer is fully read here
    (False: a count, read by the common path)."""
    from agent import answers as A

    if key == "examples" and isinstance(raw, str) and raw:
        if Path(raw).expanduser().is_file():
            examples = load_examples_file(raw)
            task["examples"] = examples
            answers["examples"] = len(examples)
            return True
        if _looks_like_path(raw):
            raise UserError(
                f"no file at {raw}", fix="give a number, or the path of a file with your examples"
            )
        if A.is_unknown(raw) and raw.strip().lower() not in ("n/a", "na"):  # "n/a": none
            # "idk" became 0 examples and flipped the advice to "a better prompt" (the walk): ask once more
            raise UserError(
                f"'{raw}' — do you have example messages with the answers you want written down somewhere?",
                fix="answer with how many (0 if none), or the path of a file with them",
            )
    if key == "examples_file":
        if not raw or (isinstance(raw, str) and raw.lower() in SKIP_WORDS):
            return True  # on without them: e on the decision screen adds them
        if not Path(str(raw)).expanduser().is_file():
            raise UserError(
                f"no file at {raw}",
                fix="the path of a file with your examples, or press Enter to go on without",
            )
        task["examples"] = load_examples_file(str(raw))
        answers["examples"] = len(task["examples"])
        return True
    return False


def parse_answer(key: str, raw, answers: dict, task: dict) -> None:
    """Read one answer into `answers`/`task` (leniently, one parser per kind); raise UserError with a
    message and an example to answer with when it cannot be read. Nothing is stored on failure."""
    from agent import answers as A
    from agent.rubric import Answers

    raw = raw if not isinstance(raw, str) else raw.strip()
    if key == "output_format":
        fmt = A.parse_output_format(raw, key)
        task["output"] = output_spec_for(fmt, task.get("examples") or [], task.get("output"))
        if fmt == "label" and not task["output"].get("labels"):
            # no examples to read them from: the ones the description lists ("… one of: a, b or c")
            named = labels_in_text(str(answers.get("spec") or task.get("spec") or ""))
            if named:
                task["output"]["labels"] = named
        return
    if key == "labels":
        labels = A.parse_labels(raw, key)
        task["output"] = {**(task.get("output") or {}), "format": "label", "labels": labels}
        return
    if key == "answer_match":
        metric = "exact_match" if A.parse_match(raw, key) == "exactly" else "token_f1"
        task["success"] = {**(task.get("success") or {}), "primary_metric": metric}
        return
    if key in ("examples", "examples_file") and _parse_examples(key, raw, answers, task):
        return
    if key == "documents":
        path = documents_answer(raw)
        if path is not None:
            task["documents"] = path
        return
    if key == "budget":
        task["budget"] = A.parse_money(raw, key)
        return
    value = normalize_answer(key, raw)
    trial = {**answers, "spec": answers.get("spec") or task.get("spec") or "x", key: value}
    Answers.from_dict({k: v for k, v in trial.items() if k != "budget"}, where=f"answer to `{key}`")
    answers[key] = value
    if key == "spec":
        task["spec"] = value


SKIP_WORDS = ("", "later", "no", "none", "skip", "not now", "n/a")


def documents_answer(raw) -> str | None:
    """The documents folder (or file) a person named, as an absolute path once it holds readable text;
    None when they went on without (Enter, 'later'); UserError saying what is wrong otherwise."""
    from tools.rag.chunking import TEXT_SUFFIXES, load_documents

    text = str(raw or "").strip().strip("'\"")
    if text.lower() in SKIP_WORDS:
        return None
    path = Path(text).expanduser()
    if not path.exists():
        raise UserError(
            f"no file or folder at {text}", fix="the path of your documents, or Enter to go on without"
        )
    try:
        docs = load_documents(path)
    except UserError:
        kinds = ", ".join(sorted(TEXT_SUFFIXES))
        raise UserError(
            f"no text I can read in {text}",
            fix=f"point at files ending in {kinds} (save a PDF or Word file as text first)",
        ) from None
    words = sum(len(t.split()) for t in docs.values())
    if words < 20:
        raise UserError(f"{text} holds only {words} words", fix="point at the documents that hold the facts")
    return str(path.resolve())


def check_answer(payload: dict | None, answer) -> str | None:
    """Read an answer to a pending question the way the interview will, before the graph resumes with it:
    None when it reads, else the message to show (what could not be read, and an example). The TUI and
    the CLI call this, so a bad answer never reaches the session's checkpoint."""
    if not isinstance(payload, dict) or payload.get("kind") != "question" or not payload.get("key"):
        return None
    task = dict(payload.get("spec_so_far") or {})
    answers = dict(task.pop("answers", None) or {})
    try:
        parse_answer(payload["key"], answer, answers, task)
    except UserError as e:
        return e.message + (f" — {e.fix}" if e.fix else "")
    except Exception as e:  # noqa: BLE001 - anything unreadable is asked again
        return f"I could not use that answer ({type(e).__name__}: {e})" + (
            f" — {payload['help']}" if payload.get("help") else ""
        )
    return None


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
    if key == "answer_match":
        earlier = MATCH_METRICS.get(str((task.get("success") or {}).get("primary_metric")))
        return earlier if defaults and earlier else guess_match(task.get("examples") or [])[0]
    if key == "goals" and "goals" not in defaults and out.get("format") in ("json", "label"):
        return ["format"]
    value = defaults.get(key)
    if key in ("prompted_success", "examples", "volume", "budget", "constraints") and value is not None:
        from agent.answers import display

        return display(key, value)  # the earlier answer as the person would type it ("30%", not 0.3)
    return value


def _note(key: str, defaults: dict, answers: dict, task: dict) -> str | None:
    """What the question says about its preselected answer when that answer is a guess, not the person's."""
    if defaults:
        return None
    out = task.get("output") or {}
    if key == "output_format":
        return guess_note(str(answers.get("spec") or task.get("spec") or ""), task.get("examples") or [])[1]
    if key == "answer_match":
        return guess_match(task.get("examples") or [])[1]
    if key == "goals" and out.get("format") in ("json", "label"):
        from agent.answers import GOAL_CHOICES

        label = dict(GOAL_CHOICES)["format"]
        shape = "JSON" if out["format"] == "json" else "one of your labels"
        return f"I've ticked “{label}” because each answer must be {shape} — space unticks it."
    return None


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
        # a session started from an earlier one (more examples, run again) has its answers' shape settled,
        # text included: walk 13's run-again asked "what should each answer look like?" once more
        shape_known = given_format != "text" or bool((state.get("options") or {}).get("shape_known"))
        for q in QUESTIONS:
            if (
                q.key in answers
                or (q.key == "budget" and task.get("budget") is not None and not defaults)
                or not applicable(q, answers, task, again=bool(defaults))
            ):
                continue
            if q.key == "spec" and task.get("spec") and not defaults:
                answers["spec"] = task["spec"]
                continue
            if q.key in OUTPUT_KEYS and shape_known and not defaults:
                continue  # the task file says what answers look like
            ask_until(
                lambda error, q=q: ask(
                    q.key,
                    q.text,
                    input=q.kind,
                    choices=q.choices,
                    help=q.help,
                    optional=q.optional,
                    error=error,
                    default=_default(q.key, defaults, answers, task),
                    note=_note(q.key, defaults, answers, task),
                    choice_labels=list(q.choice_labels),
                    spec_so_far={**task, "answers": answers},
                ),
                lambda raw, q=q: parse_answer(q.key, raw, answers, task),
                hint=q.help,
            )
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
