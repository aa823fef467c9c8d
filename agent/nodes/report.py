"""report: the run's final summary (why it stopped, iterations, verdict table) and the export."""

from __future__ import annotations

import re

from langgraph.runtime import Runtime

from agent.context import AgentContext
from agent.state import AgentState, StopReason
from tools.evals.summary import (
    BY_HAND,
    PARTIAL_WORDS,
    USABLE_SHARE,
    advises_by_hand,
    careful_numbers,
    column_help,
    count_train_rows,
    metric_in_words,
    plain_summary,
    system_rows,
)
from tools.evals.verdict import verdict_word
from tools.workspace import atomic_write_json, atomic_write_text, read_json, read_jsonl

STOP_REASONS: dict[StopReason, str] = {
    "success": "the success criteria were met",
    "iteration_limit": "the iteration limit was reached before the criteria were met",
    "budget": "the budget would have been exceeded by the next paid call",
    "no_failures_to_target": "it got every practice example it did not train on right: nothing left to aim "
    "new examples at",
    "no_practice_rows": "no practice examples were kept aside for the tuned model to try between rounds, so "
    "there was nothing to aim new examples at",
    "stopped_by_you": "you stopped before another round",
    "too_few_examples": "too few examples held up after checking to train a model on",
    "no_writer": "the model that would write the practice answers got too few of your examples right",
    "own_examples_used": "your own examples were all there was to train on: the model here cannot write more "
    "that are right",
    "approach:few-shot": "the decision was a prompt with some of your examples in it: nothing to train",
    "approach:prompt": "the decision was a better prompt: nothing to train",
    "approach:rag": "the decision was retrieval over your documents: nothing to train",
}


def prompt_plain(result: dict | None, session: str | None = None) -> dict | None:
    """The prompt branch's result in plain words (how the chosen prompt did on the person's held-out
    examples), in the shape of the evaluation's plain summary; `session` (its id)
    makes the way to use the prompt a command. Pure."""
    best = (result or {}).get("best") or {}
    n = best.get("n_held_out")
    if not n or best.get("accuracy") is None:
        return None
    shots, acc, right = best.get("shots", 0), best["accuracy"], best.get("correct")
    with_ = (
        f"your instructions and {shots} of your examples in its prompt"
        if shots
        else "your instructions alone"
    )
    got = f"got {right} of {n}" if right is not None else f"scored {acc:.0%} on"
    bad = best.get("numbers_not_in_message") or 0
    sentence = (
        f"With {with_}, the model you start from {got} of your other examples fully right"
        # "(80% on average)" beside 9 of 15 read as arithmetic gone wrong (walk 26): what the 80% counts
        + (
            f" ({acc:.0%} {PARTIAL_WORDS[metric]} on average)"
            if right is not None and (metric := (result or {}).get("metric")) in PARTIAL_WORDS
            else ""
        )
        + ". No model was trained."
        + _first_check_words(result or {}, right, n)
        + careful_numbers([f"this prompt {bad} of {n}"] if bad else [])
    )
    good = (right / n if right is not None else acc) >= 0.8
    # walk 17: "use this prompt with your model" — the person had no model: the one measured here serves it
    use = (
        f"`tunewise serve --prompt {session}` answers other programs with it, using the model you start from"
        if session
        else "`tunewise serve --prompt` with this session's id answers other programs with it"
    )
    # half the examples were shown, half answered (select_prompt): walk 22b had 53 and was told "collect about 50"
    have = 2 * n
    more = (
        f"Collect about 50 more examples (you have about {have}) and run again — with that many more, a "
        "fine-tuned model can do better."
        if have >= 30
        else "Collect about 50 examples and run again — with that many, a fine-tuned model can do better."
    )
    if good:
        rec = f"Use this prompt: paste it into a chatbot or AI tool you use, if you have one, or {use}."
    elif right is not None and right / n < USABLE_SHARE:
        # walk 22: a prompt right on few of the person's examples is no help even with a person checking
        rec = (
            f"{BY_HAND.capitalize()}: this prompt was right on only {right} of your other {n} "
            f"examples, not often enough to use even with a person checking. {more}"
        )
    else:
        # walk 28's groomer, 15 bookings a day, read "use this prompt for now, but check its answers" beside 8
        # of 15 and kept doing it by hand: checking every answer can cost what writing it does — say so
        wrong = f" (wrong on {n - right} of {n})" if right is not None else ""
        rec = (
            f"It is wrong too often to use unchecked{wrong}. If checking an answer is quicker for you than "
            f"writing it, use this prompt for now ({use}) and check every answer; if not, carry on as you do "
            f"now. {more}"
        )
    return {"sentence": sentence, "recommendation": rec, "status": "none", "kind": "prompt"}


def _first_check_words(result: dict, right: int | None, n: int) -> str:
    """ " (The advice's first check, with 6 other examples shown, got 6 of 12: …)" when the probe that led to
    the advice counted differently from the trial: walk 28 read "6 of 12" in the advice and "8 of 15" in the
    result, for the same kind of prompt, and could not tell which to believe. "" otherwise. Pure."""
    first = result.get("first_check") or {}
    if not first.get("n") or (first.get("right"), first.get("n")) == (right, n):
        return ""
    shots = f", with {first['shots']} other examples shown," if first.get("shots") else ""
    return (
        f" (The advice's first check{shots} got {first.get('right')} of {first['n']}: it showed and asked other "
        "examples than this trial, which tried several prompts and kept the best — this count is the one to "
        "go by.)"
    )


def rag_plain(result: dict | None, teacher_embedded: bool = True) -> dict | None:
    """The retrieval branch's measurement in plain words (shape of plain_summary): how many of the person's
    examples the model got fully right with and without the matching passages. Pure."""
    n = (result or {}).get("n")
    if not n or result.get("accuracy_with") is None:
        return None

    def count(share) -> int:
        return round(float(share or 0.0) * n)

    with_, without = count(result["accuracy_with"]), count(result["accuracy_without"])
    found = count(result.get("context_recall"))
    sentence = (
        f"With the matching passages of your documents in its prompt, the model you start from got {with_} of "
        f"{n} of your examples fully right ({without} of {n} without them); the passages held your answer for "
        f"{found} of {n}. No model was trained."
    )
    if with_ / n >= 0.8:
        rec = "Use it: keep your documents current and nothing needs retraining when they change."
    elif found / n < 0.5:
        rec = (
            "The passages it finds often miss the answer: put each fact in a sentence of its own in your "
            "documents (see retrieval.md for what was found for each question), then run again."
        )
    else:
        rec = "The passages hold the answers, but the model often reads them wrong." + (
            " It is small: set an API key (OpenAI or Anthropic) so a larger model reads them, and run again."
            if teacher_embedded
            else " Try a larger model, or add examples of good answers to the prompt."
        )
    return {"sentence": sentence, "recommendation": rec, "status": "none", "kind": "rag"}


def too_few_plain(run, state: AgentState) -> dict | None:
    """The plain sentence and advice when too few examples held up to train on (shape of plain_summary)."""
    from agent.artifacts import load_step

    it = state.get("iteration") or 1
    crit, split = load_step(run, it, "critique") or {}, load_step(run, it, "split") or {}
    # the walk: "'your prompt' — I never wrote a prompt": without one, it is the description and examples
    prompt = (
        "your prompt" if (state.get("task") or {}).get("system_prompt") else "a prompt with your examples"
    )
    n_train = (split.get("counts") or {}).get("train")
    if n_train is None:
        return None
    n_train -= (split.get("repeats") or 0) + (split.get("general") or 0)
    made, kept = crit.get("generated"), crit.get("kept") or 0
    review = load_step(run, it, "review") or {}
    from tools.data.review import UNREAD_REASON

    dropped = [
        d for d in review.get("decisions") or [] if d.get("action") == "reject" and not d.get("skipped")
    ]
    unread = sum(1 for d in dropped if d.get("reason") == UNREAD_REASON)
    rejected = len(dropped) - unread
    passed = f"{kept} of the {made} written for you passed the checks" if made else ""
    if review.get("mode") == "person" and dropped:
        # the walk dropped what it had not read after rejecting most it read: say that, not "kept aside";
        # walk 8 read "you rejected 128" where it had rejected 11 and left out the 117 it had not read
        passed += f"{'; ' if passed else ''}you rejected {rejected} of them" + (
            f" and left out the {unread} you had not read" if unread else ""
        )
    elif passed and kept > n_train:
        passed += "; the rest of those are kept aside to test with"
    own = _own_in_train(run, split)
    if own:
        # walk 9 read "Only 7 examples held up" having given 14 and kept 1 of 29: say where the 7 come from
        n_own = len((state.get("task") or {}).get("examples") or [])
        aside = (split.get("counts") or {}).get("golden") or split.get("own_test") or 0
        theirs = f"{own} of your {n_own}" + (
            f" (the other {aside} are kept aside to test with)" if aside else ""
        )
        made_part = (
            f" and {n_train - own} of the {made} written for you ("
            + passed.replace(f"{kept} of the {made} written for you passed", f"{kept} passed")
            + ")"
            if made
            else ""
        )
        sentence = (
            f"Only {n_train} examples held up to learn from: {theirs}{made_part}. Too few to train a model "
            f"that does better than {prompt}, so none was trained."
        )
    else:
        sentence = (
            f"Only {n_train} examples held up to learn from"
            + (f" ({passed})" if passed else "")
            + f": too few to train a model that does better than {prompt}, so none was trained."
        )
    how = _more_examples_how(state)
    measured = _probe_words(run)
    if measured:
        # "keep using your prompt" read as a contradiction when the same report said the prompt gets 17% right
        rec = (
            f"{prompt[:1].upper()}{prompt[1:]} {measured} when it was checked, so it is no "
            "answer either: "
            f"to get a model that does better, {how}"
        )
    else:
        rec = f"Keep using {prompt} for now. To fine-tune, {how}"
    return {"sentence": sentence, "recommendation": rec, "status": "none", "kind": "data"}


def summarize(run, state: AgentState) -> dict:
    """Comparison rows for the final evaluation: base zero-shot vs few-shot vs tuned, with prompt tokens."""
    ev = state.get("eval_version")
    if not ev or not (run.path / "eval" / ev / "report.json").exists():
        return {}
    rep = read_json(run.path / "eval" / ev / "report.json")
    outputs = run.path / "eval" / ev / "outputs.jsonl"
    out_rows = list(read_jsonl(outputs)) if outputs.exists() else []
    pm = rep.get("primary_metric")
    rows = []
    for name, s in rep.get("systems", {}).items():
        m = s.get("metrics", {}).get(pm, {})
        rows.append(
            {
                "system": name,
                "kind": s.get("kind"),
                "primary": m.get("mean"),
                "ci": m.get("ci"),
                "format_rate": s.get("format_rate"),
                "prompt_tokens": s.get("prompt_tokens_mean"),
            }
        )
    return {
        "primary_metric": pm,
        "rows": rows,
        "verdict": rep.get("verdict", {}),
        "eval_version": ev,
        "report": str(run.path / "eval" / ev / "report.md"),
        # the same sentence, recommendation and table as the TUI, report.md and the CLI (tools/evals/summary.py)
        "plain": plain_summary(rep, out_rows, n_train=count_train_rows(run.path, rep.get("data_version"))),
        "plain_rows": [
            {k: r[k] for k in ("name", "label", "role", "format", "prompt_tokens")}
            | {"score": r["score"]["cell"]}
            for r in system_rows(rep, out_rows)
        ],
        "primary_in_words": metric_in_words(pm),
    }


def stop_text(reason: str | None, summary: dict | None = None) -> str:
    """Why the run stopped, in words, never empty: a missing or unknown code still says something true."""
    if reason in STOP_REASONS:
        return STOP_REASONS[reason]
    status = ((summary or {}).get("plain") or {}).get("status")
    if reason in (None, "", "done"):
        if status == "pass":
            return STOP_REASONS["success"]
        if status in ("fail", "inconclusive"):
            return "the run finished its steps before the criteria were met"
        return "the run finished its steps"
    return str(reason).replace("_", " ")


def gain_lines(summary: dict) -> list[str]:
    rows = {r["kind"] + ":" + r["system"]: r for r in summary.get("rows", [])}
    zero = next((r for r in summary.get("rows", []) if r["kind"] == "base"), None)
    few = next((r for r in summary.get("rows", []) if r["kind"] == "prompted"), None)
    tuned = [r for r in summary.get("rows", []) if r["kind"] == "tuned"]
    tuned = tuned[-1] if tuned else None
    out = []
    if not (zero and tuned) or rows is None:
        return out
    pm = summary["primary_metric"]
    if zero.get("primary") is not None and tuned.get("primary") is not None:
        out.append(
            f"{pm}: base zero-shot {zero['primary']:.3f} → tuned zero-shot {tuned['primary']:.3f} "
            f"({tuned['primary'] - zero['primary']:+.3f})"
        )
    if few and few.get("primary") is not None and tuned.get("primary") is not None:
        out.append(f"{pm}: base few-shot {few['primary']:.3f} vs tuned zero-shot {tuned['primary']:.3f}")
    if few and few.get("prompt_tokens") and tuned.get("prompt_tokens"):
        saving = 1 - tuned["prompt_tokens"] / few["prompt_tokens"]
        out.append(
            f"prompt tokens per request: few-shot {few['prompt_tokens']:.0f} → tuned {tuned['prompt_tokens']:.0f} "
            f"({saving:.0%} fewer, {few['prompt_tokens'] / tuned['prompt_tokens']:.1f}× shorter)"
        )
    return out


def _own_in_train(run, split: dict) -> int:
    """How many of the person's own examples are in the data version's train split."""
    version = split.get("data_version")
    if not version:
        return 0
    p = run.version_dir("data", version) / "train.jsonl"
    if not p.exists():
        return 0
    return sum(1 for r in read_jsonl(p) if (r.get("metadata") or {}).get("source") in ("seed", "golden"))


def _probe_words(run) -> str | None:
    """The prompt's measured result when it got under half right, as a person counts it: "got 0 of 8 fully
    right (32% of the words matching on average)" for a metric with part credit — walk 9 read "got only 32%
    right" where 0 of 8 were right. None when the decision did not measure it, or it did better."""
    from agent.artifacts import load_step

    probe = load_step(run, 0, "probe") or {}
    score = probe.get("prompted_success") if probe.get("measured") else None
    if not isinstance(score, (int, float)) or score >= 0.5:
        return None
    share, n = probe.get("correct_share"), probe.get("n_test")
    partial = PARTIAL_WORDS.get(str(probe.get("metric") or ""))
    if isinstance(share, (int, float)) and n:
        from tools.evals.summary import right_words

        fully = f"got {round(share * n)} of {n} {right_words(probe.get('metric'))}"
        return f"{fully} ({score:.0%} {partial} on average)" if partial else fully
    return f"got only {score:.0%} right"


def _top(counts: dict, n: int = 3) -> str:
    """The commonest reasons, one entry per reason whatever its figures: "unlike the seed inputs (similarity
    0.12 < 0.23)" and "(0.19 < 0.23)" are the same reason (each figure was its own entry, and the top three
    said little)."""
    merged: dict[str, int] = {}
    for k, v in (counts or {}).items():
        key = re.sub(r" \([^()]*\)$", "", str(k))
        merged[key] = merged.get(key, 0) + v
    items = sorted(merged.items(), key=lambda t: -t[1])
    return "; ".join(f"{v} {k}" for k, v in items[:n]) + ("; …" if len(items) > n else "")


def _written_line(gen: dict) -> str:
    rejected = gen.get("rejected_inputs") or {}
    return (
        f"- The teacher wrote {gen.get('teacher', 0)} answered inputs"
        + (
            f"; {sum(rejected.values())} more were set aside before answering ({_top(rejected)})"
            if rejected
            else ""
        )
        + (
            f"; {gen['augmented']} exact examples were made from yours by swapping values"
            if gen.get("augmented")
            else ""
        )
        + "."
    )


def _checked_line(crit: dict) -> str:
    from tools.data.critique import collapsed_words, drop_words

    dropped = crit.get("dropped_by") or {}
    return (
        f"- Checks dropped {sum(dropped.values())} of {crit.get('generated', '?')} answers"
        + (f" ({_top({drop_words(k): n for k, n in dropped.items()}, 4)})" if dropped else "")
        + f"; {crit.get('kept', '?')} examples were kept"
        + (
            f", {crit['relabelled']} of them with the label of your most similar examples instead of the teacher's"
            if crit.get("relabelled")
            else ""
        )
        + (
            f", {crit['fixed_by_rules']} with a value your examples' rules settle set instead of the teacher's "
            "(a value the input names, the one your examples leave unwritten, or a sign such as $)"
            if crit.get("fixed_by_rules")
            else ""
        )
        + "".join("; " + collapsed_words(field, c) for field, c in (crit.get("collapsed") or {}).items())
        + ("" if crit.get("judged") else " (no judge graded them: programmatic checks and agreement only)")
        + "."
    )


def data_lines(run, iteration: int | None) -> list[str]:
    """The data behind the last model, in a few lines and a coverage table: what the teacher wrote, what
    was set aside before answering and why, what critique dropped and why, what was kept by source, and
    every label / enum value's planned vs kept count. [] when that iteration made no data."""
    from agent.artifacts import load_step
    from tools.data.coverage import evened_words

    if not iteration:
        return []
    gen, crit = load_step(run, iteration, "generate"), load_step(run, iteration, "critique")
    if not gen or not crit:
        return []
    if gen.get("own"):
        # walk 22 read "The teacher wrote 0 answered inputs" and "Checks dropped 0 of 53 answers" about a model
        # trained on the person's own examples
        general = int(crit.get("kept") or 0) - int(crit.get("own") or gen["own"])
        lines = [
            "## The data",
            "",
            f"- Nothing was written by a model: the model trained on your own {gen['own']} examples as you "
            "wrote them (some kept back to test it)"
            + (
                f", with {general} general questions and their answers mixed in so that it keeps its general "
                "skills"
                if general > 0
                else ""
            )
            + ".",
            "",
        ]
        return lines
    lines = ["## The data", "", _written_line(gen), _checked_line(crit)]
    evened = (load_step(run, iteration, "split") or {}).get("evened") or {}
    if evened:
        lines.append(
            "- So that the model does not learn to answer one label for everything, the rarer labels' "
            "examples were repeated in training up to half as many as the largest: "
            + evened_words(evened)
            + "."
        )
    for t in crit.get("topped_up") or []:
        name = t["value"] if t["field"] == "label" else f"{t['field']} {t['value']}"
        lines.append(
            f"- Your examples of {name} are all kept for the test, so the teacher had nothing to imitate and the "
            f"practice data has few or none: the model will rarely answer it. Add another example or two of {name} "
            "and run again."
            if t.get("held_for_test")
            else f"- None of your examples has {name}, so the teacher had nothing to imitate and the practice data "
            f"has few or none: the model will rarely answer it. Add an example or two of {name} and run again."
            if t.get("unseen")
            else f"- Too few examples of {name} held up, and none were written for it: of the {t['gave_up']} the "
            "teacher wrote for the values before it, none held up. Add an example or two of it and run again."
            if t.get("gave_up")
            else f"- Too few examples of {name} held up, so the teacher wrote {t['asked']} more for it alone; "
            f"{t['kept']} held up."
        )
    cells = crit.get("coverage") or []
    if cells:
        lines += ["", "| field | value | planned | kept |", "|---|---|---:|---:|"]
        lines += [
            f"| {c.get('field') or 'label'} | {c.get('value')} | {c.get('planned')} | {c.get('kept')}"
            f"{' (short)' if c.get('short') else ''} |"
            for c in cells
        ]
    return lines + [""]


def report(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Export the best tuned model (when there is one), write report.md and summary.json, and finish the run."""
    ctx = runtime.context
    run = ctx.run(state["run_id"])
    reason = state.get("stop_reason") or "done"
    summary = summarize(run, state)
    artifacts = _export(run, state, dict(state.get("artifacts") or {}), quick=ctx.quick)
    plain = _plain_result(run, state, summary, reason)
    lines = [f"# tunewise run {run.id}", "", f"**Task:** {state['task']['spec']}", ""]
    if plain:
        lines += [f"**{plain['sentence']}**", ""]
        if plain.get("own_examples"):  # the answers the person trusts most, under the result (as the screens)
            lines += [plain["own_examples"], ""]
        lines += [f"**What to do:** {plain['recommendation']}", ""]
    lines += [
        f"**Approach:** {state.get('approach')} — {(state.get('decision') or {}).get('reasons', [''])[0]}",
        "",
        f"**Stopped because:** {stop_text(reason, summary)}",
        "",
    ]
    if state.get("history"):
        lines += _iteration_lines(state["history"])
    if summary:
        lines += _evaluation_lines(summary)
    lines += data_lines(run, (state.get("history") or [{}])[-1].get("iteration") or state.get("iteration"))
    lines += _use_it_lines(artifacts, plain)
    lines += _prompt_to_keep(run, state, summary, plain, artifacts)
    atomic_write_text(run.path / "report.md", "\n".join(lines))
    atomic_write_json(
        run.path / "summary.json",
        {
            "stop_reason": reason,
            "plain": plain or None,
            "summary": summary,
            "artifacts": artifacts,
            "history": state.get("history", []),
        },
    )
    artifacts["report"] = str(run.path / "report.md")
    return {
        "status": "done",
        "artifacts": artifacts,
        "stop_reason": reason,
        "log": [f"report: stopped because {stop_text(reason, summary)} → {run.path / 'report.md'}"],
    }


def _export(run, state: AgentState, artifacts: dict, *, quick: bool) -> dict:
    """Export the best trained version once (not in quick mode); a failed export is recorded, not raised,
    so the report is still written."""
    best = state.get("best_train_version") or state.get("train_version")
    if best and not quick and not (run.path / "export" / "adapter").exists():
        try:
            from tools.train.export import export_run

            artifacts["export"] = str(export_run(run, best))
        except Exception as e:  # noqa: BLE001 - the report must still be written
            artifacts["export_error"] = str(e)[:300]
    elif (run.path / "export").exists():
        artifacts["export"] = str(run.path / "export")
    return artifacts


def _plain_result(run, state: AgentState, summary: dict, reason: str) -> dict:
    """The plain sentence and advice: from the final evaluation, else the prompt step, else too few examples."""
    plain = summary.get("plain") or {}
    if not plain and state.get("approach") in ("prompt", "few-shot"):
        from agent.artifacts import load_step

        plain = prompt_plain(load_step(run, 0, "prompt")) or {}
    if not plain and reason == "too_few_examples":
        plain = too_few_plain(run, state) or {}
    if not plain and reason == "no_writer":
        plain = no_writer_plain(run, state)
    return plain


def no_writer_plain(run, state: AgentState) -> dict:
    """The plain sentence and advice when the run stopped before writing practice examples: the small
    model that would write them got too few of the person's examples right (shape of plain_summary)."""
    from agent.artifacts import load_step
    from agent.rubric import guess_words

    measured = (_probe_words(run) or "got few of them right") + guess_words(load_step(run, 0, "probe"))
    sentence = (
        "No model was trained. The small model on this computer would write the practice answers, and with "
        f"your examples in its prompt it {measured}: most of its answers would be wrong, and a model "
        "trained on wrong answers learns the mistakes."
    )
    return {
        "sentence": sentence,
        "recommendation": f"To fine-tune, {_more_examples_how(state)}",
        "status": "none",
        "kind": "data",
    }


def _more_examples_how(state: AgentState) -> str:
    """Where better practice examples come from: the person, or (unless the data must stay here) a bigger
    hosted model."""
    from agent.rubric import MIN_EXAMPLES_TO_TRAIN, Answers, collect_time
    from tools.spec import parse_spec_dict

    task = state.get("task") or {}
    spec = parse_spec_dict(task) if task else None
    private = bool(spec and spec.private)
    have = len(spec.examples) if spec else 0
    # the gate's own figure: about 50 in all (the repairs run, 14 in hand, was told "about 50 more")
    more = (
        f"about {MIN_EXAMPLES_TO_TRAIN - have} more examples yourself, about {MIN_EXAMPLES_TO_TRAIN} in all"
        + collect_time(Answers.from_dict({"spec": "x", "examples": have, "volume": _volume(state)}))
        if 0 < have < MIN_EXAMPLES_TO_TRAIN
        else f"about {MIN_EXAMPLES_TO_TRAIN} more examples yourself"
    )
    return (
        # a bigger model is a hosted one: not for data that must stay here (the walk's clinic)
        f"write {more} — your own real messages with the answers you want — then run again with them."
        if private
        else f"write {more}, or let a bigger model write them: start tunewise with an OpenAI or Anthropic API key "
        "set (OPENAI_API_KEY=… or ANTHROPIC_API_KEY=…) and it writes them; then run again."
    )


def _volume(state: AgentState) -> int:
    """The requests a day the person gave (0 when not, or not a count)."""
    v = (state.get("answers") or {}).get("volume") or ((state.get("task") or {}).get("answers") or {}).get(
        "volume"
    )
    try:
        return max(0, int(v or 0))
    except (TypeError, ValueError):
        return 0


def _iteration_lines(history: list[dict]) -> list[str]:
    """One table row per round: its data, train and eval versions, score and whether it passed."""
    lines = [
        "## Iterations",
        "",
        "| it | data | train | eval | primary | passed | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in history:
        p = h.get("primary")
        lines.append(
            f"| {h['iteration']} | {h.get('data_version')} | {h.get('train_version')} | "
            f"{h.get('eval_version')} | {'' if p is None else f'{p:.3f}'} | {h.get('passed')} | "
            f"{h.get('note', '')} |"
        )
    lines.append("")
    return lines


def _evaluation_lines(summary: dict) -> list[str]:
    """The final evaluation: the plain table, the detailed one, the gains and the verdict with its reasons."""
    pm = summary["primary_metric"]
    lines = [
        f"## Final evaluation ({summary['eval_version']})",
        "",
        f"| system | {summary['primary_in_words']} | right format | prompt tokens |",
        "|---|---|---|---|",
    ]
    for r in summary["plain_rows"]:
        lines.append(f"| {r['label']} | {r['score']} | {r['format']} | {r['prompt_tokens']} |")
    lines += [
        "",
        f"{summary['primary_in_words']}: {column_help(pm)}.",
        "",
        "### Details",
        "",
        "| system | primary | 95% CI | format rate | prompt tokens |",
        "|---|---|---|---|---|",
    ]
    for r in summary["rows"]:
        ci = r.get("ci") or [None, None]
        lines.append(
            f"| {r['system']} | {_f(r['primary'])} | {_f(ci[0])}–{_f(ci[1])} | {_f(r['format_rate'])} | "
            f"{_f(r['prompt_tokens'], 0)} |"
        )
    lines += [
        "",
        *[f"- {g}" for g in gain_lines(summary)],
        "",
        f"Verdict: {verdict_word(summary['verdict'])}",
        *[f"- {x}" for x in summary["verdict"].get("reasons", [])],
        "",
        f"Full report: {summary['report']}",
        "",
    ]
    return lines


PROMPT_HEADING = "## The prompt to use for now"
# under advice to keep doing it by hand (walk 25 read "the prompt to use for now … copy it into a chatbot" there)
PROMPT_HEADING_WEAK = "## The best prompt tried (not right often enough to rely on)"


def prompt_section_words(advice: str | None, file: str) -> tuple[str, str]:
    """The prompt section's heading and first sentence: a prompt to use for now, or — where the advice is to
    keep doing it by hand — the best one tried, to try or build on. `file` names prompt.md. Pure."""
    if advises_by_hand(advice):
        return PROMPT_HEADING_WEAK, (
            f"Not one to rely on yet (see above): it is kept ({file}) to try on a message of yours or to build "
            "on once you have more examples."
        )
    return PROMPT_HEADING, f"Copy it into a chatbot or AI tool you use, if you have one ({file})."


def _prompt_to_keep(run, state: AgentState, summary: dict, plain: dict | None, artifacts: dict) -> list[str]:
    """When the advice is to keep using a prompt, that prompt in full, and in prompt.md: the walk was told
    "keep using a prompt with 6 of your examples" and found no way to get it. The prompt the evaluation
    measured (its instructions and examples), else the task's instructions and its first examples."""
    from agent.nodes.branches import prompt_markdown
    from agent.nodes.common import spec_of
    from tools.workspace import read_json

    # every end without a model to use: walk 8 was told "keep using a prompt with 6 of your examples"
    # (lower case, after "Until then,") and, with too few examples, "use the prompt with the model you start
    # from", and got no prompt either time
    if not plain or plain.get("status") == "pass":
        return []
    spec = spec_of(state)
    system, shots = spec.effective_system_prompt, [e.model_dump() for e in spec.examples[:6]]
    ev = state.get("eval_version")
    rep_path = run.path / "eval" / str(ev) / "report.json"
    if ev and rep_path.exists():
        for s in (read_json(rep_path).get("systems") or {}).values():
            if s.get("kind") == "prompted":
                cfg = s.get("config") or {}
                system, shots = cfg.get("system_prompt") or system, list(cfg.get("few_shot") or shots)
                break
    text = prompt_markdown(spec.spec, system, shots)
    atomic_write_text(run.path / "prompt.md", "\n".join(text) + "\n")
    atomic_write_json(run.path / "prompt.json", {"system": system, "shots": shots})  # the report screen's t
    artifacts["prompt"] = str(run.path / "prompt.md")
    shown = "\n".join(text[2:])  # without its title
    measured = _probe_words(run)
    # the sizes bench: "the best you have" under a prompt that got 0 of 5 right with the model here
    how_good = (
        f"With the small model on this computer it {measured}; a bigger chatbot "
        "usually does much better with the same prompt, but try it on a few of your own messages first."
        if measured
        else "It is the best you have until a model does better."
    )
    heading, first = prompt_section_words(
        plain.get("recommendation"), "also saved as `prompt.md` in this run's folder"
    )
    if heading == PROMPT_HEADING_WEAK:
        how_good = (
            ""  # "the best you have" / "a bigger chatbot usually does much better" would be advice to use it
        )
    return [
        heading,
        "",
        f"{first} It has the instructions, then {len(shots)} examples, each a question and the answer you want."
        + (f" {how_good}" if how_good else ""),
        "",
        "```",
        shown,
        "```",
        "",
    ]


def _use_it_lines(artifacts: dict, plain: dict) -> list[str]:
    """How to serve a model that passed, or where a model that did not pass is kept."""
    if artifacts.get("export") and plain.get("status") == "pass":
        return [
            "## Use it",
            "",
            f"- Serve: `tunewise serve --model {artifacts['export']}/merged`",
            f"- Or with the adapter: `tunewise serve --adapter {artifacts['export']}/adapter`",
            "",
        ]
    if plain.get("status") == "pass" and plain.get("serve_command"):
        return ["## Use it", "", f"- Serve: `{plain['serve_command']}`", ""]
    if artifacts.get("export"):
        return [
            "## Not ready to serve",
            "",
            f"The tuned model is kept in {artifacts['export']}, but it did not pass its evaluation"
            + (f": {plain['recommendation']}" if plain.get("recommendation") else "."),
            "",
        ]
    return []


def _f(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"
