"""Report / export: where the files are, how to serve the model, what to do next."""

from __future__ import annotations

import re
from pathlib import Path

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown

from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader

NEXT_STEPS = {  # when there is no evaluation to decide from
    "prompt": "Use the prompt tunewise wrote (see the prompt file above); re-evaluate when the task changes.",
    "few-shot": "Use the few-shot prompt; collect more examples if you later want a smaller, faster model.",
    "rag": "Keep the documents folder current: re-index, no retraining needed.",
    "fine-tune": "Finish training and the evaluation: serve a tuned model only once its verdict passes.",
    "rag+fine-tune": "Finish training and the evaluation: serve a tuned model only once its verdict passes.",
}
NOT_STOPPED = "not finished: the session is in progress or waiting for you (resume it from Home)"


def stop_reason_text(code: str | None) -> str:
    """Why the run stopped, in words, never empty."""
    if not code:
        return NOT_STOPPED
    try:
        from agent.nodes.report import STOP_REASONS
    except Exception:  # noqa: BLE001 - the phrases are a nicety; the code itself still says why
        STOP_REASONS = {}
    if code == "done" and code not in STOP_REASONS:
        return "the run finished its steps"
    return STOP_REASONS.get(code, code.replace("_", " "))


def wrapped_command(cmd: str, width: int = 60) -> str:
    """A shell command on several lines (`\\` continuations, one option per line) so it is never cut."""
    parts = cmd.split(" --")
    if len(cmd) <= width or len(parts) == 1:
        return cmd
    return " \\\n  --".join(parts)


def _prompt_plain(run_path: Path) -> dict | None:
    """A prompt, few-shot or retrieval decision ends in its branch, before the run's report: how the chosen
    prompt (or the prompt with the documents' passages) did on the person's examples, from the branch's
    own result."""
    from agent.nodes.report import prompt_plain
    from tools.workspace import read_json

    p = run_path / "work" / "iter0" / "prompt.json"
    r = run_path / "work" / "iter0" / "rag.json"
    try:
        if p.exists():
            return prompt_plain(read_json(p), run_path.name)
        if r.exists():
            from agent.nodes.report import rag_plain
            from tools.llm.embedded import is_embedded
            from tools.llm.registry import choose

            return rag_plain(read_json(r), is_embedded(str(choose("teacher"))))
        return None
    except Exception:  # noqa: BLE001 - a half-written file: the report still opens
        return None


def plain_markdown(plain: dict | None) -> list[str]:
    """The evaluation's plain sentence and what to do, first thing in every report."""
    if not plain:
        return []
    lines = [f"**{plain['sentence']}**", "", f"**What to do:** {plain['recommendation']}", ""]
    if "API key" in plain["recommendation"]:
        from tui.widgets.api_key_dialog import key_is_set

        # walk 13: "set an API key … and run again", with no way to do either from here
        lines += [
            "An API key is set now: press **r** to run this session again with it (your answers and examples "
            "are kept)."
            if key_is_set()
            else "Press **k** to paste an API key (used in this window only, never saved), then **r** to run "
            "this session again with your answers and examples.",
            "",
        ]
    if plain.get("serve_command"):
        lines += ["```", wrapped_command(plain["serve_command"]), "```", ""]
    if plain.get("own_examples"):
        lines += [plain["own_examples"], ""]
    return lines


def results_markdown(summary: dict, plain_rows: list[dict] | None = None) -> list[str]:
    """The final evaluation as a small table in words, when the run got that far."""
    from tui.widgets.evaluation.model import _fmt

    if plain_rows:
        header = plain_rows[0].get("header") or "score"
        lines = [
            "## Results",
            "",
            f"| system | {header} | right format | prompt tokens |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['label']} | {r['score']['cell']} | {r['format']} | {r['prompt_tokens']} |"
            for r in plain_rows
        ]
        if plain_rows[0].get("explain"):
            lines += ["", f"{header}: {plain_rows[0]['explain']}"]
        return [*lines, ""]
    rows = summary.get("rows") or []
    if not rows:
        return []
    lines = [
        f"## Results ({summary.get('primary_metric') or 'primary metric'})",
        "",
        "| system | score | format | prompt tok |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.get('system')} | {_fmt(r.get('primary'))} | {_fmt(r.get('format_rate'), '.2f')} "
            f"| {_fmt(r.get('prompt_tokens'), '.0f')} |"
        )
    verdict = summary.get("verdict") or {}
    if verdict:
        from tools.evals.summary import plain_reason
        from tools.evals.verdict import verdict_word
        from tui.screens.home import VERDICT_UNDECIDED

        word = {"PASS": "PASS", "FAIL": "not met"}.get(verdict_word(verdict), VERDICT_UNDECIDED)
        lines += ["", f"**Verdict: {word}**", ""]
        lines += [f"- {plain_reason(reason)}" for reason in verdict.get("reasons") or []]
    return [*lines, ""]


def _eval_dir(run_path: Path, summary: dict) -> Path | None:
    from tools.evals.summary import latest_eval_dir

    ev = (summary.get("summary") or {}).get("eval_version")
    if ev and (run_path / "eval" / ev / "report.json").exists():
        return run_path / "eval" / ev
    return latest_eval_dir(run_path)


def shown_path(path: Path) -> str:
    """A run folder as the person can open it from where they started tunewise: relative to that folder
    when inside it, else in full (walk 10, with its workspace elsewhere, could not find
    `.tunewise/runs/…/prompt.md`)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).resolve().as_posix()


def _not_on_path() -> list[str]:
    """Where `tunewise` is when a new terminal would not find it (walk 18: "command not found")."""
    import shutil
    import sys

    if shutil.which("tunewise"):
        return []
    here = Path(sys.executable).parent
    return [
        f"(A new terminal may not find `tunewise`: run `source {here}/activate` there first, or type "
        f"`{here}/tunewise` instead.)",
        "",
    ]


def _prompt_model_id(run_path: Path) -> str:
    """The model name a request to `tunewise serve --prompt` sends (its /v1/models id)."""
    from tools.llm.server import load_served_prompt, served_model_id

    try:
        return served_model_id(load_served_prompt(run_path).get("model") or "embedded", None)
    except Exception:  # noqa: BLE001 - a half-written prompt: the default model's name
        return "embedded"


# walk 26 had a day's bookings to copy into a calendar and was given `curl`: the way without programming
NO_CODE_PROMPT = (
    "No programming: press **t** to try it here on one message, or give it the path of a file of messages (one "
    "per line, or a CSV) and each is answered into a spreadsheet beside it (also `tunewise answer`)."
)
NO_CODE_MODEL = NO_CODE_PROMPT.replace("press **t**", "press **m**")


def report_markdown(run_id: str, run_path: Path, values: dict | None = None) -> str:  # noqa: C901, PLR0915 - the report screen's sections in reading order
    """What a finished (or partial) run left behind, with relative paths so it reads the same anywhere:
    the evaluation in one plain sentence and what to do, then why it stopped, the table, the files."""
    from tools.evals.summary import (
        advises_by_hand,
        column_help,
        load_plain_summary,
        metric_in_words,
        system_rows,
        without_cli_hints,
    )
    from tools.workspace import read_json

    values = values or {}
    rel = shown_path(run_path)
    lines = [f"# Run {run_id}", ""]
    summary = {}
    if (run_path / "summary.json").exists():
        try:
            summary = read_json(run_path / "summary.json") or {}
        except Exception:  # noqa: BLE001
            summary = {}
    eval_dir = _eval_dir(run_path, summary)
    plain = (
        load_plain_summary(eval_dir, run_path)
        if eval_dir
        else (summary.get("plain") or _prompt_plain(run_path))
    )
    lines += plain_markdown(plain)
    approach = values.get("approach") or summary.get("approach")
    if (run_path / "decision.json").exists() and not approach:
        try:
            approach = read_json(run_path / "decision.json").get("chosen") or read_json(
                run_path / "decision.json"
            ).get("approach")
        except Exception:  # noqa: BLE001
            pass
    stop = values.get("stop_reason") or summary.get("stop_reason")
    where = (
        f"**Stopped because:** {stop_reason_text(stop)}" if stop else f"**Where it stands:** {NOT_STOPPED}"
    )
    lines += [f"**Approach:** {approach or '—'}  ", where, ""]
    plain_rows = []
    if eval_dir is not None:
        try:
            from tools.workspace import read_jsonl

            rep = read_json(eval_dir / "report.json") or {}
            out_rows = (
                list(read_jsonl(eval_dir / "outputs.jsonl")) if (eval_dir / "outputs.jsonl").exists() else []
            )
            plain_rows = system_rows(rep, out_rows)
            if plain_rows:
                plain_rows[0]["header"] = metric_in_words(rep.get("primary_metric"))
                plain_rows[0]["explain"] = column_help(rep.get("primary_metric") or "")
        except Exception:  # noqa: BLE001 - a half-written evaluation: the summary's table instead
            plain_rows = []
    lines += results_markdown(summary.get("summary") or {}, plain_rows)
    lines += ["## Files", "", f"Under `{rel}/`:", "", "| what | file |", "|---|---|"]
    files = [
        ("task spec", "spec.yaml"),
        ("decision", "decision.json"),
        ("report", "report.md"),
        ("summary", "summary.json"),
        ("data versions", "data"),
        ("training runs", "train"),
        ("evaluations", "eval"),
        ("export", "export"),
    ]
    listed: set[str] = set()  # a file is listed once (the run's artifacts name report.md and export too)
    for label, name in files:
        if (run_path / name).exists():
            lines.append(f"| {label} | `{name}` |")
            listed.add(name)
    if eval_dir is not None:
        from tools.evals.reference_flags import flags_path, read_reference_flags

        try:
            n_flags = len(read_reference_flags(eval_dir))
        except Exception:  # noqa: BLE001
            n_flags = 0
        if n_flags:
            shown = flags_path(eval_dir).relative_to(run_path).as_posix()
            lines.append(f"| expected answers you marked wrong ({n_flags}) | `{shown}` |")
    for key, path in sorted((values.get("artifacts") or {}).items()):
        if isinstance(path, str) and "error" not in key:
            shown = path.split(f"/runs/{run_id}/", 1)[-1]
            if shown.rstrip("/") not in listed:
                listed.add(shown.rstrip("/"))
                lines.append(f"| {ARTIFACT_LABELS.get(key, key.replace('_', ' '))} | `{shown}` |")
    lines.append("")
    adapter = next(
        (
            p
            for p in (run_path / "export" / "adapter", *sorted(run_path.glob("train/v*/adapter")))
            if p.exists()
        ),
        None,
    )
    status = (plain or {}).get("status")
    lines += ["## Serve it", ""]
    if status == "pass" and adapter is not None:
        shown = adapter.relative_to(run_path).as_posix()
        cmd = (plain or {}).get("serve_command") or f"tunewise serve --adapter {rel}/{shown}"
        lines += [
            "An OpenAI-compatible server with your tuned model:",
            "",
            "```",
            wrapped_command(f"{cmd} --port 8000"),
            "```",
            "",
            "Then point any OpenAI client at `http://127.0.0.1:8000/v1`.",
            "",
            NO_CODE_MODEL,
        ]
        if (run_path / "export" / "Modelfile").exists():
            lines += ["", f"Ollama: `ollama create my-model -f {rel}/export/Modelfile`"]
    elif adapter is not None:
        shown = adapter.relative_to(run_path).as_posix()
        lines.append(
            f"Not yet: the tuned model (`{shown}`) did not pass its evaluation"
            + (" (the test could not tell)" if status == "inconclusive" else "")
            + ". Do what the report says above first."
        )
    elif approach == "rag":
        # walk 13: "use the prompt with the model you start from, or your provider as before" under a report
        # whose model got 0 of 10 right with the passages
        lines.append(
            "No model to serve: the advice was to look things up in your documents, and how well that "
            "worked is above (`retrieval.md` has the details and the search settings)."
        )
    elif (run_path / "prompt.json").exists() and advises_by_hand((plain or {}).get("recommendation")):
        # walk 25: "none is needed to use the prompt below" under advice to keep doing it by hand
        lines += [
            "Nothing here is ready to serve: the advice above is to keep doing it the way you do now. To test "
            "the prompt below from another program anyway (its answers need checking):",
            "",
            "```",
            f"tunewise serve --port 8000 \\\n  --prompt {run_id}",
            "```",
            "",
            "Or press **t** to try it here.",
        ]
    elif (run_path / "prompt.json").exists():
        # walk 17: "use this prompt with your model" was a dead end for someone with no model; walk 18 found
        # the command cut at 80 columns, no example request and no model name to send
        lines += [
            "No tuned model in this run, and none is needed to use the prompt below. This starts a small web "
            "service on this computer that your other programs can send messages to; it answers with the "
            "model you start from and that prompt:",
            "",
            "```",
            f"tunewise serve --port 8000 \\\n  --prompt {run_id}",
            "```",
            "",
            *_not_on_path(),
            "Then, from another terminal (any OpenAI client works the same way):",
            "",
            "```",
            "curl http://127.0.0.1:8000/v1/chat/completions \\",
            "  -H 'content-type: application/json' \\",
            f'  -d \'{{"model": "{_prompt_model_id(run_path)}", "messages": [{{"role": "user",',
            '       "content": "a message like yours"}]}\'',
            "```",
            "",
            NO_CODE_PROMPT,
        ]
    else:
        lines.append(
            "No tuned model in this run: use the prompt "
            + ("below " if (run_path / "prompt.md").exists() else "")
            + "with the model you start from, or your provider as before."
        )
    next_step = (plain or {}).get("recommendation") or NEXT_STEPS.get(
        approach or "", "Read the report and decide."
    )
    prompt_md = run_path / "prompt.md"
    if status != "pass" and prompt_md.exists():
        # the walk was told to keep using a prompt and found no way to get it (twice: "Until then, keep
        # using…", and "use the prompt with the model you start from" when nothing was trained)
        from agent.nodes.branches import MISSES_HEADING
        from agent.nodes.report import PROMPT_HEADING, prompt_section_words

        body = prompt_md.read_text(encoding="utf-8").split("\n", 2)[-1].strip()
        # the prompt itself is quoted to copy; how it was chosen stays in the file, where it went wrong is said
        prompt_part, _, chosen = body.partition("\n## How it was chosen")
        _, found, misses = chosen.partition(MISSES_HEADING)
        heading, first = prompt_section_words(next_step, f"the file: `{rel}/prompt.md`")
        lines += [
            "",
            heading,
            "",
            # walk 20 did the work by hand and was told "the tool you use today", with 5 of 14 right
            first
            + (
                " None? Press **t** to try it here on a message of yours."
                if heading == PROMPT_HEADING
                else " Press **t** to try it here."
            ),
            "",
            *quoted(prompt_part.strip()),
        ]
        if found:
            lines += [
                "",
                MISSES_HEADING,
                "",
                misses.strip(),
                "",
                "Press **p** to edit the instructions here: a new session tries the prompts again with them.",
            ]
    lines += ["", "## Next steps", "", f"- {next_step}"]
    if re.search(r"\b(collect|write) (about \d+ )?more examples", next_step):
        # the walk looked for a way to add examples to this session and found none: say the way there is
        lines.append(ADD_EXAMPLES_LINE)
    lines.append("")
    history = summary.get("history") or []
    if history:
        lines += [
            "## Rounds",
            "",
            "| round | data | trained | evaluated | passed | note |",
            "|---|---|---|---|---|---|",
        ]
        for h in history:
            lines.append(
                f"| {h.get('iteration')} | {h.get('data_version') or '–'} | {h.get('train_version') or '–'} | "
                f"{h.get('eval_version') or '–'} | {'yes' if h.get('passed') else 'no'} | "
                f"{without_cli_hints(h.get('note') or '')} |"
            )
        lines.append("")
    return "\n".join(lines)


def quoted(text: str) -> list[str]:
    """`text` as a Markdown block quote that wraps, every line kept (a hard break after each) and nothing
    read as Markdown: a fenced block does not wrap, and walk 9 read the prompt cut at 80 columns
    ("…one-line work"). Pure."""
    special = re.compile(r"([\\`*_\[\]{}()#+\-.!|<>~])")
    out = []
    for line in text.splitlines():
        safe = special.sub(lambda m: "\\" + m.group(1), line)
        out.append(f"> {safe}  " if line.strip() else ">")
    return out


ARTIFACT_LABELS = {  # a run's artifacts in words (walk 13 read "retrieval_config" in the files table)
    "retrieval": "looking things up: how well it worked",
    "retrieval_config": "looking things up: the search settings",
}


ADD_EXAMPLES_LINE = (
    "- Once you have them, press **a** here and give the file: a new session starts with your earlier answers "
    "and all your examples, and decides again."
)


class ReportScreen(Screen):
    SCREEN_NAME = "report"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("a", "add_examples", "Add examples"),
        Binding("t", "try_prompt", "Try the prompt"),
        Binding("m", "try_model", "Try your model"),
        Binding("p", "edit_prompt", "Edit the instructions"),
        Binding("k", "api_key", "API key"),
        Binding("r", "run_again", "Run again"),
        Binding("f5", "reload", "Reload"),
    ]

    @property
    def FOOTER_OPTIONAL(self) -> tuple[str, ...]:  # noqa: N802 - the footer reads every screen's by this name
        """Dropped from a narrow footer first (F1 lists every key): walk 24's footer had no room for "^q Quit f1
        Help". A report that says "press a" keeps a there (walk 27 read it and the footer had no a)."""
        return ("edit_prompt", "run_again") if self._asks_examples else ("edit_prompt", "add_examples")

    def __init__(self, run_id: str, values: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.values = values
        self._asks_key = False  # the report says to set an API key (k is offered then)
        self._asks_examples = False  # the report says to press a with more examples (the footer keeps a)

    def action_add_examples(self) -> None:
        self.app.add_examples_to(self.run_id)

    def action_api_key(self) -> None:
        self.app.ask_api_key(self.run_id, then=self.load)

    def action_run_again(self) -> None:
        self.app.run_again(self.run_id)

    def _has_prompt(self) -> bool:
        return (self.app.workspace.run(self.run_id).path / "prompt.json").exists()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("try_prompt", "edit_prompt"):  # only where the report gives a prompt to use for now
            return self._has_prompt()
        if action == "try_model":  # only where the session trained a model
            from agent.sessions import tuned_adapter

            return tuned_adapter(self.app.workspace, self.run_id) is not None
        if action == "api_key":  # where the report asks for a key, while none is set
            from tui.widgets.api_key_dialog import key_is_set

            return self._asks_key and not key_is_set()
        return True

    def on_key(self, event: events.Key) -> None:
        if event.key == "t" and not self._has_prompt():
            # walk 11: t is in the help and did nothing on a report without a prompt
            self.notify("This session has no prompt to try: t works on a report whose advice is a prompt.")

    def action_edit_prompt(self) -> None:
        """The prompt's instructions in a box to add the rules its wrong answers broke; saved, a new session
        measures the prompts again with them (the report's "Where the chosen prompt went wrong" said to, and
        nothing in the app could change the instructions)."""
        from agent.sessions import prompt_to_try
        from tui.widgets.review.edit_dialog import EditDialog

        system, _ = prompt_to_try(self.app.workspace, self.run_id)

        def saved(text: str | None) -> None:
            if text is not None and text.strip() != system.strip():
                self.app.run_again(self.run_id, instructions=text.strip())

        self.app.push_screen(
            EditDialog(
                "",
                "",
                system,
                check=lambda t: None if t.strip() else "write the instructions first",
                heading="[b]The instructions[/b] — add the rules your answers follow (how a day, a number or a "
                "code is written; what to leave out). ctrl+s: a new session tries the prompts again with them.",
            ),
            saved,
        )

    def action_try_prompt(self) -> None:
        from tui.widgets.try_dialog import TryPromptDialog

        self.app.push_screen(TryPromptDialog(self.app.workspace, self.run_id))

    def action_try_model(self) -> None:
        from tui.widgets.try_dialog import TryPromptDialog

        self.app.push_screen(TryPromptDialog(self.app.workspace, self.run_id, model=True))

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll(id="report-body"):
            yield Markdown("Loading…", id="report-md")
        yield FitFooter()

    def on_mount(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        values = self.values if self.values is not None else self.app.run_values.get(self.run_id)
        text = report_markdown(self.run_id, self.app.workspace.run(self.run_id).path, values)
        self._asks_key = "API key" in text
        self._asks_examples = ADD_EXAMPLES_LINE in text
        self.app.call_from_thread(self.query_one("#report-md", Markdown).update, text)
        self.app.call_from_thread(self.refresh_bindings)
