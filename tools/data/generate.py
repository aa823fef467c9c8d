"""Teacher generation: first diverse inputs that cover the spec, then the teacher's answers.

Resumable by construction: every finished item (an accepted or rejected input, an answer) is appended
to `workdir/generation.jsonl` (fsynced) before anything else happens, and a rerun replays that journal
instead of asking the provider again. The plan is deterministic (slot keys, per-slot sampling seeds),
so a rerun asks for exactly the items that were not finished.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tools.data.coverage import coverage_axes, coverage_focus, unseen_values, with_coverage
from tools.data.ontask import OnTaskModel, llm_on_task, meta_reason
from tools.data.schema import make_row, normalize_text, stable_hash
from tools.errors import BudgetExceeded
from tools.llm.types import Completion, GenParams, Request, few_shot
from tools.spec import TaskSpec
from tools.workspace import append_jsonl

JOURNAL = "generation.jsonl"
OVERSAMPLE = 1.6  # candidate inputs per needed input before any were judged: the filters reject some
MAX_ROUNDS = 4
MAX_OVERSAMPLE = 5.0  # never ask for more than this many candidates per needed input in one round
INPUT_TEMPERATURE = 0.9
NEAR_DUP_JACCARD = 0.7
FEW_SHOT_INPUTS = 4
_META_PREFIX = re.compile(
    r"^(sure|here is|here's|here are|as an ai|i cannot|new input|input\s*\d*\s*:)", re.I
)
_STRIP_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.)]|input\s*:|user\s*:|q\s*:)\s*", re.I)


class GenerationResult(list):
    """The generated rows, plus how the run ended and what it cost."""

    stopped: str | None = None  # None = finished; "budget" = budget stop (a valid partial result)
    provider_calls: int = 0
    cost_usd: float = 0.0
    rejected_inputs: list[dict]
    shortfall: int = 0
    concurrency: dict | None = None  # what adaptive concurrency did (peak/mean in flight, 429s); None: fixed


# ---------------------------------------------------------------- pure planning helpers
def derive_axes(spec: TaskSpec) -> dict[str, list[str]]:
    """Diversity axes: the spec's own, else difficulty/length/case. Labels and enum values are planned
    apart, in equal shares (`tools.data.coverage`)."""
    if spec.axes:
        return {k: list(v) for k, v in spec.axes.items() if v}
    axes = {
        "difficulty": ["easy", "typical", "hard"],
        "length": ["short", "medium length", "long"],
        "case": ["a typical case", "an edge case", "unusual phrasing", "noisy or informal wording"],
    }
    if spec.output.format == "text":
        axes["case"].append("an out-of-scope request the assistant should politely decline")
    return axes


def plan_focuses(axes: dict[str, list[str]], k: int, seed: int = 0) -> list[str]:
    """k focus strings cycling through a shuffled cartesian product of the axes (full coverage first)."""
    names = sorted(axes)
    combos = list(itertools.product(*(axes[n] for n in names))) or [()]
    random.Random(seed).shuffle(combos)
    return [
        "; ".join(f"{n}: {v}" for n, v in zip(names, combo, strict=True)) or "any"
        for combo in itertools.islice(itertools.cycle(combos), k)
    ]


def clean_input(text: str) -> str:
    """The model's reply as one input: first paragraph, no bullets, labels or wrapping quotes."""
    text = text.strip().split("\n\n")[0].strip()
    text = _STRIP_PREFIX.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def figures(text: str) -> int:
    """How many numbers are written in digits ("€1,000.50" is one)."""
    return len(_FIGURE.findall(text))


def figures_limit(seed_inputs: Sequence[str]) -> int:
    """The most numbers a generated input may hold: twice the seeds' most, plus one, at least 3. A weak
    teacher's expense notes listed ten amounts ("£1,000, EUR, 128 pounds, £2,000, £300, …"), which have no
    one right answer; none of the five bench tasks' 340 real test inputs goes over this limit."""
    return max(2 * max((figures(t) for t in seed_inputs), default=0) + 1, 3)


FIGURE_SEEDS = 5  # how many of the person's inputs must all hold a number before a generated one must too


def needs_a_figure(seed_inputs: Sequence[str]) -> bool:
    """Must a generated input hold a number in digits? Yes when every one of at least `FIGURE_SEEDS` of the
    person's inputs does: the thermostat bench's teacher wrote "Warm the shower to the heat up the range."
    (no temperature to convert), the appointments bench's "Can I come today?" (no date).
    On the seven bench tasks' 460 real test inputs it fires for the three whose seeds all hold numbers
    (appointments, thermostat, the demo) and rejects none of theirs."""
    return len(seed_inputs) >= FIGURE_SEEDS and all(figures(t) > 0 for t in seed_inputs)


def input_rejection(
    text: str,
    *,
    seen_sigs,
    seed_lengths: Sequence[int],
    max_figures: int | None = None,
    needs_figure: bool = False,
) -> str | None:
    """Why a candidate input is unusable (None = keep). `seen_sigs` are MinHash signatures of kept inputs (a
    list, or a `SignatureIndex` that compares with all of them at once)."""
    from tools.data.similarity import jaccard_estimate, minhash

    if len(text) < 3:
        return "empty or too short"
    longest = max(seed_lengths, default=200)
    if len(text) > max(4 * longest, 400):
        return "far longer than the seed inputs"
    if max_figures is not None and figures(text) > max_figures:
        return f"more numbers than the seed inputs ({figures(text)}; theirs allow {max_figures})"
    if needs_figure and figures(text) == 0:
        return "no number in it, but every one of your examples has one"
    if _META_PREFIX.match(text):
        return "talks about the task instead of being an input"
    words = normalize_text(text).split()
    if len(words) >= 8 and len(set(words)) / len(words) < 0.45:
        return "repetitive text"
    sig = minhash(text)
    nearest = (
        seen_sigs.max_jaccard(sig)
        if hasattr(seen_sigs, "max_jaccard")  # a SignatureIndex: one numpy pass
        else max((jaccard_estimate(sig, s) for s in seen_sigs), default=0.0)
    )
    if nearest >= NEAR_DUP_JACCARD:
        return "near-duplicate of an existing input"
    return None


def answer_messages(spec: TaskSpec, user_input: str, examples: Sequence[dict] | None = None) -> list[dict]:
    """The teacher's prompt for an answer: the spec's system prompt, few-shot examples, the input.

    A task with `documents:` gets the excerpts retrieved for the input after its system prompt, as the
    retrieval baseline sends them: the teacher answers from the documents instead of from memory (the
    FAQ bench's answers were written without them — about a made-up shop the teacher cannot know)."""
    system = spec.effective_system_prompt
    if getattr(spec, "documents", None):
        from tools.rag.index import documents_retriever, with_excerpts

        system = with_excerpts(system, documents_retriever(spec.documents).search(user_input)) or system
    shots = examples if examples is not None else spec.examples
    return few_shot(system, shots, [{"role": "user", "content": user_input}])


def input_messages_for(
    spec: TaskSpec,
    focus: str,
    seed_inputs: Sequence[str],
    rng: random.Random,
    examples: Sequence[dict] = (),
) -> list[dict]:
    """Few-shot input writing: earlier inputs as the assistant's previous replies, then the request.

    For a focus that plans a label or enum values, the person's `examples` whose answers have them are the
    shots first (ties and the rest drawn at random): the shots decide what a small writer writes, the focus
    words barely. Walk 8's bike shop (4 labels, 14 examples, embedded teacher, 48 inputs a try): the written
    inputs' nearest examples had the planned label 8 times with random shots, 25 with the label's own; the
    expense bench's category 7 of 32 → 12 of 32; on-task 40 → 38 of 48 both times (bench/RESULTS.md)."""
    from prompts import load_prompt
    from tools.data.coverage import has_values, planned_values

    system, user = load_prompt("data_inputs").messages(spec=spec.spec, focus=focus)
    shots = list(seed_inputs)
    rng.shuffle(shots)
    planned = planned_values(focus, spec) if examples else {}
    if planned:
        ranked = sorted(
            ((has_values(e, planned, spec), rng.random(), str(e["input"])) for e in examples), reverse=True
        )
        own = [text for n, _, text in ranked if n > 0]
        shots = (own + [s for s in shots if s not in own])[:FEW_SHOT_INPUTS]
        rng.shuffle(shots)
    msgs = [system]
    plain_request = "Write one new input."
    for s in shots[:FEW_SHOT_INPUTS]:
        msgs += [{"role": "user", "content": plain_request}, {"role": "assistant", "content": s}]
    msgs.append(user)
    return msgs


def seed_rows(spec: TaskSpec) -> list[dict]:
    """The spec's own examples as rows (source "seed")."""
    return [
        make_row(e.input, e.output, system=spec.effective_system_prompt, source="seed") for e in spec.examples
    ]


def load_spec_inputs(spec: TaskSpec) -> list[str]:
    """Inputs the user supplied (`inputs:` file: one per line, or JSONL with `input`)."""
    if not spec.inputs:
        return []
    return load_inputs_file(Path(spec.inputs), fix="fix `inputs:` in the spec")


def load_inputs_file(path: Path, fix: str = "the path of a file with one message per line") -> list[str]:
    """Real inputs without answers: one per line, or JSONL lines with `input`. A file of examples (lines
    starting 'A:') is not one: it says so, with the line."""
    from tools.errors import UserError

    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError("inputs file not found", where=str(path), fix=fix)
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(
                    f"invalid JSON ({e.msg})", where=f"{path}:{i}", fix="one input per line"
                ) from None
            if "input" not in obj:
                raise UserError("JSON line has no `input`", where=f"{path}:{i}", fix='write {"input": "…"}')
            out.append(str(obj["input"]))
        elif re.match(r"\s*A\s*:", line):
            raise UserError(
                "this line is an answer: the file holds examples, not messages alone",
                where=f"{path}:{i}",
                fix="give it as your examples (e), or a file of messages without answers, one per line",
            )
        else:
            out.append(re.sub(r"^\s*Q\s*:\s*", "", line).strip())
    return out


# ---------------------------------------------------------------- journal
class Journal:
    def __init__(self, workdir: Path):
        self.path = Path(workdir) / JOURNAL
        self.inputs: dict[str, dict] = {}
        self.answers: dict[str, dict] = {}
        if self.path.exists():
            from tools.workspace import read_jsonl

            for entry in read_jsonl(self.path):
                if entry.get("kind") == "input":
                    self.inputs[entry["slot"]] = entry
                elif entry.get("kind") == "answer":
                    self.answers[entry["key"]] = entry

    @staticmethod
    def tail(path: str | Path | None, tail_bytes: int = 65536) -> list[dict]:
        """The journal's last entries, oldest first, read from its last `tail_bytes` only (a live progress
        view reads it every few seconds while it grows): the chunk's cut first line and a torn last one
        are skipped. [] when there is no journal yet."""
        import os

        if path is None:
            return []
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - tail_bytes))
                chunk = fh.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        from tools.workspace import json_objects

        return json_objects(chunk.splitlines())

    def add(self, entry: dict) -> None:
        append_jsonl(self.path, entry)
        (self.inputs if entry["kind"] == "input" else self.answers)[entry.get("slot") or entry.get("key")] = (
            entry
        )


# ---------------------------------------------------------------- generation
def generate_examples(
    spec: TaskSpec,
    n: int,
    *,
    teacher,
    workdir: Path,
    budget=None,
    targeted: list[dict] | None = None,
    existing_inputs: Sequence[str] = (),
    on_progress: Callable[[dict], None] | None = None,
    concurrency: int | None = None,
    input_max_tokens: int = 64,
    answer_max_tokens: int = 256,
    seed: int = 0,
    batch: bool = False,
    batch_client=None,
    on_task_check: bool = True,
    on_task_strictness: float = 0.0,
    grader=None,
) -> GenerationResult:
    """Generate `n` examples (or, with `targeted`, the requested ones) as canonical rows.

    `teacher` is a provider; `budget` a `Budget` or a USD limit. A budget stop returns the rows
    finished so far with `.stopped == "budget"`. Every teacher-written input must look like the seed inputs
    (`tools.data.ontask`; with `grader`, a model that can grade also says yes/no); rejected inputs are
    journaled with their reason and replaced by asking for more (oversampling by the acceptance rate).
    `on_progress(event)` is called after each journaled item; an exception it raises stops generation
    with everything finished so far kept in the journal.

    Phases: plan the groups → write the inputs (filtered, round by round) → write the answers → assemble
    the rows from the journal.
    """
    from tools.llm.budget import Budget

    if batch and teacher.name not in ("openai", "compatible"):
        from tools.errors import UserError

        raise UserError(
            f"--batch uses the OpenAI Batch API; the teacher is {teacher.describe()}",
            fix="drop --batch, or use an OpenAI teacher (OPENAI_API_KEY / teacher.provider: openai) or an "
            "OpenAI-compatible server with a Batch API (teacher.base_url)",
        )
    gen = _Generation(
        spec,
        plan_groups(spec, n, targeted),
        teacher=teacher,
        workdir=Path(workdir),
        existing_inputs=existing_inputs,
        progress=on_progress or (lambda event: None),
        calls=dict(concurrency=concurrency, batch=batch, batch_client=batch_client),
        input_max_tokens=input_max_tokens,
        answer_max_tokens=answer_max_tokens,
        seed=seed,
    )
    gen.fit_input_filter(on_task_check, on_task_strictness, grader, user_inputs=not targeted)
    if budget is not None and not isinstance(budget, Budget):
        budget = Budget(float(budget))
    saved_budget = teacher.budget
    if budget is not None:
        teacher.budget = budget
    try:
        for group in gen.groups:
            gen.write_inputs(group)
        for group in gen.groups:
            gen.write_answers(group)
    except BudgetExceeded as e:
        gen.result.stopped = "budget"
        append_jsonl(gen.journal.path, {"kind": "stop", "reason": e.message})
        gen.progress({"event": "budget_stop", "message": e.message})
    finally:
        teacher.budget = saved_budget
    return gen.assemble()


def spare_inputs(spec_inputs: list[str], used: Sequence[str]) -> list[str]:
    """The person's `inputs:` that no earlier round's data holds, in the file's order. Pure."""
    seen = {" ".join(t.lower().split()) for t in used}
    return [t for t in spec_inputs if " ".join(t.lower().split()) not in seen]


def nearest_inputs(pool: list[str], like: list[str], n: int) -> list[str]:
    """Up to `n` of `pool` sharing the most words with any of `like` (the inputs a round failed on), the
    file's order breaking ties. Pure."""
    if n <= 0 or not pool:
        return []
    targets = [set(re.findall(r"\w+", t.lower())) for t in like if t]

    def overlap(text: str) -> float:
        words = set(re.findall(r"\w+", text.lower()))
        return max((len(words & t) / max(1, len(words)) for t in targets), default=0.0)

    order = sorted(range(len(pool)), key=lambda i: (-overlap(pool[i]), i))
    return [pool[i] for i in order[:n]]


def plan_groups(spec: TaskSpec, n: int, targeted: list[dict] | None) -> list[dict]:
    """What to make, as groups: {key, n, axes (focus), examples (few-shot), source[, description]}. Pure."""
    if not targeted:
        return [
            {
                "key": "g",
                "n": n,
                "axes": derive_axes(spec),
                "examples": [e.model_dump() for e in spec.examples],
                "source": "teacher",
            }
        ]
    groups = []
    for j, t in enumerate(targeted):
        exs = [dict(e) for e in t.get("examples") or []] or [e.model_dump() for e in spec.examples]
        group = {
            "key": f"t{j}-{stable_hash(t.get('description', ''), size=4)}",
            "n": int(t.get("n", 10)),
            "axes": {"target": [t.get("description") or "a harder case"]} | derive_axes(spec),
            "examples": exs,
            "source": "targeted",
            "description": t.get("description"),
        }
        if t.get(
            "coverage"
        ):  # more inputs planned for one label or enum value ({field: [value]}), nothing else
            cov = {str(f): [str(v) for v in vs] for f, vs in t["coverage"].items()}
            group |= {
                "key": f"c{j}-{stable_hash(json.dumps(cov, sort_keys=True), size=4)}",
                "axes": derive_axes(spec),
                "coverage": cov,
                "source": "teacher",
                "description": None,
            }
        groups.append(group)
    return groups


class _Generation:
    """One generation's state: the journal, the groups, the input filter, the calls' settings."""

    def __init__(
        self,
        spec: TaskSpec,
        groups: list[dict],
        *,
        teacher,
        workdir: Path,
        existing_inputs: Sequence[str],
        progress: Callable[[dict], None],
        calls: dict,
        input_max_tokens: int,
        answer_max_tokens: int,
        seed: int,
    ):
        from tools.data.similarity import SignatureIndex, minhash

        workdir.mkdir(parents=True, exist_ok=True)
        self.spec, self.groups, self.teacher, self.workdir = spec, groups, teacher, workdir
        self.journal = Journal(workdir)
        self.result = GenerationResult()
        self.result.rejected_inputs = []
        self.calls_before = teacher.calls
        self.progress = progress
        self.calls = calls  # concurrency, batch, batch_client
        self.input_max_tokens, self.answer_max_tokens, self.seed = input_max_tokens, answer_max_tokens, seed
        self.existing_inputs = list(existing_inputs)
        seen_texts = [e.input for e in spec.examples] + self.existing_inputs
        self.seen_sigs = SignatureIndex(minhash(t) for t in seen_texts)
        self.seed_lengths = [len(t) for t in seen_texts] or [200]
        self.max_figures = figures_limit(seen_texts)
        self.needs_figure = needs_a_figure([e.input for e in spec.examples])
        self.user_inputs: list[str] = []
        self.spare_inputs: list[str] = []  # a later round's: the person's inputs no earlier round used
        self.on_task: OnTaskModel | None = None
        self.on_docs: OnTaskModel | None = None  # a task answered from documents: is the input about them
        self.unseen_values: list[
            tuple[str, str]
        ] = []  # (field, value) no seed has: planned inputs held lower
        self.check_meta, self.grader = True, None

    def _accepted(self, group: dict) -> list[dict]:
        return [e for e in self.journal.inputs.values() if e["group"] == group["key"] and e["accepted"]]

    def _run(self, todo: list[Request], on_result, batch_file: str) -> None:
        c = self.calls
        _run(
            self.teacher,
            todo,
            on_result,
            c["concurrency"],
            c["batch"],
            c["batch_client"],
            self.workdir / batch_file,
        )

    # ------------------------------------------------------------ phase: the input filter
    def fit_input_filter(self, check: bool, strictness: float, grader, *, user_inputs: bool) -> None:
        """The on-task model of the seed inputs (and the person's `inputs:` file, answered first)."""
        spec = self.spec
        spec_inputs = load_spec_inputs(spec)  # the user's own inputs: on-task by definition
        self.user_inputs = spec_inputs if user_inputs else []
        self.spare_inputs = [] if user_inputs else spare_inputs(spec_inputs, self.existing_inputs)
        self.check_meta, self.grader = check, grader
        if not check:
            return
        self.on_task = OnTaskModel.fit([e.input for e in spec.examples] + spec_inputs, strictness=strictness)
        self.on_docs = None
        if spec.documents:
            from tools.rag.chunking import document_sentences

            self.on_docs = OnTaskModel.fit_documents(
                [e.input for e in spec.examples] + spec_inputs,
                document_sentences(spec.documents),
                strictness=strictness,
            )
        self.unseen_values = unseen_values(spec)
        if self.on_task is not None:
            self.progress(
                {
                    "event": "on_task_model",
                    "model": self.on_task.kind,
                    "threshold": round(self.on_task.threshold, 4),
                    "seeds": len(self.on_task.seeds),
                }
                | (
                    {"documents_threshold": round(self.on_docs.threshold, 4)}
                    if self.on_docs is not None
                    else {}
                )
            )

    def off_task_reason(self, text: str, focus: str = "") -> str | None:
        """Why a teacher-written input is off task, or None. An input planned for a value no seed has
        (`focus` names it), and that names the value, is held to a lower similarity: it cannot look much
        like the seeds."""

        seeds = [e.input for e in self.spec.examples]
        why = meta_reason(text, seeds) if self.check_meta else None
        if why:
            return why
        if self.on_task is not None:
            unseen = any(
                coverage_focus(f, v) in focus and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text, re.I)
                for f, v in self.unseen_values
            )
            ok, sim = self.on_task.judge(text, unseen=unseen)
            if not ok:
                limit = self.on_task.threshold_for(unseen=unseen)
                return f"off task: unlike the seed inputs (similarity {sim:.2f} < {limit:.2f})"
        if self.on_docs is not None:
            ok, sim = self.on_docs.judge(text)
            if not ok:
                return (
                    f"off task: nothing in your documents is about it (similarity {sim:.2f} < "
                    f"{self.on_docs.threshold:.2f})"
                )
        if self.grader is not None:
            if llm_on_task([text], self.spec, self.grader, seeds)[0] is False:
                return f"off task: {self.grader.describe()} judged it unrealistic for the task"
        return None

    def journal_input(self, slot: str, text: str, focus: str, group: dict) -> None:
        from tools.data.similarity import minhash

        text = clean_input(text)
        reason = input_rejection(
            text,
            seen_sigs=self.seen_sigs,
            seed_lengths=self.seed_lengths,
            max_figures=self.max_figures,
            needs_figure=self.needs_figure,
        )
        if reason is None:
            reason = self.off_task_reason(text, focus)
        entry = {
            "kind": "input",
            "slot": slot,
            "group": group["key"],
            "focus": focus,
            "text": text,
            "accepted": reason is None,
            "reason": reason,
        }
        if reason is None:
            self.seen_sigs.append(minhash(text))
        self.journal.add(entry)
        total = sum(g["n"] for g in self.groups)
        self.progress(
            {"event": "input", "slot": slot, "accepted": reason is None, "reason": reason, "total": total}
        )

    # ------------------------------------------------------------ phase: inputs
    def write_inputs(self, group: dict) -> None:
        """The group's inputs: the person's own first, then teacher-written rounds until enough are kept."""
        from tools.data.similarity import minhash

        # replay accepted inputs in journal order so near-duplicate checks see what they saw before
        for entry in self._accepted(group):
            self.seen_sigs.append(minhash(entry["text"]))
        own = self.user_inputs[: group["n"]] if group["source"] == "teacher" else []
        if group["source"] == "targeted" and self.spare_inputs:
            # the slugs bench's second round left the catalogue's unkept titles aside and wrote 70 inputs of
            # its own instead ("Cad Aromafro (Wine)"): the person's, nearest the failures, come first
            own = nearest_inputs(self.spare_inputs, [e["input"] for e in group["examples"]], group["n"])
            self.spare_inputs = [t for t in self.spare_inputs if t not in own]
        if own:
            for i, text in enumerate(own):
                slot = f"{group['key']}:u{i}"
                if slot not in self.journal.inputs:
                    self.journal.add(
                        {
                            "kind": "input",
                            "slot": slot,
                            "group": group["key"],
                            "focus": "user input",
                            "text": text,
                            "accepted": True,
                            "reason": None,
                        }
                    )
        seed_inputs = [e["input"] for e in group["examples"]] or self.existing_inputs[:FEW_SHOT_INPUTS]
        for rnd in range(MAX_ROUNDS):
            need = group["n"] - len(self._accepted(group))
            if need <= 0:
                break
            self._input_round(group, rnd, need, seed_inputs)
        accepted = self._accepted(group)
        group["inputs"] = accepted[: group["n"]]
        self.result.shortfall += max(0, group["n"] - len(accepted))

    def _input_round(self, group: dict, rnd: int, need: int, seed_inputs: list[str]) -> None:
        k = candidates_needed(need, self.journal, group["key"])
        focuses = plan_focuses(group["axes"], k, seed=hash_int(f"{self.seed}:{group['key']}:{rnd}"))
        tried = sum(1 for e in self.journal.inputs.values() if e["group"] == group["key"])
        focuses = with_coverage(focuses, group.get("coverage") or coverage_axes(self.spec), start=tried)
        todo = []
        for i, focus in enumerate(focuses):
            slot = f"{group['key']}:{rnd}:{i}"
            if slot in self.journal.inputs:
                continue
            msgs = input_messages_for(
                self.spec, focus, seed_inputs, random.Random(slot), examples=group["examples"]
            )
            params = GenParams(
                temperature=INPUT_TEMPERATURE, max_tokens=self.input_max_tokens, seed=hash_int(slot) % (2**31)
            )
            todo.append(Request(msgs, params, tag=(slot, focus)))
        # in pieces, so the round ends once enough inputs are kept (the oversampled rest is not written);
        # the Batch API gets the whole round as one job
        size = len(todo) if self.calls["batch"] else piece_size(self.teacher, self.calls["concurrency"])
        for part in chunked(todo, size):
            done: dict[int, Completion] = {}
            try:
                self._run(part, done.__setitem__, f"batch-inputs-{group['key']}-{rnd}.json")
            finally:  # also what finished before a budget stop
                self._journal_piece(part, done, group)
            if len(self._accepted(group)) >= group["n"]:
                break

    def _journal_piece(self, part: list[Request], done: dict[int, Completion], group: dict) -> None:
        """Judge and journal a piece's inputs in request order, once the piece is back: the on-task model
        scores them in one embedding batch (one forward pass per input held the event loop and made the
        input phase CPU-bound at ~6 inputs/s on 2 busy cores, whatever the concurrency). A kill before this
        loses no money: the answers are in the response cache."""
        new = [i for i in sorted(done) if part[i].tag[0] not in self.journal.inputs]
        if len(new) > 1:
            for model in (self.on_task, self.on_docs):
                if model is not None:
                    model.prime([clean_input(done[i].text) for i in new])
        for i in new:
            slot, focus = part[i].tag
            self.journal_input(slot, done[i].text, focus, group)

    # ------------------------------------------------------------ phase: answers
    def write_answers(self, group: dict) -> None:
        spec, teacher = self.spec, self.teacher
        json_schema = spec.output.json_schema if spec.output.format == "json" else None
        todo = []
        for entry in group["inputs"]:
            key = f"{entry['slot']}:a"
            if key in self.journal.answers:
                continue
            msgs = answer_messages(spec, entry["text"], group["examples"])
            params = GenParams(temperature=0.0, max_tokens=self.answer_max_tokens)
            todo.append(Request(msgs, params, json_schema=json_schema, tag=(key, entry)))
        total = sum(len(g.get("inputs") or []) for g in self.groups)

        def on_answer(i: int, comp: Completion) -> None:
            key, entry = todo[i].tag
            if key in self.journal.answers:
                return
            text = (
                json.dumps(comp.parsed, ensure_ascii=False) if comp.parsed is not None else comp.text.strip()
            )
            row = make_row(
                entry["text"],
                text,
                system=spec.effective_system_prompt,
                source=group["source"],
                flags=["truncated"] if comp.finish_reason == "length" else [],
                extra={
                    "focus": entry["focus"],
                    "teacher": teacher.describe(),
                    **({"target": group["description"]} if group.get("description") else {}),
                },
            )
            self.journal.add({"kind": "answer", "key": key, "row": row, "cost_usd": comp.cost_usd})
            self.progress({"event": "answer", "key": key, "done": len(self.journal.answers), "total": total})

        if todo:
            self._run(todo, on_answer, f"batch-answers-{group['key']}.json")

    # ------------------------------------------------------------ phase: assemble
    def assemble(self) -> GenerationResult:
        """The rows from the journal: stable order, one row per input."""
        result, seen_ids = self.result, set()
        for group in self.groups:
            for entry in group.get("inputs") or self._accepted(group)[: group["n"]]:
                ans = self.journal.answers.get(f"{entry['slot']}:a")
                if ans is None:
                    continue
                row = ans["row"]
                if row["metadata"]["id"] in seen_ids:
                    continue
                seen_ids.add(row["metadata"]["id"])
                result.append(row)
                result.cost_usd += ans.get("cost_usd") or 0.0
        result.rejected_inputs = [e for e in self.journal.inputs.values() if not e["accepted"]]
        result.provider_calls = self.teacher.calls - self.calls_before
        stats = getattr(self.teacher, "concurrency_stats", None)
        result.concurrency = stats() if stats is not None else None
        return result


def candidates_needed(need: int, journal: Journal, group_key: str) -> int:
    """How many candidate inputs to ask for so that about `need` pass: by this group's acceptance rate so
    far (teacher-written inputs only), 1/OVERSAMPLE before any were judged."""
    tried = [e for e in journal.inputs.values() if e["group"] == group_key and e.get("focus") != "user input"]
    rate = sum(e["accepted"] for e in tried) / len(tried) if tried else 1 / OVERSAMPLE
    factor = min(MAX_OVERSAMPLE, 1.15 / max(rate, 1 / MAX_OVERSAMPLE))
    return max(1, math.ceil(need * factor))


def piece_size(teacher, concurrency: int | None) -> int:
    """Requests per call while writing inputs: one local batch, or two waves of concurrent API calls (at the
    adaptive limit when the teacher adapts)."""
    if getattr(teacher, "batched", False):
        return max(1, int(getattr(teacher, "batch_size", 8) or 8))
    current = getattr(teacher, "current_concurrency", None)
    if current is not None:  # adaptive concurrency: two waves at the limit reached so far
        return 2 * max(1, current(concurrency))
    return 2 * max(1, concurrency or getattr(teacher, "concurrency", 8) or 8)


def chunked(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def hash_int(text: str) -> int:
    return int(stable_hash(text, size=8), 16)


def _run(
    teacher, requests: list[Request], on_result, concurrency, batch: bool, batch_client, state_path: Path
) -> None:
    if batch:
        from tools.data.batch import run_batch

        comps = run_batch(teacher, requests, state_path=state_path, client=batch_client)
        for i, c in enumerate(comps):
            if c is not None:
                on_result(i, c)
        return
    teacher.map(requests, concurrency=concurrency, on_result=on_result)


_SIMILARITY = re.compile(r"similarity [\d.]+ < ([\d.]+)")


def generation_summary(result: GenerationResult) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for e in result.rejected_inputs:
        # one count per reason, not per figure: "(similarity 0.39 < 0.44)" and "(0.35 < 0.44)" were two keys
        # in the manifest (a session 7 run listed 14 of them); the input's own figure stays in the journal
        why = _SIMILARITY.sub(r"similarity under \1", e.get("reason") or "?")
        reasons[why] = reasons.get(why, 0) + 1
    summary: dict[str, Any] = {
        "rows": len(result),
        "stopped": result.stopped,
        "provider_calls": result.provider_calls,
        "cost_usd": round(result.cost_usd, 6),
        "rejected_inputs": reasons,
        "shortfall": result.shortfall,
    }
    if result.concurrency:
        summary["concurrency"] = result.concurrency
    return summary
