"""Decision: the recommendation with its reasons, the rubric table, the probe's evidence and the estimate.
Accept it, change the answers (the interview again, in the same session, earlier answers as defaults),
or override the approach."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Markdown, Select, Static

from tui.widgets.footer import FitFooter
from tui.widgets.header import StatusHeader

APPROACHES = ("prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune")
FINE_TUNES = ("fine-tune", "rag+fine-tune")  # the paths that train a model: they offer a quick first try
# the override list's labels: short enough for its 26 columns at 80×24 (the full words are in the dialog)
SHORT_WORDS = {
    "prompt": "better prompt",
    "few-shot": "prompt + examples",
    "rag": "your documents",
    "fine-tune": "own small model",
    "rag+fine-tune": "own model + docs",
}

ESTIMATE_LABELS = {
    "hardware": "runs on",
    "cost_usd": "cost (US dollars)",
    "time_minutes": "time, all steps (minutes)",
    "generate_minutes": "  writing + checking examples",
    "train_minutes": "  training your model",
    "evaluate_minutes": "  testing the results",
    "gpu_hours": "GPU hours",
    "gpu_cost_usd": "GPU cost (US dollars)",
    "cpu_minutes_embedded": "CPU minutes (embedded model)",
}


def words(approach: str | None) -> str:
    """An approach in plain words ('train your own small model'), the name itself when unknown."""
    from agent.rubric import APPROACH_WORDS

    return APPROACH_WORDS.get(str(approach), str(approach or "?"))


def decision_markdown(decision: dict) -> str:
    from agent.rubric import APPROACH_HELP

    approach = decision.get("approach", "?")
    blocked = decision.get("practice") == "blocked"
    # walk 16: "My advice: train your own small model" above "expect most of [its practice answers] to be wrong"
    lines = [f"## My advice: **{words(approach)}**" + (" — but not yet" if blocked else ""), ""]
    if approach in APPROACH_HELP:
        lines += [f"_({APPROACH_HELP[approach]})_", ""]
    if decision.get("chosen") and decision.get("chosen") != decision.get("approach"):
        lines += [f"_You chose: **{words(decision['chosen'])}** instead._", ""]
    lines += ["**Why**", ""] + [f"- {r}" for r in decision.get("reasons") or []]
    if blocked:
        lines += [
            "",
            "**What you can do now:** press **e** to add examples of your own. **Accept** starts anyway: the "
            "small model writes the practice answers and your model learns its mistakes (the test at the end "
            "shows how far).",
        ]
    unseen = [tuple(u) for u in decision.get("unseen") or []]
    if unseen:
        from tools.data.coverage import unseen_words

        one = len(unseen) == 1
        lines += [
            "",
            f"**Before you go on:** none of your examples has {unseen_words(unseen)}. Practice examples are "
            f"written by imitating yours, so a tuned model would rarely answer {'it' if one else 'them'}. "
            f"Press **e** to add an example or two of {'it' if one else 'each'}.",
        ]
    return "\n".join(lines)


def blocked_text(decision: dict) -> str:
    """The "are you sure" before a training run whose practice answers the small model here would write
    mostly wrong (`agent.rubric.practice_data` "blocked"). Pure."""
    probe = decision.get("probe") or {}
    n, share = probe.get("n_test"), probe.get("correct_share")
    got = (
        f"got {round(float(share) * int(n))} of {n} of your examples right"
        if n and share is not None
        else ("got few of your examples right")
    )
    from agent.rubric import guess_words

    return (
        f"The small model on this computer {got}{guess_words(probe)}, and it would write all the practice "
        "answers: most of them "
        "would be wrong, and your model would learn the mistakes. The run takes a while and the test at the "
        "end shows how it did.\n\nStart anyway? (Back, then e, adds examples of your own: with about 50 the "
        "model trains on yours.)"
    )


def _minutes(e: dict) -> str:
    """'about 34 minutes (writing + checking examples 20.8, training 9.0, testing 2.4), $0.00'."""
    parts = [
        f"{label} {e[k]}"
        for k, label in (
            ("generate_minutes", "writing + checking examples"),
            ("train_minutes", "training"),
            ("evaluate_minutes", "testing"),
        )
        if e.get(k)
    ]
    return (
        f"about {e.get('time_minutes', '?')} minutes"
        + (f", perhaps up to {e['time_minutes_high']}" if e.get("time_minutes_high") else "")
        + (f" ({', '.join(parts)})" if parts else "")
        + f", ${float(e.get('cost_usd') or 0):.2f}"
    )


def _unmeasured(e: dict) -> str | None:
    """Which of this machine's speeds the estimate took from a benchmark, in words; None when both were
    measured here (walk 10 read 'writing at 33 tokens/s (measured here)' beside 'This machine's speed is
    not measured yet')."""
    import re

    said = str(e.get("assumptions") or "")
    which = [
        what
        for what, word in (("writing", "writing at"), ("training", "training at"))
        if re.search(rf"{word} [^()]*\(benchmark figure[^)]*not yet measured", said)
    ]
    if not which:
        return None
    return (
        f"This machine's {' and '.join(which)} speed is not measured yet (a benchmark figure is used): on a "
        "busy or slower machine it takes longer. The progress screens show the live time left."
    )


def _untimed_note() -> str:
    """Why the estimate gives a range: a whole round of writing and checking is untimed here (walk 24 read "speed
    measured here" beside "have not been timed on this computer yet": the speed came from a few answers)."""
    from agent.rates import UNTIMED_SPREAD

    return (
        "A whole round of writing and checking examples has not been timed on this computer yet (its speed "
        f"comes from a few answers): it can take up to {UNTIMED_SPREAD:g}× as long. Later estimates use the "
        "times measured here."
    )


def size_text(
    path: str,
    recommended: str | None,
    full: dict | None,
    quick: dict | None,
    quick_n: int,
    full_n: int | None,
    recommended_estimate: dict | None = None,
) -> str:
    """How big a first try: a quick one (fewer practice examples) or the full run, each with its estimate.
    `recommended` is set when the person overrides the advice (what was advised, and its estimate)."""
    lines = []
    if recommended:
        lines += [f"You chose: {words(path)} ({path}).", f"I advised: {words(recommended)}."]
    else:
        lines += [f"Going ahead: {words(path)} ({path})."]
    where = (full or quick or {}).get("hardware") or "this machine"
    lines += ["", f"How big a first try? On {where}:"]
    if quick:
        lines.append(
            f"• Quick try: {quick_n} practice examples, {_minutes(quick)}. A first look: the test is small, so "
            "the result may say it cannot tell yet"
            # walk 13: said of a hosted teacher too, after an API key was pasted
            + (
                "; with the built-in model about half of the examples pass the checks, and with fewer than 20 "
                "left nothing is trained."
                if quick.get("local_teacher", True)
                else "."
            )
        )
    if full:
        lines.append(f"• Full run: {full_n or 'all the'} practice examples, {_minutes(full)}.")
    if unmeasured := _unmeasured(full or quick or {}):
        lines.append(unmeasured)
    if (full or quick or {}).get("time_minutes_high"):
        lines.append(_untimed_note())
    if recommended_estimate and recommended_estimate.get("time_minutes") is not None:
        lines.append(f"(What I advised: {_minutes(recommended_estimate)}.)")
    return "\n".join(lines)


def override_text(
    choice: str, recommended: str | None, estimate: dict | None, recommended_estimate=None, probe=None
) -> str:
    """What the confirmation before an override says: the choice, what was advised, how a prompt did when it
    was measured (for a prompt path: walk 29 chose "a prompt with examples" with no word that it had just got
    1 of 12), and the choice's own estimate."""
    lines = [f"You chose: {words(choice)} ({choice}).", f"I advised: {words(recommended)}."]
    p = probe or {}
    if (
        choice in ("prompt", "few-shot")
        and p.get("measured")
        and p.get("n_test")
        and p.get("correct_share") is not None
    ):
        n = int(p["n_test"])
        lines.append(
            f"Measured before: a prompt with {p.get('n_shots') or 'some'} of your examples got "
            f"{round(float(p['correct_share']) * n)} of {n} of the others fully right."
        )
    lines.append("")
    e = estimate or {}
    if e:
        parts = [
            f"{label.strip()} {e[k]}"
            for k, label in (
                ("generate_minutes", "writing + checking examples"),
                ("train_minutes", "training"),
                ("evaluate_minutes", "testing"),
            )
            if e.get(k)
        ]
        lines.append(
            f"Estimate for your choice, on {e.get('hardware') or 'this machine'}: about {e.get('time_minutes', '?')} "
            f"minutes"
            + (f", perhaps up to {e['time_minutes_high']}" if e.get("time_minutes_high") else "")
            + (f" ({', '.join(parts)})" if parts else "")
            + f", cost ${float(e.get('cost_usd') or 0):.2f}."
        )
        if e.get("time_minutes_high"):
            lines.append(_untimed_note())
        if unmeasured := _unmeasured(e):
            lines.append(unmeasured)
    else:
        lines.append("No estimate is available for this path.")
    r = recommended_estimate or {}
    if r.get("time_minutes") is not None:
        lines.append(
            f"(What I advised: about {r['time_minutes']} minutes, ${float(r.get('cost_usd') or 0):.2f}.)"
        )
    lines += ["", "Start your choice now?"]
    return "\n".join(lines)


def probe_text(probe: dict | None, example: dict | None = None) -> str:
    """The probe's evidence in plain words: the score, on how many of the person's examples, and one answer."""
    if not probe:
        return (
            "I did not measure how well a prompt works: I used your answer (with 4 or more examples and "
            "'unknown' as the answer, I measure it on them)."
        )
    if probe.get("measured") is False:
        return f"Probe: not measured — {probe.get('reason') or 'too few examples'}."
    bits = []
    ps, n = probe.get("prompted_success"), probe.get("n_test")
    shots = probe.get("n_shots")
    cs = probe.get("correct_share")
    if ps is not None:
        who = "The model you start from, shown " + (
            f"{shots} of your examples" if shots else "your instructions"
        )
        if probe.get("with_documents"):
            who += " and the passages of your documents that match each question"
        # each half answered with the other half shown: "on 10 others" read as ten more than were given
        on = (
            (f" on {n} of them, each with others shown" if probe.get("swapped") else f" on {n} others")
            if n
            else ""
        )
        from tools.evals.summary import PARTIAL_WORDS, right_words

        partial = PARTIAL_WORDS.get(str(probe.get("metric") or ""))
        if cs is not None and n:
            # walk 29 read "got 1 of 12 fully right on 12 of them": the count already says how many
            right = f"got {round(cs * n)} of {n} {right_words(probe.get('metric'))}"
            each = ", each answered with others shown" if probe.get("swapped") else ""
            bits.append(
                f"{who}, {right}{each}" + (f" ({ps:.0%} {partial} on average)" if partial else f" ({ps:.0%})")
            )
        else:
            bits.append(f"{who}, scored {ps:.0%}{on}")
        bits.append("the final verdict is measured the same way")
    text = "How well prompting works now: " + (
        "; ".join(bits) if bits else ", ".join(f"{k}={v}" for k, v in probe.items())
    )
    if example:
        mark = "✔ right" if example.get("correct") else "✗ not what you expected"
        value = example.get("value")
        if (
            (probe or {}).get("metric") in ("token_f1", "rouge_l")
            and isinstance(value, (int, float))
            and value < 1
        ):
            # walk 17: "THURSDAY AM" for "THU PM" read "✔ right"
            mark = f"{'≈ close' if example.get('correct') else '✗ not what you expected'}: {value:.0%} of the words match"
        text += (
            f"\nOne of its answers — input: {_clip(example.get('input'))}\n"
            f"  it answered: {_clip(example.get('prediction'))}\n"
            f"  you expected: {_clip(example.get('reference'))}  ({mark})"
        )
    return text


# what a partial score means, per metric (a share of fields is not a share of answers)


def _clip(text, n: int = 120) -> str:
    s = " ".join(str(text or "").split())
    return escape(s if len(s) <= n else s[: n - 1] + "…")


def estimate_rows(estimate: dict | None) -> list[tuple[str, str]]:
    rows = []
    for k, v in (estimate or {}).items():
        if k not in ESTIMATE_LABELS:
            # for the program, never a raw row on screen: the path, local_teacher, the time's upper bound (said
            # beside the time), token counts (in decision.json and the CLI; on screen they only raise the
            # question "what is a token?")
            continue
        if k.startswith("gpu_") and not v:
            continue  # no GPU here (or none needed): "GPU hours 0" would only mislead
        if k in ("cost_usd", "gpu_cost_usd") and isinstance(v, (int, float)):
            rows.append((ESTIMATE_LABELS[k], f"${v:,.2f}"))
            continue
        if k == "generate_minutes" and estimate and estimate.get("path") in FINE_TUNES:
            if not v and not estimate.get("data_generation_tokens"):
                # trained on the person's own examples: "0.0" minutes read like a missing figure
                rows.append((ESTIMATE_LABELS[k], "none: your own examples"))
                continue
        if k == "time_minutes" and estimate and estimate.get("time_minutes_high"):
            rows.append((ESTIMATE_LABELS[k], f"{v:,} (perhaps up to {estimate['time_minutes_high']:,})"))
            continue
        rows.append((ESTIMATE_LABELS[k], f"{v:,}" if isinstance(v, int) else str(v)))
    return rows


class DecisionScreen(Screen):
    SCREEN_NAME = "decision"
    BINDINGS = [
        Binding("escape", "app.go_home", "Home"),
        Binding("a", "accept", "Accept"),
        Binding("c", "change_answers", "Change answers"),
        Binding("o", "override", "Override"),
        Binding("e", "add_examples", "Add examples"),
        Binding("i", "add_inputs", "Real messages", show=False),
        Binding("k", "api_key", "API key", show=False),
        Binding("r", "run_again", "Decide again", show=False),
        # the page keys scroll the advice wherever the focus is (the override list kept them otherwise)
        Binding("pagedown", "scroll_body('down')", "Scroll down", show=False),
        Binding("pageup", "scroll_body('up')", "Scroll up", show=False),
    ]

    def __init__(self, run_id: str, pending: dict | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.pending = pending
        self.decision: dict = dict((pending or {}).get("decision") or {})
        self.sent: str | None = None
        self._warned = False  # the person read the "not yet" warning and chose to start anyway

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll(id="decision-body"):
            yield Markdown("", id="decision-md")
            yield Static("How I decided: the rules, and what I know", classes="section-title")
            yield DataTable(id="rubric", cursor_type="row", show_cursor=False)
            yield Static("", id="probe")
            yield Static("Estimate", classes="section-title", id="estimate-title")
            yield DataTable(id="estimate", show_cursor=False)
            yield Static("", id="assumptions")
            yield Markdown("", id="next-steps")
            yield Static(
                "Not what you want? Pick another path in the list at the bottom right, then Override: "
                "you see its estimate before anything starts. F1 explains every word.",
                id="decision-help",
            )
        with Horizontal(id="decision-actions"):
            yield Button("Accept", id="accept", variant="success")
            yield Button("Change answers", id="change")
            yield Select(
                [(SHORT_WORDS[a], a) for a in APPROACHES],
                prompt="or choose…",
                id="override-choice",
                allow_blank=True,
            )
            yield Button("Override", id="override", variant="warning")
        yield FitFooter()

    def on_mount(self) -> None:
        from textual.css.query import NoMatches

        try:
            rubric = self.query_one("#rubric", DataTable)
        except NoMatches:  # the app closed while this screen was being built: nothing to show
            return
        rubric.add_column("applies", width=7)
        # a fixed width, and rows as tall as their wrapped text: nothing is cut at 80 columns
        rubric.add_column("rule — and what I know", width=max(30, self.app.size.width - 16))
        self.query_one("#estimate", DataTable).add_columns("item", "value")
        if self.decision:
            self.show_decision(self.decision)
        else:
            self.load_decision()

    @work(thread=True, exit_on_error=False)
    def load_decision(self) -> None:
        from tools.workspace import read_json

        p = self.app.workspace.run(self.run_id).decision_path
        decision = read_json(p) if p.exists() else {}
        self.app.call_from_thread(self.show_decision, decision)

    @work(thread=True, exit_on_error=False, group="probe-example")
    def load_probe_example(self, probe: dict) -> None:
        """One of the probe's answers (kept with the probe's result in the run), shown under its score."""
        from agent.artifacts import load_step

        saved = load_step(self.app.workspace.run(self.run_id), 0, "probe") or {}
        rows = saved.get("rows") or []
        if rows and saved.get("signature") == probe.get("signature"):
            text = probe_text(probe, rows[0])
            self.app.call_from_thread(self.query_one("#probe", Static).update, text)

    def action_add_examples(self) -> None:
        self.app.add_examples_to(self.run_id)

    def action_add_inputs(self) -> None:
        if self.decision.get("approach") not in FINE_TUNES:
            # walk 17 gave 40 messages on a prompt's advice and nothing changed: say why instead
            self.notify(
                "Real messages are what practice answers are written for when a model is trained; the advice "
                "here trains none, so they would not change it. Override to 'train your own small model' first "
                "if that is what you want.",
                severity="warning",
                timeout=12,
            )
            return
        self.app.add_inputs_to(self.run_id)

    def _inputs_hint(self, decision: dict) -> str:
        """On a path that trains a model whose practice messages the model would make up: where real ones
        go (the slugs bench's writer made up "Cad Aromafro (Wine)" beside a catalogue of real titles)."""
        from tools.workspace import read_yaml

        if decision.get("approach") not in FINE_TUNES or decision.get("practice") in ("own", "blocked"):
            return ""
        p = self.app.workspace.run(self.run_id).spec_path
        if p.exists() and (read_yaml(p) or {}).get("inputs"):
            return ""
        return (
            "\n\nHave real messages without answers (past emails, your catalogue's titles)? Press **i** to "
            "give a file of them, one per line: the practice answers are written for them instead of for "
            "messages the model makes up."
        )

    def show_decision(self, decision: dict) -> None:
        self.decision = decision
        if not decision:
            self.query_one("#decision-md", Markdown).update(
                "# No decision yet\n\nFinish the interview first."
            )
            return
        text = decision_markdown(decision)
        if "API key" in text:
            from tui.widgets.api_key_dialog import key_is_set

            # walk 13: "set an API key and run again", and no way to do either without leaving the app
            text += (
                "\n\nAn API key is set now: press **r** to decide again with it (your answers are kept)."
                if key_is_set()
                else "\n\nPress **k** to paste an API key (used in this window only, never saved), then **r** "
                "to decide again with it (your answers are kept)."
            )
        self.query_one("#decision-md", Markdown).update(text)
        rubric = self.query_one("#rubric", DataTable)
        rubric.clear()
        for r in decision.get("rubric") or []:
            # a rule that applies but was not followed is not ticked like one that decided (walk 24 read "Fewer
            # than 50 examples → a prompt with examples ✔" beside the advice to train)
            followed = "not followed here" not in str(r.get("evidence") or "")
            rubric.add_row(
                ("✔" if followed else "○") if r.get("fired") else "·",
                Text.assemble(r.get("rule", ""), "\n", (f"  {r.get('evidence', '')}", "dim")),
                height=None,
            )
        self.query_one("#probe", Static).update(probe_text(decision.get("probe")))
        if (decision.get("probe") or {}).get("measured"):
            self.load_probe_example(decision["probe"])
        self.show_estimate(None)
        steps = decision.get("next_steps") or []
        self.query_one("#next-steps", Markdown).update(
            "## What happens next\n\n" + "\n".join(f"1. {s}" for s in steps) + self._inputs_hint(decision)
        )
        waiting = self.pending is not None
        for bid in ("#accept", "#override", "#override-choice"):
            self.query_one(bid).disabled = not waiting
        if not waiting:
            self._working()

    def show_estimate(self, choice: str | None) -> None:
        """The estimate table: the recommendation's, or the path picked in the override list."""
        recommended = self.decision.get("approach")
        estimate = (
            self.estimate_for(choice) if choice and choice != recommended else self.decision.get("estimate")
        )
        title = (
            "Estimate"
            if not choice or choice == recommended
            else f"Estimate for your choice: {words(choice)}"
        )
        self.query_one("#estimate-title", Static).update(title)
        est = self.query_one("#estimate", DataTable)
        est.clear()
        for k, v in estimate_rows(estimate):
            est.add_row(k, v)
        self.query_one("#assumptions", Static).update(
            f"How this was estimated: {(estimate or {}).get('assumptions', '—')}"
        )

    def estimate_for(self, approach: str) -> dict:
        """The estimate for any path: the decision step's own (it sends every path's), else worked out here
        from this machine's recorded rates and the task's size (a session decided before it sent them)."""
        given = ((self.pending or {}).get("estimates") or {}).get(approach)
        if given:
            return dict(given)
        if approach == self.decision.get("approach") and self.decision.get("estimate"):
            return dict(self.decision["estimate"])
        try:
            from agent.rates import estimate_path, example_tokens, machine_rates
            from tools.workspace import read_yaml

            spec_path = self.app.workspace.run(self.run_id).spec_path
            task = (read_yaml(spec_path) or {}) if spec_path.exists() else {}
            teacher = task.get("teacher") or {}
            who = (
                f"{teacher.get('provider')}:{teacher.get('model') or 'default'}"
                if teacher.get("provider")
                else None
            )
            return estimate_path(
                approach,
                n_examples=int(task.get("n_examples") or 200),
                rates=machine_rates(self.app.workspace, measure=False),
                tokens_per_example=example_tokens(task.get("examples")),
                n_checked=len(task.get("examples") or []),
                **({"teacher": who} if who else {}),
            )
        except Exception:  # noqa: BLE001 - an estimate never blocks a choice
            return {}

    def _working(self) -> None:
        """Once accepted (or decided earlier), no Accept to press: the button says the agent works on it."""
        accept = self.query_one("#accept", Button)
        accept.disabled = True
        working = self.sent is not None or self.run_id in getattr(self.app, "busy", ())
        accept.label = "working…" if working else "decided"

    def _resume(self, answer) -> None:
        if self.pending is None:
            self.notify(
                "This decision is already made; start a new session to decide again.", severity="warning"
            )
            return
        self.sent = answer
        self.pending = None
        for bid in ("#accept", "#override", "#override-choice"):
            self.query_one(bid).disabled = True
        self._working()
        choice = answer.get("choice") if isinstance(answer, dict) else answer
        path = self.decision.get("approach") if choice == "accept" else choice
        if path in APPROACHES:
            size = (
                f" (a quick first try: {answer['n_examples']} examples)" if isinstance(answer, dict) else ""
            )
            self.notify(f"Going ahead: {words(path)}{size}…")
        self.app.answer(self.run_id, answer)

    def action_scroll_body(self, direction: str) -> None:
        body = self.query_one("#decision-body", VerticalScroll)
        if direction == "down":
            body.scroll_page_down()
        else:
            body.scroll_page_up()

    def action_accept(self) -> None:
        self._go("accept")

    def _go(self, choice: str) -> None:
        """Send 'accept' or the chosen approach. A path that trains a model first asks how big a first try
        (quick, or the full run, each with its estimate); another path than the advice first shows its
        estimate and asks."""
        if self.pending is None:
            self._resume(choice)  # says the decision is already made
            return
        recommended = self.decision.get("approach")
        path = recommended if choice == "accept" else choice
        overriding = path != recommended
        if choice == "accept" and self.decision.get("practice") == "blocked" and not self._warned:
            from tui.widgets.review.confirm_dialog import ConfirmDialog

            def warned(yes: bool | None) -> None:
                if yes:
                    self._warned = True
                    self._go(choice)
                else:
                    self.notify("Nothing started: press e to add examples of your own.")

            self.app.push_screen(
                ConfirmDialog(blocked_text(self.decision), yes="Start anyway", no="Back"), warned
            )
            return
        quick = (self.pending or {}).get("quick") or {}
        if path in FINE_TUNES and quick.get("n_examples"):
            from tui.widgets.choice_dialog import ChoiceDialog

            text = size_text(
                path,
                recommended if overriding else None,
                self.estimate_for(path),
                dict((quick.get("estimates") or {}).get(path) or {}),
                int(quick["n_examples"]),
                quick.get("full_n_examples"),
                self.decision.get("estimate") if overriding else None,
            )

            def sized(answer: str | None) -> None:
                if answer == "quick":
                    self._resume({"choice": choice, "n_examples": int(quick["n_examples"])})
                elif answer == "full":
                    self._resume(choice)
                else:
                    self.notify("Nothing started: accept the advice, or pick another path.")

            choices = [("quick", "Quick try", "q"), ("full", "Full run", "f"), ("back", "Back", "n")]
            self.app.push_screen(ChoiceDialog(text, choices), sized)
            return
        if not overriding:
            self._resume(choice)
            return
        from tui.widgets.review.confirm_dialog import ConfirmDialog

        text = override_text(
            path,
            recommended,
            self.estimate_for(path),
            self.decision.get("estimate"),
            self.decision.get("probe"),
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._resume(choice)
            else:
                self.notify("Nothing started: accept the advice, or pick another path.")

        self.app.push_screen(ConfirmDialog(text, yes="Start it", no="Back"), answered)

    def action_api_key(self) -> None:
        def refresh() -> None:
            if self.decision:
                self.show_decision(self.decision)

        self.app.ask_api_key(self.run_id, then=refresh)

    def action_run_again(self) -> None:
        if self.run_id:
            self.app.run_again(self.run_id)

    def action_override(self) -> None:
        sel = self.query_one("#override-choice", Select)
        if sel.value not in APPROACHES:
            # open the list of paths right here (the walk needed Tab three times to find it): the path
            # picked from it goes on as Override would, through the same "are you sure"
            sel.focus()
            sel.action_show_overlay()
            self._override_pending = True
            return
        self._go(str(sel.value))

    @on(Select.Changed, "#override-choice")
    def _choice_changed(self, event: Select.Changed) -> None:
        if self.decision:
            self.show_estimate(str(event.value) if event.value in APPROACHES else None)
        if getattr(self, "_override_pending", False) and event.value in APPROACHES:
            self._override_pending = False
            self._go(str(event.value))

    def action_change_answers(self) -> None:
        """Back to the interview in this same session (every earlier answer offered as the default);
        once the decision is made, a new session pre-filled with the answers."""
        if self.pending is not None:
            from agent.nodes.decide import CHANGE

            self._resume(CHANGE)
            return
        values = self.app.run_values.get(self.run_id) or {}
        answers = dict(values.get("answers") or {})
        if not answers:
            from tools.workspace import read_yaml

            p = self.app.workspace.run(self.run_id).spec_path
            if p.exists():
                answers = dict((read_yaml(p) or {}).get("answers") or {})
        self.app.new_session(defaults=answers)

    def on_graph_paused(self, msg) -> None:
        self.pending = msg.interrupt
        self.show_decision(dict(msg.interrupt.get("decision") or {}))

    @on(Button.Pressed, "#accept")
    def _accept(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#override")
    def _override(self) -> None:
        self.action_override()

    @on(Button.Pressed, "#change")
    def _change(self) -> None:
        self.action_change_answers()
