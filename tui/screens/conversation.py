"""Conversation: the interview as a chat. Questions arrive as the graph's interrupts; choices are an
option list (or a selection list for "pick any"), free text goes in an input; the spec grows beside it."""

from __future__ import annotations

import re
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Static

from agent.interrupts import (  # the interrupts the chat answers: interview questions, "another round?"
    ASKS,
    kind_of,
)
from tui.widgets.chat import ChatMessage, SpecPanel
from tui.widgets.chat.tick_list import TickList
from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader, clean_status


def first_question() -> dict:
    """The spec question, asked before a run exists (the run is named after the answer)."""
    from agent.interrupts import question
    from agent.questions import QUESTIONS

    q = QUESTIONS[0]
    return question(
        q.key, q.text, input=q.kind, choices=q.choices, help=q.help, optional=q.optional, spec_so_far={}
    )


def wrapped(text: str, width: int) -> str:
    """Text broken into lines of at most `width` characters: a code fence does not wrap, and at 80×24 a
    model's one-line JSON answer ran off the right edge."""
    import textwrap

    out = []
    for line in text.split("\n"):
        out += textwrap.wrap(
            line, width, break_long_words=True, break_on_hyphens=False, drop_whitespace=False
        )
        if not line:
            out.append("")
    return "\n".join(out)


def fenced(text: str) -> str:
    """Model output shown verbatim (JSON, markup) inside a code fence that its backticks cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}\n"


_SHOT_TITLE = re.compile(r"^The base model \(.*?\) answers one of your examples with a (\d+)-shot prompt:?$")


def plain_stream_title(title: str) -> str:
    """The probe's title in plain words: 'The base model (local:embedded) answers one of your examples with a
    5-shot prompt' read as jargon in the newcomer walk."""
    m = _SHOT_TITLE.match(title.strip())
    if m:
        return (
            f"The model you start from answers one of your examples, shown {m.group(1)} others as examples:"
        )
    return title


def question_markdown(payload: dict) -> str:
    text = f"**{payload.get('question', '')}**"
    help_ = str(payload.get("help") or "")
    if payload.get("input") == "multi":
        help_ = f"{help_} Space ticks or unticks; Enter sends.".strip()
    if help_:
        text += f"\n\n_{help_}_"
    if payload.get("optional"):
        text += "\n\n_(optional: press Skip or leave it blank)_"
    return text


def empty_answer(key: str | None) -> str:
    """What an empty answer says in the chat: for 'how often was it right?' it means not tried (walk 12 read
    '(skipped)' for the 'not tried' it had kept after changing answers)."""
    return "not tried" if key == "prompted_success" else "_(skipped)_"


def transcript(spec_so_far: dict, pending_key: str | None = None) -> list[tuple[str, str]]:
    """Earlier questions and answers of a resumed session, in interview order (the answer shape, kept in
    the task's output block, for questions before the pending one)."""
    from agent.questions import QUESTIONS

    answers = (spec_so_far or {}).get("answers") or {}
    output = (spec_so_far or {}).get("output") or {}
    out = []
    for q in QUESTIONS:
        if q.key == pending_key:
            break
        if q.key == "output_format" and pending_key and output.get("format"):
            out.append((q.text, str(output["format"])))
        elif q.key == "labels" and pending_key and output.get("labels"):
            out.append((q.text, ", ".join(map(str, output["labels"]))))
        elif q.key == "documents" and (spec_so_far or {}).get("documents"):
            # kept in the task, not the answers: a resumed chat left the question out (walk 13)
            out.append((q.text, str(spec_so_far["documents"])))
        elif q.key in answers:
            from agent.answers import display

            out.append((q.text, display(q.key, answers[q.key]) or empty_answer(q.key)))
    return out


class ConversationScreen(Screen):
    SCREEN_NAME = "conversation"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("ctrl+s", "send", "Send"),
        Binding("ctrl+g", "skip", "Skip"),
        Binding("ctrl+b", "toggle_spec", "Spec panel"),
        Binding("ctrl+o", "type_examples", "Type examples", show=False),
    ]
    FOOTER_OPTIONAL = ("toggle_spec",)  # dropped from a narrow footer first (F1 lists every key)

    def __init__(self, run_id: str | None, pending: dict | None = None, defaults: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.pending = pending
        self.defaults = dict(defaults or {})
        self.asked: list[str] = []  # question keys shown, in order
        self.sent: list[Any] = []  # answers sent, in order
        self._stream_msg: ChatMessage | None = None  # the model's answer being streamed, if any
        self._stream_head = self._stream_body = ""
        self._just_sent: str | None = None  # the text answer just submitted (the input's other text is kept)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="conversation"):
            with Vertical(id="chat-column"):
                yield VerticalScroll(id="chat")
                yield Static("", id="question-error")
                yield OptionList(id="answer-choices")
                yield TickList(id="answer-multi")
                with Horizontal(id="answer-row"):
                    yield Input(placeholder="Your answer, then Enter", id="answer-input")
                    yield Button("Send", id="send", variant="primary")
                    yield Button("Skip", id="skip")
                    yield Button("Type them", id="type-examples")
                yield Static("", id="agent-status")
            yield SpecPanel(id="spec-panel")
        yield FitFooter()

    def on_mount(self) -> None:
        if self.pending is None and self.run_id is None:
            self.pending = first_question()
        if self.pending:
            spec = self.pending.get("spec_so_far") or {}
            for question, answer in transcript(spec, self.pending.get("key")):
                self._say(f"**{question}**", "agent")
                self._say(answer or empty_answer(None), "user")
            self.show_question(self.pending)
        elif self.run_id:
            self._status(
                "Waiting for the agent…"
                if self.run_id in self.app.busy
                else "This session has no open question. Resume it from Home, or open another screen (ctrl+p)."
            )
            self._set_mode(None)

    # ------------------------------------------------------------------ display
    def _say(self, text: str, role: str) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(ChatMessage(text, role))
        chat.anchor()  # stay at the bottom while messages (rendered asynchronously) grow the chat

    def _status(self, text: str) -> None:
        self.query_one("#agent-status", Static).update(text)

    def _set_mode(self, mode: str | None, optional: bool = False) -> None:
        """Show the input that fits the question: text/number → Input, choice → OptionList, multi → SelectionList;
        "wait" (the agent is thinking) leaves the text input alone on screen, to type the next answer ahead."""
        self.query_one("#answer-row").display = mode in ("text", "number", "multi", "wait")
        self.query_one("#send").display = mode != "wait"
        # under a "pick any" list the buttons take one line, not three: at 80×24 the three-line row pushed
        # the question itself off the screen (Enter sends too, and the question says so)
        row = self.query_one("#answer-row")
        row.set_class(mode == "multi", "-slim")
        for button in row.query(Button):
            button.compact = mode == "multi"
        self.query_one("#answer-input").display = mode in ("text", "number", "wait")
        self.query_one("#answer-choices").display = mode == "choice"
        self.query_one("#answer-multi").display = mode == "multi"
        self.query_one("#skip").display = optional and mode is not None
        # no file of examples yet: they can be typed here (walk 19 had to leave the app to write one)
        self.query_one("#type-examples").display = (
            mode in ("text", "number") and (self.pending or {}).get("key") == "examples_file"
        )

    def show_question(self, payload: dict) -> None:
        self.pending = payload
        key = payload.get("key", "")
        if payload.get("default") is not None and not self.asked and payload.get("kind") != "round":
            self._say("Back to the interview: Enter keeps an earlier answer, or change it.", "note")
        if not payload.get("error") or not self.asked or self.asked[-1] != key:
            text = question_markdown(payload)
            if key == "examples_file":
                text += "\n\nNo file? **Type them** here (ctrl+o)."
            if payload.get("note"):
                # a preselected guess says it is one, in the question's own bubble: a second bubble's margins
                # pushed the question off the top of an 80×24 screen
                text += f"\n\n→ {payload['note']}"
            self._say(text, "agent")
            self.asked.append(key)
        err = self.query_one("#question-error", Static)
        err.update(f"⚠ {payload['error']}" if payload.get("error") else "")
        self.query_one(SpecPanel).show(payload.get("spec_so_far"))
        mode = payload.get("input") or "text"
        self._set_mode(mode, bool(payload.get("optional")))
        default = payload.get("default")
        if default is None:
            default = self.defaults.get(key)
        choices = list(payload.get("choices") or [])
        labels = list(payload.get("choice_labels") or [])
        labels = labels if len(labels) == len(choices) else choices
        if mode == "choice":
            ol = self.query_one("#answer-choices", OptionList)
            ol.clear_options()
            ol.add_options(labels)
            ol.highlighted = choices.index(default) if default in choices else 0
            ol.focus()
        elif mode == "multi":
            sl = self.query_one("#answer-multi", TickList)
            sl.clear_options()
            chosen = set(default or [])
            sl.add_options([(label, c, c in chosen) for c, label in zip(choices, labels, strict=True)])
            sl.highlighted = 0
            sl.focus()
        else:
            inp = self.query_one("#answer-input", Input)
            typed = inp.value.strip()
            if not typed or typed == self._just_sent:
                # text the person typed while the agent was thinking stays; only the answer just sent goes
                inp.value = (
                    ""
                    if default is None
                    else (", ".join(default) if isinstance(default, list) else str(default))
                )
            inp.type = "text"
            inp.focus()
            # an earlier answer offered: the cursor at its end, so Backspace edits it (walk 18 pressed
            # Backspace at its start, deleted nothing, and sent "about 90%9%")
            inp.cursor_position = len(inp.value)
            if payload.get("error") and inp.value:
                # asked again: the old answer is selected, so typing replaces it and an arrow key edits it
                # (the walk had to delete it by hand)
                inp.select_all()
        self._status("")

    def on_graph_paused(self, msg) -> None:
        if kind_of(msg.interrupt) in ASKS:
            self.show_question(msg.interrupt)

    def on_agent_event(self, kind: str, data: dict) -> None:
        if kind == "stream":
            self.show_stream(data)
            return
        line = data.get("line") or data.get("message")
        if kind == "progress":
            line = f"{data.get('step')}: {data.get('done')}/{data.get('total')}"
        if line:
            self._status(clean_status(line))  # the agent's line in the screens' words, never "None"

    def show_stream(self, data: dict) -> None:
        """Model text as it is generated (the probe's base model answering one of your examples)."""
        phase = data.get("phase")
        if phase == "start":
            self._stream_head = (
                f"_{plain_stream_title(str(data.get('title', '')))}_\n\n> {data.get('input', '')}\n\n"
            )
            self._stream_body = ""
            self._stream_msg = ChatMessage(self._stream_head + "…", "model")
            chat = self.query_one("#chat", VerticalScroll)
            chat.mount(self._stream_msg)
            chat.anchor()
            self._status("The model you start from is answering…")
            return
        msg = self._stream_msg
        if msg is None:
            return
        if phase == "delta":
            self._stream_body += str(data.get("text", ""))
            msg.update(self._stream_head + fenced(wrapped(self._stream_body + "▌", self._fence_width())))
        elif phase == "end":
            verdict = (
                "✔ what you expected"
                if data.get("correct")
                else f"✗ not what you expected: `{str(data.get('reference', ''))[:200]}`"
            )
            body = fenced(wrapped(self._stream_body, self._fence_width()))
            msg.update(self._stream_head + body + "\n" + verdict)
            self._stream_msg = None
            self._status("Measuring the rest of your examples…")

    def _fence_width(self) -> int:
        """Characters a code block in a chat bubble shows without cutting (bubble border, padding, the
        block's own padding)."""
        return max(20, self.query_one("#chat", VerticalScroll).size.width - 10)

    # ------------------------------------------------------------------ answering
    def submit(self, answer: Any, shown: str | None = None) -> None:
        """Send `answer` to the agent; the chat shows `shown` in its place when given."""
        if self.pending is None:
            return
        choices = list(self.pending.get("choices") or [])
        labels = list(self.pending.get("choice_labels") or [])
        named = dict(zip(choices, labels, strict=True)) if len(labels) == len(choices) else {}
        if shown is None:
            shown = ", ".join(named.get(a, a) for a in answer) if isinstance(answer, list) else str(answer)
        self._say(shown or empty_answer(self.pending.get("key")), "user")
        typed = (self.pending.get("input") or "text") in ("text", "number") and not isinstance(answer, list)
        self._just_sent = str(answer).strip() if typed else None
        problem = None
        if self.run_id is not None:
            from agent.nodes.interview import check_answer

            problem = check_answer(self.pending, answer)
        if problem is not None:
            # asked again here, with the reason and an example: the graph never sees this answer
            self.sent.append(answer)
            self.show_question({**self.pending, "error": problem, "default": answer})
            return
        self.sent.append(answer)
        inp = self.query_one("#answer-input", Input)
        if self._just_sent is not None and inp.value.strip() == self._just_sent:
            inp.value = ""  # sent: the box is free for the next answer, which can be typed ahead
        self._set_mode("wait")
        inp.focus()
        self.query_one("#question-error", Static).update("")
        self.pending = None
        if self.run_id is None:
            if not str(answer).strip():
                self._say("A one-sentence description is needed to start.", "note")
                self.show_question(first_question())
                return
            defaults = {k: v for k, v in self.defaults.items() if k != "spec"}
            self.run_id = self.app.start_session(str(answer).strip())
            self.defaults = defaults
        else:
            self.app.answer(self.run_id, answer)
        self._status("The agent is thinking…")

    def action_send(self) -> None:
        if self.pending is None:
            return
        mode = self.pending.get("input") or "text"
        if mode == "multi":
            self.submit(list(self.query_one("#answer-multi", TickList).selected))
        elif mode == "choice":
            ol = self.query_one("#answer-choices", OptionList)
            if ol.highlighted is not None:
                self.submit(self._choice_at(ol.highlighted))
        else:
            self.submit(self.query_one("#answer-input", Input).value.strip())

    def action_skip(self) -> None:
        if self.pending and self.pending.get("optional"):
            self.submit([] if self.pending.get("input") == "multi" else "")

    def action_type_examples(self) -> None:
        """A box to type the examples in ("Q:"/"A:" lines); saved in the session's folder and sent as that
        file, so they are read and checked like any file of examples."""
        if (self.pending or {}).get("key") != "examples_file" or self.run_id is None:
            return
        from tools.data.plain_examples import (
            TYPED_HOW,
            TYPED_TEMPLATE,
            read_typed_examples,
            typed_problem,
            typed_text,
        )
        from tools.workspace import atomic_write_text
        from tui.widgets.review.edit_dialog import EditDialog

        path = self.app.workspace.run(self.run_id).path / "examples-typed.txt"
        start = path.read_text(encoding="utf-8") if path.exists() else TYPED_TEMPLATE

        def done(text: str | None) -> None:
            if text is None or (self.pending or {}).get("key") != "examples_file":
                return
            n = len(read_typed_examples(text))
            atomic_write_text(path, typed_text(text))
            self.submit(str(path), shown=f"{n} example{'s' if n != 1 else ''}, typed here")

        heading = (
            f"[b]Your examples[/b], {TYPED_HOW}\n(kept in this session's folder; a file of more can be added "
            "after this, with e on the decision screen)"
        )
        self.app.push_screen(EditDialog("", "", start, check=typed_problem, heading=heading), done)

    def action_toggle_spec(self) -> None:
        panel = self.query_one(SpecPanel)
        panel.display = not panel.display

    @on(Input.Submitted, "#answer-input")
    def _input_submitted(self) -> None:
        self.action_send()

    def _choice_at(self, index: int) -> str:
        """The choice's value (what the graph takes), whatever plain words the list shows for it."""
        choices = list((self.pending or {}).get("choices") or [])
        if 0 <= index < len(choices):
            return str(choices[index])
        return str(self.query_one("#answer-choices", OptionList).get_option_at_index(index).prompt)

    @on(OptionList.OptionSelected, "#answer-choices")
    def _choice_selected(self, event: OptionList.OptionSelected) -> None:
        self.submit(self._choice_at(event.option_index))

    @on(TickList.Submitted, "#answer-multi")
    def _ticks_submitted(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    @on(Button.Pressed, "#type-examples")
    def _type_pressed(self) -> None:
        self.action_type_examples()
