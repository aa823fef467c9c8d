"""Data review: generated examples with critique scores and validator flags. Filter (all / flagged / low
score / unreviewed), accept / edit / reject by key, reach ≥10% reviewed, submit: the graph resumes with the
decisions and the agent writes the next data version from them (tools.data.review, the one implementation).

"Apply to similar" says how many examples it reaches and asks first, and refuses a catch-all group; the
counter counts ("reviewed 12 of 206 (target 21)"); rejecting most of what one reviews brings advice."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, ProgressBar, Static

from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader, plain_status
from tui.widgets.review import FILTERS, ConfirmDialog, EditDialog, ReviewItem, ReviewModel, load_review_items

ID_WIDTH = 8  # ids are 32-character hashes: the first 8 tell rows apart and leave room for the answer
FIXED = {"id": ID_WIDTH, "score": 5, "status": 12}  # score "2 ⚑": ⚑ marks a flagged example
# under WIDE columns (80×24) the input showed 11 characters: ids are cut to 5, and the score column goes (the
# detail below shows it; an undecided row's status says "⚑ flagged" or "low score" instead of "—")
WIDE = 100
NARROW_FIXED = {"id": 5, "status": 12}


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def compact(text: str) -> str:
    """An answer as short as it reads: a JSON answer without the spaces after its commas and colons."""
    stripped = text.strip()
    if stripped[:1] in "{[":
        import json

        try:
            return json.dumps(json.loads(stripped), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            pass
    return text


# the checks' code names, as a person reads them (the walk's detail said "unjudged, consistency_replaced")
FLAG_WORDS = {
    "unjudged": "not graded by a model",
    "consistency_replaced": "answer from a second opinion",
    "repaired": "answer fixed after a check",
    "truncated": "answer cut at the length limit",
    "student_correct": "the model you start from already gets it right",
    # the walk read "relabelled · label from examples" as jargon
    "relabelled": "answer changed to match your examples",
    "label_from_examples": "answer taken from your most similar example",
    "fixed_by_rules": "answer corrected by a rule from your examples",
    "inconsistent": "the model answered differently when asked again",
    "lenient_parse": "grade read loosely",
    "repeat": "repeated so rarer answers are learned too",
    "value_from_examples": "a value taken from your most similar example (the teacher gave one value to all)",
    "untrusted_field": "the teacher gave one value to every input here",
}
CRITIQUE_WORDS = {
    "no LLM judge: programmatic validators only": "checked by rules only (shape, fields, agreement), not graded "
    "by a model",
}


def poor_data_words(rejected: int, reviewed: int, left: int, edited: int = 0) -> tuple[str, str]:
    """(what the question before training on poor data says, its don't-train choice)."""
    from tools.data.review import wrong_words

    did = wrong_words(rejected, edited)
    if not left:  # walk 10 read "so the 0 you did not look at are probably as poor… drop the 0 unread too"
        return (
            f"{did} of the {reviewed} examples: too few are left to teach a model well.",
            "Don't train",
        )
    return (
        f"{did} of the {reviewed} examples you looked at, so the {left} you did not look "
        "at are probably as poor. Training on them would teach their mistakes.",
        f"Don't train: drop the {left} unread too",
    )


# walk 9 met "What is 15 percent of 80?" among its tenant requests and was told nothing of why it was there
GENERAL_MARK = "general: "


def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, str(flag).replace("_", " "))


def short_id(item_id: str, width: int = ID_WIDTH) -> str:
    return item_id if len(item_id) <= width else item_id[:width]


def column_widths(width: int) -> dict[str, int]:
    """Column widths for a terminal `width`: fixed narrow columns, the rest split between input and output,
    3:7 from WIDE columns up (the answer is what a review judges), 2:3 below it, where the input needs its
    room to be read at all (and the score column and the ids' last characters give it theirs)."""
    fixed = FIXED if width >= WIDE else NARROW_FIXED
    padding = 2 * (len(fixed) + 2)  # one cell of padding each side of every column
    free = max(20, width - sum(fixed.values()) - padding - 2)  # 2: the vertical scrollbar
    input_w = max(8, free * 3 // 10 if width >= WIDE else free * 2 // 5)
    return {**fixed, "input": input_w, "output": max(12, free - input_w)}


def latest_critiqued(run_path: Path) -> Path | None:
    """The newest iteration's critiqued.jsonl (for a session that is not waiting on a review)."""
    files = sorted(
        (run_path / "work").glob("iter*/critiqued.jsonl"), key=lambda p: int(p.parent.name[4:] or 0)
    )
    return files[-1] if files else None


def sent_words(items, decisions: list[dict]) -> str:
    """What the review sent on: the written examples kept, apart from general ones (walk 10 read "Sent: 3 of
    the 34" here and "2 of the 80 written for you" in the report: one of the 3 was a general example)."""
    rejected = {d["id"] for d in decisions if d["action"] == "reject"}
    general = [it for it in items if it.source == "general"]
    kept = sum(1 for it in items if it.id not in rejected and it.source != "general")
    text = f"Sent: {kept} of the {len(items) - len(general)} examples kept"
    if general:
        kept_general = sum(1 for it in general if it.id not in rejected)
        text += f", and {kept_general} of the {len(general)} general ones"
    return text + "; the next step goes on from them."


class ReviewScreen(Screen):
    SCREEN_NAME = "review"
    SUB_TITLE = "review the practice examples"  # walk 9's title still said "prompt, RAG or fine-tune"
    # Submit first: at 80 columns the footer shows the first keys and cuts the rest (F1 lists them all)
    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit"),
        Binding("a", "accept", "Accept"),
        Binding("r", "reject", "Reject"),
        Binding("e", "edit", "Edit"),
        Binding("p", "propagate", "Apply to similar"),
        Binding("u", "undo", "Undo"),
        Binding("f", "next_filter", "Filter"),
        Binding("escape", "app.go_home", "Home"),
    ]
    FOOTER_OPTIONAL = ("undo", "next_filter")  # dropped from a narrow footer first (the filter buttons stay)

    def __init__(self, run_id: str, pending: dict | None = None, *, file: str | Path | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.pending = pending
        self.file = Path(file or (pending or {}).get("file") or "") if (file or pending) else None
        self.model = ReviewModel([])
        self.active_filter = "all"
        self.shown: list[ReviewItem] = []
        self.submitted: list[dict] | None = None
        self.last_decided: str | None = None
        self._widths: dict[str, int] | None = None
        self._filtered_text = (
            ""  # what the checks removed, shown until the review's own advice takes its place
        )

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="review-filters"):
            for f in FILTERS:
                yield Button(f, id=f"filter-{f.replace(' ', '-')}", classes="filter")
        yield Static("", id="review-filtered")
        yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="review-advice")
        with VerticalScroll(id="review-detail"):
            yield Static("", id="review-detail-text")
        with Horizontal(id="review-progress-row"):
            yield ProgressBar(id="review-progress", show_eta=False, show_percentage=False)
            yield Static("", id="review-progress-text")
            yield Button("Submit", id="submit", variant="primary")
        yield FitFooter()

    def on_mount(self) -> None:
        self._setup_columns()
        self.load_items()
        self._show_filtered()

    def _setup_columns(self) -> bool:
        """(Re)create the table's columns for the terminal's width; True when they changed."""
        widths = column_widths(self.app.size.width)
        if widths == self._widths:
            return False
        self._widths = widths
        table = self.query_one("#review-table", DataTable)
        table.clear(columns=True)
        for key, w in widths.items():
            table.add_column(key, width=w, key=key)
        return True

    def on_resize(self) -> None:
        if self._setup_columns():
            self.refresh_table(keep_id=(self.current() or ReviewItem("", "", "")).id or None)

    @work(thread=True, exit_on_error=False)
    def load_items(self) -> None:
        path = self.file
        if path is None or not path.exists():
            path = latest_critiqued(self.app.workspace.run(self.run_id).path)
        items = load_review_items(path) if path else []
        private = False
        try:
            from tools.spec import load_spec

            spec_path = self.app.workspace.run(self.run_id).spec_path
            private = spec_path.exists() and load_spec(spec_path).private
        except Exception:  # noqa: BLE001 - advice wording only; a missing or odd spec reads as not private
            pass
        self.app.call_from_thread(self.set_items, items, path, private)

    def set_items(self, items: list[ReviewItem], path: Path | None = None, private: bool = False) -> None:
        self.file = path
        self.model = ReviewModel(items)
        self.model.private = private
        bar = self.query_one("#review-progress", ProgressBar)
        bar.update(total=max(self.model.required, 1), progress=0)
        self.refresh_table()
        self.query_one("#review-table", DataTable).focus()
        self.query_one("#submit", Button).disabled = self.pending is None
        if not items:
            self.query_one("#review-detail-text", Static).update("No generated examples to review yet.")

    # ------------------------------------------------------------------ display
    def shown_output(self, it: ReviewItem) -> str:
        """The answer as it will be kept: the person's edit when they made one (the walk's edited label kept
        showing the old value in the list)."""
        d = self.model.decisions.get(it.id) or {}
        return d["content"] if d.get("action") == "edit" and d.get("content") is not None else it.output

    def refresh_table(self, keep_id: str | None = None) -> None:
        table = self.query_one("#review-table", DataTable)
        self.shown = self.model.filtered(self.active_filter)
        w = self._widths or column_widths(self.app.size.width)
        table.clear()
        for it in self.shown:
            score = ("—" if it.score is None else str(it.score)) + (" ⚑" if it.flagged else "")
            table.add_row(
                short_id(it.id, w["id"]),
                *([score] if "score" in w else []),
                self.short_status(it.id),
                _short(GENERAL_MARK + it.input if it.source == "general" else it.input, w["input"]),
                _short(compact(self.shown_output(it)), w["output"]),
                key=it.id,
            )
        for f in FILTERS:
            self.query_one(f"#filter-{f.replace(' ', '-')}", Button).variant = (
                "primary" if f == self.active_filter else "default"
            )
        if keep_id is not None:
            ids = [it.id for it in self.shown]
            if keep_id in ids:
                table.move_cursor(row=ids.index(keep_id))
        self._update_progress()
        self._show_detail()

    def shown_id(self, item_id: str) -> str:
        """The id as the table shows it (the detail and messages name the row the same way)."""
        return short_id(item_id, (self._widths or FIXED)["id"])

    def short_status(self, item_id: str) -> str:
        """The status cell: the decision, and +N when it also applies to N similar examples; undecided, in a
        table without the score column, why the example deserves a look."""
        d = self.model.decisions.get(item_id)
        if d is None:
            it = self.model.by_id.get(item_id)
            if it is None or "score" in (self._widths or FIXED):
                return "—"
            return "⚑ flagged" if it.flagged else ("low score" if it.low else "—")
        word = {"accept": "accepted", "edit": "edited", "reject": "rejected"}[d["action"]]
        return word + (f" +{len(self.model.similar(item_id))}" if d.get("propagate") else "")

    def _update_progress(self) -> None:
        m = self.model
        self.query_one("#review-progress", ProgressBar).update(
            total=max(m.required, 1), progress=min(m.reviewed, max(m.required, 1))
        )
        self.query_one("#review-progress-text", Static).update(
            m.progress_text()
            + (f" · {len(self.shown)} {self.active_filter}" if self.active_filter != "all" else "")
        )
        advice = self.query_one("#review-advice", Static)
        text = m.advice()
        advice.update(escape(plain_status(text)))  # "a stronger teacher" in the screens' words
        advice.display = text is not None
        # at 80×24 the checks' summary and the advice do not both fit with the table and the Submit line
        # (walk 8 lost the counter and saw 3 rows): the advice, once there is one, takes the place
        self.query_one("#review-filtered", Static).display = bool(self._filtered_text) and text is None

    def current(self) -> ReviewItem | None:
        table = self.query_one("#review-table", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _show_detail(self) -> None:
        it = self.current()
        text = self.query_one("#review-detail-text", Static)
        if it is None:
            text.update("Nothing here with this filter." if self.model.items else "")
            return
        general = (
            "[b]A general example[/b], not one of your task's: mixed in so the model keeps its everyday "
            "skills. Reject it if its answer is wrong.\n"
            if it.source == "general"
            else ""
        )
        text.update(
            general
            + f"[b]{escape(self.shown_id(it.id))}[/b] score {it.score if it.score is not None else '—'} · "
            f"{escape(flag_words(it.category) if it.category else 'no category')} · "
            f"flags: {escape(', '.join(flag_words(f) for f in it.flags) or 'none')} · "
            f"{self.model.status(it.id)}\n[b]input[/b] {escape(it.input)}\n[b]output[/b] {escape(it.output)}\n"
            f"[b]check[/b] {escape(CRITIQUE_WORDS.get(it.critique or '', it.critique or '—'))}"
        )

    @on(DataTable.RowHighlighted, "#review-table")
    def _highlighted(self) -> None:
        self._show_detail()

    # ------------------------------------------------------------------ decisions
    def _decide(self, action: str, content: str | None = None, item: ReviewItem | None = None) -> None:
        it = item or self.current()
        if it is None:
            return
        self.model.decide(it.id, action, content=content)
        self.last_decided = it.id
        table = self.query_one("#review-table", DataTable)
        row = table.cursor_row
        if self.active_filter == "unreviewed":
            self.refresh_table()
            table.move_cursor(row=min(row, max(len(self.shown) - 1, 0)))
        else:
            table.update_cell(it.id, "status", self.short_status(it.id))
            w = self._widths or column_widths(self.app.size.width)
            table.update_cell(it.id, "output", _short(compact(self.shown_output(it)), w["output"]))
            table.move_cursor(row=min(row + 1, len(self.shown) - 1))
            self._update_progress()
        self._show_detail()

    def action_accept(self) -> None:
        self._decide("accept")

    def action_reject(self) -> None:
        self._decide("reject")

    def action_undo(self) -> None:
        it = self.current()
        if it is not None:
            self.model.undo(it.id)
            self.refresh_table(keep_id=it.id)

    def action_propagate(self) -> None:
        """Apply the highlighted example's decision (or the one just made) to every example like it: says
        how many that is and asks first; refuses when "like it" would be a catch-all group."""
        it = self.current()
        if (it is None or it.id not in self.model.decisions) and self.last_decided in self.model.decisions:
            it = self.model.by_id[self.last_decided]
        if it is None or it.id not in self.model.decisions:
            self.notify("Decide on this example first, then p applies it to all like it.", severity="warning")
            return
        d = self.model.decisions[it.id]
        if d.get("propagate"):
            self.model.toggle_propagate(it.id)
            self.refresh_table(keep_id=it.id)
            self.notify(f"{self.shown_id(it.id)}: now applies to this example only.")
            return
        others = self.model.similar(it.id)
        if not others:
            what = f"kind “{flag_words(it.category) if it.category else 'none'}”" + (
                f", marks {', '.join(flag_words(f) for f in it.flags)}" if it.flags else ""
            )
            self.notify(
                f"Nothing to apply it to: this example's {what} names no specific problem, or every "
                "example shares it. Decide the others one by one.",
                severity="warning",
                timeout=10,
            )
            return
        verb = {"reject": "Reject", "edit": "Apply the same edit to", "accept": "Accept"}[d["action"]]
        question = (
            f"{verb} {len(others)} other example{'s' if len(others) != 1 else ''} of {len(self.model.items)} "
            f"({', '.join(self.model.similar_by(it.id))}) as well? You will not see them one by one."
        )

        def answered(yes: bool | None) -> None:
            if yes and self.model.decisions.get(it.id) is d and not d.get("propagate"):
                self.model.toggle_propagate(it.id)
                self.refresh_table(keep_id=it.id)
                self.notify(f"{verb} {len(others)} similar example(s) too, when you submit.")

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_edit(self) -> None:
        it = self.current()
        if it is None:
            return

        from tools.data.checks import empty_parts_as_null

        spec = self._spec()

        def done(text: str | None) -> None:
            if text is not None:
                self._decide("edit", content=text, item=it)
                if dialog.tidied:
                    self.notify(
                        f"{', '.join(dialog.tidied)} left empty: written null (none), as in your examples."
                    )

        current = (self.model.decisions.get(it.id) or {}).get("content") or it.output
        dialog = EditDialog(
            it.id,
            it.input,
            current,
            check=self._answer_check(spec, it.input),
            tidy=(lambda text: empty_parts_as_null(text, spec)) if spec is not None else None,
            hint=edit_hint(spec),
        )
        self.app.push_screen(dialog, done)

    def _spec(self):
        """The session's task (None when it cannot be read: the edit is then taken as typed)."""
        from tools.spec import load_spec

        try:
            return load_spec(self.app.workspace.run(self.run_id).spec_path)
        except Exception:  # noqa: BLE001 - no readable task: the edit is taken as typed
            return None

    @staticmethod
    def _answer_check(spec, input_text: str):
        """The task's own answer rules (labels, JSON schema, values copied from the input) for the edit box."""
        from tools.data.checks import check_answer

        if spec is None:
            return None

        def check(text: str) -> str | None:
            problems = check_answer(text.strip(), spec, input_text, drift=False)
            return problems[0][1] if problems else None

        return check

    def set_filter(self, name: str) -> None:
        self.active_filter = name
        self.refresh_table()

    def action_next_filter(self) -> None:
        self.set_filter(FILTERS[(FILTERS.index(self.active_filter) + 1) % len(FILTERS)])

    def action_submit(self) -> None:
        if self.pending is None:
            self.notify("This session is not waiting on a review.", severity="warning")
            return
        if not self.model.enough:
            self.notify(
                f"Review at least {self.model.required} examples (10%) before submitting; "
                f"{self.model.reviewed} so far.",
                severity="warning",
            )
            return
        if self.model.advice() is not None:
            # the walk rejected 5 of the 5 it looked at, pressed Submit, and training started on the other 40
            self._ask_before_training_on_poor_data()
            return
        self._send(self.model.decisions_list())

    def _ask_before_training_on_poor_data(self) -> None:
        from tui.widgets.choice_dialog import ChoiceDialog

        left = len(self.model.items) - self.model.reviewed
        text, stop = poor_data_words(self.model.rejected, self.model.reviewed, left, self.model.edited)
        choices = [
            ("stop", stop, "d"),
            ("review", "Keep reviewing", "k"),
            ("train", "Train on them anyway", "t"),
        ]

        from tools.data.review import UNREAD_REASON

        def chosen(choice: str | None) -> None:
            if choice == "train":
                self._send(self.model.decisions_list())
            elif choice == "stop":
                for it in self.model.items:
                    if it.id not in self.model.decisions:
                        self.model.decide(it.id, "reject", reason=UNREAD_REASON)
                self.refresh_table()
                self._send(self.model.decisions_list())

        self.app.push_screen(ChoiceDialog(text, choices), chosen)

    def _send(self, decisions: list[dict]) -> None:
        self.submitted = decisions
        self.pending = None
        self.query_one("#submit", Button).disabled = True
        self.notify(sent_words(self.model.items, decisions))
        self.app.answer(self.run_id, self.submitted)

    def on_graph_paused(self, msg) -> None:
        self.pending = msg.interrupt
        self.file = Path(msg.interrupt.get("file") or "")
        self.load_items()
        self._show_filtered()

    def _show_filtered(self) -> None:
        text = filtered_summary(self.file.parent) if self.file else None
        self._filtered_text = text or ""
        w = self.query_one("#review-filtered", Static)
        w.update(escape(text or ""))
        w.display = text is not None and not self.query_one("#review-advice", Static).display

    @on(Button.Pressed, ".filter")
    def _filter_pressed(self, event: Button.Pressed) -> None:
        self.set_filter(str(event.button.label))

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()


def filtered_summary(workdir: Path) -> str | None:
    """One line on what the checks already removed before the person reviews (from the generate and
    critique steps of this round), so the review starts from what the machine could not tell."""
    import json

    def step(name: str) -> dict:
        p = Path(workdir) / f"{name}.json"
        try:
            return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        except (OSError, ValueError):
            return {}

    from tools.data.critique import drop_counts_words

    gen, crit = step("generate"), step("critique")
    if not gen and not crit:
        return None
    parts = []
    rejected = gen.get("rejected_inputs") or {}
    if rejected:
        groups: dict[str, int] = {}
        for reason, n in rejected.items():
            key = (
                "off task"
                if reason.startswith(("off task", "talks about", "written in the assistant"))
                else "near-duplicates"
                if reason.startswith("near-duplicate")
                else "other"
            )
            groups[key] = groups.get(key, 0) + n
        parts.append(
            f"{sum(rejected.values())} written inputs set aside ("
            + ", ".join(f"{n} {k}" for k, n in sorted(groups.items(), key=lambda kv: -kv[1]))
            + ")"
        )
    dropped = crit.get("dropped_by") or {}
    if dropped:
        parts.append(f"{sum(dropped.values())} answers dropped ({drop_counts_words(dropped)})")
    if gen.get("augmented"):
        parts.append(f"{gen['augmented']} made from your examples")
    from tools.data.critique import collapsed_words

    # the walk's bike shop: the writer said "complaint" to all 200 messages and only 1 repair was kept; the
    # line said "68 incorrect" and nothing of either
    who = "the model writing the examples"  # the small one on this computer, or the provider's
    parts += [collapsed_words(field, c, who=who) for field, c in (crit.get("collapsed") or {}).items()]
    short = [c for c in crit.get("coverage") or [] if c.get("short")]
    unseen = {(t["field"], t["value"]) for t in crit.get("topped_up") or [] if t.get("unseen")}
    held = {(t["field"], t["value"]) for t in crit.get("topped_up") or [] if t.get("held_for_test")}
    if short:
        # walk 27 at 80×24: the line ran past the 5 rows it has and left the table 4; the commonest 3 here
        words = [
            f"{_value_words(c['field'], c['value'])} ({c['kept']} of {c['planned']}"
            + (
                "; yours are all in the test)"
                if (c["field"], c["value"]) in held
                else "; none of your examples has it)"
                if (c["field"], c["value"]) in unseen
                else ")"
            )
            for c in short[:3]
        ]
        more = f" and {len(short) - 3} more" if len(short) > 3 else ""
        parts.append("few examples of " + ", ".join(words) + more)
    return ("Before you: " + "; ".join(parts) + ".") if parts else None


def edit_hint(spec) -> str | None:
    """The edit box's line on writing a part with no value, for a JSON task whose parts may be empty (walk 27:
    is a booking without a day "" or null?). None for other tasks."""
    from tools.data.checks import nullable_fields

    if spec is None or spec.output.format != "json":
        return None
    fields = sorted(nullable_fields(spec))
    if not fields:
        return None
    return f'A part with no value is written null, without quotes: "{fields[0]}": null (an empty "" becomes null).'


def _value_words(field: str, value) -> str:
    """A label, a field's value, or an empty field: "complaint", "de-shed", "no day" (was "day None")."""
    return f"no {field}" if value is None else str(value)
