"""Sessions: a run id is the LangGraph thread id; checkpoints live in `.tunewise/sessions.sqlite`
(or PostgreSQL when TUNEWISE_DB_URL=postgresql://… so a team or a server shares sessions)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.workspace import Workspace


@contextlib.contextmanager
def open_checkpointer(workspace: Workspace) -> Iterator[Any]:
    url = os.environ.get("TUNEWISE_DB_URL")
    if url and url.startswith(("postgresql://", "postgres://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError:
            raise UserError(
                "TUNEWISE_DB_URL is PostgreSQL but the postgres extra is not installed",
                fix="pip install 'tunewise[postgres]'",
            ) from None
        try:
            with PostgresSaver.from_conn_string(url) as saver:
                saver.setup()
                yield saver
        except Exception as e:  # noqa: BLE001
            if "connection" in str(e).lower():
                raise UserError(
                    "cannot connect to TUNEWISE_DB_URL", fix="check the server and the URL"
                ) from None
            raise
        return
    if url:
        raise UserError(
            f"unsupported TUNEWISE_DB_URL scheme {url.split(':', 1)[0]!r}",
            fix="use postgresql://user:pass@host/db, or unset it for SQLite",
        )
    from langgraph.checkpoint.sqlite import SqliteSaver

    workspace.ensure()
    conn = sqlite3.connect(workspace.sessions_db, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    try:
        sqlite_saver = SqliteSaver(conn)
        sqlite_saver.setup()
        yield sqlite_saver
    finally:
        conn.close()


def list_sessions(workspace: Workspace) -> list[dict]:
    """One row per run/thread: where it stands (next node, pending question) and its verdict."""
    from agent.graph import compile_graph

    rows = []
    with open_checkpointer(workspace) as saver:
        graph = compile_graph(saver)
        threads = []
        seen = set()
        for cp in saver.list(None):
            tid = cp.config["configurable"]["thread_id"]
            if tid not in seen:
                seen.add(tid)
                threads.append(tid)
        for tid in threads:
            snap = graph.get_state({"configurable": {"thread_id": tid}})
            values = snap.values or {}
            pending = None
            for task in snap.tasks:
                for intr in task.interrupts or ():
                    pending = intr.value
            error_node, error = stopped_on(snap)
            status = values.get("status")
            if status in (None, "running"):
                # every session starts with status "running": with steps left, only a process holding the
                # run makes that true (the walk's Home said "running" for a session it had quit)
                status = (
                    "waiting" if pending else (_running_or_stopped(workspace, tid) if snap.next else "done")
                )
            rows.append(
                {
                    "id": tid,
                    "next": list(snap.next),
                    "status": status,
                    "approach": values.get("approach"),
                    "iteration": values.get("iteration"),
                    "stop_reason": values.get("stop_reason"),
                    "pending": pending.get("kind") if isinstance(pending, dict) else None,
                    "spec": (values.get("task") or {}).get("spec"),
                    "updated": snap.created_at,
                    "error": error,
                    "error_node": error_node,
                    "replaced_by": replaced_by(workspace, tid),
                }
            )
    rows.sort(key=lambda r: r.get("updated") or "", reverse=True)
    return rows


REPLACED_FILE = "replaced_by.json"


def mark_replaced(workspace: Workspace, run_id: str, new_id: str, why: str = "more examples") -> None:
    """Note in the run's folder that a new session (with more examples, or run again) took this one's place:
    Home then says so instead of "waiting: your decision" (walk 10 met the old session still waiting after
    `e`)."""
    from tools.workspace import atomic_write_json

    atomic_write_json(workspace.run(run_id).path / REPLACED_FILE, {"by": new_id, "why": why})


def replaced_by(workspace: Workspace, run_id: str) -> str | None:
    """The id of the session that took this one's place, if any."""
    from tools.workspace import read_json

    try:
        path = workspace.run(run_id).path / REPLACED_FILE
        return str((read_json(path) or {}).get("by") or "") or None if path.exists() else None
    except Exception:  # noqa: BLE001 - an odd id or a damaged note: no note
        return None


def _running_or_stopped(workspace, run_id: str) -> str:
    """A session with steps left is "running" only while some process holds its run; after a quit or a
    kill it is "stopped" (resume continues it)."""
    from tools.workspace import RunLock

    try:
        held = RunLock(workspace.run(run_id).path).held_by_someone()
    except Exception:  # noqa: BLE001 - an odd id or folder: say what the graph says
        return "running"
    return "running" if held else "stopped"


_USER_ERRORS = ("UserError", "ConfigError", "ProviderError", "BudgetExceeded", "RunLocked")


def plain_error(text: str) -> str:
    """A step's error as LangGraph keeps it (`ProviderError('cannot reach api.openai.com — fix: …')`, the
    exception's repr) in words: a problem the person can fix is its own message; anything else
    `Name: message`. Walk 13 read the repr in the stopped-session dialog."""
    import ast
    import re

    m = re.fullmatch(r"(\w+)\((['\"].*['\"])\)", text.strip(), flags=re.S)
    if not m:
        return text
    try:
        message = ast.literal_eval(m.group(2))
    except (ValueError, SyntaxError):
        return text
    if not isinstance(message, str):
        return text
    return message if m.group(1) in _USER_ERRORS else f"{m.group(1)}: {message}"


def stopped_on(snap) -> tuple[str | None, str | None]:
    """(node, error) when the session's next step raised and was not retried since, else (None, None). A
    step stopped on purpose (the person quit: `Cancelled`) is no error: it simply resumes. LangGraph keeps a
    step's error beside the question it shows: a question asked again (it carries an error) is no stop."""
    for task in snap.tasks:
        err = getattr(task, "error", None)
        if err is None:
            continue
        text = plain_error(err if isinstance(err, str) else f"{type(err).__name__}: {err}")
        if text.startswith(("Cancelled", "GraphInterrupt")):
            continue
        if any(isinstance(i.value, dict) and i.value.get("error") for i in task.interrupts or ()):
            continue  # the step ran again after the error and asks its question again, with the reason
        return task.name, text
    return None, None


def rewind_to_interview(workspace: Workspace, run_id: str) -> None:
    """Change my answers, for a session stopped at or before its decision: the checkpoint moves back to
    the interview, every earlier answer offered as the default (the decision screen's "change answers")."""
    from agent.graph import compile_graph

    run = workspace.get_run(run_id)
    with run.lock(), open_checkpointer(workspace) as saver:
        graph = compile_graph(saver)
        config = {"configurable": {"thread_id": run.id}}
        answers = dict((graph.get_state(config).values or {}).get("answers") or {})
        if not answers:
            raise UserError(
                "this session has no answers to change yet", fix="retry it: the interview asks again"
            )
        graph.update_state(config, {"rewind": answers, "answers": {}, "decision": {}}, as_node="decide")


def with_more_examples(workspace: Workspace, run_id: str, new: list[dict]) -> tuple[dict, dict, int]:
    """A new session's task and interview answers: the earlier session's, with `new` examples added to the
    ones it had (an input it already had keeps its first answer). Returns (task, answers, how many were
    added). The walk was told to "collect more examples" and found no way to give them to the app short of
    answering the whole interview again; with this the new session goes straight to the decision.

    The answers' shape is read again from all the examples (a label the new ones bring in is one more
    label), unless the task file spelled out its JSON fields itself."""
    from tools.data.infer import output_spec_for
    from tools.workspace import read_yaml

    path = workspace.run(run_id).spec_path
    task = dict(read_yaml(path) or {}) if path.exists() else {}
    if not str(task.get("spec") or "").strip():
        raise UserError(
            f"session {run_id} has no task description yet",
            fix="finish its interview first, or start a new session",
        )
    answers = dict(task.pop("answers", None) or {})
    examples = [dict(e) for e in task.get("examples") or []]
    seen = {str(e.get("input", "")).strip() for e in examples}
    added = 0
    for e in new:
        key = str(e.get("input", "")).strip()
        if key and key not in seen:
            seen.add(key)
            examples.append({"input": str(e["input"]), "output": str(e.get("output", ""))})
            added += 1
    task["examples"] = examples
    answers["examples"] = len(examples)
    answers["spec"] = str(answers.get("spec") or task["spec"])
    out = dict(task.get("output") or {})
    if out.get("format") in ("json", "label") and not (out.get("schema") or {}).get("properties"):
        task["output"] = output_spec_for(out["format"], examples, out)
    return task, answers, added


def with_inputs(workspace: Workspace, run_id: str, path: str) -> tuple[dict, dict, int]:
    """A new session's task and answers: the earlier session's, with a file of the person's real inputs
    (messages without answers) for the practice answers to be written for. Returns (task, answers, how many
    inputs). The slugs bench's writer made up inputs such as "Cad Aromafro (Wine)" where a shop has its
    catalogue's titles."""
    from pathlib import Path

    from tools.data.generate import load_inputs_file

    inputs = load_inputs_file(Path(path))
    if not inputs:
        raise UserError(f"{path} has no messages in it", fix="one message per line")
    task, answers, _ = with_more_examples(workspace, run_id, [])
    task["inputs"] = str(Path(path).expanduser().resolve())
    return task, answers, len(inputs)


def prompt_to_try(workspace: Workspace, run_id: str) -> tuple[str, list[dict]]:
    """(instructions, examples) of the prompt a finished session says to use for now: its prompt.json, else
    the task's instructions and its first six examples."""
    from tools.llm.server import load_served_prompt
    from tools.spec import load_spec

    run = workspace.run(run_id)
    if (run.path / "prompt.json").exists():  # read as `tunewise serve --prompt` reads it
        doc = load_served_prompt(run.path)
        return doc["system"], doc["shots"]
    spec = load_spec(run.spec_path)
    return spec.effective_system_prompt or "", [e.model_dump() for e in spec.examples[:6]]


_TRY_STUDENTS: dict[str, Any] = {}


def _prompt_answerer(workspace: Workspace, run_id: str) -> tuple[Any, Callable[[str], list[dict]], int]:
    """(provider, messages for a text, answer cap) of the session's prompt on the model you start from."""
    from tools.data.critique import answer_token_cap
    from tools.data.generate import answer_messages
    from tools.llm import get_provider
    from tools.spec import parse_spec_dict

    system, shots = prompt_to_try(workspace, run_id)
    spec = parse_spec_dict({"spec": "try", "system_prompt": system or "Answer."})
    key = str(workspace.path)
    if key not in _TRY_STUDENTS:  # loaded once: a second message answers without loading the model again
        _TRY_STUDENTS[key] = get_provider("student", workspace=workspace)
    cap = answer_token_cap([str(s.get("output") or "") for s in shots], 256)
    return _TRY_STUDENTS[key], lambda text: answer_messages(spec, text, shots), cap


def try_prompt(workspace: Workspace, run_id: str, text: str) -> str:
    """The model you start from's answer to `text` with the session's prompt (`prompt_to_try`): what a
    person with no tool and no API key can do with the prompt the report gives them (walk 9: "Copy it into
    the tool you use today" — it used none)."""
    provider, messages, cap = _prompt_answerer(workspace, run_id)
    return provider.complete(messages(text), max_tokens=cap, temperature=0.0).text.strip()


def tuned_adapter(workspace: Workspace, run_id: str) -> Path | None:
    """The adapter a session's report is about: its export's (the version it kept), else its latest; None when it
    trained none."""
    from tools.evals.systems import tuned_adapters

    run = workspace.run(run_id)
    exported = run.path / "export" / "adapter"
    if (exported / "adapter_config.json").exists():
        return exported
    found = tuned_adapters(run.path)
    return found[-1][1] if found else None


def tuned_version(workspace: Workspace, run_id: str) -> str | None:
    """The version of `tuned_adapter` ("v2"): its export's training version, else the adapter's folder; walk 25
    could not tell which round's model the try box answered with."""
    adapter = tuned_adapter(workspace, run_id)
    if adapter is None:
        return None
    if adapter.parent.name == "export":
        from tools.workspace import read_json

        try:
            return str(read_json(adapter.parent / "export.json").get("train_version") or "") or None
        except (OSError, ValueError):
            return None
    return adapter.parent.name


def _model_answerer(workspace: Workspace, run_id: str) -> tuple[Any, Callable[[str], list[dict]], int]:
    """(provider, messages for a text, answer cap) of the session's tuned model, sent as the evaluation sends
    it (zero-shot, the instructions it trained with)."""
    from tools.data.critique import answer_token_cap
    from tools.evals.systems import build_messages, provider_for, tuned_system
    from tools.spec import load_spec

    adapter = tuned_adapter(workspace, run_id)
    if adapter is None:
        raise ValueError("this session trained no model")
    spec = load_spec(workspace.run(run_id).spec_path)
    cap = answer_token_cap([str(e.output) for e in spec.examples], 256)
    system = tuned_system(adapter.parent.name, adapter, spec, max_tokens=cap)
    key = f"{workspace.path}|{adapter}|{adapter.stat().st_mtime_ns}"
    if key not in _TRY_STUDENTS:  # loaded once: a second message answers without loading the model again
        _TRY_STUDENTS[key] = provider_for(system, workspace=workspace)

    def messages(text: str) -> list[dict]:
        return build_messages(
            system, {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]}
        )

    return _TRY_STUDENTS[key], messages, cap


def try_model(workspace: Workspace, run_id: str, text: str) -> str:
    """The tuned model's answer to `text` (`_model_answerer`): walk 24 could try only the prompt on its own
    messages, not the model it had just trained."""
    provider, messages, cap = _model_answerer(workspace, run_id)
    return provider.complete(messages(text), max_tokens=cap, temperature=0.0).text.strip()


ANSWER_BATCH = 8  # messages answered together (the local engine's batch; progress after each)


def answer_file(
    workspace: Workspace,
    run_id: str,
    path: str | Path,
    *,
    use: str = "model",
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, int, int]:
    """Answer every message in a file (`read_messages`) with the session's tuned model (`use="model"`) or its
    prompt (`"prompt"`), and write them beside it as a spreadsheet (`answers_csv`): walk 26 got a prompt and a
    `curl` command, and had a day's bookings to copy into a calendar. Returns (the file written, messages,
    answers that could not be read into parts)."""
    from tools.llm import GenParams, Request
    from tools.spec import load_spec

    src = Path(path).expanduser()
    texts = read_messages(src)
    provider, messages, cap = (
        _model_answerer(workspace, run_id) if use == "model" else _prompt_answerer(workspace, run_id)
    )
    answers: list[str] = []
    for i in range(0, len(texts), ANSWER_BATCH):
        batch = [Request(messages(t), GenParams(max_tokens=cap)) for t in texts[i : i + ANSWER_BATCH]]
        answers += [c.text.strip() for c in provider.map(batch)]
        if on_progress is not None:
            on_progress(len(answers), len(texts))
    spec = load_spec(workspace.run(run_id).spec_path)
    out = _free_name(src.with_name(f"{src.stem}-answers.csv"))
    unread = answers_csv(out, texts, answers, spec)
    return out, len(texts), unread


def _free_name(path: Path) -> Path:
    """`path`, or `name-2.csv`, `name-3.csv`, … when a file is there already (a person's file is never replaced)."""
    k = 2
    found = path
    while found.exists():
        found = path.with_name(f"{path.stem}-{k}{path.suffix}")
        k += 1
    return found


def read_messages(path: Path) -> list[str]:
    """The messages of a file to answer: a CSV/TSV's first column (a first row of column names skipped), else
    one message per line. Bad input says where and how to fix it."""
    import csv
    import io

    from tools.data.plain_examples import COLUMN_WORDS, HEADERS
    from tools.userfile import read_text

    if path.is_dir():
        raise UserError(
            f"{path} is a folder", fix="give the path of one file with the messages, one per line"
        )
    text = read_text(path, what="file of messages")
    if path.suffix.lower() in (".csv", ".tsv"):
        rows = list(
            csv.reader(
                io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ","
            )
        )
        cells = [r[0].strip() for r in rows if r and r[0].strip()]
        if cells and (cells[0].lower() in HEADERS or cells[0].lower() in COLUMN_WORDS):
            cells = cells[1:]  # "message", "text", "email": the column's name
    else:
        cells = [line.strip() for line in text.splitlines() if line.strip()]
    if not cells:
        raise UserError(
            f"no messages in {path.name}",
            where=str(path),
            fix="write one message per line, or a CSV with them in the first column",
        )
    return cells


def answers_csv(out: Path, texts: list[str], answers: list[str], spec: Any) -> int:
    """Write message + answer rows as CSV (atomic). A JSON task's answer becomes a column per part (the parts its
    examples have; an empty cell for null), so it reads like the person's own sheet; a last column, "check",
    is there only when some answer needs one: an answer that is not such an object ("could not read: …", its
    text) or a part whose value is not one the task allows (walk 28 copied "bath and nail trim" into a
    calendar of five services, under an always-empty "could not read" column). Returns how many could not be
    read."""
    import csv
    import io

    from tools.evals._json import parse_json_output
    from tools.workspace import atomic_write_text

    parts: list[str] = []
    if getattr(spec.output, "format", "text") == "json":
        for e in spec.examples:
            obj, err = parse_json_output(str(e.output))
            if err is None and isinstance(obj, dict):
                parts += [k for k in obj if k not in parts]
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    unread = 0
    if parts:
        allowed = _allowed_values(spec)
        rows: list[list[str]] = []
        for t, a in zip(texts, answers, strict=True):
            obj, err = parse_json_output(a)
            if err is None and isinstance(obj, dict):
                cells = ["" if obj.get(k) is None else _cell(obj.get(k)) for k in parts]
                rows.append([t, *cells, "; ".join(outside_values(obj, allowed))])
            else:
                unread += 1
                rows.append([t, *([""] * len(parts)), f"could not read: {a}"])
        checked = any(r[-1] for r in rows)
        w.writerow(["message", *parts, *(["check"] if checked else [])])
        w.writerows(r if checked else r[:-1] for r in rows)
    else:
        w.writerow(["message", "answer"])
        w.writerows([t, a] for t, a in zip(texts, answers, strict=True))
    atomic_write_text(out, buf.getvalue())
    return unread


def outside_values(obj: dict, allowed: dict[str, list]) -> list[str]:
    """ "trade 'fridge' is not one of: plumbing, electrical, …" for each part of a JSON answer whose value the
    task does not allow (`_allowed_values`; null is not counted here). Pure."""
    return [
        f"{k} {obj[k]!r} is not one of: {', '.join(str(v) for v in values if v is not None)}"
        for k, values in allowed.items()
        if obj.get(k) is not None and obj.get(k) not in values
    ]


def answer_check(workspace: Workspace, run_id: str, answer: str) -> str | None:
    """What to check in one tried answer of a JSON task: a value the task does not allow (walk 29's "fridge"
    among five trades, shown as if it were fine), or an answer not in the examples' shape. None otherwise."""
    from tools.evals._json import parse_json_output
    from tools.spec import load_spec

    spec = load_spec(workspace.run(run_id).spec_path)
    if getattr(spec.output, "format", "text") != "json":
        return None
    obj, err = parse_json_output(answer)
    if err is not None or not isinstance(obj, dict):
        return "it is not in the shape of your examples' answers"
    return "; ".join(outside_values(obj, _allowed_values(spec))) or None


def _allowed_values(spec: Any) -> dict[str, list]:
    """{part: its allowed values} for the JSON schema's enum parts (null among them where it is allowed)."""
    schema = getattr(spec.output, "json_schema", None) or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    return {
        k: list(sub["enum"])
        for k, sub in (props or {}).items()
        if isinstance(sub, dict) and isinstance(sub.get("enum"), list)
    }


def _cell(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
