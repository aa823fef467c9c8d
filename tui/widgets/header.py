"""The app's header: Textual's Header, safe against a title change while its screen is being removed.

The agent's worker updates the app's sub-title often (it is the status line every screen shows); Textual's
Header answers each change with `query_one(HeaderTitle)`, which raises NoMatches when the change lands
while a switched-away screen is taking the header apart, and that would end the app.

It also never shows a Python `None` from a status line that had a missing figure: that reads "—", and it
says the agent's status lines in the words the screens use (`plain_status`): the agent writes them for the
CLI and its logs ("generate: 12 examples with the teacher", "evaluate: 3 systems on the held-out test split").
"""

from __future__ import annotations

import re

from textual import events
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

_NONE = re.compile(r"\bNone\b")


def _word(pattern: str) -> re.Pattern:
    """A phrase as a whole word, never inside a path, a flag or a quoted key (`train/v1/adapter`, `--adapter`,
    `teacher:`)."""
    return re.compile(rf"(?<![\w/.`-]){pattern}(?![\w/-])", re.IGNORECASE)


# the agent's words → the screens' words (a bigger model, set-aside examples, the model you start from,
# the tuned model); the specific phrasings first
_STATUS_WORDS = (
    (_word(r"with the teacher"), "written by a bigger model"),
    (_word(r"(?:a |the )?second/third teacher answer"), "a second or third answer from a bigger model"),
    (_word(r"teacher-(?:generated|written)"), "written by a bigger model"),
    (_word(r"(?:a |the )?stronger teacher"), "a stronger model to write the examples"),
    (_word(r"the teacher's"), "the bigger model's"),
    (_word(r"(?:the |a )?teacher(?: model)?"), "a bigger model"),
    (_word(r"held[- ]out test (?:split|set|examples)"), "set-aside examples"),
    (_word(r"held[- ]out accuracy"), "accuracy on set-aside examples"),
    (_word(r"held[- ]out"), "set-aside"),
    (_word(r"(?:the )?base model's"), "the starting model's"),
    (_word(r"(?:the )?base model"), "the model you start from"),
    (_word(r"(?:the |a )?LoRA adapter"), lambda m: "the tuned model"),
    (_word(r"the adapter"), "the tuned model"),
    (_word(r"an adapter"), "a tuned model"),
    (_word(r"adapter"), "tuned model"),
    (_word(r"LoRA on"), lambda m: "tuning the model on"),  # an acronym: no capital carried over
)


def _keep_case(repl: str):
    def sub(m: re.Match) -> str:
        return repl[:1].upper() + repl[1:] if m.group(0)[:1].isupper() else repl

    return sub


def plain_status(text: str | None) -> str:
    """An agent status or log line in the words the screens use (the CLI prints the agent's own words);
    verdict phrasings and command-line hints as tools.evals.summary says them for a screen."""
    from tools.evals.summary import plain_reason

    out = str(text or "")
    for pat, repl in _STATUS_WORDS:
        out = pat.sub(repl if callable(repl) else _keep_case(repl), out)
    return plain_reason(out)


def clean_status(text: str | None) -> str:
    """A status line fit for the header: plain words, and no "None" for a figure nobody knew yet."""
    return _NONE.sub("—", plain_status(text))


class StatusHeader(Header):
    def format_title(self):
        return self.app.format_title(clean_status(self.screen_title), clean_status(self.screen_sub_title))

    def _on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # Header's own handler would register the unsafe watchers

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoScreen, NoMatches):
                pass  # being removed: nothing to show the title on

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
