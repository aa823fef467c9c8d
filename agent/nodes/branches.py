"""The non-training branches: prompt / few-shot (best prompt found on held-out data) and rag."""

from __future__ import annotations

import time

from langgraph.runtime import Runtime

from agent.artifacts import load_step, save_step
from agent.context import AgentContext
from agent.nodes.common import budget_stop, spec_of
from agent.probe import few_shot_messages
from agent.rates import PROMPT_SHOT_COUNTS, TRIAL_ANSWER_TOKENS, record_trial_time
from agent.state import AgentState
from tools.evals.correct import score
from tools.spec import parse_spec_dict
from tools.workspace import atomic_write_json, atomic_write_text, atomic_write_yaml

MAX_MISSES = 5  # wrong answers of the chosen prompt shown in prompt.md
MISSES_HEADING = "## Where the chosen prompt went wrong"


def plain_answer(text: str) -> str:
    """An answer of named parts as a person reads it: `{"dog": "Bella", "day": null}` → "dog: Bella, day: none"
    (walk 26 read "null" where its spreadsheet cell was empty); any other answer as it is. Pure."""
    import json

    try:
        obj = json.loads(text)
    except ValueError:
        return text
    if not isinstance(obj, dict) or not obj:
        return text
    return ", ".join(
        f"{k}: {'none' if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
        for k, v in obj.items()
    )


def misses_markdown(best: dict) -> list[str]:
    """The chosen prompt's wrong answers on the person's examples and what to do about them (walk 17's
    prompt wrote "THURSDAY AM" for "THU PM" and "1x" for "half a dozen": rules its instructions never
    said). Pure."""
    misses = best.get("misses") or []
    if not misses:
        return []

    def clip(text: str, n: int = 160) -> str:
        one = " ".join(plain_answer(str(text)).split())
        return one if len(one) <= n else one[: n - 1] + "…"

    lines = [MISSES_HEADING, ""]
    for m in misses:
        lines.append(
            f"- “{clip(m['input'])}” — you wrote “{clip(m['expected'])}”, it wrote “{clip(m['got'])}”"
        )
    lines += [
        "",
        "Say in the instructions the rule each of these breaks (how a day, a number or a code is written, "
        "what to leave out), then run again: every prompt is measured again on your examples.",
        "",
    ]
    return lines


def select_prompt(
    spec, student, *, shot_counts=PROMPT_SHOT_COUNTS, max_tokens: int = TRIAL_ANSWER_TOKENS, on_trial=None
) -> dict:
    """Try 0/2/4/6 demonstrations from the first half of the examples; score on the held-out half.
    `on_trial(trial, done, total)` after each: answers so far and in all (the progress screen's counts)."""
    from tools.data.checks import copied_digits_prefix, digits_not_copied
    from tools.llm import GenParams, Request

    exs = list(spec.examples)
    half = max(1, len(exs) // 2)
    pool, held = exs[:half], exs[half:] or exs[:1]
    # where the person's answers copy their digits from the message, answers holding other digits are
    # counted (walk 21's prompt answered "5521 1GB" for an email with no tracking number)
    digits_prefix = copied_digits_prefix(tuple((e.input, str(e.output)) for e in exs))
    counts = [k for k in shot_counts if k <= len(pool)]
    total = len(counts) * len(held)
    trials = []
    for k in counts:
        shots = pool[:k]
        outs = student.map(
            [
                Request(few_shot_messages(spec, shots, ex.input), GenParams(max_tokens=max_tokens))
                for ex in held
            ]
        )
        scores = [score(spec, o.text, ex.output) for o, ex in zip(outs, held, strict=True)]
        acc = sum(x.value for x in scores) / len(held)
        tokens = sum(o.usage.prompt_tokens for o in outs) / len(outs)
        # what it got wrong, as the person reads it: the rules their instructions do not spell out yet
        misses = [
            {"input": ex.input, "expected": str(ex.output), "got": o.text.strip()}
            for o, ex, x in zip(outs, held, scores, strict=True)
            if not x.correct
        ]
        trials.append(
            {
                "shots": k,
                "accuracy": acc,
                "correct": sum(x.correct for x in scores),
                "numbers_not_in_message": sum(
                    digits_not_copied(o.text, ex.input, digits_prefix)
                    for o, ex in zip(outs, held, strict=True)
                ),
                "prompt_tokens_mean": tokens,
                "n_held_out": len(held),
                "misses": misses[:MAX_MISSES],
            }
        )
        if on_trial is not None:
            on_trial(trials[-1], len(trials) * len(held), total)
    # most answers right, then the best average (fields, words); ties go to the shorter prompt: a person counts
    # the answers they can use (walk 26: 9 of 15 bookings right read as "80% on average")
    best = max(trials, key=lambda t: (t["correct"], t["accuracy"], -t["prompt_tokens_mean"]))
    from tools.evals.correct import answer_metric

    return {
        "trials": trials,
        "best": best,
        "shots": [e.model_dump() for e in pool[: best["shots"]]],
        "metric": answer_metric(spec),
    }


def prompt_markdown(task: str, system: str, shots: list[dict]) -> list[str]:
    """A prompt as a person copies it into their own tool: the instructions, then each example as a user
    turn and the assistant's answer (prompt.md)."""
    lines = [f"# Prompt for: {task}", "", "## System", "", system, ""]
    for i, ex in enumerate(shots, 1):
        q, a = str(ex.get("input") or ""), str(ex.get("output") or "")
        lines += [f"## Example {i}", "", "User:", "", q, "", "Assistant:", "", a, ""]
    return lines


@budget_stop
def prompt_branch(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run = ctx.run(state["run_id"])
    spec = spec_of(state)
    result = load_step(run, 0, "prompt")
    if result is None:
        if len(spec.examples) >= 2:
            # walk 17: two minutes of "working…" on the decision screen with nothing saying what ran
            ctx.emit(
                "status",
                message="prompt: trying prompts with 0, 2, 4 and 6 of your examples on your other examples",
            )

            def tried(trial: dict, done: int, total: int) -> None:
                k, right, n = trial["shots"], trial["correct"], trial["n_held_out"]
                with_ = f"{k} of your examples" if k else "no examples"
                ctx.emit(
                    "progress",
                    step="prompt",
                    done=done,
                    total=total,
                    text=f"with {with_} in the prompt: {right} of your other {n} examples fully right",
                )

            student = ctx.provider("student", spec, run.id)
            started = time.perf_counter()
            result = select_prompt(spec, student, on_trial=tried)
            # the next estimate of a prompt trial on this computer uses this one's time (walk 28: 1 minute said)
            record_trial_time(
                ctx.workspace,
                time.perf_counter() - started,
                sum(t["n_held_out"] for t in result["trials"]),
                student.describe(),
            )
        else:
            result = {"trials": [], "best": {"shots": 0, "accuracy": None}, "shots": []}
        probe = load_step(run, 0, "probe") or {}
        if probe.get("measured") and probe.get("n_test") and probe.get("correct_share") is not None:
            # the advice's own count, said beside this one (walk 28 read "6 of 12" there, "8 of 15" here)
            result["first_check"] = {
                "right": round(float(probe["correct_share"]) * int(probe["n_test"])),
                "n": int(probe["n_test"]),
                "shots": probe.get("n_shots"),
            }
        save_step(run, 0, "prompt", result)
    lines = prompt_markdown(spec.spec, spec.effective_system_prompt, result["shots"])
    if result["trials"]:
        lines += [
            "## How it was chosen",
            "",
            "Each prompt answered the examples it did not show; the best, and the shorter of equals, was kept.",
            "",
            "| your examples in the prompt | right on your other examples | prompt length (tokens) |",
            "|---|---|---|",
        ]
        lines += [
            f"| {t['shots']} | {t['correct']} of {t['n_held_out']} ({t['accuracy']:.0%}) | "
            f"{t['prompt_tokens_mean']:.0f} |"
            if t.get("correct") is not None
            else f"| {t['shots']} | {t['accuracy']:.0%} | {t['prompt_tokens_mean']:.0f} |"
            for t in result["trials"]
        ]
        lines += ["", *misses_markdown(result["best"])]
    atomic_write_text(run.path / "prompt.md", "\n".join(lines) + "\n")
    atomic_write_json(run.path / "prompt.json", {"system": spec.effective_system_prompt, **result})
    best = result["best"]
    acc = f"{best['accuracy']:.0%}" if best.get("accuracy") is not None else "n/a"
    return {
        "status": "done",
        "stop_reason": f"approach:{state['approach']}",
        "artifacts": {"prompt": str(run.path / "prompt.md")},
        "log": [
            f"prompt: the best prompt has {best['shots']} of your examples in it ({acc} right on your other "
            f"examples) → {run.path / 'prompt.md'}"
        ],
    }


@budget_stop
def rag_branch(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    ctx = runtime.context
    run = ctx.run(state["run_id"])
    spec = spec_of(state)
    update: dict = {}
    if not spec.documents and state.get("headless"):
        atomic_write_text(
            run.path / "retrieval.md",
            "# Retrieval\n\nThe advice is to look facts up in your documents, and the task names none. Add "
            "`documents: path/to/folder` to the task file and run it again (`tunewise run task.yaml`).\n",
        )
        return {
            "status": "done",
            "stop_reason": "approach:rag",
            "artifacts": {"retrieval": str(run.path / "retrieval.md")},
            "log": [
                "rag: the task names no documents — add `documents: FOLDER` to the task file and run it again"
            ],
        }
    if not spec.documents:
        # walk 11: choosing retrieval ended at once ("nothing to train") and nothing in the app could add the
        # documents afterwards; ask for them here, where the answer is used
        task = _ask_for_documents(dict(state.get("task") or {}))
        spec = parse_spec_dict(task)
        atomic_write_yaml(run.spec_path, spec.to_yaml_dict())
        update["task"] = spec.to_yaml_dict()
    from agent.nodes.rag_setup import build_and_evaluate_rag

    info = build_and_evaluate_rag(ctx, run, spec)
    return update | {
        "status": "done",
        "stop_reason": "approach:rag",
        "artifacts": info.get("artifacts", {}),
        "log": [info["summary"]],
    }


def _ask_for_documents(task: dict) -> dict:
    """Ask until the person names documents tunewise can read (the interview's documents question, re-asked
    with its error); the task with `documents:` set."""
    from agent.interrupts import ask_until
    from agent.interrupts import question as ask
    from agent.nodes.interview import documents_answer
    from agent.questions import QUESTIONS
    from tools.errors import UserError

    q = next(q for q in QUESTIONS if q.key == "documents")

    def read(raw) -> str:
        path = documents_answer(raw)
        if path is None:
            raise UserError("retrieval needs the documents", fix="type their path (a folder or one file)")
        return path

    path = ask_until(
        lambda error: ask(
            q.key,
            q.text,
            input="text",
            help="Looking things up needs the documents that hold the facts: name the folder or file.",
            error=error,
            spec_so_far=task,
        ),
        read,
    )
    return task | {"documents": path}
