"""The decision rubric: prompt, few-shot, RAG, fine-tune, or RAG + fine-tune.

Pure functions over the interview answers, so every rule is unit-tested without a model. The rules
follow the seeds (shared/seeds): try prompting first; knowledge gaps and changing facts are a
retrieval problem, not a training one; fewer than ~50 examples is too little to train on; fine-tune
for format, style, terminology, latency, cost or privacy needs that prompting cannot meet; knowledge
plus behaviour needs both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agent.rates import estimate_path as estimate  # the estimate from this machine's rates

APPROACHES = ("prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune")
BEHAVIOUR_GOALS = ("format", "style", "terminology", "latency", "cost", "privacy")
ANSWER_KEYS = (
    "spec",
    "problem",
    "knowledge_needed",
    "knowledge_changes",
    "examples",
    "prompted_success",
    "goals",
    "volume",
    "constraints",
)

PROMPT_GOOD_ENOUGH = 0.80  # base right this often with a good prompt → keep prompting
MIN_EXAMPLES_TO_TRAIN = 50  # below this, few-shot in the prompt beats a fine-tune
HIGH_VOLUME = 10_000  # requests/day where a shorter prompt's savings add up


@dataclass
class Answers:
    spec: str
    problem: str = ""
    knowledge_needed: bool = False
    knowledge_changes: str = "never"  # never | rarely | often
    examples: int = 0
    prompted_success: float | None = None  # 0..1, measured by the probe when absent
    goals: list[str] = field(default_factory=list)
    volume: int = 0  # requests per day
    constraints: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "answers") -> Answers:
        from tools.errors import ConfigError

        unknown = set(d) - set(ANSWER_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown key(s) {sorted(unknown)}",
                where=where,
                fix=f"allowed keys: {', '.join(ANSWER_KEYS)}",
            )
        if not str(d.get("spec") or "").strip():
            raise ConfigError(
                "`spec` is required (one sentence: what the model should do)",
                where=where,
                fix="add e.g. `spec: Extract the customer's name and city as JSON`",
            )
        return cls(
            spec=str(d["spec"]).strip(),
            problem=str(d.get("problem") or ""),
            knowledge_needed=_as_bool(d.get("knowledge_needed", False), "knowledge_needed", where),
            knowledge_changes=_as_change(d.get("knowledge_changes", "never"), where),
            examples=_as_count(d.get("examples", 0), where),
            prompted_success=_as_rate(d.get("prompted_success"), where),
            goals=_as_list(d.get("goals"), "goals", where, allowed=BEHAVIOUR_GOALS + ("accuracy",)),
            volume=_as_int(d.get("volume", 0), "volume", where),
            constraints=[str(c) for c in _as_list(d.get("constraints"), "constraints", where)],
        )


@dataclass
class RuleRow:
    rule: str
    fired: bool
    evidence: str


@dataclass
class Decision:
    approach: str
    reasons: list[str]
    rubric: list[RuleRow]
    next_steps: list[str]
    estimate: dict[str, Any]
    probe: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rubric"] = [asdict(r) for r in self.rubric]
        return d


def decide(
    a: Answers,
    *,
    n_examples: int = 200,
    teacher: str = "local:embedded",
    probe: dict | None = None,
    prices=None,
) -> Decision:
    """Apply the rubric to the answers; `probe` carries measured evidence when prompted_success was measured."""
    behaviour = [g for g in a.goals if g in BEHAVIOUR_GOALS]
    privacy = "privacy" in a.goals or any(
        c.lower() in ("on-prem", "offline", "local", "private") for c in a.constraints
    )
    knowledge = a.knowledge_needed or a.knowledge_changes == "often"
    ps = a.prompted_success
    rows: list[RuleRow] = []
    reasons: list[str] = []

    r_knowledge = RuleRow(
        "knowledge gap or changing facts → RAG",
        knowledge,
        f"knowledge_needed={a.knowledge_needed}, knowledge_changes={a.knowledge_changes}",
    )
    r_prompt = RuleRow(
        f"base right ≥{PROMPT_GOOD_ENOUGH:.0%} with a good prompt → prompt",
        ps is not None and ps >= PROMPT_GOOD_ENOUGH,
        f"prompted_success={'unknown' if ps is None else f'{ps:.0%}'}"
        + (" (measured by probe)" if probe else ""),
    )
    r_few = RuleRow(
        f"fewer than {MIN_EXAMPLES_TO_TRAIN} examples → few-shot",
        a.examples < MIN_EXAMPLES_TO_TRAIN,
        f"examples={a.examples}",
    )
    r_behaviour = RuleRow(
        "format/style/terminology/latency/cost/privacy needs → fine-tune",
        bool(behaviour),
        f"goals={a.goals or []}",
    )
    high_volume = a.volume >= HIGH_VOLUME
    cost_goals = sorted({"latency", "cost"} & set(behaviour))
    r_distil = RuleRow(
        f"latency/cost goals at ≥{HIGH_VOLUME:,} requests/day → distil the prompt into a fine-tune",
        bool(cost_goals) and high_volume,
        f"goals={cost_goals or []}, volume={a.volume:,}/day",
    )
    rows += [r_knowledge, r_prompt, r_few, r_behaviour, r_distil]

    if knowledge and behaviour and not r_prompt.fired:
        approach = "rag+fine-tune"
        reasons.append(
            f"The task needs knowledge the model lacks ({_knowledge_reason(a)}): retrieval supplies facts; "
            "fine-tuning cannot keep them current."
        )
        reasons.append(
            f"It also has behaviour goals ({', '.join(behaviour)}) that a fine-tune teaches reliably."
        )
    elif knowledge:
        approach = "rag"
        reasons.append(
            f"The task needs knowledge the model lacks ({_knowledge_reason(a)}): that is a retrieval "
            "problem — fine-tuning is for behaviour, not facts."
        )
    elif r_distil.fired:
        approach = "fine-tune"
        works = "A good prompt already works" if ps is None or ps >= 0.5 else "Prompting alone is not enough"
        measured = "" if ps is None else f" ({ps:.0%} with examples in the prompt)"
        reasons.append(
            f"{works}{measured}, but at {a.volume:,} requests/day its instructions and examples are paid "
            f"on every call: distil it into the model (context distillation) so a tuned model answers "
            f"zero-shot with a short prompt — {' and '.join(cost_goals)} drop."
        )
        reasons.append(
            "The prompted model is the teacher: it answers generated inputs, and the tuned model is "
            "measured against it, so quality is kept while the prompt shrinks."
        )
    elif r_prompt.fired:
        approach = "prompt"
        reasons.append(
            f"With a good prompt the base model already scores {ps:.0%}"
            + _fully_right(probe)
            + f" (≥{PROMPT_GOOD_ENOUGH:.0%}): improve the prompt instead of training."
        )
        if behaviour and (high_volume or privacy):
            reasons.append(
                "At your volume/privacy needs a small fine-tuned model could still cut cost and latency "
                "later: revisit once the prompt is settled."
            )
    elif r_few.fired and not (
        behaviour and n_examples >= MIN_EXAMPLES_TO_TRAIN and ps is not None and ps < 0.5
    ):
        if a.examples == 0:
            # nothing to show the model yet: a clearer prompt now, real examples next
            approach = "prompt"
            reasons.append(
                "You have no examples yet, so there is nothing to show the model: write a clearer prompt now "
                "(what to do, what the answer should look like, one made-up example)."
            )
            reasons.append(
                "Collect about 20 real inputs with the answers you want, to check the prompt on and to show "
                f"it the best of them; at least {MIN_EXAMPLES_TO_TRAIN} before a fine-tune."
            )
            if behaviour:
                reasons.append(
                    f"Your goals ({', '.join(behaviour)}) point to a fine-tune later: from those real "
                    f"examples a teacher model can generate {n_examples} more."
                )
        else:
            approach = "few-shot"
            reasons.append(
                f"Only {a.examples} examples on hand (< {MIN_EXAMPLES_TO_TRAIN}): put the best of them in "
                "the prompt; collect or generate more before training."
            )
        if behaviour and a.examples:
            reasons.append(
                f"Your goals ({', '.join(behaviour)}) point to a fine-tune later: a teacher model can "
                f"generate {n_examples} examples from these seeds."
            )
    elif behaviour:
        approach = "fine-tune"
        reasons.append(
            f"Your goals ({', '.join(behaviour)}) are behaviour a fine-tune teaches and prompting does not "
            "reliably hold" + (f" (the prompted base is right only {ps:.0%})" if ps is not None else "") + "."
        )
        if a.examples < MIN_EXAMPLES_TO_TRAIN:
            reasons.append(
                f"You have only {a.examples} examples, but prompting with them is not enough: the teacher "
                f"generates ~{n_examples} more from them (distillation), each critiqued before training."
            )
        if {"latency", "cost"} & set(behaviour) or high_volume:
            reasons.append(
                "A tuned model answers zero-shot, so every request drops the long instructions and "
                "few-shot examples: fewer prompt tokens, lower latency and cost."
            )
    else:
        approach = "few-shot" if a.examples else "prompt"
        reasons.append(
            "No knowledge gap and no format/style/latency/cost/privacy need: prompting with examples is "
            "the cheapest path" + (f" (prompted success {ps:.0%})" if ps is not None else "") + "."
        )
    if privacy and approach in ("fine-tune", "rag+fine-tune"):
        reasons.append(
            "Privacy/on-prem constraints: train and serve a local model (LoRA adapter, `tunewise serve`)."
        )

    return Decision(
        approach=approach,
        reasons=reasons,
        rubric=rows,
        next_steps=next_steps(approach),
        estimate=estimate(approach, n_examples=n_examples, teacher=teacher, prices=prices),
        probe=probe,
    )


def next_steps(approach: str) -> list[str]:
    steps = {
        "prompt": [
            "Write the spec as a system prompt with 3–6 examples (tunewise writes the best prompt found).",
            "Evaluate it on held-out examples; fine-tune only if it stays under your bar.",
        ],
        "few-shot": [
            "Pick the 4–8 most representative examples for the prompt (tunewise selects them on held-out data).",
            "Collect or generate ≥200 examples if you later need a shorter prompt or a smaller model.",
        ],
        "rag": [
            "Point tunewise at your documents folder: it builds and evaluates a BM25 retrieval setup.",
            "Keep documents current; re-index when they change — no retraining needed.",
        ],
        "fine-tune": [
            "Generate and critique ~200–500 examples with the teacher; review ≥10%.",
            "Train a LoRA adapter; evaluate against base zero-shot and base few-shot; iterate on failures.",
        ],
        "rag+fine-tune": [
            "Build retrieval over your documents first and evaluate it.",
            "Then fine-tune on retrieved-context examples for the format/style you need.",
        ],
    }
    return steps[approach]


def _fully_right(probe: dict | None) -> str:
    """ ", 3 of 5 of your examples fully right" when the probe measured a partial score (field accuracy,
    word overlap): a share of fields must not read as a share of answers."""
    p = probe or {}
    n, cs = p.get("n_test"), p.get("correct_share")
    if not n or cs is None or p.get("metric") in (None, "label_accuracy", "exact_match"):
        return ""
    return f", with {round(cs * n)} of {n} of your examples fully right"


def _knowledge_reason(a: Answers) -> str:
    bits = []
    if a.knowledge_needed:
        bits.append("facts outside the model")
    if a.knowledge_changes in ("often", "rarely") and a.knowledge_changes != "never":
        bits.append(f"changes {a.knowledge_changes}")
    return ", ".join(bits) or "facts outside the model"


# ------------------------------------------------------------------ answer coercion
# One lenient parser per answer kind (agent/answers.py), shared with the interview (TUI) and the CLI; here a
# failure becomes a ConfigError that names the field and where it was read.
def _parsed(parse, v, key, where, **kw):
    from tools.errors import ConfigError, UserError

    try:
        return parse(v, key, **kw)
    except ConfigError:
        raise
    except UserError as e:
        msg = e.message if f"`{key}`" in e.message else f"`{key}`: {e.message}"
        raise ConfigError(msg, where=where, fix=e.fix) from None


def _as_bool(v, key, where) -> bool:
    from agent.answers import parse_yes_no

    return _parsed(parse_yes_no, v, key, where)


def _as_change(v, where) -> str:
    from agent.answers import parse_change

    return _parsed(parse_change, v, "knowledge_changes", where)


def _as_count(v, where) -> int:
    from agent.answers import parse_count

    return _parsed(parse_count, v, "examples", where)


def _as_int(v, key, where) -> int:
    from agent.answers import parse_count

    return _parsed(parse_count, v, key, where, per_day=key == "volume")


def _as_rate(v, where) -> float | None:
    from agent.answers import parse_rate

    return _parsed(parse_rate, v, "prompted_success", where)


def _as_list(v, key, where, allowed=None) -> list[str]:
    if allowed:
        from agent.answers import parse_goals

        return _parsed(parse_goals, v, key, where, allowed=tuple(allowed))
    if v is None or v == "":
        return []
    items = [s.strip() for s in v.split(",")] if isinstance(v, str) else list(v)
    return [str(i).strip().lower() for i in items if str(i).strip()]
