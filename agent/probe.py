"""The empirical probe: how often is the base model right with the best prompt we can build?

Half of the user's examples become few-shot demonstrations, the other half are the test; the student
base model answers with the spec's system prompt + demonstrations; answers are scored by the task's
own scorer (`tools.evals.correct.score`, the evaluation's): `prompted_success` is the mean of the
task's primary metric, the same number the verdict is later measured on; `correct_share` the share of answers
right, which answers the rubric's question ("how often was it right?", `apply_probe`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from tools.evals.correct import answer_metric, score
from tools.llm.types import few_shot
from tools.spec import Example, TaskSpec

MIN_PROBE_EXAMPLES = 4  # half shown in the prompt, half tested: fewer measure nothing


def probe_needed(answers, n_examples: int) -> bool:
    """The decide rule (the graph's decide step and `tunewise decide` alike): measure the prompted success
    rate when the person did not say it and there are enough examples to split into shots and a test."""
    return answers.prompted_success is None and n_examples >= MIN_PROBE_EXAMPLES


def measure_anyway(answers, n_examples: int, headless: bool) -> bool:
    """In a conversation the question promises "tunewise will measure it on your examples": with enough
    examples the model here is measured even when the person gave a figure — theirs is about a chatbot they
    tried (walk 18: "ChatGPT, 9 times out of 10"), and the measurement is what a prompt here would get."""
    return not headless and answers.prompted_success is not None and n_examples >= MIN_PROBE_EXAMPLES


def apply_probe(answers, probe: dict | None, prefer_measured: bool = False) -> dict | None:
    """A measured probe answers the prompted-success question the person left open (in place); with
    `prefer_measured`, also one they answered (`measure_anyway`). Returns the probe, with the person's own
    figure as "said" when the measured one replaced it (said beside it)."""
    if not (probe and probe.get("measured")):
        return probe
    said = answers.prompted_success
    if said is None or prefer_measured:
        # the question is how often it was right: the share of answers right (fully right, or close to what was
        # expected), not a mean of partial credit — walk 26's groomer: 3 of 12 bookings fully right, 67% of the
        # fields right, and "a prompt with examples" was advised on the 67% (a wrong dog is a wrong booking)
        share = probe.get("correct_share")
        answers.prompted_success = float(share) if share is not None else probe["prompted_success"]
    return {**probe, "said": said} if prefer_measured and said is not None else probe


def few_shot_messages(spec: TaskSpec, shots: list[Example], user_input: str, retriever=None) -> list[dict]:
    """The spec's system prompt, the demonstrations, the input; with a `retriever`, the passages of the
    documents found for the input follow the system prompt (as the retrieval baseline sends them)."""
    system = spec.effective_system_prompt
    if retriever is not None:
        from tools.rag.index import with_excerpts

        system = (
            with_excerpts(system, retriever.search(user_input), retriever.config.max_context_chars) or system
        )
    return few_shot(system, shots, [{"role": "user", "content": user_input}])


def probe_signature(spec: TaskSpec) -> str:
    """What a probe's result depends on: the prompt, the examples, the format and the student."""
    blob = json.dumps(
        [
            spec.effective_system_prompt,
            [e.model_dump() for e in spec.examples],
            spec.output.format,
            spec.student.model_dump(),
            _documents_sha(spec),
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _documents_sha(spec: TaskSpec) -> dict | None:
    if not spec.documents:
        return None
    from tools.rag.chunking import folder_fingerprint

    try:
        return folder_fingerprint(spec.documents)
    except Exception:  # noqa: BLE001 - unreadable now: the probe says so when it runs
        return None


def probe_plan(
    spec: TaskSpec, *, max_test: int = 12, max_shots: int = 6, max_tokens: int = 128
) -> tuple[list[Example], list, int, int, Any] | str:
    """(the examples answered, their requests, demonstrations per request, how many of them were shown in the
    others' prompts, the documents' retriever), or why
    nothing can be measured. The probe's requests, also answered by another engine to compare
    (`agent.precision`)."""
    from tools.data.coverage import balanced_order
    from tools.llm import GenParams, Request

    exs = balanced_order(list(spec.examples), spec)  # demonstrations and test both see every label
    if len(exs) < MIN_PROBE_EXAMPLES:
        return f"only {len(exs)} examples (need ≥{MIN_PROBE_EXAMPLES} to measure)"
    n_shots = min(max_shots, len(exs) // 2)
    shots, test = exs[:n_shots], exs[n_shots:][:max_test]
    # the other way round too while the test has room: the examples shown are answered with as many of the
    # others shown instead (10 examples: 10 measured, not 5 — the sizes bench's 0 of 5 was a prompt that
    # gets 1 in 4 right on 60; five answers cannot tell 0% from 25%)
    swapped = exs[:n_shots][: max(0, max_test - len(test))]
    swapped_shots = exs[n_shots:][:n_shots]
    # facts in documents: the prompt is measured with the passages found for each question (walk 11: it was
    # measured without them, 0 of 4, and the advice to train rested on that)
    retriever = None
    if spec.documents:
        from tools.rag.index import documents_retriever

        retriever = documents_retriever(spec.documents)
    reqs = [
        Request(few_shot_messages(spec, shots, ex.input, retriever), GenParams(max_tokens=max_tokens))
        for ex in test
    ] + [
        Request(few_shot_messages(spec, swapped_shots, ex.input, retriever), GenParams(max_tokens=max_tokens))
        for ex in swapped
    ]
    return test + swapped, reqs, n_shots, len(swapped), retriever


def run_probe(
    spec: TaskSpec,
    student,
    *,
    max_test: int = 12,
    max_shots: int = 6,
    max_tokens: int = 128,
    on_stream: Callable[[dict], None] | None = None,
) -> dict[str, Any]:
    """Measure prompted success on the user's examples; needs at least 4.

    With `on_stream` and a provider that streams, the first test example is answered token by token
    (events: start, delta, end) so a person watches the base model at work; the rest run batched.
    """
    planned = probe_plan(spec, max_test=max_test, max_shots=max_shots, max_tokens=max_tokens)
    if isinstance(planned, str):
        return {"measured": False, "reason": planned}
    test, reqs, n_shots, n_swapped, retriever = planned
    texts: list[str] = []
    streaming = on_stream is not None and getattr(student, "streams", False)
    if on_stream is not None and streaming:  # (streaming implies on_stream)
        on_stream(
            {
                "phase": "start",
                "title": f"The base model ({student.describe()}) answers one of your examples "
                f"with a {n_shots}-shot prompt"
                + (" and the passages found in your documents:" if retriever else ":"),
                "input": test[0].input,
            }
        )
        pieces = []
        for piece in student.stream(reqs[0].messages, reqs[0].params):
            pieces.append(piece)
            on_stream({"phase": "delta", "text": piece})
        texts.append("".join(pieces).strip())
        first = score(spec, texts[0], test[0].output)
        on_stream(
            {"phase": "end", "correct": first.correct, "value": first.value, "reference": test[0].output}
        )
    if len(reqs) > len(texts):
        texts += [out.text for out in student.map(reqs[len(texts) :])]
    rows: list[dict[str, Any]] = []
    for ex, text in zip(test, texts, strict=True):
        s = score(spec, text, ex.output)
        rows.append(
            {
                "input": ex.input,
                "reference": ex.output,
                "prediction": text,
                "correct": s.correct,
                "value": s.value,
            }
        )
    return {
        "measured": True,
        # the mean of the evaluation's primary metric (not a share of exact hits): the verdict's number
        "prompted_success": sum(r["value"] for r in rows) / len(rows),
        "fields": writer_fields(spec, rows),
        "correct_share": sum(r["correct"] for r in rows) / len(rows),
        "metric": answer_metric(spec),
        "n_test": len(rows),
        "n_shots": n_shots,
        "swapped": n_swapped,  # answered with the other examples shown (each test shows n_shots others)
        "with_documents": retriever is not None,
        "student": student.describe(),
        "signature": probe_signature(spec),
        "streamed": streaming,
        "rows": rows,
    }


def writer_fields(spec: TaskSpec, rows: list[dict]) -> dict[str, dict]:
    """For a JSON task, each field the examples answer in more than one way: {"right", "n", "chance"} — over the
    probe's answers that are JSON objects, how often one had it right after the rules practice answers get
    (`rule_fixed_answer`: a value the input names), and how often answers drawn at random with the same
    frequencies would (Σ p_answer·p_ref). A field right no more often than chance is a guess
    (`agent.rubric.guessed_fields`). {} for other formats. Pure."""
    if spec.output.format != "json":
        return {}
    from tools.data.critique import rule_fixed_answer
    from tools.userfile import loads_json

    def obj(text: str) -> dict:
        try:
            o = loads_json(str(text).strip())
        except ValueError:
            return {}
        return o if isinstance(o, dict) else {}

    # only answers that are JSON objects: the practice answers are written held to the shape (a schema), the
    # probe's are not — what is measured here is whether the values are right, not the shape
    pairs = [
        (obj(r["reference"]), o)
        for r in rows
        if (o := obj(rule_fixed_answer(str(r["prediction"]), spec, str(r["input"]))[0]))
    ]
    refs, preds = [p[0] for p in pairs], [p[1] for p in pairs]
    out: dict[str, dict] = {}
    for f in dict.fromkeys(k for o in refs for k in o):
        ref_v = [json.dumps(o.get(f), sort_keys=True) for o in refs]
        pred_v = [json.dumps(o.get(f), sort_keys=True) for o in preds]
        ref_n, pred_n, n = Counter(ref_v), Counter(pred_v), len(pairs)
        if len(ref_n) < 2:
            continue  # one value everywhere: nothing to tell apart
        out[f] = {
            "right": sum(a == b for a, b in zip(ref_v, pred_v, strict=True)),
            "n": n,
            "chance": sum(c / n * pred_n[v] / n for v, c in ref_n.items()),
        }
    return out
